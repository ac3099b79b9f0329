"""The hostile inputs of issue #14 that did not hold, through the command line: memory bombs
measured in what is built (shared strings, table rows, counts), options that are not numbers,
nesting that recursed, links and pipes given as estate files, ids that differ only by case or
look like something else, escape codes, formula-looking cells in what entitle writes, and UAL
exports in UTF-16 big-endian or with impossible counts. Each must answer with ``FILE:LINE:
message`` lines, exit 2 (no traceback, nothing written), or be read correctly."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest
from big import shared_strings_bomb
from clikit import PROBLEM, assert_rejected, entitle

from entitle.estate import reader
from entitle.estate.files import read_input
from entitle.estate.reader import read_csv_bytes
from entitle.estate.workbook import check_archive

MiB = 2**20
HOSTS = "host,processors,cores_per_processor\n"


def estate(where: Path, **tables: str) -> Path:
    folder = where / "estate"
    folder.mkdir(parents=True, exist_ok=True)
    tables.setdefault("hosts", HOSTS + "hv1,1,8\n")
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


# -- item 2: limits measured in what is unpacked and built ---------------------------------------


def test_a_shared_strings_table_is_limited_before_openpyxl_builds_it(tmp_path: Path) -> None:
    """72 MiB of shared strings packed about 130 to 1: under the zip-bomb ratio (250) and the
    total (1 GiB), over the 64 MiB limit of the shared-strings table — refused from the size
    the archive declares, by the estate loader and by every importer that reads workbooks."""
    bomb = shared_strings_bomb(tmp_path / "strings.xlsx")
    info = zipfile.ZipFile(bomb).getinfo("xl/sharedStrings.xml")
    assert 64 * MiB < info.file_size and info.file_size / info.compress_size < 250
    problem = check_archive(bomb, "strings.xlsx")
    assert problem is not None
    assert "table of shared strings (xl/sharedStrings.xml) would unpack to 73 MiB" in str(problem)
    run = entitle("position", str(bomb))
    assert_rejected(run, "strings.xlsx")
    for kind in ("rvtools", "generic"):
        mapping = tmp_path / "map.toml"
        mapping.write_text(
            '[[tables]]\ntable = "hosts"\n[tables.columns]\nhost = "host"\n'
            'processors = "processors"\ncores_per_processor = "cores_per_processor"\n'
        )
        into = tmp_path / f"into-{kind}"
        extra = ["--map", str(mapping)] if kind == "generic" else []
        run = entitle("import", kind, str(bomb), "--into", str(into), *extra)
        assert_rejected(run, "strings.xlsx")
        assert not into.exists()


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_a_table_stops_at_its_row_limit(quoted: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a limit of 3 rows, a header (line 1) and 5 rows (lines 2–6): rows on lines 2–4 are
    read, the 4th row, on line 5, is where reading stops. Both the fast path (no quote in the
    file) and the general one stop there."""
    monkeypatch.setattr(reader, "MAX_ROWS", 3)
    cell = '"d{}"' if quoted else "d{}"
    data = ("device\n" + "".join(cell.format(n) + "\n" for n in range(1, 6))).encode()
    raw, problems = read_csv_bytes(data, "devices", "devices.csv")
    assert raw is None
    assert [str(p).split(" (")[0] for p in problems] == [
        "devices.csv:5: the table has more than 3 rows; reading stopped here"
    ]
    ok = ("device\n" + "".join(cell.format(n) + "\n" for n in range(1, 4))).encode()
    raw, problems = read_csv_bytes(ok, "devices", "devices.csv")
    assert raw is not None and len(raw.sources) == 3 and not problems


def test_a_file_over_the_byte_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "devices.csv"
    path.write_bytes(b"device\n" + b"d1\n" * 10)  # 7 + 30 = 37 bytes
    data, problem = read_input(path, "devices.csv", max_bytes=36)
    assert data is None and problem is not None
    assert str(problem).startswith("devices.csv: the file holds 0 MiB, over the limit")
    data, problem = read_input(path, "devices.csv", max_bytes=37)
    assert data == b"device\n" + b"d1\n" * 10 and problem is None


