"""Reducing raw UAL evidence to distinct access tuples, on DuckDB (embedded) or Apache Spark.

A year of daily UAL rows from a large organisation is hundreds of millions of rows; what the
licensing rules need is the distinct (OSE, product, user, device) tuples seen inside the window,
with the first and last day seen. The reduction is written once, as SQL that both engines run
unchanged (:data:`NORMALIZE`, :data:`REDUCE`, :data:`ROLES`, :data:`ACCESS`); an engine only
registers the inputs as views (:mod:`entitle.importers.engines`) and supplies the one
expression the two dialects write differently, parsing a date text (:meth:`Engine.day`).

The steps: every evidence file is normalised into one shape (``NORMALIZE``), grouped by server,
role, user and address with each row's fate (``REDUCE``: in the window, outside it, a machine
account, a date in no known style …; rows that are not kept collapse into one group per fate).
The caller turns the distinct (server, role) pairs (``ROLES``, small) into products, then
``ACCESS`` joins that map and the address → device map and groups again. DuckDB streams the files
with a memory limit and spills to disk; Spark reads Parquet from a data lake.
Imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

from entitle.estate.convert import MAX_COUNT

Progress = Callable[[float], None]  # fraction done, 0.0 to 1.0

# The columns of the common shape, and the evidence kinds (one per UAL cmdlet) that fill them.
EvidenceKind = Literal["daily", "daily-user", "daily-device", "user", "device"]
DAILY: frozenset[str] = frozenset({"daily", "daily-user", "daily-device"})

# Per evidence row as little work as possible: the raw texts are grouped as they are, each
# date is parsed once, and names are cleaned (trim, lower case) only on the reduced rows.
NORMALIZE = """
SELECT
  server, role_guid, product_name, role_name, user_name, ip_address,
  {first_day} AS first_day, {last_day} AS last_day, access_count, activity_count, bad_count,
  file_no
FROM (
  SELECT
    {file_no} AS file_no,
    {server} AS server,
    CAST({role_guid} AS STRING) AS role_guid,
    {product_name} AS product_name,
    {role_name} AS role_name,
    {user_name} AS user_name,
    {ip_address} AS ip_address,
    {day} AS day_parsed,
    {first_seen} AS first_parsed,
    {last_seen} AS last_parsed,
    {access_count} AS access_count,
    {activity_count} AS activity_count,
    {bad_count} AS bad_count
  FROM {relation}
) parsed
"""

# Each row's fate, as a small number while the rows are grouped (cheaper than a text per row),
# as its name in the reduced rows: FATES[n].
FATES = ("ok", "bad-count", "no-server", "no-role", "bad-date", "outside-window", "machine-account")
REDUCE = """
WITH tagged AS (
  SELECT
    CASE
      WHEN bad_count THEN 1
      WHEN server IS NULL OR server = '' THEN 2
      WHEN role_guid IS NULL OR role_guid = '' THEN 3
      WHEN first_day IS NULL OR last_day IS NULL THEN 4
      WHEN last_day < DATE '{since}' OR first_day > DATE '{until}' THEN 5
      WHEN user_name LIKE '%$' THEN 6
      ELSE 0
    END AS fate,
    server, role_guid, product_name, role_name, user_name, ip_address,
    first_day, last_day, access_count, activity_count, file_no
  FROM evidence
)
SELECT
  CASE fate FATE_NAMES END AS status,
  file_no,
  CASE WHEN fate = 0 THEN server END AS server,
  CASE WHEN fate = 0 THEN role_guid END AS role_guid,
  CASE WHEN fate = 0 THEN user_name END AS user_name,
  CASE WHEN fate = 0 THEN ip_address END AS ip_address,
  any_value(product_name) AS product_name,
  any_value(role_name) AS role_name,
  min(first_day) AS first_day,
  max(last_day) AS last_day,
  sum(access_count) AS access_count,
  sum(activity_count) AS activity_count,
  count(*) AS row_count
FROM tagged
GROUP BY
  fate,
  file_no,
  CASE WHEN fate = 0 THEN server END,
  CASE WHEN fate = 0 THEN role_guid END,
  CASE WHEN fate = 0 THEN user_name END,
  CASE WHEN fate = 0 THEN ip_address END
""".replace("FATE_NAMES", " ".join(f"WHEN {n} THEN '{name}'" for n, name in enumerate(FATES)))

STATUS = """
SELECT status, file_no, sum(row_count) AS row_count FROM reduced
GROUP BY status, file_no ORDER BY status, file_no
"""

# Users written in more than one way (CONTOSO\Gina, CONTOSO\gina): merged as one, a finding.
# Two spellings or more is min <> max (no distinct count kept per user: 30 % of this query).
MERGED_USERS = """
SELECT lower(trim(user_name)) AS user_id,
       min(user_name) AS first_spelling, max(user_name) AS last_spelling
FROM reduced
WHERE status = 'ok' AND user_name IS NOT NULL
GROUP BY lower(trim(user_name))
HAVING min(user_name) <> max(user_name)
ORDER BY user_id
"""

ROLES = """
SELECT server, role_guid, max(product_name) AS product_name, max(role_name) AS role_name,
       sum(row_count) AS row_count
