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

CHILD = """
import io, json, sys
from entitle.cli.main import main
sys.argv = ["entitle", *json.loads(sys.argv[1])]
out, sys.stdout = sys.stdout, io.StringIO()
try:
    main()
except SystemExit as stop:
    code = stop.code
else:
    code = 0
sys.stdout = out
print(json.dumps({"code": code, "modules": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded(*args: str) -> tuple[object, set[str]]:
    """The exit status of ``entitle ARGS`` run in a fresh interpreter, and the top-level
    packages it imported."""
    done = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(list(args))],
        capture_output=True,
        text=True,
        env=os.environ.copy(),  # PYTHONPATH: the source tree under test
        check=True,
        timeout=300,
    )
    result = json.loads(done.stdout.splitlines()[-1])
    return result["code"], set(result["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        [],  # no arguments: the help, exit 2
        ["calc", "--help"],
        ["position", "--help"],
        ["import", "--help"],
        ["import", "ual", "--help"],  # the kind's own help (KindHelpCommand)
        ["ledger", "--help"],
        ["decide", "--help"],
        ["serve", "--help"],
    ],
)
def test_help_loads_no_heavy_library(args: list[str]) -> None:
    code, modules = loaded(*args)
    assert code == (2 if not args else 0)
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_products_loads_the_catalog_only() -> None:
    """`entitle products` reads the catalog: no optimizer, estate reader, database or web."""
    code, modules = loaded("products", "sql", "--json")
    assert code == 0
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_calc_loads_no_heavy_library() -> None:
    """`entitle calc` prices one server: the engine's rules and choices, no NumPy or SciPy (a
    single decision needs no MILP, no CAL is planned), no estate reader, database or web."""
    code, modules = loaded("calc", "--processors", "2", "--cores", "8", "--edition", "standard")
    assert code == 0
    assert "entitle" in modules  # the test sees what the command loads: it can fail
    assert modules.isdisjoint(HEAVY), sorted(modules & set(HEAVY))


def test_calc_keeps_the_estates_core_limit() -> None:
    """calc writes the estate's limit on cores down (importing the converter loads openpyxl):
    it must stay the limit the estate's loader enforces."""
    from entitle.cli import calc
    from entitle.estate import convert

    assert calc.MAX_CORES == convert.MAX_CORES


def test_import_ual_loads_duckdb_but_no_workbook_or_optimizer_library(tmp_path: Path) -> None:
    """`entitle import ual` of CSV exports (issue #15 item 11: start-up counts at 1M rows) reads
    them with DuckDB and writes an estate of CSV files: no openpyxl (and the NumPy it loads, 0.3 s
    of CPU), no SciPy, database or web. Before, its AD rule and the estate reader's workbook path
    loaded openpyxl."""
    ual = Path(__file__).parent / "fixtures" / "exports" / "ual" / "fs01"
    estate = tmp_path / "estate"
    code, modules = loaded(
        "import", "ual", str(ual), "--into", str(estate), "--since", "2025-08-01",
        "--until", "2025-08-31", "--json",
    )  # fmt: skip
    assert code == 0
    assert (estate / "access.csv").is_file()  # the import ran: the test can fail
    assert "duckdb" in modules
    assert modules.isdisjoint(set(HEAVY) - {"duckdb"}), sorted(modules & set(HEAVY))