def test_what_if_counts_are_bounded(tmp_path: Path) -> None:
    """add: users, count: 100000000 grew until the kernel killed it (24 GB): now line 4 of the
    change file is refused, as is a count of 10^29."""
    folder = estate(tmp_path, users="user\na.adams\n")
    for count in ("100000000", "1" + "0" * 29):
        changes = tmp_path / "changes.yaml"
        changes.write_text(f"changes:\n  - add: users\n    like: a.adams\n    count: {count}\n")
        run = entitle("position", str(folder), "--what-if", str(changes))
        assert_rejected(run, "changes.yaml")
        assert run.problems[0].startswith(f"changes.yaml:4: count {count} is more than")


def test_what_if_copies_are_bounded_by_the_rows_they_add(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """a.adams has 2 access rows; with a table limit of 10 rows, 4 copies give the access table
    2 + 4 × 2 = 10 rows (allowed) and 5 copies 12 (refused, naming the access table)."""
    from entitle.whatif import many  # noqa: PLC0415 - add: users is whatif/many.py

    monkeypatch.setattr(many, "MAX_ROWS", 10)
    folder = estate(
        tmp_path,
        oses="ose,host,virtual\nhv1,hv1,no\n",
        software="ose,product,version,edition\nhv1,windows-server,2022,standard\n",
        users="user\na.adams\n",
        access="ose,product,user\nhv1,windows-server,a.adams\nhv1,windows-server,a.adams\n",
    )
    changes = tmp_path / "changes.yaml"
    for count, ok in ((4, True), (5, False)):
        changes.write_text(f"- add: users\n  like: a.adams\n  own_devices: no\n  count: {count}\n")
        run = entitle("position", str(folder), "--what-if", str(changes), "--json")
        if ok:
            assert run.code == 0, run.stderr
        else:
            assert_rejected(run, "changes.yaml")
            assert "the access table hold more than 10 rows" in run.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--vms", "999999999"], "--vms 999999999: must be from 0 to 4,096 (VMs on one host)"),
        (["--cores", "5000"], "--cores 5000: must be from 1 to 4,096 (cores per processor)"),
    ],
)
def test_calc_counts_are_bounded(args: list[str], message: str) -> None:
    run = entitle("calc", "--processors", "1", "--cores", "8", *args)
    assert run.code == 2
    assert run.stderr.strip() == message


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("nan", "--devices-per-user 'nan': not a finite number"),
        ("inf", "--devices-per-user 'inf': not a finite number"),
        ("-Infinity", "--devices-per-user '-Infinity': not a finite number"),
        ("1e999", "--devices-per-user '1e999': too large (at most 1,000,000,000)"),
        ("-5", "--devices-per-user must not be negative"),
    ],
)
def test_decide_refuses_numbers_that_are_not(value: str, message: str) -> None:
    """nan raised InvalidOperation (a traceback); -5 with no own-device users was taken."""
    run = entitle(
        "decide", "--users", "10", "--dedicated", "0", "--shared", "0",
        f"--devices-per-user={value}",
    )  # fmt: skip
    assert run.code == 2, run.stdout
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_decide_counts_are_bounded() -> None:
    run = entitle("decide", "--users", "10000000000", "--dedicated", "0", "--shared", "0")
    assert run.code == 2
    assert run.stderr.strip() == "--users 10000000000: must be from 1 to 1,000,000,000 (people)"


def test_decide_growth_is_bounded_by_the_rows_it_would_build() -> None:
    """Head count +100,000,000 % a year multiplies the users by 1,000,001 in year 1: the sample's
    users (more than 2) would be over 2,000,000 new rows, so year 1 is refused at once instead
    of being built (the what-if copies of each user)."""
    sample = Path(__file__).resolve().parents[2] / "examples" / "sample-estate"
    run = entitle("decide", str(sample), "--years", "5", "--headcount-growth", "100000000")
    assert run.code == 2
    assert run.problems == [
        "growth:1: year 1 of this growth adds more than 2,000,000 users and devices, the limit "
        "of an estate table (give smaller growth rates or fewer --years)"
    ]