FROM reduced
WHERE status = 'ok'
GROUP BY server, role_guid
ORDER BY server, role_guid
"""

ACCESS_GROUPED = """
WITH named AS (
  SELECT
    m.ose AS ose,
    m.product AS product,
    m.anonymous AS anonymous,
    nullif(lower(trim(r.user_name)), '') AS user_name,
    nullif(lower(trim(r.ip_address)), '') AS ip_address,
    r.first_day, r.last_day, r.access_count, r.activity_count
  FROM reduced r
  JOIN role_map m ON m.server = r.server AND m.role_guid = r.role_guid
  WHERE r.status = 'ok'
), placed AS (
  SELECT
    n.*,
    CASE WHEN n.anonymous = 1 AND n.user_name IS NULL THEN NULL
         ELSE coalesce(d.device, n.ip_address) END AS device,
    CASE WHEN d.device IS NULL AND n.ip_address IS NOT NULL
         AND NOT (n.anonymous = 1 AND n.user_name IS NULL) THEN 1 ELSE 0 END AS by_address
  FROM named n
  LEFT JOIN ip_map d ON d.ip = n.ip_address
)
SELECT
  ose,
  product,
  user_name,
  device,
  CAST(greatest(min(first_day), DATE '{since}') AS STRING) AS first_seen,
  CAST(least(max(last_day), DATE '{until}') AS STRING) AS last_seen,
  CAST(sum(access_count) AS STRING) AS access_count,
  CAST(sum(activity_count) AS STRING) AS activity_count,
  max(by_address) AS by_address
FROM placed
GROUP BY ose, product, user_name, device
"""
ACCESS = ACCESS_GROUPED + "ORDER BY ose, product, user_name, device\n"

# Over the ``access_out`` table (:func:`access_table`): the estate's access rows, their users,
# their devices (1 when known only by an address), and the cells a spreadsheet could take for a
# formula (checked further by the caller).
ACCESS_COUNT = "SELECT count(*) FROM access_out"
ACCESS_ROW_COLUMNS = (
    "ose",
    "product",
    "user",
    "device",
    "first_seen",
    "last_seen",
    "access_count",
    "activity_count",
)
ACCESS_ROWS = """
SELECT ose, product, coalesce(user_name, '') AS "user", coalesce(device, '') AS device,
  first_seen, last_seen,
  CASE WHEN access_count IS NULL OR access_count = '0' THEN '' ELSE access_count END
    AS access_count,
  CASE WHEN activity_count IS NULL OR activity_count = '0' THEN '' ELSE activity_count END
    AS activity_count
