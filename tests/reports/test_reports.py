"""Reports of a small estate: the JSON, the workbook (cells and formats read back with openpyxl)
and the HTML (normalised) against reviewed snapshots; hand-worked numbers; formula injection;
byte-identical output; nothing written on bad input; the PDF looked at as pages.

Regenerate the snapshots with ``ENTITLE_UPDATE_SNAPSHOTS=1 pytest tests/reports`` and review
the diff by eye before committing it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.reports.pdf import find_chromium
from entitle.reports.xlsx import exact_number

SNAPSHOTS = Path(__file__).resolve().parents[1] / "snapshots"
EPOCH = "1795867200"  # 2026-11-28 12:00:00 UTC, the generation time of every report here
runner = CliRunner(env={"SOURCE_DATE_EPOCH": EPOCH})

EVIL = '=HYPERLINK("http://x.example","click")'


def write(folder: Path, **tables: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text.strip() + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def small(tmp_path: Path) -> Path:
    """h1: 2 × 10 cores, Windows Server Standard 2022; 16 cores owned at 70.00 a core;
    three people reach it (one with a hostile id)."""
    return write(
        tmp_path / "small",
        hosts="host,processors,cores_per_processor\nh1,2,10",
        oses="ose,host,virtual\nh1-os,h1,no",
        software="ose,product,edition,version\nh1-os,windows-server,standard,2022",
        users=f'user,external,name\nann,no,Ann\nbob,no,-Bob\n"{EVIL.replace(chr(34), chr(34) * 2)}",no,@eve',
        access=f'ose,product,user\nh1-os,windows-server,ann\nh1-os,windows-server,bob\nh1-os,windows-server,"{EVIL.replace(chr(34), chr(34) * 2)}"',
        entitlements="id,product,license,edition,version,quantity,purchased\n"
        "E1,windows-server,core,standard,2022,16,2023-01-15",
        prices="product,license,edition,price\nwindows-server,core,standard,70.00",
    )


CHANGES = """\
changes:
  - set: software
    ose: h1-os
    product: windows-server
    version: 2025
