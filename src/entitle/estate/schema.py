"""The estate's tables, described once: every column with its type, whether it is required, the
ids it defines or names, and the version of the format that added it.

Everything else that knows the tables is derived from :data:`SCHEMA`: the loader's header check
and cell parsing (:mod:`entitle.estate.cells`), the cross-table checks (ids and references), the
column-wise fast path, the writers (sample generator, ledger export), the importers' merge and the
what-if changes. ``docs/estate-format.md`` documents the same tables column by column, and a test
holds the two together. Imports only the catalog's list of license kinds and models.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from entitle.catalog.model import ESTATE_MODELS, LICENSE_KINDS

# What a cell holds (docs/estate-format.md, "How the tables are read"):
#   id: free text compared exactly (a row's own id, or with ``refs`` one a row names)
#   text: free text; word: a catalog word compared without regard to case (product, edition,
#   version); choice: one of ``choices`` (case ignored); yes/no; whole: a whole number within
#   ``minimum``..``maximum``; amount: a decimal of at least 0; date: YYYY-MM-DD;
#   id list: ``;``-separated ids; word list: ``;``-separated catalog words (lower-cased, sorted).
Type = Literal[
    "id", "text", "word", "choice", "yes/no", "whole", "amount", "date", "id list", "word list"
]
# Which part of the format added a column: the contract's first version, its version 2, or
# entitle itself (documented as "entitle adds").
Origin = Literal["v1", "v2", "entitle"]

# Upper bounds that keep every count and amount far inside what the optimizer's integer
# capacities and the reports' exact money (28 significant digits) can hold; no real estate
# comes near them, so a value above one is a typo or a pasted id.
MAX_CORES = 4096  # processors per host, cores per processor, vCPUs per VM
MAX_COUNT = 10**9  # any other count, such as an entitlement's quantity
MAX_AMOUNT = 10**12  # a unit price

LISTED_PROVIDERS: tuple[str, ...] = ("azure", "aws", "google", "alibaba")
PROVIDERS: tuple[str, ...] = (*LISTED_PROVIDERS, "outsourcer")
ENVIRONMENTS = ("production", "dev-test")
OSE_KINDS = ("container", "hyperv-container")
LEVELS = ("standard", "enterprise")
PURPOSES = ("use", "admin")


@dataclass(frozen=True, slots=True)
class Column:
    """One column. ``required``: the header must name it and its cells may not be blank (but
    see ``when``); ``default``: what a blank cell means; ``field``: the record's field where it
    is not the column's name."""

    name: str
    type: Type = "text"
    required: bool = False
    refs: tuple[str, ...] = ()  # tables whose ids the cell names
    choices: tuple[str, ...] = ()
    default: str = ""
    minimum: int = 0
    maximum: int = MAX_COUNT
    when: str = ""  # the exception to ``required``, or the condition of a conditional one
    origin: Origin = "v1"
    field: str = ""
    hint: str = ""  # what to write when a required cell is blank, where the type's hint is vague
    # What becomes of a row whose reference names a removed row (a what-if `remove`): "drop"
    # the row too, or "blank" the reference (take the id out of a list). Default: drop where the
    # reference is required, else blank.
    on_remove: Literal["drop", "blank", ""] = ""

    @property
    def removal(self) -> Literal["drop", "blank"]:
        return self.on_remove or ("drop" if self.required else "blank")

    @property
    def attribute(self) -> str:
        """The record's field holding this column."""
        return self.field or self.name

    @property
    def word(self) -> bool:
        """Compared without regard to case (a catalog word or one of a few words)."""
        return self.type in ("word", "choice")


