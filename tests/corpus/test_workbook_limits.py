"""The limits on a workbook (src/entitle/estate/workbook.py), used by the estate loader, the
importers and the ledger: the archive's declared sizes are checked before openpyxl opens it, the
cells are counted while reading, and links to other workbooks are never followed."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from big import dense_sheet, good_workbook, zip_bomb
from clikit import assert_rejected, entitle

from entitle.estate.reader import read_estate
from entitle.estate.workbook import Limits, check_archive, read_workbook
from entitle.importers.exports import read_workbook as read_export_workbook

MiB = 2**20


def test_the_unpacked_size_is_limited_before_opening(tmp_path: Path) -> None:
    """Three members of 1 MiB of random-looking text (packs about 1.3 to 1): no ratio to blame,
    only the total."""
    path = tmp_path / "wide.xlsx"
    with (
        zipfile.ZipFile(io.BytesIO(good_workbook())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            archive.writestr(info.filename, source.read(info))
        for n in range(3):
            archive.writestr(f"xl/media/{n}.bin", bytes(range(256)) * 4096)
    limits = Limits(max_bytes=2 * MiB)
    problem = check_archive(path, "wide.xlsx", limits)
    assert problem is not None
    assert str(problem).startswith("wide.xlsx: the workbook would unpack to 3 MiB, over the limit")
    estate, problems = read_workbook(path, limits)
    assert estate.tables == {} and problems == [problem]
    assert check_archive(path, "wide.xlsx") is None  # the default limit is far above 3 MiB


def test_a_zip_bomb_is_refused_by_every_reader(tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "bomb.xlsx", unpacked=32 * MiB)
    message = "bomb.xlsx: xl/media/image1.bin is compressed"
    assert str(read_workbook(bomb)[1][0]).startswith(message)
    assert message in str(read_export_workbook(bomb)[1][0])
    run = entitle("ledger", "import", str(bomb), "--db", str(tmp_path / "l.db"))
    assert_rejected(run, "bomb.xlsx")
    assert not (tmp_path / "l.db").exists()


def test_cells_are_counted_while_reading(tmp_path: Path) -> None:
    """A 40 × 30 sheet (1,200 cells) under a limit of 1,000: stopped at row 34."""
    path = tmp_path / "dense.xlsx"
    path.write_bytes(dense_sheet(rows=40, columns=30))
    limits = Limits(max_cells=1000)
    estate, problems = read_workbook(path, limits)
    assert [str(p) for p in problems] == [
        "dense.xlsx:hosts!34: the workbook holds more than 1,000 cells; reading stopped here "
        "(split it into CSV files, or delete the unused rows and columns)"
    ]
    assert "hosts" in estate.unreadable
    sheets, problems = read_export_workbook(path, limits=limits)
    assert sheets == {} and "more than 1,000 cells" in str(problems[0])
    assert read_workbook(path)[0].tables["hosts"].header[:2] == ("0", "1")


def test_external_links_are_not_kept(tmp_path: Path) -> None:
    """A workbook carrying an external link part (to file:///etc/passwd) reads as its own cells;
    the link is dropped (openpyxl keep_links=False), nothing outside is opened."""
    source = good_workbook([["host", "processors", "cores_per_processor"], ["hv1", 2, 8]])
    path = tmp_path / "linked.xlsx"
    link = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<externalLink xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b'<externalBook xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships" r:id="rId1"><sheetNames><sheetName val="x"/></sheetNames>'
        b"</externalBook></externalLink>"
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/externalLinkPath" Target="file:///etc/passwd" TargetMode="External"/>'
        b"</Relationships>"
    )
    with (
        zipfile.ZipFile(io.BytesIO(source)) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in src.infolist():
            archive.writestr(info.filename, src.read(info))
        archive.writestr("xl/externalLinks/externalLink1.xml", link)
        archive.writestr("xl/externalLinks/_rels/externalLink1.xml.rels", rels)
    raw, problems = read_estate(path)
    assert not [p for p in problems if p.severity == "error"]
    assert raw.tables["hosts"].rows[0].values == ("hv1", "2", "8")
