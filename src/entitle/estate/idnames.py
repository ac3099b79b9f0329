"""When two ids name the same thing, and ids that only look like what they say.

Host, OSE, user and device names are case-insensitive where they come from (Windows computer
names, DNS names, Active Directory logon names): ``hv1`` and ``HV1`` are one host, so two rows
that define them are a repeated id, not two hosts of 8 cores each. They are compared after
Unicode NFC normalisation (``é`` written as one character or as ``e`` plus an accent are one
name) and case folding. Entitlement ids are the seller's and are compared after normalisation
only. (Surrounding spaces are trimmed when the tables are read.)

An id with an invisible character (zero-width space, a control or formatting character), with
full-width or other compatibility characters (``ａlice``, which NFKC turns into ``alice``), or
mixing Latin with Cyrillic or Greek letters (``аlice`` with a Cyrillic ``а``) is accepted as
written but warned about, naming its row: it is almost always a copy-paste accident or a
disguise. Accents and other scripts on their own (``jürgen``, ``josé``, ``山田``) are welcome.
Imports only :mod:`entitle.source`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from entitle.source import Problem, Source

FOLDED = frozenset({"hosts", "oses", "users", "devices"})  # case-insensitive names
MAX_WARNINGS = 20  # rows named per table; the rest are counted
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK"})


def id_key(value: str, table: str) -> str:
    """What an id of ``table`` is compared by."""
    if value.isascii():
        return value.lower() if table in FOLDED else value
    text = unicodedata.normalize("NFC", value)
    return text.casefold() if table in FOLDED else text


def oddity(value: str) -> str | None:
    """Why ``value`` looks like something it is not, or ``None`` for an ordinary id."""
    if value.isascii() and value.isprintable():
        return None
    for char in value:
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp") or (
            unicodedata.category(char) == "Zs" and char != " "
        ):
            return f"an invisible or control character (U+{ord(char):04X})"
    if unicodedata.normalize("NFKC", value) != unicodedata.normalize("NFC", value):
        plain = unicodedata.normalize("NFKC", value)
        return f"full-width or compatibility characters (it reads as '{plain}')"
    scripts = {
        unicodedata.name(char, "?").split(" ")[0]
        for char in value
        if char.isalpha() and not char.isascii() or char.isascii() and char.isalpha()
    }
    mixed = scripts & CONFUSABLE_SCRIPTS
    if len(mixed) > 1:
        return "letters of " + " and ".join(sorted(s.title() for s in mixed)) + " mixed"
    return None


def lookalike_warnings(
    values: Sequence[str], sources: Sequence[Source], noun: str, problems: list[Problem]
) -> None:
    """A warning for each row whose id (in ``values``) has an :func:`oddity` — the first
    :data:`MAX_WARNINGS`, then one that counts the rest."""
    odd: dict[str, str | None] = {}
    named = 0
    more = 0
    first: Source | None = None
    for value, source in zip(values, sources, strict=True):
        if value.isascii() and value.isprintable():
            continue
        if value not in odd:
            odd[value] = oddity(value)
        why = odd[value]
        if why is None:
            continue
        if named < MAX_WARNINGS:
            shown = value.encode("unicode_escape").decode("ascii")
            message = f"{noun} '{shown}' has {why}"
            hint = "retype the name if it was pasted; ids are compared as written"
            problems.append(Problem(source, message, hint, severity="warning"))
            named += 1
        else:
            more += 1
            first = first or source
    if more and first is not None:
        message = f"{more:,} more {noun} ids from here on have invisible or look-alike characters"
        problems.append(Problem(first, message, "see the rows above", severity="warning"))
