"""The access table as columns for the CAL demand, and its needs laid out with NumPy.

The access table repeats the same OSE, product, level and externality row after row, and what
they decide (which rights, the reason none are needed) depends on nothing else: the rules work
it out once per distinct group (:func:`entitle.rules.cals.cal_demand`), and here every row's
needs are laid out at once — each row repeats its group's rights, with its own user, device and
source. No call and no record per row: a few list comprehensions read the records' fields, and
the rest is array indexing. The builder this replaced, one call per row, is the test oracle
``tests/oracles/cal_demand_by_row.py``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, count
from operator import not_
from typing import TYPE_CHECKING, Any

from entitle.estate.records import Access
from entitle.rules.calneeds import FIELDS, CalNeeds
from entitle.rules.index import EstateIndex
from entitle.source import Source

if TYPE_CHECKING:  # NumPy is imported where the rows are laid out: `entitle calc` has none
    import numpy as np


@dataclass(frozen=True, slots=True)
class AccessRows:
    """The production access rows with a principal (a user, or a device that is not an OSE),
    in the order of the access table, one list per field."""

    records: list[Access]
    ose: list[str]
    product: list[str]
    level: list[str]
    user: list[str | None]
    device: list[str | None]  # None where the row's device is an OSE (server-to-server)
    purpose: list[str]

    @classmethod
    def of(cls, idx: EstateIndex, exempt: Counter[str]) -> AccessRows:
        """The rows that may need a CAL; the others are counted in ``exempt`` by reason."""
        access = list(idx.estate.access)
        oses = idx.oses
        production = {o: ose.environment == "production" for o, ose in oses.items()}
        ose = [a.ose for a in access]
        raw = [a.device for a in access]
        user = [a.user for a in access]
        device = [d if d and d not in oses else None for d in raw]
        live = [production[o] for o in ose]
        keep = [
            p and (u is not None or d is not None)
            for p, u, d in zip(live, user, device, strict=True)
        ]
        if not all(keep):
            dev_test = live.count(False)
            if dev_test:
                exempt["dev-test OSE"] += dev_test
            for d in compress(raw, [p and not k for p, k in zip(live, keep, strict=True)]):
                exempt["server-to-server" if d else "unauthenticated"] += 1
            access = list(compress(access, keep))
            ose, user = list(compress(ose, keep)), list(compress(user, keep))
            device = list(compress(device, keep))
        return cls(
            access,
            ose,
            [a.product for a in access],
            [a.level for a in access],
            user,
            device,
            [a.purpose for a in access],
        )

    def __len__(self) -> int:
        return len(self.records)

    def without(self, drop: list[bool]) -> AccessRows:
        """These rows but those where ``drop`` is true."""
        keep = list(map(not_, drop))
        return AccessRows(*(list(compress(getattr(self, f), keep)) for f in self.__slots__))

    def admin_exempt(self, per_ose: int) -> list[bool]:
        """Per row: whether it is an administration row of one of the (up to ``per_ose``)
        principals per OSE that only administer it. Where more qualify, those with no other
        access anywhere are exempted first (they would otherwise need a CAL for this OSE
        alone), then by id."""
        is_admin = [p == "admin" for p in self.purpose]
        if not any(is_admin):
            return is_admin
        ose, user, device = self.ose, self.user, self.device
        admin = list(compress(range(len(is_admin)), is_admin))
        pairs = [(ose[i], user[i] or device[i]) for i in admin]
        only = {p for p in pairs if p[1] is not None}
        other = list(map(not_, is_admin))
        others = [
            u or d for u, d in zip(compress(user, other), compress(device, other), strict=True)
        ]
        busy = set(others)  # principals with another access somewhere
        there = {o for o, _ in only}
        only.difference_update(
            (o, p) for o, p in zip(compress(ose, other), others, strict=True) if o in there
        )
        by_ose: dict[str, list[str]] = {}
        for o, who in only:
            by_ose.setdefault(o, []).append(who)  # type: ignore[arg-type]
        exempted: set[tuple[str, str]] = set()
        for o, principals in by_ose.items():
            ranked = sorted(principals, key=lambda p: (p in busy, p))
            exempted.update((o, p) for p in ranked[:per_ose])
        out = [False] * len(is_admin)
        for i, pair in zip(admin, pairs, strict=True):
            out[i] = pair in exempted
        return out


def group_codes(keys: Sequence[Any]) -> tuple[np.ndarray, list[int], list[int]]:
    """Per key, the number of its group (groups numbered in the order of their first key);
    each group's first index and size."""
    import numpy as np

    first: dict[Any, int] = {}
    at = np.fromiter(map(first.setdefault, keys, count()), np.int64, len(keys))
    firsts = np.fromiter(first.values(), np.int64, len(first))
    group = np.searchsorted(firsts, at)
    return group, firsts.tolist(), np.bincount(group, minlength=len(firsts)).tolist()