# -- item 5: nesting, and one line per problem ----------------------------------------------------


def test_a_what_if_file_nested_20000_deep(tmp_path: Path) -> None:
    """20,000 '[' raised RecursionError in PyYAML's composer."""
    folder = estate(tmp_path)
    changes = tmp_path / "deep.yaml"
    changes.write_text("changes:\n  - " + "[" * 20_000 + "\n")
    run = entitle("position", str(folder), "--what-if", str(changes))
    assert_rejected(run, "deep.yaml")
    assert run.problems == [
        "deep.yaml:2: lists or mappings nested more than 32 deep (a change file is a list of "
        "changes)"
    ]


def test_a_mapping_nested_20000_deep(tmp_path: Path) -> None:
    """tomllib recursed on 20,000 '[' (RecursionError); the line is the one they open on."""
    export = tmp_path / "hosts.csv"
    export.write_text(HOSTS + "hv1,1,8\n")
    mapping = tmp_path / "deep.toml"
    mapping.write_text('[[tables]]\ntable = "hosts"\nx = ' + "[" * 20_000 + "\n")
    run = entitle(
        "import", "generic", str(export), "--into", str(tmp_path / "e"), "--map", str(mapping)
    )
    assert_rejected(run, "deep.toml")
    assert run.problems[0].startswith(f"{mapping}:3: arrays or tables nested more than 32 deep")


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    export = tmp_path / "hosts.csv"
    export.write_text(HOSTS + "hv1,1,8\n")
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[[tables]]\ntable = "hosts"\ncolumns = = 1\n')
    run = entitle(
        "import", "generic", str(export), "--into", str(tmp_path / "e"), "--map", str(mapping)
    )
    assert_rejected(run, "bad.toml")
    assert run.problems[0].startswith(f"{mapping}:3: not a TOML mapping: Invalid value")


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["calc", "--processors", "1", "--cores", "x"],
            "entitle calc: Invalid value for '--cores': Input should be a valid integer, unable "
            "to parse string as an integer (see entitle calc --help)",
        ),
        (
            ["calc", "--processors", "1"],
            "entitle calc: Missing option '--cores'. (see entitle calc --help)",
        ),
        (
            ["decide", "--users", "ten"],
            "entitle decide: Invalid value for '--users': Input should be a valid integer, "
            "unable to parse string as an integer (see entitle decide --help)",
        ),
    ],
)
def test_a_usage_error_is_one_line(args: list[str], line: str) -> None:
    """Typer drew these in a box over three to five lines."""
    run = entitle(*args)
    assert run.code == 2
    assert run.stderr.strip() == line


def test_problems_of_the_merged_estate_are_one_line_each(tmp_path: Path) -> None:
    """An import into an estate whose hosts.csv has a host of 0 processors: the merged estate
    does not load. A heading line was printed above its problems; now each problem says it."""
    into = estate(tmp_path, hosts=HOSTS + "hv1,0,8\n")
    before = (into / "hosts.csv").read_bytes()
    export = tmp_path / "ad.csv"
    export.write_text('sAMAccountName,DistinguishedName\nalice,"CN=alice,DC=contoso,DC=com"\n')
    run = entitle("import", "ad", str(export), "--into", str(into))
    assert_rejected(run, "hosts.csv")
    assert len(run.stderr.strip().splitlines()) == len(run.problems) == 1
    assert "hosts.csv:2: processors 0 is less than 1" in run.problems[0]
    assert run.problems[0].endswith("; in the merged estate; nothing was written)")
    assert (into / "hosts.csv").read_bytes() == before and not (into / "users.csv").exists()


def test_missing_answers_are_one_line_each() -> None:
    run = entitle("decide", "--dedicated", "5")
    assert run.code == 2
    assert [line.split(": ")[0] for line in run.stderr.strip().splitlines()] == [
        "--users",
        "--shared",
    ]