FROM access_out
"""
ACCESS_ROWS_SORTED = ACCESS_ROWS + "ORDER BY ose, product, user_name, device\n"
ACCESS_USERS = "SELECT DISTINCT user_name FROM access_out WHERE user_name IS NOT NULL"
ACCESS_DEVICES = """
SELECT device, max(by_address) FROM access_out WHERE device IS NOT NULL GROUP BY device
"""
FORMULA_CELLS = " UNION ALL ".join(
    f"SELECT '{name}' AS c, {column} AS v FROM access_out "
    f"WHERE substr({column}, 1, 1) IN ('=', '+', '-', '@', chr(9), chr(13))"
    for name, column in (("ose", "ose"), ("product", "product"), ("user", "user_name"))
    + (("device", "device"),)
)

ROLE_MAP_COLUMNS = ("server", "role_guid", "ose", "product", "anonymous")
IP_MAP_COLUMNS = ("ip", "device")


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """One evidence input and where its columns are. ``columns`` maps a common-shape name
    (server, role_guid, product_name, role_name, user_name, ip_address, day, first_seen,
    last_seen, access_count, activity_count) to the file's own column name; ``server`` is the
    server to assume where the file has no server name of its own."""

    path: str
    kind: EvidenceKind
    columns: Mapping[str, str]
    file_format: Literal["csv", "parquet"] = "csv"
    server: str | None = None
    date_style: str = "iso"
    encoding: str = "utf-8"
    delimiter: str = ","
    skip: int = 0
    typed_dates: bool = False  # Parquet columns of type DATE or TIMESTAMP
    header: tuple[str, ...] = ()  # a CSV file's columns, in order
    date_pattern: str = ""  # strptime of a whole date value as the file's first rows write it


@dataclass(frozen=True, slots=True)
class AccessTuple:
    """One distinct access; dates (ISO) and counts come as the text the estate holds."""

    ose: str
    product: str
    user: str | None
    device: str | None
    first_seen: str
    last_seen: str
    access_count: str
    activity_count: str
    by_address: bool


@dataclass
class Reduction:
    """What the reduction saw: rows per fate, the (server, role) pairs and the CSV rejects."""

    status: dict[str, int] = field(default_factory=dict)
    by_file: dict[int, dict[str, int]] = field(default_factory=dict)  # file number → fates
    roles: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    rejects: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)


class Engine(Protocol):
    # The engine's exceptions that mean "this evidence cannot be parsed" (bad input, reported
    # as a problem), as opposed to a failure of the engine or the machine.
    input_errors: tuple[type[Exception], ...]

    def register(self, name: str, evidence: EvidenceFile) -> None: ...
    def day(self, column: str, evidence: EvidenceFile) -> str: ...
    def run(self, sql: str, into: str | None = None, progress: Progress | None = None) -> None: ...
    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]: ...
    def table(self, name: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None: ...
    def rejects(self) -> list[tuple[str, int, str]]: ...
    def close(self) -> None: ...


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def normalize_sql(engine: Engine, relation: str, ev: EvidenceFile, file_no: int = 0) -> str:
    """The ``NORMALIZE`` text for one evidence file."""
    col = ev.columns
    null = "CAST(NULL AS STRING)"

    def text(name: str) -> str:
        return f"CAST({quote(col[name])} AS STRING)" if name in col else null

    server = text("server")
    if ev.server is not None:
        server = f"coalesce(nullif({server}, ''), {literal(ev.server)})"
    count = "try_cast({} AS BIGINT)"
    daily = ev.kind in DAILY
    counted = quote(col["access_count" if daily else "activity_count"])
    # a count that is there but not a whole number from 0 to MAX_COUNT (-5, 10^29, "many"):
    # refused with its row, where try_cast alone kept -5 and blanked 10^29
    bad_count = (
        f"coalesce(try_cast({counted} AS BIGINT) NOT BETWEEN 0 AND {MAX_COUNT}, "
        f"trim(CAST({counted} AS STRING)) <> '')"
    )
    no_date = "CAST(NULL AS DATE)"
    return NORMALIZE.format(
        server=server,
        role_guid=quote(col["role_guid"]),
        product_name=text("product_name"),
        role_name=text("role_name"),
        user_name=text("user_name") if ev.kind not in ("device", "daily-device") else null,
        ip_address=text("ip_address") if ev.kind not in ("user", "daily-user") else null,
        day=engine.day(col["day"], ev) if daily else no_date,
        first_seen=no_date if daily else engine.day(col["first_seen"], ev),
        last_seen=no_date if daily else engine.day(col["last_seen"], ev),
        first_day="day_parsed" if daily else "first_parsed",
        last_day="day_parsed" if daily else "last_parsed",
        access_count=count.format(quote(col["access_count"])) if daily else "CAST(0 AS BIGINT)",
        activity_count="CAST(0 AS BIGINT)" if daily else count.format(quote(col["activity_count"])),
        bad_count=bad_count,
        relation=relation,
        file_no=f"CAST({int(file_no)} AS INT)",
    )


def reduce_evidence(
    engine: Engine,
    evidence: Sequence[EvidenceFile],
    since: date,
    until: date,
    progress: Progress | None = None,
) -> Reduction:
    """Run ``NORMALIZE`` and ``REDUCE`` over every file: the ``reduced`` table, and its summary."""
    parts = []
    for n, ev in enumerate(evidence):
        name = f"evidence_{n}"
        engine.register(name, ev)
        parts.append(normalize_sql(engine, name, ev, n))
    engine.run("\nUNION ALL\n".join(parts), into="evidence")
    engine.run(
        REDUCE.format(since=since.isoformat(), until=until.isoformat()),
        into="reduced",
        progress=progress,
    )
    result = Reduction()
    for status, file_no, count in engine.rows(STATUS):
        result.status[str(status)] = result.status.get(str(status), 0) + int(count)
        result.by_file.setdefault(int(file_no), {})[str(status)] = int(count)
    result.roles = [
        (str(a), str(b), c or "", d or "", int(e)) for a, b, c, d, e in engine.rows(ROLES)
    ]
    result.rejects = engine.rejects()
    return result


def access_table(
    engine: Engine,
    role_map: Sequence[tuple[str, str, str, str, int]],
    ip_map: Sequence[tuple[str, str]],
    since: date,
    until: date,
) -> None:
    """Run ``ACCESS`` after :func:`reduce_evidence` into the engine's ``access_out`` table, which
    ``ACCESS_ROWS``, ``ACCESS_USERS`` … read."""
    engine.table("role_map", ROLE_MAP_COLUMNS, role_map)
    engine.table("ip_map", IP_MAP_COLUMNS, ip_map)
    sql = ACCESS_GROUPED.format(since=since.isoformat(), until=until.isoformat())
    engine.run(sql, into="access_out")


def access_tuples(
    engine: Engine,
    role_map: Sequence[tuple[str, str, str, str, int]],
    ip_map: Sequence[tuple[str, str]],
    since: date,
    until: date,
) -> Iterator[AccessTuple]:
    """Run ``ACCESS`` after :func:`reduce_evidence`: the distinct access tuples."""
    engine.table("role_map", ROLE_MAP_COLUMNS, role_map)
    engine.table("ip_map", IP_MAP_COLUMNS, ip_map)
    sql = ACCESS.format(since=since.isoformat(), until=until.isoformat())
    for row in engine.rows(sql):
        ose, product, user, device, first, last, access, activity, by_address = row
        yield AccessTuple(
            ose, product, user, device, first, last, access, activity, bool(by_address)
        )
