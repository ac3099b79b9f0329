"""Start-up (issue #18): a command loads only what it uses.

`entitle --help` once imported the whole stack (NumPy, SciPy, DuckDB, SQLAlchemy, FastAPI…) and
took 1.5 s. Which modules a command loads is deterministic where its time is not, so these tests
run the command in a fresh interpreter and look at ``sys.modules`` afterwards.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# The heavy libraries: each costs 0.05-0.4 s of CPU to import, and none is needed to print help.
HEAVY = ("numpy", "scipy", "duckdb", "sqlalchemy", "alembic", "fastapi", "uvicorn", "openpyxl")

# Run in one fresh interpreter: it imports the CLI's entry point, as every command does first,
# then forks a child for each command (a JSON list of argument lists, argv[1]), which runs it and
# says its exit status and the top-level packages it imported; the parent prints the list. Each
# command so sees exactly what a fresh `entitle ARGS` would have loaded (the entry point and what
# the command loads), and the interpreter and the entry point are started once, not 12 times
# (0.4-0.6 s of a core each).
CHILD = """
import io, json, os, sys
from entitle.cli.main import main
results = []
for args in json.loads(sys.argv[1]):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        sys.argv = ["entitle", *args]
        sys.stdout = io.StringIO()
        try:
            main()
        except SystemExit as stop:
            code = stop.code
        else:
            code = 0
        with os.fdopen(write, "w") as out:
            json.dump({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as answer:
        results.append(json.load(answer))
    assert os.waitpid(pid, 0)[1] == 0
print(json.dumps(results))
"""

HELP = [
    ["--help"],
    [],  # no arguments: the help, exit 2
    ["calc", "--help"],
    ["position", "--help"],
    ["import", "--help"],
    ["import", "ual", "--help"],  # the kind's own help (KindHelpCommand)
    ["ledger", "--help"],
    ["decide", "--help"],
    ["serve", "--help"],
]
PRODUCTS = ["products", "sql", "--json"]
CALC = ["calc", "--processors", "2", "--cores", "8", "--edition", "standard"]
UAL = Path(__file__).parent / "fixtures" / "exports" / "ual" / "fs01"


def import_ual(estate: Path) -> list[str]:
    return [
        "import", "ual", str(UAL), "--into", str(estate), "--since", "2025-08-01",
        "--until", "2025-08-31", "--json",
    ]  # fmt: skip


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the `entitle import ual` of the module's run writes its estate."""
    return tmp_path_factory.mktemp("startup") / "estate"


@pytest.fixture(scope="module")
def runs(estate: Path) -> dict[str, tuple[object, set[str]]]:
    """Every command the tests below ask about, run once (``CHILD``): by its arguments (as
    JSON), its exit status and the top-level packages it imported. (The module is one unit of
    work under xdist, tests/conftest.py, so the interpreter starts once a suite.)"""
    commands = [*HELP, PRODUCTS, CALC, import_ual(estate)]
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(commands)],
        capture_output=True,
        text=True,
        env=os.environ.copy(),  # PYTHONPATH: the source tree under test
        check=True,
        timeout=300,
    )
    results = json.loads(done.stdout.splitlines()[-1])
    return {
        json.dumps(args): (r["code"], set(r["modules"]))
        for args, r in zip(commands, results, strict=True)
    }


def loaded(runs: dict[str, tuple[object, set[str]]], *args: str) -> tuple[object, set[str]]:
    """The exit status of ``entitle ARGS`` run in a fresh interpreter, and the top-level
    packages it imported."""
    return runs[json.dumps(list(args))]


@pytest.mark.parametrize("args", HELP)
def test_help_loads_no_heavy_library(
    runs: dict[str, tuple[object, set[str]]], args: list[str]
) -> None:
    code, modules = loaded(runs, *args)
    assert code == (2 if not args else 0)
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_products_loads_the_catalog_only(runs: dict[str, tuple[object, set[str]]]) -> None:
    """`entitle products` reads the catalog: no optimizer, estate reader, database or web."""
    code, modules = loaded(runs, *PRODUCTS)
    assert code == 0
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_calc_loads_no_heavy_library(runs: dict[str, tuple[object, set[str]]]) -> None:
    """`entitle calc` prices one server: the engine's rules and choices, no NumPy or SciPy (a
    single decision needs no MILP, no CAL is planned), no estate reader, database or web."""
    code, modules = loaded(runs, *CALC)
    assert code == 0
    assert "entitle" in modules  # the test sees what the command loads: it can fail
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_calc_keeps_the_estates_core_limit() -> None:
    """calc writes the estate's limit on cores down (importing the converter loads openpyxl):
    it must stay the limit the estate's loader enforces."""
    from entitle.cli import calc
    from entitle.estate import convert

    assert calc.MAX_CORES == convert.MAX_CORES


def test_import_ual_loads_duckdb_but_no_workbook_or_optimizer_library(
    runs: dict[str, tuple[object, set[str]]], estate: Path
) -> None:
    """`entitle import ual` of CSV exports (issue #15 item 11: start-up counts at 1M rows) reads
    them with DuckDB and writes an estate of CSV files: no openpyxl (and the NumPy it loads, 0.3 s
    of CPU), no SciPy, database or web. Before, its AD rule and the estate reader's workbook path
    loaded openpyxl."""
    code, modules = loaded(runs, *import_ual(estate))
    assert code == 0
    assert (estate / "access.csv").is_file()  # the import ran: the test can fail
    assert "duckdb" in modules
    assert modules.isdisjoint(set(HEAVY) - {"duckdb"}), sorted(modules & set(HEAVY))


def test_the_suites_cli_runner_builds_the_command_once_a_process() -> None:
    """tests/conftest.py keeps the Click command Typer's CliRunner builds for the app (about 25 ms
    of a core each time; some 600 invokes a run). Should an upgrade of Typer stop asking
    ``typer.testing._get_command`` for it, the suite would be slower, not wrong: this says where."""
    import typer.testing
    from typer.testing import CliRunner

    from entitle.cli.main import app

    build = typer.testing._get_command
    assert hasattr(build, "cache_info"), "tests/conftest.py no longer wraps _get_command"
    CliRunner().invoke(app, ["--help"])
    hits = build.cache_info().hits
    result = CliRunner().invoke(app, ["products", "--help"])
    assert result.exit_code == 0 and "products" in result.stdout
    assert build.cache_info().hits == hits + 1
