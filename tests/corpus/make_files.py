"""Writes the small files of the nasty-input corpus into ``files/`` (run once; they are committed).

    .venv/bin/python tests/corpus/make_files.py

Each file stands as one estate table (``hosts.csv`` in the tests) or one export. The big ones (a
10 MB cell, a million columns, a zip bomb, a huge sheet) are made by the tests at run time.
``EXPECTED`` in ``test_corpus.py`` says which of these an estate loader must accept.
"""

from __future__ import annotations

import io
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent / "files"
HEADER = "host,processors,cores_per_processor\n"
GOOD = HEADER + "hv1,2,8\nhv2,1,16\n"
UAL = (
    '"AccessCount","AccessDate","IPAddress","ProductName","RoleGuid","RoleName","UserName"\r\n'
    '"{count}","8/4/2025 12:00:00 AM","10.1.20.31","Windows Server 2019 Datacenter",'
    '"10a9226f-50ee-49d8-a393-9a501d47ce04","File Server","CONTOSO\\alice"\r\n'
)


def workbook(rows: list[list[object]], title: str = "hosts") -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def files() -> dict[str, bytes]:
    rng = random.Random(8)
    good_xlsx = workbook([["host", "processors", "cores_per_processor"], ["hv1", 2, 8]])
    return {
        # encodings
        "latin1.csv": (HEADER + "münchen-hv,2,8\n").encode("latin-1"),
        "cp1252-quotes.csv": (HEADER + "“hv1”,2,8\n").encode("cp1252"),
        "utf16le-nobom.csv": GOOD.encode("utf-16-le"),
        "utf16be-nobom.csv": GOOD.encode("utf-16-be"),
        "utf8-bom.csv": b"\xef\xbb\xbf" + GOOD.encode(),
        "utf16le-bom.csv": b"\xff\xfe" + GOOD.encode("utf-16-le"),
        "utf16be-bom.csv": b"\xfe\xff" + GOOD.encode("utf-16-be"),
        "bom-only.csv": b"\xef\xbb\xbf",
        "utf16-odd-length.csv": b"\xff\xfe" + GOOD.encode("utf-16-le") + b"\x00",
        "utf8-surrogate.csv": HEADER.encode() + b"hv\xed\xa0\x80,2,8\n",
        "utf8-overlong.csv": HEADER.encode() + b"hv\xc0\xaf,2,8\n",
        "utf8-cut-char.csv": HEADER.encode() + "hv1,2,8\nmü".encode()[:-1],
        "nul-bytes.csv": HEADER.encode() + b"hv1\x00,2,8\n",
        "unicode-ids.csv": (HEADER + "hv\u200b1,2,8\n\u202ehv2,1,16\nhv3\u00a0,1,4\n").encode(),
        # shape
        "empty.csv": b"",
        "blank-lines.csv": b"\n\n  \n\r\n",
        "header-only.csv": HEADER.encode(),
        "ragged.csv": (HEADER + "hv1,2\nhv2,1,16,extra\nhv3\n").encode(),
        "dup-headers.csv": b"host,processors,host,cores_per_processor\nhv1,2,hv9,8\n",
        "empty-header-names.csv": b",,,\nhv1,2,8,\n",
        "quote-never-ends.csv": (HEADER + 'hv1,2,8\n"hv2,1,16\n').encode(),
        "quote-inside.csv": (HEADER + 'hv"1,2,8\n').encode(),
        "cr-only.csv": GOOD.replace("\n", "\r").encode(),
        "mixed-newlines.csv": (HEADER.replace("\n", "\r\n") + "hv1,2,8\rhv2,1,16\n").encode(),
        "semicolons.csv": b"host;processors;cores_per_processor\nhv1;2;8\n",
        "tabs.csv": b"host\tprocessors\tcores_per_processor\nhv1\t2\t8\n",
        "type-line.csv": b"#TYPE System.Management.Automation.PSCustomObject\n" + GOOD.encode(),
        "no-final-newline.csv": GOOD.rstrip("\n").encode(),
        # cells
        "formulas.csv": (
            HEADER
            + "\"=cmd|' /C calc'!A0\",2,8\n+hv2,1,16\n-hv3,1,4\n@SUM(A1),1,4\n"
            + '"=HYPERLINK(""http://x"")",1,4\n\thv6,1,4\n'
        ).encode(),
        "numbers-thousands.csv": (HEADER + 'hv1,"1,000",8\nhv2,1 000,8\nhv3,1.000,8\n').encode(),
        "numbers-decimal-comma.csv": (HEADER + 'hv1,"2,5",8\nhv2,2.5,8\nhv3,1e3,8\n').encode(),
        "numbers-odd.csv": (HEADER + "hv1,0,8\nhv2,-1,8\nhv3,NaN,8\nhv4,inf,8\nhv5,٣,8\n").encode(),
        "numbers-huge.csv": (HEADER + "hv1," + "9" * 5000 + ",8\nhv2,1,2e308\n").encode(),
        "dates-three-formats.csv": (
            b"product,license,quantity,sa_until\n"
            b"windows-server,user-cal,1,2025-06-30\n"
            b"windows-server,user-cal,1,30/06/2025\n"
            b"windows-server,user-cal,1,06/30/2025\n"
            b"windows-server,user-cal,1,6/30/2025 12:00:00 AM\n"
        ),
        "booleans-odd.csv": b"ose,host,virtual\nos1,hv1,maybe\nos2,hv1,YES\nos3,hv1,\n",
        "long-line.csv": (HEADER + "hv1,2,8," + "x," * 2000 + "\n").encode(),
        # not text at all
        "binary-garbage.csv": bytes(rng.randrange(256) for _ in range(4096)),
        "gzip.csv": b"\x1f\x8b\x08\x00" + bytes(rng.randrange(256) for _ in range(200)),
        "pdf.csv": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        # workbooks
        "good.xlsx": good_xlsx,
        "truncated.xlsx": good_xlsx[: len(good_xlsx) // 2],
        "truncated-tail.xlsx": good_xlsx[:-30],
        "text-as.xlsx": GOOD.encode(),
        "empty.xlsx": b"",
        "zip-not-xlsx.xlsx": _zip({"hello.txt": b"hello"}),
        "xlsx-bad-xml.xlsx": _swap_member(good_xlsx, "xl/worksheets/sheet1.xml", b"<worksheet"),
        "xlsx-formulas.xlsx": workbook(
            [
                ["host", "processors", "cores_per_processor"],
                ["=cmd|' /C calc'!A0", "=1+1", 8],
                ["hv2", 1, "=SUM(A1:A2)"],
            ]
        ),
        "xlsx-odd-cells.xlsx": workbook(
            [
                ["host", "processors", "cores_per_processor"],
                ["hv1", 2.0, 8],
                ["hv2", 2.5, True],
                ["hv3", 1e300, -3],
                [None, None, None],
                ["hv4", "1,000", "8"],
            ]
        ),
        "xlsx-wrong-sheet.xlsx": workbook([["host", "processors"], ["hv1", 2]], "Sheet1"),
        "xlsx-dup-headers.xlsx": workbook([["host", "host", "processors", "cores_per_processor"]]),
        # issue #14: ids that are one thing, or look like another; escapes; formulas in exports
        "ids-case-twice.csv": (HEADER + "hv1,2,8\nHV1,1,16\n").encode(),
        "ids-nfc-twice.csv": (HEADER + "caf\u00e9,1,8\nCAFE\u0301,1,8\n").encode(),
        "ids-lookalike.csv": (HEADER + "hv1,1,8\n\uff48v2,1,8\n\u0430hv3,1,8\n").encode(),
        "ids-accents.csv": (
            HEADER + "j\u00fcrgen-hv,1,8\njos\u00e9-hv,1,8\n\u5c71\u7530,1,8\n"
        ).encode(),
        "ids-escapes.csv": (HEADER + "hv\x1b[2J\x07,1,8\nhv\x1b]0;owned\x07,1,8\n").encode(),
        "id-line-breaks.csv": (HEADER + '"hv\n1\r\n",0,8\n').encode(),
        "ad-formulas.csv": (
            b"sAMAccountName,DistinguishedName,DisplayName\n"
            b'alice,"CN=alice,DC=contoso,DC=com","=HYPERLINK(""http://x"")"\n'
            b'bob,"CN=bob,DC=contoso,DC=com","+cmd|\' /C calc\'!A0"\n'
        ),
        "ual-utf16be.csv": b"\xfe\xff" + UAL.format(count=3).encode("utf-16-be"),
        "ual-count-negative.csv": UAL.format(count=-5).encode(),
        "ual-count-huge.csv": UAL.format(count=10**29).encode(),
        # issue #14: change files and mappings (also run as --what-if and --map)
        "nested-deep.yaml": b"changes:\n  - " + b"[" * 20_000 + b"\n",
        "nested-deep.toml": b'[[tables]]\ntable = "hosts"\nx = ' + b"[" * 20_000 + b"\n",
        "what-if-count-huge.yaml": b"- add: users\n  count: 100000000\n",
        "toml-bad-syntax.toml": b'[[tables]]\ntable = "hosts"\ncolumns = = 1\n',
    }


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _swap_member(book: bytes, name: str, data: bytes) -> bytes:
    members: dict[str, bytes] = {}
    with zipfile.ZipFile(io.BytesIO(book)) as archive:
        for info in archive.infolist():
            members[info.filename] = archive.read(info)
    members[name] = data
    return _zip(members)


def main() -> None:
    HERE.mkdir(exist_ok=True)
    for name, data in files().items():
        (HERE / name).write_bytes(data)
    print(f"wrote {len(files())} files to {HERE}")


if __name__ == "__main__":
    main()