def test_a_value_with_line_breaks_stays_on_its_problem_line(tmp_path: Path) -> None:
    """An OSE naming the host "no⏎such⏎host" (a quoted field over three lines): its problem was
    printed over three lines; now one, with the breaks shown as \\n."""
    folder = estate(tmp_path, oses='ose,host,virtual\nvm1,"no\nsuch\nhost",yes\n')
    run = entitle("position", str(folder))
    assert_rejected(run, "oses.csv")
    assert len(run.problems) == 1
    assert run.problems[0].startswith("oses.csv:2: ")
    assert "no\\nsuch\\nhost" in run.problems[0]


# -- item 6: links and special files, ids, escapes, formulas --------------------------------------


def test_a_symlinked_table_is_refused_without_showing_its_target(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("root:TOPSECRET:0:0\n")
    folder = estate(tmp_path)
    (folder / "hosts.csv").unlink()
    (folder / "hosts.csv").symlink_to(secret)
    run = entitle("position", str(folder))
    assert_rejected(run, "hosts.csv")
    assert run.problems == [
        "hosts.csv: the file is a symbolic link, not read (copy the file itself here, or run "
        "entitle --follow-symlinks ... if you trust the link)"
    ]
    assert "TOPSECRET" not in run.stderr + run.stdout
    # with the flag, the link is followed (and the file is read as a hosts table)
    good = tmp_path / "good.csv"
    good.write_text(HOSTS + "hv1,1,8\n")
    (folder / "hosts.csv").unlink()
    (folder / "hosts.csv").symlink_to(good)
    assert entitle("--follow-symlinks", "position", str(folder), "--json").code == 0


def test_a_pipe_named_like_a_table_is_refused_not_waited_on(tmp_path: Path) -> None:
    folder = estate(tmp_path)
    os.mkfifo(folder / "users.csv")
    run = entitle("position", str(folder))
    assert_rejected(run, "users.csv")
    assert "users.csv: not a regular file (a device, pipe or socket)" in run.stderr


def test_import_inputs_that_are_links_are_refused(tmp_path: Path) -> None:
    export = tmp_path / "ad-real.csv"
    export.write_text('sAMAccountName,DistinguishedName\nalice,"CN=alice,DC=contoso,DC=com"\n')
    link = tmp_path / "ad.csv"
    link.symlink_to(export)
    into = tmp_path / "into"
    run = entitle("import", "ad", str(link), "--into", str(into))
    assert_rejected(run, "ad.csv")
    assert not into.exists()
    assert entitle("--follow-symlinks", "import", "ad", str(link), "--into", str(into)).code == 0


def test_a_symlinked_workbook_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "real.xlsx"
    book.write_bytes(b"PK not really")
    link = tmp_path / "estate.xlsx"
    link.symlink_to(book)
    run = entitle("position", str(link))
    assert_rejected(run, "estate.xlsx")
    assert "symbolic link" in run.stderr


def test_host_names_that_differ_by_case_are_one_host(tmp_path: Path) -> None:
    """hv1 (2 × 8 cores) and HV1 (1 × 16) added 16 cores as two hosts: now a repeated host."""
    folder = estate(tmp_path, hosts=HOSTS + "hv1,2,8\nHV1,1,16\n")
    run = entitle("position", str(folder))
    assert_rejected(run, "hosts.csv")
    assert run.problems == [
        "hosts.csv:3: host 'HV1' is 'hv1' (first at hosts.csv:2) written in another case or "
        "Unicode form: host names are compared ignoring case (give each host its own id, or "
        "delete the repeated row)"
    ]


def test_user_names_are_compared_after_nfc(tmp_path: Path) -> None:
    """'josé' as one character (U+00E9) and as e + combining acute (U+0301) are one user; the
    seller's entitlement ids E1 and e1 stay two."""
    folder = estate(tmp_path, users="user\njos\u00e9\nJOSE\u0301\n")
    run = entitle("position", str(folder))
    assert_rejected(run, "users.csv")
    assert run.problems[0].startswith("users.csv:3: user 'JOSE\u0301' is 'jos\u00e9'")
    entitlements = (
        "id,product,license,quantity\nE1,windows-server,user-cal,1\ne1,windows-server,user-cal,1\n"
    )
    folder = estate(tmp_path / "two", entitlements=entitlements)
    assert entitle("position", str(folder), "--json").code == 0


def test_lookalike_ids_are_warned_about_by_row(tmp_path: Path) -> None:
    users = (
        "user\nalice\nal\u200bice\n\uff41lice\n\u0430lice\nj\u00fcrgen\njos\u00e9\n\u5c71\u7530\n"
    )
    folder = estate(tmp_path, users=users)
    run = entitle("position", str(folder), "--json")
    assert run.code == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning: ")]
    assert [w.split(" (retype")[0] for w in warnings] == [
        "warning: users.csv:3: user 'al\\u200bice' has an invisible or control character (U+200B)",
        "warning: users.csv:4: user '\\uff41lice' has full-width or compatibility characters "
        "(it reads as 'alice')",
        "warning: users.csv:5: user '\\u0430lice' has letters of Cyrillic and Latin mixed",
    ]  # jürgen, josé and 山田 (lines 6–8) are names, not disguises


def test_escape_codes_in_ids_never_reach_the_terminal(tmp_path: Path) -> None:
    """An id holding ESC [ 2 J (clear the screen) and a bell: shown as \\x1b and \\x07."""
    folder = estate(tmp_path, hosts=HOSTS + "hv\x1b[2J\x07,1,8\n")
    run = entitle("position", str(folder))
    assert run.code == 0, run.stderr
    assert "\x1b" not in run.stdout + run.stderr and "\x07" not in run.stdout + run.stderr
    assert "hv\\x1b[2J\\x07" in run.stderr  # the look-alike warning names it, escaped
    bad = estate(tmp_path / "bad", hosts=HOSTS + "hv\x1b]0;owned\x07,0,8\n")
    run = entitle("position", str(bad))
    assert_rejected(run, "hosts.csv")
    assert "\x1b" not in run.stderr


def test_ledger_export_neutralises_formula_looking_cells(tmp_path: Path) -> None:
    """An entitlement id '=HYPERLINK(...)' and an agreement '+cmd|...' are exported with a
    quote before them; a quantity stays a number. Read back as an estate table, they are the
    ids written."""
    source = tmp_path / "entitlements.csv"
    source.write_text(
        "id,product,license,quantity,agreement\n"
        '"=HYPERLINK(""http://x"",""y"")",windows-server,user-cal,5,"+cmd|\' /C calc\'!A0"\n'
    )
    db = str(tmp_path / "l.db")
    assert entitle("ledger", "init", "--db", db).code == 0
    run = entitle("ledger", "import", str(source), "--db", db)
    assert run.code == 0, run.stderr
    out = tmp_path / "export" / "entitlements.csv"
    run = entitle("ledger", "export", "--db", db, "--out", str(out))
    assert run.code == 0, run.stderr
    row = out.read_text().splitlines()[1]
    assert row.startswith('"\'=HYPERLINK(""http://x"",""y"")",windows-server,user-cal,')
    assert ",5," in row and "'+cmd|" in row
    raw, problems = reader.read_csv_bytes(out.read_bytes(), "entitlements", "entitlements.csv")
    assert raw is not None and not problems
    assert raw.columns[0] == ('=HYPERLINK("http://x","y")',)


def test_importers_warn_about_formula_looking_values(tmp_path: Path) -> None:
    export = tmp_path / "ad.csv"
    export.write_text(
        "sAMAccountName,DistinguishedName,DisplayName\n"
        'alice,"CN=alice,DC=contoso,DC=com","=HYPERLINK(""http://x"")"\n'
        'bob,"CN=bob,DC=contoso,DC=com","+cmd|\' /C calc\'!A0"\n'
        'carol,"CN=carol,DC=contoso,DC=com",-5\n'
    )
    run = entitle("import", "ad", str(export), "--into", str(tmp_path / "e"), "--json")
    assert run.code == 0, run.stderr
    assert '"code": "formula-looking"' in run.stdout
    assert "2 value(s) written to users.csv look like spreadsheet formulas" in run.stdout
    assert "ad.csv:2 name" in run.stdout and "ad.csv:3 name" in run.stdout
    assert "ad.csv:4" not in run.stdout  # -5 is a number


# -- item 7: UAL --------------------------------------------------------------------------------

UAL_HEADER = '"AccessCount","AccessDate","IPAddress","ProductName","RoleGuid","RoleName","UserName"'
UAL_ROW = (
    '"{count}","8/{day}/2025 12:00:00 AM","10.1.20.3{day}","Windows Server 2019 Datacenter",'
    '"10a9226f-50ee-49d8-a393-9a501d47ce04","File Server","CONTOSO\\{user}"'
)


def ual(*rows: tuple[str, int, str]) -> str:
    lines = [UAL_HEADER] + [UAL_ROW.format(count=c, day=d, user=u) for c, d, u in rows]
    return "\r\n".join(lines) + "\r\n"


def import_ual(path: Path, into: Path) -> object:
    return entitle(
        "import", "ual", str(path), "--into", str(into), "--server", "fs01",
        "--since", "2025-08-01", "--until", "2025-08-31",
    )  # fmt: skip


def test_ual_in_utf16_big_endian_is_read(tmp_path: Path) -> None:
    """Two rows (alice on the 4th, 3 accesses; bob on the 5th, 2) in UTF-16 BE with a BOM
    imported 0 tuples with exit 0; now 2 access rows, as from the same file in UTF-8."""
    path = tmp_path / "DailyAccess.csv"
    path.write_bytes(b"\xfe\xff" + ual(("3", 4, "alice"), ("2", 5, "bob")).encode("utf-16-be"))
    into = tmp_path / "estate"
    run = import_ual(path, into)
    assert run.code == 0, run.stderr
    assert (into / "access.csv").read_text().splitlines()[1:] == [
        "fs01,windows-server,contoso\\alice,10.1.20.34,,,2025-08-04,2025-08-04,3",
        "fs01,windows-server,contoso\\bob,10.1.20.35,,,2025-08-05,2025-08-05,2",
    ]


def test_ual_counts_out_of_range_are_refused_with_the_row(tmp_path: Path) -> None:
    """-5 was kept and 10^29 blanked; 7 on line 4 is fine."""
    path = tmp_path / "DailyAccess.csv"
    path.write_text(ual(("-5", 4, "alice"), ("1" + "0" * 29, 5, "bob"), ("7", 6, "carol")))
    into = tmp_path / "estate"
    run = import_ual(path, into)
    assert_rejected(run, "DailyAccess.csv")
    assert [Path(line.split(": ")[0]).name for line in run.problems] == [
        "DailyAccess.csv:2",
        "DailyAccess.csv:3",
    ]
    assert all(PROBLEM.match(line) for line in run.problems)
    assert "AccessCount (ActivityCount) is not a whole number from 0 to 1,000,000,000" in run.stderr
    assert not into.exists()


def test_a_terminal_gets_rich_styles_but_no_control_character_of_the_data() -> None:
    """On a real terminal (forced here) Rich's own colour codes pass; the ESC and the
    right-to-left override inside the printed id are shown as \\u escapes (Rich drops the bell
    itself, but not ESC: an id could set the terminal's title or clear the screen)."""
    import io  # noqa: PLC0415

    from rich.table import Table  # noqa: PLC0415

    from entitle.cli.common import SafeConsole  # noqa: PLC0415

    out = io.StringIO()
    console = SafeConsole(file=out, force_terminal=True, color_system="standard", width=80)
    table = Table("host")
    table.add_row("hv\x1b]0;owned\x07\u202e1")
    console.print(table, style="bold")
    text = out.getvalue()
    assert "hv\\u001b]0;owned\\u202e1" in text
    assert "\x07" not in text and "\u202e" not in text and "\x1b]" not in text
    assert "\x1b[1m" in text  # Rich's bold, which is not data
