"""Reducing raw UAL evidence to distinct access tuples, on DuckDB (embedded) or Apache Spark.

A year of daily UAL rows from a large organisation is hundreds of millions of rows; what the
licensing rules need is the distinct (OSE, product, user, device) tuples seen inside the window,
with the first and last day seen. The reduction is written once, as SQL that both engines run
unchanged (:data:`NORMALIZE`, :data:`REDUCE`, :data:`ROLES`, :data:`ACCESS`); an engine only
registers the inputs as views (:class:`DuckDBEngine`, :class:`SparkEngine`) and supplies the one
expression the two dialects write differently, parsing a date text (:meth:`Engine.day`).

The steps: every evidence file is normalised into one shape (``NORMALIZE``), grouped by server,
role, user and address with each row's fate (``REDUCE``: in the window, outside it, a machine
account, a date in no known style …; rows that are not kept collapse into one group per fate).
The caller turns the distinct (server, role) pairs (``ROLES``, small) into products, then
``ACCESS`` joins that map and the address → device map and groups again. DuckDB streams the files
with a memory limit and spills to disk; Spark reads Parquet from a data lake.
Imports only the standard library; duckdb and pyspark are imported by their engines.
"""

from __future__ import annotations

import csv
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from entitle.importers.dates import STYLES

Progress = Callable[[float], None]  # fraction done, 0.0 to 1.0

# The columns of the common shape, and the evidence kinds (one per UAL cmdlet) that fill them.
EvidenceKind = Literal["daily", "daily-user", "daily-device", "user", "device"]
DAILY: frozenset[str] = frozenset({"daily", "daily-user", "daily-device"})

# Per evidence row as little work as possible: the raw texts are grouped as they are, each
# date is parsed once, and names are cleaned (trim, lower case) only on the reduced rows.
NORMALIZE = """
SELECT
  server, role_guid, product_name, role_name, user_name, ip_address,
  {first_day} AS first_day, {last_day} AS last_day, access_count, activity_count
FROM (
  SELECT
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
    {activity_count} AS activity_count
  FROM {relation}
) parsed
"""

REDUCE = """
WITH tagged AS (
  SELECT
    CASE
      WHEN server IS NULL OR server = '' THEN 'no-server'
      WHEN role_guid IS NULL OR role_guid = '' THEN 'no-role'
      WHEN first_day IS NULL OR last_day IS NULL THEN 'bad-date'
      WHEN last_day < DATE '{since}' OR first_day > DATE '{until}' THEN 'outside-window'
      WHEN user_name LIKE '%$' THEN 'machine-account'
      ELSE 'ok'
    END AS status,
    server, role_guid, product_name, role_name, user_name, ip_address,
    first_day, last_day, access_count, activity_count
  FROM evidence
)
SELECT
  status,
  CASE WHEN status = 'ok' THEN server END AS server,
  CASE WHEN status = 'ok' THEN role_guid END AS role_guid,
  CASE WHEN status = 'ok' THEN user_name END AS user_name,
  CASE WHEN status = 'ok' THEN ip_address END AS ip_address,
  any_value(product_name) AS product_name,
  any_value(role_name) AS role_name,
  min(first_day) AS first_day,
  max(last_day) AS last_day,
  sum(access_count) AS access_count,
  sum(activity_count) AS activity_count,
  count(*) AS row_count
FROM tagged
GROUP BY
  status,
  CASE WHEN status = 'ok' THEN server END,
  CASE WHEN status = 'ok' THEN role_guid END,
  CASE WHEN status = 'ok' THEN user_name END,
  CASE WHEN status = 'ok' THEN ip_address END
"""

STATUS = """
SELECT status, sum(row_count) AS row_count FROM reduced GROUP BY status ORDER BY status
"""

ROLES = """
SELECT server, role_guid, max(product_name) AS product_name, max(role_name) AS role_name,
       sum(row_count) AS row_count
FROM reduced
WHERE status = 'ok'
GROUP BY server, role_guid
ORDER BY server, role_guid
"""

ACCESS = """
WITH named AS (
  SELECT
    m.ose AS ose,
    m.product AS product,
    m.anonymous AS anonymous,
    nullif(lower(trim(r.user_name)), '') AS user_name,
    nullif(lower(trim(r.ip_address)), '') AS ip_address,
    r.first_day, r.last_day, r.access_count, r.activity_count, r.row_count
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
  max(by_address) AS by_address,
  sum(row_count) AS row_count
FROM placed
GROUP BY ose, product, user_name, device
ORDER BY ose, product, user_name, device
"""

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
    row_count: int


@dataclass
class Reduction:
    """What the reduction saw: rows per fate, the (server, role) pairs and the CSV rejects."""

    status: dict[str, int] = field(default_factory=dict)
    roles: list[tuple[str, str, str, str, int]] = field(default_factory=list)
    rejects: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)


