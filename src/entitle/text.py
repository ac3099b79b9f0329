"""Text encodings of the files entitle reads: one byte-order-mark detector for the estate's CSV
files (estate/reader.py) and the exports the importers read (importers/exports.py).

Imports nothing of entitle.
"""

from __future__ import annotations

import codecs


def bom_encoding(data: bytes) -> tuple[str, int]:
    """The encoding of a text file's bytes by its byte order mark, and the mark's length: UTF-8
    with or without a mark, UTF-16 (little- or big-endian) only with one."""
    if data.startswith(codecs.BOM_UTF8):
        return "utf-8", len(codecs.BOM_UTF8)
    if data.startswith(codecs.BOM_UTF16_LE):
        return "utf-16-le", len(codecs.BOM_UTF16_LE)
    if data.startswith(codecs.BOM_UTF16_BE):
        return "utf-16-be", len(codecs.BOM_UTF16_BE)
    return "utf-8", 0
