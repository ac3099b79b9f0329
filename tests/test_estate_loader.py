"""The estate loader: a folder of CSV files or one workbook in, records or problems out.

Each test writes a tiny estate inline. ``BASE`` below is a valid one: one host with one VM running
Windows Server and SQL Server, one user on one PC reaching SQL Server, System Center managing the
VM, one entitlement and one price. A test changes one table to break one rule of
``shared/spec/estate-format.md`` and expects the problem at the right ``FILE:LINE``.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import io
import tempfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entitle.estate.loader import load_estate, load_estate_or_raise
from entitle.estate.records import TABLES, Estate
from entitle.source import NO_SOURCE, BadInput, Problem
from tiers import examples

EXAMPLE = Path(__file__).resolve().parent / "fixtures" / "example-estate"  # see SOURCE.md there

BASE: dict[str, str] = {
    "hosts": "host,processors,cores_per_processor\nh1,2,8\n",
    "oses": "ose,host,virtual\nvm1,h1,yes\n",
    "software": (
        "ose,product,edition,version\nvm1,windows-server,standard,2022\nvm1,sql-server,standard,2022\n"
    ),
    "users": "user\nalice\n",
    "devices": "device\npc1\n",
    "access": "ose,product,user,device\nvm1,sql-server,alice,pc1\n",
    "managed": "product,ose,device\nsystem-center,vm1,\n",
    "entitlements": "id,product,license,quantity,assigned_to\nE1,windows-server,core,16,h1\n",
    "prices": "product,license,edition,price\nwindows-server,core,standard,73.50\n",
}


def write(folder: Path, tables: dict[str, str], encode: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        if encode == "utf-16-le":
            data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
        elif encode == "utf-16-be":
            data = codecs.BOM_UTF16_BE + text.encode("utf-16-be")
        elif encode == "utf-8-sig":
            data = codecs.BOM_UTF8 + text.encode("utf-8")
        else:
            data = text.encode("utf-8")
        (folder / f"{name}.csv").write_bytes(data)
    return folder


def estate_with(tmp_path: Path, **changes: str) -> Path:
    return write(tmp_path / "estate", {**BASE, **changes})


def errors(problems: list[Problem]) -> list[str]:
    return [str(p) for p in problems if p.severity == "error"]


def counts(estate: Estate) -> dict[str, int]:
    return {table: len(getattr(estate, table)) for table in TABLES}


def without_sources(estate: Estate) -> dict[str, list[object]]:
    return {
        table: [dataclasses.replace(r, source=NO_SOURCE) for r in getattr(estate, table)]
        for table in TABLES
    }


# -- estates that load ---------------------------------------------------------------------------


def test_example_estate_loads_with_every_row() -> None:
    estate, problems = load_estate(EXAMPLE)
    assert problems == []
    assert estate is not None
    assert estate.name == "example-estate"
    # Counted by hand from the CSV files beside estate-format.md.
    assert counts(estate) == {
        "hosts": 2,
        "oses": 5,
        "software": 8,
        "users": 5,
        "devices": 5,
        "access": 10,
        "managed": 5,
        "entitlements": 5,
        "prices": 9,
        "placements": 0,  # the version 1 example has no placements.csv
    }


def test_example_estate_cells_become_typed_values() -> None:
    estate, _ = load_estate(EXAMPLE)
    assert estate is not None
    hv1 = estate.hosts[0]
    assert (hv1.host, hv1.processors, hv1.cores_per_processor, hv1.cores) == ("hv1", 2, 12, 24)
    assert hv1.cpu_model == "Intel Xeon Gold 6136" and hv1.cluster is None
    assert str(hv1.source) == "hosts.csv:2"
    host_ose = estate.oses[0]
    assert (host_ose.virtual, host_ose.hosting_only, host_ose.environment) == (
        False,
        True,
        "production",
    )
    assert estate.oses[3].environment == "dev-test" and estate.oses[3].vcpus == 4
    assert estate.software[3].model == "server-cal"
    assert estate.software[7].edition is None  # rds has no editions
    admin = estate.access[7]
    assert (admin.user, admin.device, admin.purpose, admin.level) == (
        "carol",
        None,
        "admin",
        "standard",
    )
    assert admin.first_seen == date(2026, 9, 1)
    e1 = estate.entitlements[0]
    assert (e1.quantity, e1.unit_price, e1.sa_until) == (32, Decimal("66.81"), date(2027, 6, 30))
    assert estate.prices[1].price == Decimal("423.19")
    assert estate.users[4].external is True


def test_absent_tables_are_empty(tmp_path: Path) -> None:
    folder = write(tmp_path / "tiny", {"hosts": BASE["hosts"]})
    estate, problems = load_estate(folder)
    assert problems == []
    assert estate is not None and estate.name == "tiny"
    assert counts(estate) == {t: 1 if t == "hosts" else 0 for t in TABLES}


def test_extra_columns_are_kept(tmp_path: Path) -> None:
    folder = estate_with(tmp_path, hosts="host,processors,cores_per_processor,Rack\nh1,2,8,B4\n")
    estate, problems = load_estate(folder)
    assert problems == []
    assert estate is not None
    assert dict(estate.hosts[0].extra) == {"rack": "B4"}


def test_booleans_words_and_spaces_are_lenient(tmp_path: Path) -> None:
    folder = estate_with(
        tmp_path,
        oses="ose,host,virtual,hosting_only\nvm1,h1, TRUE ,0\n",
        software="ose,product,edition,version\nvm1,Windows-Server,Standard,2022\n"
        "vm1,SQL-Server,standard,2022\n",
        users="user,external\nalice,Yes\n",
    )
    estate, problems = load_estate(folder)
    assert problems == []
    assert estate is not None
    assert estate.oses[0].virtual is True and estate.oses[0].hosting_only is False
    assert estate.software[0].product == "windows-server"
    assert estate.software[0].edition == "standard"
    assert estate.users[0].external is True


def test_server_to_server_access_names_an_ose_as_device(tmp_path: Path) -> None:
    folder = estate_with(
        tmp_path,
        oses="ose,host,virtual\nvm1,h1,yes\nvm2,h1,yes\n",
        access="ose,product,user,device\nvm1,sql-server,,vm2\n",
    )
    _, problems = load_estate(folder)
    assert problems == []


def test_quoted_field_with_a_line_break_keeps_line_numbers(tmp_path: Path) -> None:
    hosts = 'host,processors,cores_per_processor,cpu_model\nh1,2,8,"two\nlines"\nh2,x,8,\n'
    _, problems = load_estate(estate_with(tmp_path, hosts=hosts))
    assert errors(problems) == [
        "hosts.csv:4: processors 'x' is not a number; a whole number is expected "
        "(write a whole number of at least 1, e.g. 2)"
    ]


def test_blank_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    hosts = "host,processors,cores_per_processor\n\nh1,2,8\n,,\n\nh2,0,8\n"
    _, problems = load_estate(estate_with(tmp_path, hosts=hosts))
    assert [str(p.source) for p in problems] == ["hosts.csv:6"]


# -- one problem per broken rule, at the right FILE:LINE ------------------------------------------

BROKEN = [
    # malformed files
    ("hosts", "host,processors,host,cores_per_processor\nh1,2,h1,8\n", "hosts.csv:1:", "twice"),
    ("hosts", "host,processors,cores_per_processor\nh1,2,8,9\n", "hosts.csv:2:", "4 fields"),
    ("hosts", "host,processors,cores_per_processor\nh1,2\n", "hosts.csv:2:", "2 fields"),
    ("hosts", "", "hosts.csv:1:", "empty"),
    ("hosts", "\n\n", "hosts.csv:1:", "empty"),
    ("hosts", 'host,processors,cores_per_processor\nh1,2,"8\n', "hosts.csv:2:", "never ends"),
    ("hosts", "host;processors;cores_per_processor\nh1;2;8\n", "hosts.csv:1:", "missing"),
    ("oses", "ose,virtual\nvm1,yes\n", "oses.csv:1:", "missing required column: host"),
    ("managed", "product,user\nsystem-center,alice\n", "managed.csv:1:", "ose or device"),
    # cells
    ("hosts", "host,processors,cores_per_processor\n,2,8\n", "hosts.csv:2:", "host is blank"),
    ("hosts", "host,processors,cores_per_processor\nh1,two,8\n", "hosts.csv:2:", "whole number"),
    ("hosts", "host,processors,cores_per_processor\nh1,2.5,8\n", "hosts.csv:2:", "is a decimal"),
    ("hosts", "host,processors,cores_per_processor\nh1,0,8\n", "hosts.csv:2:", "less than 1"),
    ("hosts", "host,processors,cores_per_processor\nh1,2,-8\n", "hosts.csv:2:", "less than 1"),
    ("hosts", "host,processors,cores_per_processor\nh1,2,\n", "hosts.csv:2:", "blank"),
    ("oses", "ose,host,virtual\nvm1,h1,maybe\n", "oses.csv:2:", "not yes or no"),
    ("oses", "ose,host,virtual,vcpus\nvm1,h1,yes,0\n", "oses.csv:2:", "vcpus 0"),
    ("oses", "ose,host,virtual,environment\nvm1,h1,yes,prod\n", "oses.csv:2:", "dev-test"),
    (
        "entitlements",
        "product,license,quantity\nwindows-server,core,-1\n",
        "entitlements.csv:2:",
        "at least 0",
    ),
    (
        "entitlements",
        "product,license,quantity,sa_until\nwindows-server,core,2,30/06/2027\n",
        "entitlements.csv:2:",
        "YYYY-MM-DD",
    ),
    (
        "entitlements",
        "product,license,quantity,purchased\nwindows-server,core,2,2027-02-30\n",
        "entitlements.csv:2:",
        "not a real date",
    ),
    (
        "entitlements",
        "product,license,quantity\nwindows-server,cal,2\n",
        "entitlements.csv:2:",
        "user-cal",
    ),
    (
        "entitlements",
        "product,license,quantity,unit_price\nwindows-server,core,2,12;50\n",
        "entitlements.csv:2:",
        "not an amount",
    ),
    ("prices", "product,license,price\nrds,user-cal,-5\n", "prices.csv:2:", "negative"),
    ("prices", "product,license,price\nrds,user-cal,\n", "prices.csv:2:", "price is blank"),
    ("access", "ose,product,level\nvm1,sql-server,gold\n", "access.csv:2:", "enterprise"),
    ("access", "ose,product,purpose\nvm1,sql-server,play\n", "access.csv:2:", "admin"),
    (
        "software",
        "ose,product,edition,version,model\nvm1,sql-server,standard,2022,per-user\n",
        "software.csv:2:",
        "per-core",
    ),
    ("managed", "product,ose,device\nsystem-center,,\n", "managed.csv:2:", "neither"),
    # duplicates
    (
        "hosts",
        "host,processors,cores_per_processor\nh1,2,8\nh1,1,4\n",
        "hosts.csv:3:",
        "hosts.csv:2",
    ),
    ("oses", "ose,host,virtual\nvm1,h1,yes\nvm1,h1,no\n", "oses.csv:3:", "first at oses.csv:2"),
    ("users", "user\nalice\nbob\nalice\n", "users.csv:4:", "first at users.csv:2"),
    ("devices", "device\npc1\npc1\n", "devices.csv:3:", "first at devices.csv:2"),
    (
        "entitlements",
        "id,product,license,quantity\nE1,rds,user-cal,1\nE1,rds,user-cal,2\n",
        "entitlements.csv:3:",
        "first at entitlements.csv:2",
    ),
    # references
    ("oses", "ose,host,virtual\nvm1,h1,yes\nvm2,h9,yes\n", "oses.csv:3:", "'h9'"),
    (
        "software",
        "ose,product,edition,version\nvm1,windows-server,standard,2022\nvm1,sql-server,standard,2022\n"
        "vm9,windows-server,standard,2022\n",
        "software.csv:4:",
        "'vm9'",
    ),
    ("access", "ose,product\nvm9,sql-server\n", "access.csv:2:", "ose 'vm9'"),
    ("access", "ose,product,user\nvm1,sql-server,zoe\n", "access.csv:2:", "user 'zoe'"),
    ("access", "ose,product,device\nvm1,sql-server,pc9\n", "access.csv:2:", "device 'pc9'"),
    ("managed", "product,ose,device\nsystem-center,vm9,\n", "managed.csv:2:", "'vm9'"),
    (
        "managed",
        "product,device,user\nconfiguration-manager,pc9,alice\n",
        "managed.csv:2:",
        "'pc9'",
    ),
    (
        "managed",
        "product,device,user\nconfiguration-manager,pc1,zoe\n",
        "managed.csv:2:",
        "'zoe'",
    ),
    (
        "entitlements",
        "product,license,quantity,assigned_to\nwindows-server,core,16,h9\n",
        "entitlements.csv:2:",
        "'h9'",
    ),
    # the catalog
    (
        "software",
        "ose,product,edition,version\nvm1,sql-sever,standard,2022\n",
        "software.csv:2:",
        "did you mean 'sql-server'?",
    ),
    (
        "software",
        # A blank windows-server edition is an unknown one (licensed as the cheaper edition);
        # SQL Server's edition decides its model and minimums, so it stays required.
        "ose,product,edition,version\nvm1,windows-server,standard,2022\nvm1,sql-server,,2022\n",
        "software.csv:3:",
        "needs an edition",
    ),
    (
        "software",
        "ose,product,edition,version\nvm1,windows-server,standard,2022\n"
        "vm1,sql-server,standart,2022\n",
        "software.csv:3:",
        "did you mean 'standard'?",
    ),
    (
        "software",
        "ose,product,edition,version\nvm1,windows-server,standard,2022\n"
        "vm1,sql-server,standard,2022\nvm1,rds,standard,2022\n",
        "software.csv:4:",
        "rds has no editions",
    ),
    (
        "software",
        "ose,product,edition,version\nvm1,windows-server,standard,2021\n"
        "vm1,sql-server,standard,2022\n",
        "software.csv:2:",
        "'2021' is not a version of windows-server",
    ),
    (
        "access",
        "ose,product\nvm1,sql-server\nvm1,rds\n",
        "access.csv:3:",
        "vm1 has no rds in software.csv",
    ),
    (
        "entitlements",
        "product,license,quantity\nsql-sever,core,2\n",
        "entitlements.csv:2:",
        "did you mean 'sql-server'?",
    ),
    (
        "prices",
        "product,license,price\nsql,core,2\n",
        "prices.csv:2:",
        "did you mean 'sql-server'?",
    ),
    (
        "managed",
        "product,ose\nsystem-centre,vm1\n",
        "managed.csv:2:",
        "did you mean 'system-center'?",
    ),
    ("managed", "product,ose\nsql-server,vm1\n", "managed.csv:2:", "system-center"),
    (
        "software",
        "ose,product,edition,version\nvm1,windows-server,standard,2022\nvm1,core-cal-suite,,2022\n",
        "software.csv:3:",
        "does not belong in software.csv",
    ),
    (
        "access",
        "ose,product,level\nvm1,sql-server,enterprise\n",
        "access.csv:2:",
        "sql-server has no enterprise level",
    ),
    (
        "entitlements",
        "product,license,quantity,version\ncore-cal-bridge-intune,user-cal,5,2019\n",
        "entitlements.csv:2:",
        "CAL bridge",
    ),
    (
        "prices",
        "product,license,price\nrds,user-cal,150\nrds,user-cal,140\n",
        "prices.csv:3:",
        "first at prices.csv:2",
    ),
    (  # the report has one currency; entitle converts none (a blank one is the report's)
        "prices",
        "product,license,price,currency\nrds,user-cal,150,\nrds,device-cal,140,usd\n"
        "sql-server,user-cal,200,EUR\n",
        "prices.csv:4:",
        "currency 'EUR', but prices.csv:3 is in 'usd'",
    ),
]


@pytest.mark.parametrize(("table", "text", "where", "words"), BROKEN)
def test_each_broken_rule_is_one_problem_at_its_line(
    tmp_path: Path, table: str, text: str, where: str, words: str
) -> None:
    estate, problems = load_estate(estate_with(tmp_path, **{table: text}))
    assert estate is None
    found = [p for p in errors(problems) if p.startswith(where) and words in p]
    assert found, f"expected {where} ... {words!r} in {errors(problems)}"
    assert all(p.hint for p in problems), "every problem tells how to fix it"


def test_a_missing_hosts_table_is_a_problem_for_the_folder(tmp_path: Path) -> None:
    folder = write(tmp_path / "estate", {"oses": "ose,host,virtual\n"})
    estate, problems = load_estate(folder)
    assert estate is None
    assert errors(problems) == [
        f"{folder}: the estate folder has no hosts.csv (every estate needs hosts.csv "
        "(columns host, processors, cores_per_processor))"
    ]


def test_a_path_that_is_no_estate_is_a_problem(tmp_path: Path) -> None:
    assert load_estate(tmp_path / "nowhere")[0] is None
    (tmp_path / "notes.txt").write_text("hello")
    assert load_estate(tmp_path / "notes.txt")[0] is None
    (tmp_path / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    estate, problems = load_estate(tmp_path / "broken.xlsx")
    assert estate is None
    assert str(problems[0]).startswith("broken.xlsx: cannot open the workbook")


def test_undecodable_and_binary_files_are_problems(tmp_path: Path) -> None:
    folder = estate_with(tmp_path)
    (folder / "users.csv").write_bytes(b"user,name\nalice,Alice\nbob,Jos\xe9\n")
    (folder / "devices.csv").write_bytes(b"device\npc1\x00\n")
    estate, problems = load_estate(folder)
    assert estate is None
    text = errors(problems)
    assert text[0].startswith("users.csv:3: not UTF-8 or UTF-16 text")
    assert text[1].startswith("devices.csv:2: the text contains NUL bytes")
    # The unreadable tables are not also blamed for the ids they would have defined.
    assert len(text) == 2


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    folder = estate_with(
        tmp_path,
        hosts="host,processors,cores_per_processor\nh1,2,8\nh2,two,8\nh1,1,1\n",
        oses="ose,host,virtual\nvm1,h1,yes\nvm2,h9,perhaps\n",
        access="ose,product,user\nvm1,sql-sever,zoe\n",
    )
    estate, problems = load_estate(folder)
    assert estate is None
    assert [str(p.source) for p in problems] == [
        "hosts.csv:3",
        "hosts.csv:4",
        "oses.csv:3",
        "oses.csv:3",
        "access.csv:2",
        "access.csv:2",
    ]
    assert "did you mean 'sql-server'?" in str(problems[-1]) + str(problems[-2])


def test_load_estate_or_raise(tmp_path: Path) -> None:
    estate, warnings = load_estate_or_raise(estate_with(tmp_path))
    assert warnings == [] and counts(estate)["hosts"] == 1
    with pytest.raises(BadInput) as raised:
        load_estate_or_raise(estate_with(tmp_path / "bad", hosts="host,processors\nh1,2\n"))
    assert [str(p.source) for p in raised.value.problems] == ["hosts.csv:1"]


def test_a_misspelt_table_file_is_a_warning(tmp_path: Path) -> None:
    folder = estate_with(tmp_path)
    (folder / "acess.csv").write_text("ose,product\nvm1,sql-server\n")
    estate, problems = load_estate(folder)
    assert estate is not None
    assert [(p.severity, str(p)) for p in problems] == [
        (
            "warning",
            "acess.csv: 'acess.csv' is not an estate table and is ignored (did you mean 'access'?)",
        )
    ]


# -- encodings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16-le", "utf-16-be"])
def test_bom_encodings_load_the_same_as_utf8(tmp_path: Path, encoding: str) -> None:
    tables = {**BASE, "users": "user,name\nalice,Zoë Ångström\n"}
    plain, _ = load_estate(write(tmp_path / "plain", tables))
    other, problems = load_estate(write(tmp_path / "plain2", tables, encoding))
    assert problems == []
    assert plain is not None and other is not None
    assert dataclasses.replace(other, name="plain") == plain
    assert other.users[0].name == "Zoë Ångström"


# -- workbooks -----------------------------------------------------------------------------------


def typed(cell: str) -> object:
    """A cell as Excel would hold it: numbers as numbers, dates as dates."""
    try:
        return int(cell)
    except ValueError:
        pass
    try:
        return float(cell)
    except ValueError:
        pass
    try:
        return date.fromisoformat(cell) if len(cell) == 10 else cell or None
    except ValueError:
        return cell


def workbook_from(folder: Path, target: Path, tables: dict[str, str] | None = None) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in TABLES:
        file = folder / f"{table}.csv"
        if tables is None and not file.exists():
            continue  # an absent table is empty (placements.csv, of version 2)
        if tables is not None and table not in tables:
            continue
        text = tables[table] if tables else file.read_text(encoding="utf-8")
        sheet = book.create_sheet(table)
        for i, row in enumerate(csv.reader(io.StringIO(text))):
            sheet.append(row if i == 0 else [typed(c) for c in row])
    book.save(target)
    return target


def test_a_workbook_loads_the_same_records_as_the_folder(tmp_path: Path) -> None:
    folder, _ = load_estate(EXAMPLE)
    book, problems = load_estate(workbook_from(EXAMPLE, tmp_path / "estate.xlsx"))
    assert problems == []
    assert folder is not None and book is not None
    assert book.name == "estate"
    assert without_sources(book) == without_sources(folder)
    assert str(book.hosts[1].source) == "estate.xlsx:hosts!3"
    assert book.entitlements[0].unit_price == Decimal("66.81")


def test_workbook_problems_name_sheet_and_row(tmp_path: Path) -> None:
    tables = {**BASE, "hosts": "host,processors,cores_per_processor\nh1,2,8\nh2,2.5,8\n"}
    path = workbook_from(tmp_path, tmp_path / "estate.xlsx", tables)
    estate, problems = load_estate(path)
    assert estate is None
    assert [str(p) for p in problems] == [
        "estate.xlsx:hosts!3: processors '2.5' is a decimal; a whole number is expected "
        "(write a whole number of at least 1, e.g. 2)"
    ]


def test_workbook_without_hosts_sheet(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    book.active.title = "Notes"
    book.save(tmp_path / "estate.xlsx")
    _, problems = load_estate(tmp_path / "estate.xlsx")
    assert [str(p) for p in problems] == [
        "estate.xlsx: the workbook has no hosts sheet "
        "(add a sheet named hosts (columns host, processors, cores_per_processor))"
    ]


# -- never a traceback ---------------------------------------------------------------------------

FUZZ = settings(
    max_examples=examples(20, 100), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def load_with(table: str, data: bytes) -> tuple[Estate | None, list[Problem]]:
    with tempfile.TemporaryDirectory() as tmp:
        folder = write(Path(tmp) / "estate", BASE)
        (folder / f"{table}.csv").write_bytes(data)
        estate, problems = load_estate(folder)
    if estate is None:
        assert any(p.severity == "error" for p in problems)
    return estate, problems


@FUZZ
@given(table=st.sampled_from(["hosts", "access"]), data=st.binary(max_size=300))
def test_random_bytes_never_raise(table: str, data: bytes) -> None:
    load_with(table, data)


COLUMNS = sorted(
    {"host", "processors", "cores_per_processor", "ose", "virtual", "vcpus", "product", "user"}
    | {"device", "level", "purpose", "first_seen", "edition", "version", "cluster"}
)
CELLS = st.one_of(
    st.sampled_from(["", "h1", "vm1", "alice", "pc1", "sql-server", "rds", "yes", "0", "-1"]),
    st.sampled_from(["2.5", "2022", "standard", "enterprise", "admin", "2026-02-30", "1" * 5000]),
    st.text(max_size=12),
)


@FUZZ
@given(
    table=st.sampled_from(["hosts", "access", "oses", "software"]),
    header=st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), max_size=6),
    rows=st.lists(st.lists(CELLS, max_size=7), max_size=6),
)
def test_random_csv_text_never_raises(table: str, header: list[str], rows: list[list[str]]) -> None:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    load_with(table, out.getvalue().encode("utf-8", errors="surrogatepass"))


def test_workbook_value_outside_the_header_is_a_problem(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "hosts"
    sheet.append(["Host", "processors", "cores_per_processor"])
    sheet.append(["h1", 2.0, 8, None, "stray note"])
    book.save(tmp_path / "estate.xlsx")
    estate, problems = load_estate(tmp_path / "estate.xlsx")
    assert estate is None
    assert [str(p) for p in problems] == [
        "estate.xlsx:hosts!2: a value in column E, which has no name in the header row "
        "(name the column in the header row or clear the cell)"
    ]


# -- version 2 additions (docs/estate-format.md "Additions, version 2") -----------------------


V2 = {
    **BASE,
    "hosts": "host,processors,cores_per_processor,cluster\nh1,2,8,c1\nh2,2,8,c1\nh3,2,8,c1\n",
    "oses": ("ose,host,virtual,front_end,hosts\nvm1,h1,yes,,\napp1,h1,yes,yes,h1; h2;h1\n"),
    "software": (
        "ose,product,edition,version,passive_for\n"
        "vm1,windows-server,standard,2022,\n"
        "vm1,sql-server,standard,2022,\n"
        "app1,sql-server,standard,2022,vm1\n"
    ),
    "entitlements": (
        "id,product,license,edition,version,quantity\nP1,windows-server,processor,standard,2012r2,2\n"
    ),
    "placements": "ose,host,from,until\nvm1,h2,2026-01-01,2026-09-01\nvm1,h1,2026-09-01,\n",
}


def test_version_2_columns_and_placements_load(tmp_path: Path) -> None:
    estate, problems = load_estate(write(tmp_path / "e", V2))
    assert [p for p in problems if p.severity == "error"] == []
    assert estate is not None
    app = next(o for o in estate.oses if o.ose == "app1")
    assert app.front_end is True and app.hosts == ("h1", "h2")  # trimmed, repeat dropped
    assert next(o for o in estate.oses if o.ose == "vm1").front_end is False
    assert [s.passive_for for s in estate.software] == [None, None, "vm1"]
    assert estate.entitlements[0].license == "processor"
    first, second = estate.placements
    assert (first.ose, first.host, str(first.since), str(first.until)) == (
        "vm1",
        "h2",
        "2026-01-01",
        "2026-09-01",
    )
    assert second.until is None
    assert str(first.source) == "placements.csv:2"


def test_version_2_references_and_dates_are_checked(tmp_path: Path) -> None:
    tables = {
        **V2,
        "oses": "ose,host,virtual,hosts\nvm1,h1,yes,h1;h9\napp1,h1,no,h2\n",
        "software": "ose,product,edition,version,passive_for\nvm1,sql-server,standard,2022,vm1\n"
        "app1,sql-server,standard,2022,nowhere\n",
        "placements": "ose,host,from,until\nvm1,h2,2026-09-01,2026-01-01\nvm7,h1,2026-01-01,\n"
        "vm1,h1,,\n",
    }
    estate, problems = load_estate(write(tmp_path / "e", tables))
    assert estate is None
    said = {(str(p.source), p.message) for p in problems}
    assert ("oses.csv:2", "hosts 'h9' is not a host in hosts.csv") in said
    assert ("oses.csv:3", "hosts is given for a physical OSE") in said
    assert ("software.csv:2", "passive_for names the row's own OSE 'vm1'") in said
    assert ("software.csv:3", "passive_for 'nowhere' is not a OSE in oses.csv") in said
    assert ("placements.csv:2", "until 2026-01-01 is before from 2026-09-01") in said
    assert ("placements.csv:3", "ose 'vm7' is not a OSE in oses.csv") in said
    assert ("placements.csv:4", "from is blank") in said