class Engine(Protocol):
    def register(self, name: str, evidence: EvidenceFile) -> None: ...
    def day(self, column: str, evidence: EvidenceFile) -> str: ...
    def run(self, sql: str, into: str | None = None, progress: Progress | None = None) -> None: ...
    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]: ...
    def table(self, name: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None: ...
    def rejects(self) -> list[tuple[str, int, str]]: ...
    def close(self) -> None: ...


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def normalize_sql(engine: Engine, relation: str, ev: EvidenceFile) -> str:
    """The ``NORMALIZE`` text for one evidence file."""
    col = ev.columns
    null = "CAST(NULL AS STRING)"

    def text(name: str) -> str:
        return f"CAST({_quote(col[name])} AS STRING)" if name in col else null

    server = text("server")
    if ev.server is not None:
        server = f"coalesce(nullif({server}, ''), {_literal(ev.server)})"
    count = "try_cast(CAST({} AS STRING) AS BIGINT)"
    daily = ev.kind in DAILY
    no_date = "CAST(NULL AS DATE)"
    return NORMALIZE.format(
        server=server,
        role_guid=_quote(col["role_guid"]),
        product_name=text("product_name"),
        role_name=text("role_name"),
        user_name=text("user_name") if ev.kind not in ("device", "daily-device") else null,
        ip_address=text("ip_address") if ev.kind not in ("user", "daily-user") else null,
        day=engine.day(col["day"], ev) if daily else no_date,
        first_seen=no_date if daily else engine.day(col["first_seen"], ev),
        last_seen=no_date if daily else engine.day(col["last_seen"], ev),
        first_day="day_parsed" if daily else "first_parsed",
        last_day="day_parsed" if daily else "last_parsed",
        access_count=count.format(_quote(col["access_count"])) if daily else "CAST(0 AS BIGINT)",
        activity_count="CAST(0 AS BIGINT)" if daily
        else count.format(_quote(col["activity_count"])),
        relation=relation,
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
        parts.append(normalize_sql(engine, name, ev))
    engine.run("\nUNION ALL\n".join(parts), into="evidence")
    engine.run(REDUCE.format(since=since.isoformat(), until=until.isoformat()), into="reduced",
               progress=progress)
    result = Reduction()
    result.status = {str(s): int(n) for s, n in engine.rows(STATUS)}
    result.roles = [(str(a), str(b), c or "", d or "", int(e)) for a, b, c, d, e in
                    engine.rows(ROLES)]
    result.rejects = engine.rejects()
    return result


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
        ose, product, user, device, first, last, access, activity, by_address, count = row
        yield AccessTuple(ose, product, user, device, first, last, access, activity,
                          bool(by_address), int(count))


# -- DuckDB ----------------------------------------------------------------------------------


class DuckDBEngine:
    """DuckDB, embedded: streams CSV or Parquet files with bounded memory, spilling to disk."""

    def __init__(self, memory_limit: str = "1GB", threads: int | None = None,
                 temp_directory: str | None = None):
        import duckdb

        self._duckdb = duckdb
        self.con = duckdb.connect()
        self._tmp = tempfile.TemporaryDirectory(prefix="entitle-duckdb-")
        self.con.execute(f"SET memory_limit = {_literal(memory_limit)}")
        self.con.execute(f"SET temp_directory = {_literal(temp_directory or self._tmp.name)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar_print = false")  # importers never print
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._csv: list[EvidenceFile] = []

    def register(self, name: str, ev: EvidenceFile) -> None:
        path = _literal(ev.path)
        if ev.file_format == "parquet":
            source = f"read_parquet({path})"
        else:
            encoding = "utf-16" if ev.encoding.startswith("utf-16") else "utf-8"
            source = (
                f"read_csv({path}, header = true, skip = {ev.skip}, all_varchar = true, "
                f"delim = {_literal(ev.delimiter)}, quote = '\"', escape = '\"', "
                f"encoding = {_literal(encoding)}, ignore_errors = true, store_rejects = true, "
                f"auto_detect = false, columns = {self._columns(ev)})"
            )
            self._csv.append(ev)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {source}")

    def _columns(self, ev: EvidenceFile) -> str:
        return "{" + ", ".join(f"{_literal(n)}: 'VARCHAR'" for n in ev.header) + "}"

    def day(self, column: str, ev: EvidenceFile) -> str:
        if ev.typed_dates:
            return f"CAST({_quote(column)} AS DATE)"
        # The file's own style first (most rows are in it), ISO (always accepted) after.
        patterns = ", ".join(_literal(p) for p in (
            STYLES[ev.date_style].duckdb if ev.date_style != "iso" else ()) + STYLES["iso"].duckdb)
        return f"CAST(try_strptime(trim({_quote(column)}), [{patterns}]) AS DATE)"

    def run(self, sql: str, into: str | None = None, progress: Progress | None = None) -> None:
        statement = sql if into is None else f"CREATE OR REPLACE TEMP TABLE {into} AS {sql}"
        if into == "evidence":
            statement = f"CREATE OR REPLACE TEMP VIEW evidence AS {sql}"
        if progress is None:
            self.con.execute(statement)
            return
        self.con.execute("SET enable_progress_bar = true")
        self.con.execute("SET enable_progress_bar_print = false")
        failure: list[BaseException] = []

        def work() -> None:
            try:
                self.con.execute(statement)
            except BaseException as error:  # handed to the caller's thread below
                failure.append(error)

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(0.2)
            try:
                done = self.con.query_progress()
            except Exception:  # no query running at this instant
                continue
            if done is not None and done >= 0:
                progress(min(done / 100.0, 1.0))
        progress(1.0)
        if failure:
            raise failure[0]

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        cursor = self.con.execute(sql)
        while batch := cursor.fetchmany(10_000):
            yield from batch

    def table(self, name: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        path = Path(self._tmp.name) / f"{name}.csv"
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow(columns)
            writer.writerows(rows)
        types = ", ".join(f"{_literal(c)}: '{'INTEGER' if c == 'anonymous' else 'VARCHAR'}'"
                          for c in columns)
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_csv("
            f"{_literal(str(path))}, header = true, auto_detect = false, columns = {{{types}}}, "
            "quote = '\"', escape = '\"', delim = ',')"
        )

    def rejects(self) -> list[tuple[str, int, str]]:
        if not self._csv:
            return []
        try:
            found = self.con.execute(
                "SELECT s.file_path, e.line, e.error_message FROM reject_errors e "
                "JOIN reject_scans s USING (scan_id) ORDER BY s.file_path, e.line"
            ).fetchall()
        except self._duckdb.Error:
            return []
        seen: set[tuple[str, int]] = set()
        out = []
        for file, line, message in found:
            if (file, line) not in seen:
                seen.add((file, line))
                out.append((str(file), int(line), str(message).split("\n")[0]))
        return out

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()


# -- Spark -----------------------------------------------------------------------------------


class SparkEngine:
    """Apache Spark: the same SQL over Parquet (or UTF-8 CSV) in a data lake."""

    def __init__(self, spark: Any):
        self.spark = spark
        self._cached: list[str] = []

    @staticmethod
    def local(master: str = "local[1]") -> SparkEngine:
        from pyspark.sql import SparkSession

        spark = (
            SparkSession.builder.master(master)
            .appName("entitle-import")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.ui.showConsoleProgress", "false")
            .getOrCreate()
        )
        spark.sparkContext.setLogLevel("ERROR")
        return SparkEngine(spark)

    def register(self, name: str, ev: EvidenceFile) -> None:
        if ev.file_format == "parquet":
            frame = self.spark.read.parquet(ev.path)
        else:
            reader = (
                self.spark.read.option("header", True)
                .option("sep", ev.delimiter)
                .option("quote", '"')
                .option("escape", '"')
                .option("comment", "#")
                .option("mode", "DROPMALFORMED")
            )
            if ev.encoding.startswith("utf-16"):
                reader = reader.option("encoding", "UTF-16").option("multiLine", True)
            if ev.header:  # known from the file's head: spares Spark a job to read it
                reader = reader.schema(", ".join(f"`{n}` STRING" for n in ev.header))
            frame = reader.csv(ev.path)
        frame.createOrReplaceTempView(name)

    def day(self, column: str, ev: EvidenceFile) -> str:
        if ev.typed_dates:
            return f"CAST(`{column}` AS DATE)"
        patterns = (STYLES[ev.date_style].spark if ev.date_style != "iso" else ()) + STYLES[
            "iso"].spark
        tries = ", ".join(f"try_to_timestamp(trim(`{column}`), {_literal(p)})" for p in patterns)
        return f"to_date(coalesce({tries}))"

    def run(self, sql: str, into: str | None = None, progress: Progress | None = None) -> None:
        sql = _backquote(sql)
        frame = self.spark.sql(sql)
        if into is None:
            frame.collect()
            return
        if into != "evidence":
            frame = frame.cache()
            frame.count()
            self._cached.append(into)
        frame.createOrReplaceTempView(into)
        if progress is not None:
            progress(1.0)

    def rows(self, sql: str) -> Iterator[tuple[Any, ...]]:
        # toLocalIterator() would run one job per partition; results here are the reduced
        # tuples, which the caller holds anyway.
        for row in self.spark.sql(_backquote(sql)).collect():
            yield tuple(row)

    def table(self, name: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        types = ", ".join(f"{c} {'INT' if c == 'anonymous' else 'STRING'}" for c in columns)
        self.spark.createDataFrame(list(rows), types).createOrReplaceTempView(name)

    def rejects(self) -> list[tuple[str, int, str]]:
        return []

    def close(self) -> None:
        for name in self._cached:
            self.spark.catalog.dropTempView(name)


def _backquote(sql: str) -> str:
    """Spark quotes names with backquotes; the shared SQL uses the standard double quotes."""
    out, inside = [], False
    quoted_string = False
    for ch in sql:
        if ch == "'" and not inside:
            quoted_string = not quoted_string
        if ch == '"' and not quoted_string:
            inside = not inside
            out.append("`")
            continue
        out.append(ch)
    return "".join(out)


def timed(step: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    value = step()
    return value, time.perf_counter() - start
