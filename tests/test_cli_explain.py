"""`entitle position --explain` gives the reason for every need, with or without a report
(issue #13 item 3: it was silently ignored once --xlsx, --html, --pdf or --what-if was given),
and the terminal view is the same with or without a report file."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from entitle.cli.main import app

runner = CliRunner()


@pytest.fixture
def small(tmp_path: Path) -> Path:
    folder = tmp_path / "small"
    folder.mkdir()
    tables = {
        "hosts": "host,processors,cores_per_processor\nh1,2,10",
        "oses": "ose,host,virtual\nh1-os,h1,no",
        "software": "ose,product,edition,version\nh1-os,windows-server,standard,2025",
    }
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text + "\n", encoding="utf-8")
    return folder


# licensing-rules.md §3.1: every physical core, at least 8 per processor and 16 per server:
# 2 × 10 = 20 cores → 20 Standard core licenses for h1.
NEED = "20 × windows-server standard 2025 core on h1"


@pytest.mark.parametrize("explain", [True, False])
def test_explain_with_a_report_gives_every_needs_reason(
    small: Path, tmp_path: Path, explain: bool
) -> None:
    out = tmp_path / "position.txt"
    args = ["position", str(small), "--as-of", "2026-11-28", "--xlsx", str(tmp_path / "p.xlsx")]
    args += ["--out", str(out)] + (["--explain"] if explain else [])
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "cost to be compliant" in text  # the report's view, not the plain one
    assert ("Why each license is needed" in text) is explain
    assert (NEED in text) is explain
    assert ("windows-server@h1" in text) is explain  # the server choice, with why


def test_explain_without_a_report_gives_every_needs_reason(small: Path, tmp_path: Path) -> None:
    out = tmp_path / "position.txt"
    args = ["position", str(small), "--as-of", "2026-11-28", "--out", str(out), "--explain"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert f"{NEED}: h1: 2×10 cores → 20 core licenses" in text


@pytest.mark.parametrize("explain", [True, False])
def test_one_terminal_view_with_or_without_a_report(
    small: Path, tmp_path: Path, explain: bool
) -> None:
    """One renderer of the position in the terminal (issue #13): asking for a report file
    changes nothing in what is shown."""
    texts = []
    for report in ([], ["--html", str(tmp_path / "p.html")]):
        out = tmp_path / f"position-{len(report)}.txt"
        args = ["position", str(small), "--as-of", "2026-11-28", "--out", str(out), *report]
        result = runner.invoke(app, args + (["--explain"] if explain else []))
        assert result.exit_code == 0, result.output
        texts.append(out.read_text(encoding="utf-8"))
    assert texts[0] == texts[1]
    assert "cost to be compliant" in texts[0]
    assert (NEED in texts[0]) is explain


def test_the_estate_s_name_is_shown_as_written(small: Path, tmp_path: Path) -> None:
    """A folder named like Rich markup is text in the title, not a style."""
    named = small.rename(small.parent / "e[bold]x")
    out = tmp_path / "position.txt"
    args = ["position", str(named), "--as-of", "2026-11-28", "--out", str(out)]
    assert runner.invoke(app, args).exit_code == 0
    assert "License position of e[bold]x on 2026-11-28" in out.read_text(encoding="utf-8")
