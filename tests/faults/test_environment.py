"""The system around entitle fails: the database cannot be reached, is read-only, or the disk is
full. Every command says so in one line (no traceback), exits non-zero (3: a system failure; 2
where the input itself is wrong) and damages nothing: the ledger still verifies, the estate
folder and the report files are as they were.

The read-only and disk-full cases mount a small tmpfs (root only); where mounting is not
permitted they skip and say so."""

from __future__ import annotations

import gc
import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from entitle.cli.main import app
from pgreuse import drop_later
from tiers import SLOW

ROOT = Path(__file__).resolve().parents[2]
EXPORTS = ROOT / "tests" / "fixtures" / "exports"
EXAMPLE = ROOT / "examples" / "sample-estate"  # bundled, so the tests need nothing beside the clone
ADMIN = os.environ.get("ENTITLE_TEST_POSTGRES")
ENV = {"ENTITLE_KEY": Fernet.generate_key().decode(), "ENTITLE_USER": "faults"}
CLOSED = "postgresql://postgres@127.0.0.1:1/entitle"  # nothing listens on port 1
runner = CliRunner()


def entitle(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env=ENV)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"entitle {' '.join(args)} raised") from result.exception
    assert "Traceback" not in result.output + result.stderr
    return result.exit_code, result.stderr


def one_line(code: int, stderr: str, expected: int, *words: str) -> None:
    assert code == expected, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    for word in words:
        assert word in lines[0], (word, lines[0])


def files(folder: Path) -> dict[str, bytes]:
    """The files' bytes (not SQLite's shared-memory index, which readers write too)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and not p.name.endswith("-shm")
    }


def listing(db: str) -> str:
    result = runner.invoke(app, ["ledger", "list", "--json", "--db", db], env=ENV)
    assert result.exit_code == 0, result.stderr
    return result.stdout


def write_entitlements(path: Path, n: int, prefix: str = "E") -> Path:
    rows = [f"{prefix}-{i},windows-server,user-cal,2022,5" for i in range(n)]
    path.write_text("id,product,license,version,quantity\n" + "\n".join(rows) + "\n")
    return path


# -- mounts -------------------------------------------------------------------------------------


class Tmpfs:
    def __init__(self, path: Path, size: str):
        self.path = path
        path.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")

    def remount(self, mode: str) -> None:
        gc.collect()  # the commands run in this process: let go of their database files
        subprocess.run(["mount", "-o", f"remount,{mode}", str(self.path)], check=True)

    def fill(self) -> None:
        """Use up every free byte."""
        fd = os.open(self.path / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        try:
            while True:
                os.write(fd, b"\0" * 512)
        except OSError:
            pass
        finally:
            os.close(fd)

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.path)], check=False)


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Tmpfs]:
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    mounted = Tmpfs(tmp_path / "mnt", "512k")
    yield mounted
    mounted.unmount()


# -- the database cannot be reached --------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["ledger", "list"],
        ["ledger", "init"],
        ["ledger", "verify"],
        ["ledger", "assign", "E-1", "--to", "user:bob"],
    ],
)
def test_postgresql_on_a_closed_port(args: list[str]) -> None:
    code, err = entitle(*args, "--db", CLOSED)
    one_line(code, err, 3, "127.0.0.1:1/entitle", "Connection refused")


def test_position_with_a_ledger_that_cannot_be_reached() -> None:
    code, err = entitle("position", str(EXAMPLE), "--db", CLOSED)
    one_line(code, err, 3, "Connection refused")


def test_sqlite_in_a_missing_folder(tmp_path: Path) -> None:
    code, err = entitle("ledger", "list", "--db", str(tmp_path / "missing" / "entitle.db"))
    one_line(code, err, 2, "no ledger there", "entitle ledger init")
    assert not (tmp_path / "missing").exists()


def test_sqlite_in_a_folder_that_cannot_be_created(tmpfs: Tmpfs) -> None:
    tmpfs.remount("ro")
    code, err = entitle("ledger", "init", "--db", str(tmpfs.path / "sub" / "entitle.db"))
    one_line(code, err, 3, "Read-only file system")


# -- read-only databases ------------------------------------------------------------------------


def test_sqlite_on_a_read_only_mount(tmpfs: Tmpfs, tmp_path: Path) -> None:
    db = str(tmpfs.path / "entitle.db")
    assert entitle("ledger", "init", "--db", db)[0] == 0
    entitlements = write_entitlements(tmp_path / "e.csv", 3)
    assert entitle("ledger", "import", str(entitlements), "--db", db)[0] == 0
    before = listing(db)
    tmpfs.remount("ro")
    for args in (["ledger", "assign", "E-1", "--to", "user:bob"], ["ledger", "list"]):
        code, err = entitle(*args, "--db", db)
        one_line(code, err, 3, "read-only file system")
    tmpfs.remount("rw")
    assert entitle("ledger", "verify", "--db", db)[0] == 0
    assert listing(db) == before


def test_sqlite_opened_read_only(tmp_path: Path) -> None:
    """``sqlite:///file:PATH?mode=ro&uri=true``: reading works, a change is refused."""
    path = tmp_path / "entitle.db"
    assert entitle("ledger", "init", "--db", str(path))[0] == 0
    entitlements = write_entitlements(tmp_path / "e.csv", 3)
    assert entitle("ledger", "import", str(entitlements), "--db", str(path))[0] == 0
    url = f"sqlite:///file:{path}?mode=ro&uri=true"
    assert entitle("ledger", "verify", "--db", url)[0] == 0
    before = files(tmp_path)
    code, err = entitle("ledger", "assign", "E-1", "--to", "user:bob", "--db", url)
    one_line(code, err, 3, "readonly database")
    assert files(tmp_path) == before


