"""``add: users`` and ``add: devices``: ``count`` new ones named ``prefix1``, ``prefix2`` …, each
using what ``like`` uses (its access and managed rows, copied; a new user gets its own copies of
the devices only ``like`` uses, unless ``own_devices: no``).

Copying a user or a device looks up its rows, and a growth projection
(:mod:`entitle.decide.data`) writes thousands of such changes in a row: the rows are looked up
in a :class:`Uses` index, built once for a run of these changes and kept up to date as they
append (they only append), instead of every copy reading every access and managed row. Any
other change drops the index (:func:`entitle.whatif.apply.apply_changes`). The rows come out
exactly as a scan in row order would give them.

Imports :mod:`entitle.source`, the estate and :mod:`entitle.whatif.changes`.
"""

from __future__ import annotations

from collections import defaultdict

from entitle.estate.convert import Row
from entitle.estate.files import MAX_ROWS
from entitle.source import Problem
from entitle.whatif.changes import Change

Rows = dict[str, list[Row]]
USES = ("access", "managed")

MANY_FIELDS = {
    "users": ("count", "prefix", "like", "own_devices", "external", "department", "subscriptions"),
    "devices": ("count", "prefix", "like", "kind", "os"),
}


class Uses:
    """Who uses what, by row: the first users and devices row of each id, the access and
    managed rows of each user and of each device (in row order), and the users of each device
    (a row with a device and no user counts the user "")."""

    def __init__(self, rows: Rows):
        self.rows = rows
        self.first: dict[str, dict[str, Row]] = {"users": {}, "devices": {}}
        for table, column in (("users", "user"), ("devices", "device")):
            for r in rows[table]:
                self.first[table].setdefault(r.cells.get(column, ""), r)
        self.of: dict[tuple[str, str], dict[str, list[Row]]] = {
            (t, c): defaultdict(list) for t in USES for c in ("user", "device")
        }
        self.users_of: dict[str, set[str]] = defaultdict(set)
        for table in USES:
            for r in rows[table]:
                self._index(table, r)

    def _index(self, table: str, r: Row) -> None:
        for column in ("user", "device"):
            value = r.cells.get(column)
            if value:
                self.of[(table, column)][value].append(r)
        if r.cells.get("device"):
            self.users_of[r.cells["device"]].add(r.cells.get("user", ""))

    def append(self, table: str, r: Row) -> None:
        self.rows[table].append(r)
        if table in USES:
            self._index(table, r)
        else:
            column = "user" if table == "users" else "device"
            self.first[table].setdefault(r.cells.get(column, ""), r)

    def named(self, kind: str, name: str) -> bool:
        """Whether a row of the users (devices) table, access or managed names ``name``."""
        return name in self.first[f"{kind}s"] or any(self.of[(t, kind)].get(name) for t in USES)

    def template(self, table: str, like: str) -> dict[str, str]:
        found = self.first[table].get(like)
        return dict(found.cells) if found is not None else {}


def count_of(change: Change, problems: list[Problem]) -> int | None:
    """The ``count`` of an ``add: users``/``add: devices``: from 1 to the rows an estate table
    may hold (:data:`entitle.estate.files.MAX_ROWS`), since each one is built."""
    text = change.fields.get("count", "")
    if not text.isascii() or not text.isdigit() or not text.strip("0"):
        problems.append(
            Problem(
                change.where("count"),
                f"count '{text}' is not a whole number of at least 1",
                "e.g. count: 40",
            )
        )
        return None
    if len(text.lstrip("0")) > 12 or int(text) > MAX_ROWS:
        problems.append(
            Problem(
                change.where("count"),
                f"count {text} is more than an estate table may hold ({MAX_ROWS:,} rows)",
                "add fewer at a time",
            )
        )
        return None
    return int(text)


def add_many(change: Change, uses: Uses, problems: list[Problem]) -> None:
    """``add: users`` / ``add: devices`` on the rows ``uses`` indexes."""
    rows = uses.rows
    allowed = MANY_FIELDS[change.target]
    bad = [k for k in change.fields if k not in allowed]
    for name in bad:
        problems.append(
            Problem(
                change.where(name),
                f"add: {change.target} has no field '{name}'",
                "fields: " + ", ".join(allowed),
            )
        )
    count = count_of(change, problems)
    if bad or count is None:
        return
    kind = change.target.rstrip("s")
    prefix = change.fields.get("prefix") or f"new-{kind}-"
    like = change.fields.get("like", "")
    if like and not uses.named(kind, like):
        problems.append(
            Problem(change.where("like"), f"no {kind} '{like}' to copy", "name an existing one")
        )
        return
    clone = _clone_user if kind == "user" else _clone_device
    before = {name: len(rows[name]) for name in rows}
    clone(change, uses, like, f"{prefix}1")
    # every copy adds as many rows as the first: the tables it would fill past their limit are
    # refused before they are built (count: 100000000 of a user with access rows)
    over = [
        name
        for name in rows
        if len(rows[name]) + (len(rows[name]) - before[name]) * (count - 1) > MAX_ROWS
    ]
    if over:
        message = (
            f"count {count} would make the {', '.join(over)} table hold more than "
            f"{MAX_ROWS:,} rows, the limit of an estate table"
        )
        problems.append(Problem(change.where("count"), message, "add fewer at a time"))
        return
    for n in range(2, count + 1):
        clone(change, uses, like, f"{prefix}{n}")


def _clone_user(change: Change, uses: Uses, like: str, new: str) -> None:
    cells: dict[str, str] = uses.template("users", like) if like else {}
    cells.update({"user": new, "name": ""})
    given = ("external", "department", "subscriptions")
    cells.update({k: change.fields[k] for k in given if k in change.fields})
    uses.append("users", Row("users", cells, change.source))
    if not like:
        return
    own = change.fields.get("own_devices", "yes").lower() in ("yes", "true", "1")
    renamed: dict[str, str] = {}
    if own:  # the devices only ``like`` uses are among the devices of its rows
        mine = {
            r.cells["device"]
            for t in USES
            for r in uses.of[(t, "user")].get(like, ())
            if r.cells.get("device")
        }
        for device in sorted(mine):
            if uses.users_of[device] == {like}:
                renamed[device] = f"{new}-{device}"
                _clone_device(change, uses, device, renamed[device], copy_uses=False)
    for table in USES:
        for r in list(uses.of[(table, "user")].get(like, ())):
            device = r.cells.get("device", "")
            cells = {**r.cells, "user": new, "device": renamed.get(device, device)}
            uses.append(table, Row(table, cells, change.source))


def _clone_device(change: Change, uses: Uses, like: str, new: str, copy_uses: bool = True) -> None:
    cells: dict[str, str] = uses.template("devices", like) if like else {}
    cells["device"] = new
    cells.update({k: change.fields[k] for k in ("kind", "os") if k in change.fields})
    uses.append("devices", Row("devices", cells, change.source))
    if not like or not copy_uses:
        return
    for table in USES:
        for r in list(uses.of[(table, "device")].get(like, ())):
            uses.append(table, Row(table, {**r.cells, "device": new}, change.source))
