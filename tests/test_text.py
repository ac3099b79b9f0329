"""One byte-order-mark detector for the estate's CSV files and the importers' exports
(src/entitle/text.py; issue #13 item 3)."""

from __future__ import annotations

from entitle.text import bom_encoding


def test_each_mark_names_its_encoding_and_its_length() -> None:
    # The marks are U+FEFF encoded: EF BB BF in UTF-8 (3 bytes), FF FE in UTF-16 little-endian
    # (what PowerShell's `>` writes), FE FF in UTF-16 big-endian (2 bytes each).
    assert bom_encoding(b"\xef\xbb\xbfhost\n") == ("utf-8", 3)
    assert bom_encoding(b"\xff\xfe" + "host\n".encode("utf-16-le")) == ("utf-16-le", 2)
    assert bom_encoding(b"\xfe\xff\x00h") == ("utf-16-be", 2)


def test_no_mark_is_utf8_with_nothing_to_skip() -> None:
    assert bom_encoding(b"host,processors\n") == ("utf-8", 0)
    assert bom_encoding(b"") == ("utf-8", 0)
    # a lone FF is no mark (a UTF-16 mark is two bytes)
    assert bom_encoding(b"\xffh") == ("utf-8", 0)


def test_the_estate_reader_and_the_importers_share_it() -> None:
    from entitle.estate import reader
    from entitle.importers import exports

    assert reader._encoding is bom_encoding
    assert exports._encoding is bom_encoding