@pytest.fixture
def read_only_pg(tmp_path: Path) -> Iterator[str]:
    """A scratch PostgreSQL ledger with one entitlement, then set default_transaction_read_only
    (dropped afterwards)."""
    if not ADMIN:
        pytest.skip(
            "PostgreSQL fault tests need ENTITLE_TEST_POSTGRES, e.g. "
            "postgresql://postgres@127.0.0.1:5432/test"
        )
    name = "entitle_ro_" + secrets.token_hex(6)
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = make_url(ADMIN).set(database=name).render_as_string(hide_password=False)
    try:
        assert entitle("ledger", "init", "--db", url)[0] == 0
        entitlements = write_entitlements(tmp_path / "e.csv", 3)
        assert entitle("ledger", "import", str(entitlements), "--db", url)[0] == 0
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        yield url
    finally:
        drop_later(ADMIN, name)


def test_postgresql_read_only(read_only_pg: str, tmp_path: Path) -> None:
    url = read_only_pg
    more = write_entitlements(tmp_path / "more.csv", 3, prefix="M")
    for args in (
        ["ledger", "assign", "E-1", "--to", "user:bob"],
        ["ledger", "import", str(more)],
        ["ledger", "retire", "E-2", "--reason", "sold"],
    ):
        code, err = entitle(*args, "--db", url)
        one_line(code, err, 3, "read-only transaction")
    assert entitle("ledger", "verify", "--db", url)[0] == 0
    code, _ = entitle("ledger", "list", "--db", url)
    assert code == 0


# -- the disk is full ---------------------------------------------------------------------------


def test_an_import_on_a_full_disk(tmpfs: Tmpfs) -> None:
    into = tmpfs.path / "estate"
    code, err = entitle("import", "hyperv", str(EXPORTS / "hyperv"), "--into", str(into))
    assert code == 0, err
    before = files(into)
    tmpfs.fill()
    code, err = entitle("import", "sil", str(EXPORTS / "sil"), "--into", str(into))
    one_line(code, err, 3, "No space left on device", "nothing was changed")
    assert files(into) == before
    assert [p.name for p in tmpfs.path.iterdir()] == ["estate", "filler"] or sorted(
        p.name for p in tmpfs.path.iterdir()
    ) == ["estate", "filler"]


# One host of Windows Server Standard: its position is computed in a tenth of the sample estate's
# time (about 2 s of a core) and its reports still span pages (the workbook 10 KB); the disk is
# full to its last page (Tmpfs.fill), so the first page of any report cannot be written, whatever
# the estate's size.
SMALL_ESTATE = {
    "hosts.csv": "host,processors,cores_per_processor\nhv1,2,8\n",
    "oses.csv": "ose,host,virtual\nhv1-os,hv1,no\n",
    "software.csv": "ose,product,edition,version\nhv1-os,windows-server,standard,2022\n",
}


# The page is written by the workbook's code (cli/reporting.py write_reports_bytes), the text by
# its own (cli/common.py write_atomic): the fast tier takes one of each, the long tier the page.
@pytest.mark.parametrize("option", ["--xlsx", pytest.param("--html", marks=SLOW), "--out"])
def test_a_report_on_a_full_disk(tmpfs: Tmpfs, tmp_path: Path, option: str) -> None:
    estate = tmp_path / "estate"
    estate.mkdir()
    for name, text in SMALL_ESTATE.items():
        (estate / name).write_text(text)
    assert entitle("position", str(estate), option, str(tmp_path / "report"))[0] == 0
    target = tmpfs.path / "report"
    target.write_bytes(b"the old report")
    tmpfs.fill()
    code, err = entitle("position", str(estate), option, str(target))
    one_line(code, err, 3, "No space left on device")
    assert target.read_bytes() == b"the old report"
    assert sorted(p.name for p in tmpfs.path.iterdir()) == ["filler", "report"]


def test_a_ledger_on_a_full_disk(tmpfs: Tmpfs, tmp_path: Path) -> None:
    db = str(tmpfs.path / "entitle.db")
    assert entitle("ledger", "init", "--db", db)[0] == 0
    first = write_entitlements(tmp_path / "first.csv", 5)
    assert entitle("ledger", "import", str(first), "--db", db)[0] == 0
    tmpfs.fill()
    many = write_entitlements(tmp_path / "many.csv", 3000, prefix="M")
    code, err = entitle("ledger", "import", str(many), "--db", db)
    one_line(code, err, 3, "full")
    (tmpfs.path / "filler").unlink()
    code, out = entitle("ledger", "verify", "--db", db)
    assert code == 0, out
    held = listing(db)
    assert '"M-0"' not in held and '"E-4"' in held
