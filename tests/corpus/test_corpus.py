"""Every file of the nasty-input corpus through ``entitle position`` (as the hosts table of an
estate folder, or as the workbook) and through every importer (``entitle import KIND``): a clean
success where the input is valid, else exit 2 with every problem as ``FILE:LINE: message``, no
traceback, and nothing written — the report files and the estate folder stay byte for byte as
they were. The small files are in ``files/`` (``make_files.py`` wrote them); the big ones are
made at run time (``big.py``)."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest
from big import big_files
from clikit import assert_rejected, entitle, snapshot
from openpyxl import load_workbook

from tiers import SLOW, turns

FILES = Path(__file__).resolve().parent / "files"
KINDS = ("ual", "sil", "ad", "rvtools", "hyperv", "azure", "aws", "generic")

# The files an estate loader must accept as hosts.csv (or as the workbook): every other is bad.
VALID = {
    "cr-only.csv",  # old Mac line ends
    "mixed-newlines.csv",
    "no-final-newline.csv",
    "header-only.csv",  # no hosts: an empty estate
    "formulas.csv",  # ids that look like formulas are only text
    "quote-inside.csv",  # a quote inside an unquoted field is kept as text
    "unicode-ids.csv",
    "utf8-bom.csv",
    "utf16le-bom.csv",
    "utf16be-bom.csv",
    "good.xlsx",
    "ids-lookalike.csv",  # accepted, with a warning naming each row
    "ids-accents.csv",  # jürgen, josé, 山田: names, not disguises
    "ids-escapes.csv",  # accepted, printed escaped (no ESC reaches the terminal)
}
# Files that must be refused as estate tables (the rest of SMALL may be either).
INVALID = {"ids-case-twice.csv", "ids-nfc-twice.csv", "id-line-breaks.csv"}
SMALL = sorted(p.name for p in FILES.iterdir())
MAPPING = """
[[tables]]
table = "hosts"
host_names = ["host"]
[tables.columns]
host = "host"
processors = "processors"
cores_per_processor = "cores_per_processor"
"""
OLD_ESTATE = {
    "hosts.csv": "host,processors,cores_per_processor\nold1,1,4\n",
    "oses.csv": "ose,host,virtual\nold1,old1,no\n",
}


# Once per run: the scheduler hands out this module's tests one by one, between other modules'
# (tests/conftest.py), so a module-scoped fixture would be torn down and built again (about 2 s
# of a core, most of it packing the zip bomb) for nearly every test that uses it; and under
# xdist the workers share one folder (their base temporary folders' parent), which the first to
# get there fills while the others wait on its lock.
@pytest.fixture(scope="session")
def big(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> dict[str, Path]:
    base = tmp_path_factory.getbasetemp()
    folder = (base.parent if worker_id != "master" else base) / "corpus-big"
    folder.mkdir(exist_ok=True)
    with open(folder.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (folder / "done").exists():
            return {name: folder / name for name in BIG}
        paths = big_files(folder)
        (folder / "done").touch()
    return paths


# Files that hold another table than hosts: they join a valid hosts.csv.
TABLE_OF = {"dates-three-formats.csv": "entitlements", "booleans-odd.csv": "oses"}


def as_estate(file: Path, where: Path) -> Path:
    """The file as an estate: a workbook as itself, a CSV file as hosts.csv of a folder (or as
    the table it holds, beside a valid hosts.csv)."""
    if file.suffix == ".xlsx":
        return Path(shutil.copy(file, where / file.name))
    folder = where / "estate"
    folder.mkdir()
    table = TABLE_OF.get(file.name, "hosts")
    if table != "hosts":
        (folder / "hosts.csv").write_text("host,processors,cores_per_processor\nhv1,1,4\n")
    shutil.copy(file, folder / f"{table}.csv")
    return folder


def old_outputs(where: Path) -> Path:
    """A folder of reports from an earlier run, which a rejected run must leave alone."""
    out = where / "out"
    out.mkdir()
    for name in ("p.xlsx", "p.html", "p.txt"):
        (out / name).write_bytes(b"the old report " + name.encode())
    return out


def check_position(file: Path, where: Path, valid: bool | None) -> None:
    estate = as_estate(file, where)
    out = old_outputs(where)
    before = snapshot(out)
    run = entitle(
        "position",
        str(estate),
        "--as-of",
        "2026-11-28",
        "--xlsx",
        str(out / "p.xlsx"),
        "--html",
        str(out / "p.html"),
        "--out",
        str(out / "p.txt"),
    )
    if valid is not False and run.code == 0:
        assert valid is not False
        assert (out / "p.xlsx").read_bytes() != before["p.xlsx"][0]
        book = load_workbook(out / "p.xlsx")
        formulas = [
            cell.coordinate
            for sheet in book.worksheets
            for row in sheet.iter_rows()
            for cell in row
            if cell.data_type == "f"
        ]
        assert not formulas, f"the report holds formulas at {formulas}"
        return
    assert valid is not True, run.stderr
    assert_rejected(run, f"{TABLE_OF.get(file.name, 'hosts')}.csv", file.name)
    assert snapshot(out) == before


def check_import(kind: str, file: Path, where: Path) -> None:
    into = where / "into"
    into.mkdir()
    for name, text in OLD_ESTATE.items():
        (into / name).write_text(text)
    mapping = where / "map.toml"
    mapping.write_text(MAPPING)
    before = snapshot(where)
    args = ["import", kind, str(file), "--into", str(into), "--until", "2026-11-28"]
    run = entitle(*args, *(["--map", str(mapping)] if kind == "generic" else []))
    leftovers = [p.name for p in where.iterdir() if p.name.startswith(".into.")]
    assert not leftovers, leftovers
    if run.code == 0:
        return
    assert_rejected(run, file.name, "into")
    assert snapshot(where) == before


@pytest.mark.parametrize("name", SMALL)
def test_position(name: str, tmp_path: Path) -> None:
    check_position(FILES / name, tmp_path, name in VALID)
    if name in INVALID:
        run = entitle("position", str(tmp_path / "estate"))
        assert_rejected(run, "hosts.csv")
        assert len(run.stderr.strip().splitlines()) == len(run.problems)
    if name in VALID:
        (tmp_path / "again").mkdir()
        run = entitle("position", str(as_estate(FILES / name, tmp_path / "again")))
        assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr


CHANGE_FILES = sorted(name for name in SMALL if name.endswith((".yaml", ".toml")))


@pytest.mark.parametrize("name", CHANGE_FILES)
def test_change_files_and_mappings(name: str, tmp_path: Path) -> None:
    """Every file of the corpus given as a what-if change file and as an import mapping:
    refused by its line (20,000 '[' raised RecursionError; a count of 10^8 grew until killed)."""
    folder = tmp_path / "estate"
    folder.mkdir()
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\nhv1,1,4\n")
    (folder / "users.csv").write_text("user\na.adams\n")
    run = entitle("position", str(folder), "--what-if", str(FILES / name))
    assert_rejected(run, name)
    assert len(run.stderr.strip().splitlines()) == len(run.problems)
    into = tmp_path / "into"
    run = entitle(
        "import",
        "generic",
        str(folder / "hosts.csv"),
        "--into",
        str(into),
        "--map",
        str(FILES / name),
    )
    assert_rejected(run, name)
    assert not into.exists()


# The fast tier takes every small file through two of the eight importers, turning through them
# (128 of the 512 pairs; each importer gets 16 files, the sorted files dealt out in turn), and
# every big file through two (14 of 56); the long tier the other pairs (tiers.py ``turns``).
@pytest.mark.parametrize(("name", "kind"), turns(SMALL, KINDS, 2))
def test_import(kind: str, name: str, tmp_path: Path) -> None:
    check_import(kind, FILES / name, tmp_path)


BIG = (
    "cell-10mb-number.csv",
    "cell-10mb-quoted.csv",
    "columns-1m.csv",
    "row-1m-fields.csv",
    "sparse-sheet.xlsx",
    "zip-bomb.xlsx",
    "shared-strings-bomb.xlsx",
)


# The fast tier takes every big file through ``entitle position`` but the million columns, whose
# refusal takes the estate reader 3-6 s of a core: that file goes through two importers in the
# fast tier (test_import_big) and a million fields of one row through position; the long tier
# (CI) adds it.
@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=SLOW) if n == "columns-1m.csv" else n for n in BIG]
)
def test_position_big(name: str, big: dict[str, Path], tmp_path: Path) -> None:
    check_position(big[name], tmp_path, valid=False)


@pytest.mark.parametrize(("name", "kind"), turns(BIG, KINDS, 2))
def test_import_big(name: str, kind: str, big: dict[str, Path], tmp_path: Path) -> None:
    check_import(kind, big[name], tmp_path)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(big: dict[str, Path], tmp_path: Path) -> None:
    """400 MiB of zeros packed 1000 to 1: refused from the sizes the archive declares."""
    run = entitle("position", str(big["zip-bomb.xlsx"]))
    assert_rejected(run, "zip-bomb.xlsx")
    assert "xl/media/image1.bin is compressed" in run.stderr
    assert "a zip bomb?" in run.stderr


def test_a_sheet_that_claims_a_million_rows_is_read_by_its_cells(big: dict[str, Path]) -> None:
    run = entitle("position", str(big["sparse-sheet.xlsx"]))
    assert_rejected(run, "sparse-sheet.xlsx")
    assert "sparse-sheet.xlsx:hosts!1048576: a value in column XFD" in run.stderr


def test_dates_in_three_formats_name_each_line(tmp_path: Path) -> None:
    """ISO is the estate's one date format: the day-first, month-first and PowerShell dates
    are each named with their line."""
    run = entitle("position", str(as_estate(FILES / "dates-three-formats.csv", tmp_path)))
    assert_rejected(run, "entitlements.csv")
    assert [line.split(": ")[0] for line in run.problems] == [
        "entitlements.csv:3",
        "entitlements.csv:4",
        "entitlements.csv:5",
    ]


def test_a_problem_on_line_100_prints_as_written(tmp_path: Path) -> None:
    """Rich turns ':100:' and ':1234:' into emoji unless told not to: 'hosts.csv💯 …' was printed
    for a problem on line 100 (found by running fuzzer-grown files through this corpus)."""
    folder = tmp_path / "estate"
    folder.mkdir()
    rows = [f"hv{n},1,4" for n in range(2, 1235)]
    rows[100 - 2] = "hv100,0,4"
    rows[1234 - 2] = "hv1234,1,zero"
    (folder / "hosts.csv").write_text("host,processors,cores_per_processor\n" + "\n".join(rows))
    run = entitle("position", str(folder))
    assert_rejected(run, "hosts.csv")
    assert [line.split(": ")[0] for line in run.problems] == ["hosts.csv:100", "hosts.csv:1234"]


def test_a_ual_export_with_blank_and_repeated_header_cells(tmp_path: Path) -> None:
    """DuckDB refused the columns of a header with a blank or repeated name (a Binder Error
    traceback, found by atheris): they now read as placeholders, and the rows import."""
    header = '"AccessCount","AccessDate","IPAddress","ProductName","RoleGuid","RoleName",'
    header += '"UserName","","rolename"'
    row = '"1","8/4/2025 12:00:00 AM","10.1.20.31","Windows Server 2019 Datacenter",'
    row += '"10a9226f-50ee-49d8-a393-9a501d47ce04","File Server","CONTOSO\\alice","x","y"'
    path = tmp_path / "DailyAccess.csv"
    path.write_text(header + "\r\n" + row + "\r\n")
    into = tmp_path / "estate"
    run = entitle(
        "import",
        "ual",
        str(path),
        "--into",
        str(into),
        "--server",
        "fs01",
        "--since",
        "2025-08-01",
        "--until",
        "2025-08-31",
    )
    assert run.code == 0, run.stderr
    assert "contoso\\alice" in (into / "access.csv").read_text()