@dataclass(frozen=True)
class TableSpec:
    """One table. ``id``: the column holding the id its rows define; ``noun``: a row (or the id
    it defines) in messages; ``target``: its name in a what-if change; ``key``: the columns that
    tell one row from another (an import updates the row with the same key, a what-if ``set`` or
    ``remove`` picks rows by it)."""

    name: str
    columns: tuple[Column, ...]
    noun: str
    target: str
    key: tuple[str, ...]
    id: str | None = None
    id_noun: str = ""
    one_of: tuple[str, ...] = ()  # the header names one of these at least (a row: one, not both)
    origin: Origin = "v1"

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @cached_property
    def by_name(self) -> dict[str, Column]:
        return {column.name: column for column in self.columns}

    @property
    def names(self) -> tuple[str, ...]:
        """Every column, in the order writers put them in the header."""
        return tuple(column.name for column in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """The columns the header must name."""
        return tuple(column.name for column in self.columns if column.required)

    @property
    def words(self) -> frozenset[str]:
        return frozenset(column.name for column in self.columns if column.word)

    @property
    def references(self) -> tuple[Column, ...]:
        """The columns naming ids other rows define, in the table's order."""
        return tuple(column for column in self.columns if column.refs)


def _id(
    name: str,
    *,
    required: bool = False,
    refs: tuple[str, ...] = (),
    when: str = "",
    origin: Origin = "v1",
    on_remove: Literal["drop", "blank", ""] = "",
) -> Column:
    return Column(name, "id", required, refs, when=when, origin=origin, on_remove=on_remove)


ON_SHARED = "may be blank on a provider's shared host (provider set, dedicated no)"

SCHEMA: tuple[TableSpec, ...] = (
    TableSpec(
        "hosts",
        (
            _id("host", required=True),
            Column("processors", "whole", True, minimum=1, maximum=MAX_CORES, when=ON_SHARED),
            Column(
                "cores_per_processor", "whole", True, minimum=1, maximum=MAX_CORES, when=ON_SHARED
            ),
            Column("cpu_model"),
            _id("cluster"),
            Column("provider", "choice", choices=PROVIDERS, origin="v2"),
            Column("dedicated", "yes/no", default="no", origin="v2"),
        ),
        noun="host",
        target="host",
        key=("host",),
        id="host",
    ),
    TableSpec(
        "oses",
        (
            _id("ose", required=True),
            _id("host", required=True, refs=("hosts",)),
            Column("virtual", "yes/no", True),
            Column("vcpus", "whole", minimum=1, maximum=MAX_CORES),
            Column("environment", "choice", choices=ENVIRONMENTS, default="production"),
            Column("hosting_only", "yes/no", default="no"),
            Column("front_end", "yes/no", default="no", origin="v2"),
            Column("hosts", "id list", refs=("hosts",), origin="v2"),
            _id("replaces", refs=("oses",), origin="v2"),
            Column("kind", "choice", choices=OSE_KINDS, origin="entitle"),
            _id("runs_in", refs=("oses",), origin="entitle", on_remove="drop"),
        ),
        noun="OSE",
        target="ose",
        key=("ose",),
        id="ose",
    ),
    TableSpec(
        "software",
        (
            _id("ose", required=True, refs=("oses",)),
            Column("product", "word", True),
            Column("edition", "word", when="where the product has editions"),
            Column("version", "word", True),
            Column("model", "choice", choices=ESTATE_MODELS),
            _id("passive_for", refs=("oses",), origin="v2"),
            Column("esu", "yes/no", default="no", origin="entitle"),
        ),
        noun="software row",
        target="software",
        key=("ose", "product"),
    ),
    TableSpec(
        "users",
        (
            _id("user", required=True),
            Column("external", "yes/no", default="no"),
            Column("name"),
            Column("department"),
            Column("subscriptions", "word list", origin="entitle"),
        ),
        noun="user",
        target="user",
        key=("user",),
        id="user",
    ),
    TableSpec(
        "devices",
        (_id("device", required=True), Column("kind"), Column("os")),
        noun="device",
        target="device",
        key=("device",),
        id="device",
    ),
    TableSpec(
        "access",
        (
            _id("ose", required=True, refs=("oses",)),
            Column("product", "word", True),
            # evidence of use by a user or device that goes with it
            _id("user", refs=("users",), on_remove="drop"),
            _id("device", refs=("devices", "oses"), on_remove="drop"),  # an OSE: server to server
            Column("level", "choice", choices=LEVELS, default="standard"),
            Column("purpose", "choice", choices=PURPOSES, default="use"),
            Column("first_seen", "date"),
            Column("last_seen", "date"),
        ),
        noun="access row",
        target="access",
        key=("ose", "product", "user", "device", "level", "purpose"),
    ),
    TableSpec(
        "managed",
        (
            Column("product", "word", True),
            _id("ose", refs=("oses",), when="one of ose, device", on_remove="drop"),
            _id("device", refs=("devices", "oses"), when="one of ose, device", on_remove="drop"),
            _id("user", refs=("users",)),
        ),
        noun="managed row",
        target="managed",
        key=("product", "ose", "device", "user"),
        one_of=("ose", "device"),
    ),
    TableSpec(
        "entitlements",
        (
            _id("id"),
            Column("product", "word", True),
            Column("license", "choice", True, choices=LICENSE_KINDS),
            Column("edition", "word"),
            Column("version", "word"),
            Column("quantity", "whole", True),
            Column("sa_until", "date"),
            _id("assigned_to", refs=("hosts", "oses")),
            Column("agreement"),
            Column("purchased", "date"),
            Column("unit_price", "amount"),
        ),
        noun="entitlement",
        target="entitlement",
        key=("id",),
        id="id",
        id_noun="entitlement id",
    ),
    TableSpec(
        "prices",
        (
            Column("product", "word", True),
            Column("license", "choice", True, choices=LICENSE_KINDS),
            Column("edition", "word"),
            Column("price", "amount", True),
            Column("currency"),
        ),
        noun="price",
        target="price",
        key=("product", "license", "edition"),
    ),
    TableSpec(
        "placements",
        (
            _id("ose", required=True, refs=("oses",)),
            _id("host", required=True, refs=("hosts",)),
            Column(
                "from",
                "date",
                True,
                field="since",
                hint="write the first day the VM ran on that host, as YYYY-MM-DD",
            ),
            Column("until", "date"),
        ),
        noun="placement",
        target="placement",
        key=("ose", "host", "from"),
        origin="v2",
    ),
)

# The optional record of what imports assumed (entitle.estate.assumptions): written beside the
# tables by `entitle import`, read with them, but not a table of the estate itself.
FINDINGS = TableSpec(
    "import-findings",
    (
        Column("kind"),
        Column("code", required=True),
        Column("message", required=True),
        Column("where"),
        Column("accepted", "yes/no"),
    ),
    noun="finding",
    target="",
    key=("kind", "code", "message"),
    origin="entitle",
)

TABLE: dict[str, TableSpec] = {spec.name: spec for spec in SCHEMA}
TABLES: tuple[str, ...] = tuple(TABLE)
# Every column of every table, in the order writers put them in the header.
SPEC_COLUMNS: dict[str, tuple[str, ...]] = {spec.name: spec.names for spec in SCHEMA}
REQUIRED: dict[str, tuple[str, ...]] = {spec.name: spec.required for spec in SCHEMA}
# Record fields whose column has another name (``from`` is a Python keyword).
FIELD_COLUMNS: dict[str, dict[str, str]] = {
    spec.name: {c.field: c.name for c in spec.columns if c.field}
    for spec in SCHEMA
    if any(c.field for c in spec.columns)
}
# Tables whose rows define an id, the column holding it, and what the id is called.
ID_COLUMNS: dict[str, str] = {spec.name: spec.id for spec in SCHEMA if spec.id}
ID_NAMES: dict[str, str] = {spec.name: spec.id_noun or spec.noun for spec in SCHEMA if spec.id}
WORDS: dict[str, frozenset[str]] = {spec.name: spec.words for spec in SCHEMA}
NOWORDS: frozenset[str] = frozenset()
