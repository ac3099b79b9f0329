"""One byte-order-mark detector (entitle/text.py bom_encoding) for every file the importers
sniff or decode (issue #13): the cloud importers' JSON-or-CSV guess and the AD importer's
``--encoding`` both read the mark through it."""

from __future__ import annotations

import codecs
from pathlib import Path

from exportkit import rows

from entitle.importers.ad import ExternalRule, import_ad
from entitle.importers.cloud import is_json

AD = Path(__file__).resolve().parents[1] / "fixtures" / "ad-exports"


def test_a_json_export_is_recognised_behind_any_byte_order_mark(tmp_path: Path) -> None:
    text = '  [{"name": "vm1"}]'
    for name, data in {
        "plain": text.encode("utf-8"),
        "utf8": codecs.BOM_UTF8 + text.encode("utf-8"),
        "utf16le": codecs.BOM_UTF16_LE + text.encode("utf-16-le"),
        "utf16be": codecs.BOM_UTF16_BE + text.encode("utf-16-be"),
    }.items():
        path = tmp_path / f"{name}.export"
        path.write_bytes(data)
        assert is_json(path), name
    csv = tmp_path / "vms.export"
    csv.write_bytes(codecs.BOM_UTF16_LE + "name,size\nvm1,4\n".encode("utf-16-le"))
    assert not is_json(csv)
    # a byte that only looks like part of a mark is content, not a mark to skip
    odd = tmp_path / "odd.export"
    odd.write_bytes(b"\xfe[1]")
    assert not is_json(odd)


def test_a_marked_file_is_decoded_by_its_mark_whatever_encoding_is_given(tmp_path: Path) -> None:
    """The csvde export of test_ad_exports.py (1 internal user, 1 external, 1 computer) saved
    as UTF-16 with its mark: read the same though --encoding says cp1252."""
    text = (AD / "csvde-users.csv").read_bytes().decode("cp1252")
    marked = tmp_path / "users.csv"
    marked.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    rule, _ = ExternalRule.parse(groups=["Extranet Users"])
    result = import_ad([marked], rule=rule, encoding="cp1252")
    assert result.ok, result.problems
    users = {r["user"]: r["external"] for r in rows(result, "users")}
    assert users == {"contoso\\jmueller": "no", "contoso\\partner1": "yes"}
