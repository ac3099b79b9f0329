"""The culture samples (tests/fixtures/cultures, see SOURCE.md there): one file server's UAL
export as seven Windows cultures write it, and the date styles decided from the whole column.

Every sample holds the same 6 rows (make_cultures.py): alice and bob on 4 and 13 August
(counts 3 + 2 for alice at 10.0.0.11, 1 + 5 for bob at 10.0.0.12), FS01$ on the 13th (a machine
account) and alice on 30 July (outside August). So, in each culture, by hand: 4 rows in the
window, 1 machine account, 1 outside; 2 access tuples (alice, bob), alice 2025-08-04..2025-08-13
with access_count 3 + 2 = 5, bob 2025-08-04..2025-08-13 with 1 + 5 = 6.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from exportkit import AUGUST, EXPORTS, rows, skipped, write_export
from typer.testing import CliRunner

from entitle.catalog import Catalog
from entitle.cli.main import app
from entitle.importers.dates import detect
from entitle.importers.ual import import_ual

CULTURES = Path(__file__).resolve().parents[1] / "fixtures" / "cultures"


@pytest.mark.parametrize("culture", ["en-US", "en-GB", "de-DE", "fr-FR", "nl-NL", "ja-JP", "sv-SE"])
def test_every_culture_gives_the_same_access(catalog: Catalog, culture: str) -> None:
    result = import_ual([CULTURES / culture / "DailyAccess.csv"], catalog, AUGUST)
    assert result.ok, result.problems
    assert dict(result.mapped)["evidence rows in the window"] == 4
    skips = skipped(result)
    assert skips["machine account (a name ending in $)"] == 1
    assert skips["outside the evidence window (2025-08-01 to 2025-08-31)"] == 1
    access = {r["user"]: r for r in rows(result, "access")}
    assert set(access) == {"contoso\\alice", "contoso\\bob"}
    alice, bob = access["contoso\\alice"], access["contoso\\bob"]
    assert (alice["first_seen"], alice["last_seen"], alice["access_count"]) == (
        "2025-08-04",
        "2025-08-13",
        "5",
    )
    assert (bob["device"], bob["access_count"]) == ("10.0.0.12", "6")
    # 13 August proves the order in every culture: nothing was assumed
    assert not [f for f in result.findings if f.code == "date-style-assumed"]


def test_an_en_gb_export_sorted_by_date_is_read_day_first(catalog: Catalog) -> None:
    """325 rows: 25 users a day, 1 to 13 August. Read month-first, 1/08 .. 12/08 would be
    8 January .. 8 December and only 25 rows would be in August; read day-first (the 13th at the
    end proves it) all 325 are, and each user has one tuple seen on 13 days: access_count 13."""
    result = import_ual(
        [CULTURES / "en-GB-sorted" / "DailyUserAccess.csv"], catalog, AUGUST, server="fs01"
    )
    assert result.ok, result.problems
    assert dict(result.mapped)["evidence rows in the window"] == 325
    access = rows(result, "access")
    assert len(access) == 25
    assert {(r["first_seen"], r["last_seen"], r["access_count"]) for r in access} == {
        ("2025-08-01", "2025-08-13", "13")
    }


def test_the_whole_column_decides_not_its_first_rows(catalog: Catalog, tmp_path: Path) -> None:
    """Dates without a time (Excel saved the file again), 300 rows of days 1..12 first: only line
    302, the 13th, tells day-first. 301 rows in August."""
    header = ["AccessCount", "AccessDate", "ProductName", "RoleGuid", "RoleName", "UserName"]
    fs = ["Windows Server 2019 Standard", "10a9226f-50ee-49d8-a393-9a501d47ce04", "File Server"]
    data = [["1", f"{day:02}/08/2025", *fs, f"c\\u{n}"] for day in range(1, 13) for n in range(25)]
    data.append(["1", "13/08/2025", *fs, "c\\u0"])
    path = write_export(tmp_path / "daily.csv", header, data)
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert result.ok, result.problems
    assert dict(result.mapped)["evidence rows in the window"] == 301
    first = {r["user"]: r["first_seen"] for r in rows(result, "access")}
    assert first["c\\u0"] == "2025-08-01"


def test_an_ambiguous_column_is_refused_with_two_examples(catalog: Catalog) -> None:
    """'8/7/2025' and '9/7/2025': no time, no day above 12: 7 August or 8 July?"""
    path = CULTURES / "ambiguous" / "DailyUserAccess.csv"
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert not result.ok
    problem = result.problems[0]
    assert problem.source.line == 2
    assert "line 2 '8/7/2025', line 3 '9/7/2025'" in problem.message
    assert "--date-style" in problem.hint


def test_date_style_overrides(catalog: Catalog) -> None:
    path = CULTURES / "ambiguous" / "DailyUserAccess.csv"
    month = import_ual([path], catalog, AUGUST, server="fs01", date_style="month-first")
    # month-first: 7 and 8 September... no: 8/7 is 7 August, 9/7 is 7 September (outside)
    assert [r["first_seen"] for r in rows(month, "access")] == ["2025-08-07"]
    day = import_ual([path], catalog, AUGUST, server="fs01", date_style="day-first")
    # day-first: 8 July and 9 July, both outside August: the import maps nothing and says so
    assert not day.ok
    assert "no evidence row" in day.problems[0].message


def test_a_24_hour_time_points_to_day_first_and_says_so(catalog: Catalog, tmp_path: Path) -> None:
    """'08/07/2025 00:00:00': no day above 12, but en-US writes '12:00:00 AM': day-first, 8 July
    is outside August, 07/08 inside: 1 row, and the assumption is a finding."""
    header = ["AccessCount", "AccessDate", "ProductName", "RoleGuid", "RoleName", "UserName"]
    fs = ["Windows Server 2019 Standard", "10a9226f-50ee-49d8-a393-9a501d47ce04", "File Server"]
    data = [["1", "08/07/2025 00:00:00", *fs, "c\\a"], ["1", "07/08/2025 00:00:00", *fs, "c\\b"]]
    path = write_export(tmp_path / "daily.csv", header, data)
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert result.ok, result.problems
    assert [r["user"] for r in rows(result, "access")] == ["c\\b"]
    assert "date-style-assumed" in [f.code for f in result.findings]


@pytest.mark.parametrize(
    ("values", "style"),
    [
        (["8/29/2025 12:00:00 AM"], "month-first"),  # en-US: 29 cannot be a month
        (["29/08/2025 00:00:00"], "day-first"),  # en-GB, fr-FR
        (["29.08.2025 00:00:00"], "day-first"),  # de-DE
        (["29-8-2025 00:00:00"], "day-first"),  # nl-NL
        (["13/08/2025 1:05:00 PM"], "day-first"),  # en-AU: AM/PM yet day-first
        (["2025/08/29 0:00:00", "2025-08-29 00:00:00"], "iso"),  # ja-JP, sv-SE
        (["04.08.2025"], "day-first"),  # assumed: dotted dates are day-first
    ],
)
def test_styles_of_the_cultures(values: list[str], style: str) -> None:
    assert detect(values).style == style


def test_the_command_takes_date_style(tmp_path: Path) -> None:
    path = CULTURES / "ambiguous" / "DailyUserAccess.csv"
    runner = CliRunner()
    base = [
        "import",
        "ual",
        str(path),
        "--into",
        str(tmp_path / "e"),
        "--server",
        "fs01",
        "--since",
        "2025-08-01",
        "--until",
        "2025-08-31",
    ]
    refused = runner.invoke(app, base)
    assert refused.exit_code == 2
    assert f"{path}:2:" in refused.output
    done = runner.invoke(app, [*base, "--date-style", "month-first"])
    assert done.exit_code == 0, done.output


def test_a_user_written_two_ways_is_merged_and_said(catalog: Catalog) -> None:
    """rds-daily-user.csv (tests/fixtures/exports/ual/collected) has CONTOSO\\gina on line 4 and
    CONTOSO\\Gina on line 5: one user (Windows names do not depend on case), 1 merge reported."""

    result = import_ual([EXPORTS / "ual" / "collected" / "rds-daily-user.csv"], catalog, AUGUST)
    assert result.ok, result.problems
    assert [r["user"] for r in rows(result, "access")].count("contoso\\gina") == 1
    merged = [f for f in result.findings if f.code == "user-names-merged"]
    assert len(merged) == 1
    assert merged[0].message.startswith("1 user(s) written in more than one way")
    assert "'CONTOSO\\Gina' and 'CONTOSO\\gina'" in merged[0].message


def test_a_yearly_de_de_export_in_utf16(catalog: Catalog) -> None:
    """de-DE/UserAccess.csv (Get-UalUserAccess, UTF-16 LE, ';', dotted dates): alice 02.01 to
    28.08.2025 overlaps August: one tuple clipped to 2025-08-01..2025-08-28 with activity_count
    412 as reported; bob's 03.03 to 15.07 ends before August: outside, 1 row. 28 proves
    day-first, so nothing is assumed."""
    result = import_ual([CULTURES / "de-DE" / "UserAccess.csv"], catalog, AUGUST)
    assert result.ok, result.problems
    assert [
        (r["user"], r["first_seen"], r["last_seen"], r["activity_count"])
        for r in rows(result, "access")
    ] == [("contoso\\alice", "2025-08-01", "2025-08-28", "412")]
    assert skipped(result)["outside the evidence window (2025-08-01 to 2025-08-31)"] == 1
    assert not [f for f in result.findings if f.code == "date-style-assumed"]


def test_text_dates_in_parquet_are_decided_from_the_whole_column(
    catalog: Catalog, tmp_path: Path
) -> None:
    """A data-lake copy of an en-GB export: AccessDate kept as text. 12 days ≤ 12 first, the
    13th last: day-first, so all 13 rows are in August (read month-first, 12 of them would be
    8 January .. 8 December)."""
    import duckdb

    path = tmp_path / "daily.parquet"
    con = duckdb.connect()
    con.execute(
        "COPY (SELECT '1' AS AccessCount, lpad(d::VARCHAR, 2, '0') || '/08/2025 00:00:00' AS "
        "AccessDate, 'CONTOSO\\alice' AS UserName, '10.0.0.11' AS IPAddress, "
        "'10a9226f-50ee-49d8-a393-9a501d47ce04' AS RoleGuid, 'File Server' AS RoleName, "
        "'Windows Server 2019 Standard' AS ProductName, 'FS01' AS PSComputerName "
        f"FROM range(1, 14) t(d) ORDER BY d) TO '{path}' (FORMAT parquet)"
    )
    con.close()
    result = import_ual([path], catalog, AUGUST)
    assert result.ok, result.problems
    assert dict(result.mapped)["evidence rows in the window"] == 13
    (access,) = rows(result, "access")
    assert (access["first_seen"], access["last_seen"], access["access_count"]) == (
        "2025-08-01",
        "2025-08-13",
        "13",
    )


def test_a_head_that_proves_a_style_is_checked_against_the_whole_column(
    catalog: Catalog, tmp_path: Path
) -> None:
    """The first 250 rows say month-first ('8/13/2025': no month 13); line 352, past the head
    the importer reads first, says day-first ('13/08/2025'). The column is mixed, so it is
    refused with both values and their lines, as a column with no telling head is (§ item 2 of
    issue 15: the style comes from the whole column, not its first rows)."""
    header = ["AccessCount", "AccessDate", "ProductName", "RoleGuid", "RoleName", "UserName"]
    fs = ["Windows Server 2019 Standard", "10a9226f-50ee-49d8-a393-9a501d47ce04", "File Server"]
    data = [["1", "8/13/2025", *fs, f"c\\u{n}"] for n in range(250)]
    data += [["1", "8/1/2025", *fs, f"c\\u{n}"] for n in range(100)]
    data.append(["1", "13/08/2025", *fs, "c\\u0"])
    path = write_export(tmp_path / "daily.csv", header, data)
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert not result.ok
    problem = result.problems[0]
    assert problem.message.startswith("mixed date formats in AccessDate")
    assert "line 2 '8/13/2025'" in problem.message
    assert "line 352 '13/08/2025'" in problem.message


def test_a_proving_head_and_a_value_in_no_style(catalog: Catalog, tmp_path: Path) -> None:
    """Month-first proven by the head, then one value that is no date ('soon'): the whole
    column decides the same (a value of no shape says nothing), so 300 rows are read month-first
    and the one is skipped as a bad date, not refused."""
    header = ["AccessCount", "AccessDate", "ProductName", "RoleGuid", "RoleName", "UserName"]
    fs = ["Windows Server 2019 Standard", "10a9226f-50ee-49d8-a393-9a501d47ce04", "File Server"]
    data = [["1", f"8/{day}/2025", *fs, f"c\\u{n}"] for day in (13, 14, 15) for n in range(100)]
    data.append(["1", "soon", *fs, "c\\u0"])
    path = write_export(tmp_path / "daily.csv", header, data)
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert result.ok, result.problems
    assert dict(result.mapped)["evidence rows in the window"] == 300
    assert skipped(result)["a date in no known style (mixed date formats?)"] == 1
    assert not [f for f in result.findings if f.code == "date-style-assumed"]


@pytest.mark.parametrize(
    ("value", "style", "pattern"),
    [
        ("8/29/2025 12:00:00 AM", "month-first", "%m/%d/%Y %I:%M:%S %p"),
        ("29/08/2025 00:00:00", "day-first", "%d/%m/%Y %H:%M:%S"),
        ("29.08.2025 00:00", "day-first", "%d.%m.%Y %H:%M"),
        ("29-8-2025 00:00:00", "day-first", "%d-%m-%Y %H:%M:%S"),
        ("2025/08/29 0:00:00", "day-first", "%Y/%m/%d %H:%M:%S"),
        ("2025-08-29T00:00:00", "month-first", "%Y-%m-%dT%H:%M:%S"),
        ("29/08/2025", "day-first", "%d/%m/%Y"),
        ("2025-08-29 00:00:00.123", "day-first", ""),  # fractions: the date part is read
    ],
)
def test_the_whole_value_pattern_reads_the_day_the_date_part_does(
    value: str, style: str, pattern: str
) -> None:
    """DuckDB reads most rows with the pattern of the first row's whole value; it must give the
    day that reading the date part in the file's style gives (29 August 2025 in each)."""
    import duckdb

    from entitle.importers.dates import parse, whole_pattern

    assert whole_pattern(value, style) == pattern
    if pattern:
        (day,) = duckdb.execute(
            "SELECT CAST(try_strptime(?, ?) AS DATE)", [value, pattern]
        ).fetchone()
        assert day == parse(value, style if not value.startswith("2025") else "iso")


def test_rows_in_another_time_form_than_the_first_are_read_by_their_date(
    catalog: Catalog, tmp_path: Path
) -> None:
    """The first rows write '8/13/2025 12:00:00 AM', later ones '8/14/2025 00:00:00' (the
    export was appended on another machine of the same culture): all 300 rows are in August."""
    header = ["AccessCount", "AccessDate", "ProductName", "RoleGuid", "RoleName", "UserName"]
    fs = ["Windows Server 2019 Standard", "10a9226f-50ee-49d8-a393-9a501d47ce04", "File Server"]
    data = [["1", "8/13/2025 12:00:00 AM", *fs, f"c\\u{n}"] for n in range(250)]
    data += [["1", "8/14/2025 00:00:00", *fs, f"c\\u{n}"] for n in range(50)]
    path = write_export(tmp_path / "daily.csv", header, data)
    result = import_ual([path], catalog, AUGUST, server="fs01")
    assert result.ok, result.problems
    assert dict(result.mapped)["evidence rows in the window"] == 300
    last = {r["user"]: r["last_seen"] for r in rows(result, "access")}
    assert last["c\\u0"] == "2025-08-14"