def source_texts(sources: list[Source]) -> list[str]:
    """``str(source)`` of each, without a method call for the usual ``FILE:LINE``."""
    return [
        f"{s.file}:{s.line}" if s.sheet is None and s.line else str(s)  # as Source.__str__
        for s in sources
    ]


# How a need's source reads, from its row's ``FILE:LINE`` and its template's text
DIRECT = 0  # the row
IMPLIED = 1  # "implied by" the row, "(product on OSE)" (unless the row's text has an arrow)
RELAYED = 2  # the row, "via front end … → …"
RELAYED_IMPLIED = 3  # "implied by" the row, "via front end … → …"

# One group's needs, in the order a row makes them: (right, version, with_base, OSE, host, how
# its source reads, the text after the row's)
Template = tuple[tuple[str, str | None, bool, str, str, int, str], ...]


def lay_out(
    rows: AccessRows, group: np.ndarray, templates: list[Template], external: list[bool]
) -> CalNeeds:
    """The needs of every row, row after row: each row repeats its group's template, with its
    user, device and externality; a need's source is the row's, read as its template says
    (``row`` names the row where the source says more)."""
    import numpy as np

    sizes = np.fromiter(map(len, templates), np.int64, len(templates))
    starts = np.cumsum(sizes) - sizes
    per_row = sizes[group]
    total = int(per_row.sum())
    flat = [t for template in templates for t in template]
    if not total:
        return CalNeeds()
    row_of = np.repeat(np.arange(len(group)), per_row)
    first_need = np.cumsum(per_row) - per_row
    slot = starts[group][row_of] + (np.arange(total) - first_need[row_of])
    right, version, with_base, ose, host, how, text = (
        _objects(c)[slot] for c in zip(*flat, strict=True)
    )
    how = how.astype(np.int64)
    texts = _objects(source_texts([a.source for a in rows.records]))[row_of]
    source = texts.copy()
    for kind in (IMPLIED, RELAYED, RELAYED_IMPLIED):
        at = np.flatnonzero(how == kind)
        if not len(at):
            continue
        pairs = zip(texts[at].tolist(), text[at].tolist(), strict=True)
        if kind == IMPLIED:
            said = [f"implied by {t}" + ("" if "→" in t else more) for t, more in pairs]
        elif kind == RELAYED:
            said = [t + more for t, more in pairs]
        else:
            said = [f"implied by {t}{more}" for t, more in pairs]
        source[at] = said
    texts[how == DIRECT] = ""
    columns = {
        "right": right,
        "user": _objects(rows.user)[row_of],
        "device": _objects(rows.device)[row_of],
        "version": version,
        "ose": ose,
        "host": host,
        "external": np.asarray(external, dtype=bool)[row_of],
        "source": source,
        "with_base": with_base,
        "row": texts,
    }
    out = [columns[f].tolist() if f in columns else [False] * total for f in FIELDS]
    return CalNeeds(out)  # user_has_base: false until subscriptions are weighed


def _objects(values: Sequence[Any]) -> np.ndarray:
    import numpy as np

    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out
