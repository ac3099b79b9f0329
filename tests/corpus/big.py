"""The big files of the nasty-input corpus, made at run time (too big to commit): a 10 MB cell, a
million columns, a zip bomb and a sheet that claims a million rows."""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

HEADER = "host,processors,cores_per_processor\n"
MiB = 2**20


def good_workbook(rows: list[list[object]] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "hosts"
    for row in rows or [["host", "processors", "cores_per_processor"], ["hv1", 2, 8]]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def zip_bomb(path: Path, unpacked: int = 400 * MiB) -> Path:
    """A real workbook plus one member of zeros that packs about 1000 to 1."""
    with zipfile.ZipFile(io.BytesIO(good_workbook())) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        chunk = bytes(MiB)
        with archive.open("xl/media/image1.bin", "w", force_zip64=True) as member:
            for _ in range(unpacked // MiB):
                member.write(chunk)
    return path


def sheet_xml(cells: str, dimension: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="{dimension}"/><sheetData>{cells}</sheetData></worksheet>'
    ).encode()


def with_sheet(book: bytes, xml: bytes) -> bytes:
    """``book`` with its first sheet's XML replaced."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(book)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
    ):
        for info in source.infolist():
            data = xml if info.filename == "xl/worksheets/sheet1.xml" else source.read(info)
            archive.writestr(info.filename, data)
    return out.getvalue()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sparse_sheet() -> bytes:
    """A hosts sheet that declares A1:XFD1048576 and has a stray cell in its last row and
    column: a reader that trusts the dimension reads 17 billion cells."""
    header = "".join(
        inline(f"{col}1", name)
        for col, name in zip("ABC", ("host", "processors", "cores_per_processor"), strict=True)
    )
    row2 = inline("A2", "hv1") + '<c r="B2"><v>2</v></c><c r="C2"><v>8</v></c>'
    rows = f'<row r="1">{header}</row><row r="2">{row2}</row>'
    rows += f'<row r="1048576">{inline("XFD1048576", "stray")}</row>'
    return with_sheet(good_workbook(), sheet_xml(rows, "A1:XFD1048576"))


def dense_sheet(rows: int, columns: int) -> bytes:
    """A hosts sheet of ``rows`` × ``columns`` numbers (for the cell limit)."""
    body = "".join(
        f'<row r="{r}">' + "".join(f"<c><v>{c}</v></c>" for c in range(columns)) + "</row>"
        for r in range(1, rows + 1)
    )
    return with_sheet(good_workbook(), sheet_xml(body, "A1:A1"))


def big_files(folder: Path) -> dict[str, Path]:
    """Write the big files into ``folder``; name → path."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "cell-10mb-number.csv": (HEADER + "hv1,2," + "9" * 10_000_000 + "\n").encode(),
        "cell-10mb-quoted.csv": (HEADER + '"' + "x," * 5_000_000 + '",2,8\n').encode(),
        "columns-1m.csv": (
            HEADER.strip() + "," + ",".join(f"c{i}" for i in range(1_000_000)) + "\nhv1,2,8\n"
        ).encode(),
        "row-1m-fields.csv": (HEADER + "hv1,2,8" + ",x" * 1_000_000 + "\n").encode(),
        "sparse-sheet.xlsx": sparse_sheet(),
    }
    paths = {}
    for name, data in made.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    paths["zip-bomb.xlsx"] = zip_bomb(folder / "zip-bomb.xlsx")
    paths["shared-strings-bomb.xlsx"] = shared_strings_bomb(folder / "shared-strings-bomb.xlsx")
    return paths


def shared_strings_bomb(path: Path, unpacked: int = 72 * MiB) -> Path:
    """A real workbook whose ``xl/sharedStrings.xml`` unpacks to ``unpacked`` bytes at about 200
    to 1 — under the zip-bomb ratio (250), far under the total (1 GiB) — so only the limit of the
    shared-strings table stops it (openpyxl builds that table whole before the first row: 256
    MiB of it took 2.4 GB and two minutes)."""
    with zipfile.ZipFile(io.BytesIO(good_workbook())) as source:
        members = {info.filename: source.read(info) for info in source.infolist()}
    rng = random.Random(14)
    pad = "x" * 4000
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in members.items():
            if name != "xl/sharedStrings.xml":
                archive.writestr(name, data)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as member:
            member.write(
                b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns='
                b'"http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            )
            written = 0
            while written < unpacked:
                chunk = "".join(
                    f"<si><t>{rng.getrandbits(40):010x}{pad}</t></si>" for _ in range(256)
                ).encode()
                member.write(chunk)
                written += len(chunk)
            member.write(b"</sst>")
    return path