"""


def reports(small: Path, out: Path, *extra: str) -> None:
    args = ["position", str(small), "--as-of", "2026-11-28", "--xlsx", str(out / "r.xlsx")]
    result = runner.invoke(app, args + ["--html", str(out / "r.html"), *extra])
    assert result.exit_code == 0, result.output


def check_snapshot(name: str, text: str, folder: Path = SNAPSHOTS) -> None:
    """``text`` equals the reviewed snapshot ``name``. A missing snapshot fails (a deleted or
    misnamed file must not pass by writing itself); ``ENTITLE_UPDATE_SNAPSHOTS=1`` writes it."""
    path = folder / name
    if os.environ.get("ENTITLE_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    if not path.exists():
        pytest.fail(
            f"no snapshot {path}: write it with ENTITLE_UPDATE_SNAPSHOTS=1 and review it by eye"
        )
    assert text == path.read_text(encoding="utf-8"), f"{name} differs from its snapshot"


def test_a_missing_snapshot_fails_and_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENTITLE_UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="no snapshot"):
        check_snapshot("missing.txt", "anything", tmp_path)
    assert not (tmp_path / "missing.txt").exists()
    monkeypatch.setenv("ENTITLE_UPDATE_SNAPSHOTS", "1")
    check_snapshot("missing.txt", "anything", tmp_path)
    assert (tmp_path / "missing.txt").read_text(encoding="utf-8") == "anything"


def workbook_dump(path: Path) -> str:
    wb = openpyxl.load_workbook(path)
    out = []
    for ws in wb.worksheets:
        out.append(f"# {ws.title} freeze={ws.freeze_panes} filter={ws.auto_filter.ref}")
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None:
                    value = c.value
                    if ws.title == "Summary" and c.coordinate == "B14":
                        value = "<generated>"
                    out.append(f"{c.coordinate}\t{c.data_type}\t{c.number_format}\t{value!r}")
    return "\n".join(out) + "\n"


def normalise_html(text: str) -> str:
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "<generated>", text)
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC", "<generated>", text)


def test_json_snapshot_with_what_if(small: Path, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CHANGES)
    result = runner.invoke(
        app,
        [
            "position",
            str(small),
            "--as-of",
            "2026-11-28",
            "--json",
            "--what-if",
            str(tmp_path / "c.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # Before: 20 cores (§3.1) − 16 owned = 4 × 70 = 280; 3 user CALs × 46 = 138 → 418.
    # After the upgrade to 2025 the 2022 cores no longer count (§7.4): 20 × 70 = 1,400 + 138.
    assert data["what_if"]["total_cost"] == {"before": 418.0, "after": 1538.0, "change": 1120.0}
    check_snapshot("report-what-if.json", result.stdout)


def test_workbook_cells_formats_and_snapshot(small: Path, tmp_path: Path) -> None:
    reports(small, tmp_path)
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == [
        "Summary",
        "Lines",
        "Choices",
        "Plan",
        "Evidence",
        "Findings",
        "Assumptions",
    ]
    lines = wb["Lines"]
    header = [c.value for c in lines[1]]
    row = {h: c for h, c in zip(header, lines[2], strict=True)}
    assert (row["product"].value, row["required"].value, row["owned"].value) == (
        "windows-server",
        20,
        16,
    )
    assert Decimal(repr(row["cost"].value)) == Decimal("280.00")  # 4 short × 70.00
    assert row["cost"].number_format == '"$"#,##0.00;-"$"#,##0.00'
    assert row["required"].number_format == "#,##0"
    for ws in wb.worksheets[1:]:
        assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert wb["Summary"]["B5"].value == 418  # 280 + 138, a number with the currency format
    check_snapshot("report-workbook.txt", workbook_dump(tmp_path / "r.xlsx"))


def test_html_snapshot(small: Path, tmp_path: Path) -> None:
    reports(small, tmp_path)
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<script" not in html and not re.search(r"(src|href)\s*=", html)  # self-contained
    assert html.count("<svg") == 4  # cost by product, required vs owned, CAL split, owned over time
    check_snapshot("report.html", normalise_html(html))


def test_text_never_becomes_a_formula(small: Path, tmp_path: Path) -> None:
    reports(small, tmp_path)
    with zipfile.ZipFile(tmp_path / "r.xlsx") as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/"):
                assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert cells, "the hostile id is written as it is"
    for c in cells:
        assert c.data_type == "s" and c.quotePrefix
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert EVIL not in html and "=HYPERLINK(&#34;http://x.example&#34;" in html  # escaped


def test_money_is_exact_in_cells() -> None:
    assert exact_number(Decimal("551.20")) == 551.2
    assert exact_number(Decimal("423.1875")) == 423.1875
    assert exact_number(Decimal("12345678901234567.89")) == "12345678901234567.89"


def test_same_input_same_bytes(small: Path, tmp_path: Path) -> None:
    reports(small, tmp_path / "a")
    reports(small, tmp_path / "b")
    for name in ("r.xlsx", "r.html"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_bad_input_writes_nothing(small: Path, tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        "changes:\n  - add: host\n    host: h2\n    processors: 0\n    cores_per_processor: 8\n"
    )
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "position",
            str(small),
            "--what-if",
            str(tmp_path / "c.yaml"),
            "--xlsx",
            str(out / "r.xlsx"),
            "--html",
            str(out / "r.html"),
        ],
    )
    assert result.exit_code == 2
    assert "c.yaml:2: processors 0 is less than 1" in result.stderr
    assert not (out / "r.xlsx").exists() and not (out / "r.html").exists()


def test_pdf_without_chromium_fails_clearly(small: Path, tmp_path: Path) -> None:
    result = CliRunner(env={"ENTITLE_CHROMIUM": str(tmp_path / "no-such-browser")}).invoke(
        app,
        [
            "position",
            str(small),
            "--pdf",
            str(tmp_path / "r.pdf"),
            "--html",
            str(tmp_path / "r.html"),
        ],
    )
    assert result.exit_code == 2 and "Chromium" in result.stderr
    assert not (tmp_path / "r.pdf").exists() and not (tmp_path / "r.html").exists()


@pytest.mark.skipif(
    find_chromium() is None,
    reason="no Chromium here: install the Debian package `chromium` to test --pdf",
)
@pytest.mark.skipif(
    shutil.which("pdftoppm") is None,
    reason="no pdftoppm here: install poppler-utils to render the PDF's pages",
)
def test_pdf_pages_render(small: Path, tmp_path: Path) -> None:
    reports(small, tmp_path, "--pdf", str(tmp_path / "r.pdf"))
    pdf = (tmp_path / "r.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/CreationDate (D:20261128120000Z)" in pdf
    subprocess.run(
        ["pdftoppm", "-png", "-r", "30", str(tmp_path / "r.pdf"), str(tmp_path / "page")],
        check=True,
    )
    pages = sorted(tmp_path.glob("page*.png"))
    assert 1 <= len(pages) <= 6
    assert all(p.stat().st_size > 2000 for p in pages)  # not blank pages
