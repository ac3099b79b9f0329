"""The two engines that run the reduction SQL of :mod:`entitle.importers.reduce`.

:class:`DuckDBEngine` (embedded, the default) streams CSV and Parquet files with a memory limit,
spilling to a temporary folder, and reports progress; :class:`SparkEngine` runs the same SQL on a
SparkSession over Parquet (or UTF-8 CSV) in a data lake. Each registers the files as views and
writes the one expression the dialects spell differently, parsing a date text.
Imports :mod:`entitle.importers.dates` and :mod:`entitle.importers.reduce`; duckdb and pyspark
are imported when an engine is made.
"""

from __future__ import annotations

import csv
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from entitle.importers.dates import STYLES
from entitle.importers.reduce import EvidenceFile, Progress, literal, quote

# -- DuckDB ----------------------------------------------------------------------------------


class DuckDBEngine:
    """DuckDB, embedded: streams CSV or Parquet files with bounded memory, spilling to disk."""

    def __init__(
        self,
        memory_limit: str = "512MB",
        threads: int | None = None,
        temp_directory: str | None = None,
    ):
        import duckdb

        self._duckdb = duckdb
        self.input_errors: tuple[type[Exception], ...] = (
            duckdb.InvalidInputException,
            duckdb.ConversionException,
        )
        self.con = duckdb.connect()
        self._tmp = tempfile.TemporaryDirectory(prefix="entitle-duckdb-")
        self.con.execute(f"SET memory_limit = {literal(memory_limit)}")
        self.con.execute(f"SET temp_directory = {literal(temp_directory or self._tmp.name)}")
        self.con.execute("SET preserve_insertion_order = false")
        self.con.execute("SET enable_progress_bar_print = false")  # importers never print
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")
        self._csv: list[EvidenceFile] = []
        self._copies: dict[str, str] = {}  # a transcoded copy → the file it was made from

    def register(self, name: str, ev: EvidenceFile) -> None:
        path = literal(ev.path)
        if ev.file_format == "parquet":
            source = f"read_parquet({path})"
        else:
            encoding = "utf-16" if ev.encoding.startswith("utf-16") else "utf-8"
            if ev.encoding == "utf-16-be":  # DuckDB reads UTF-16 little-endian only
                path, encoding = literal(self._utf8_copy(name, ev)), "utf-8"
            source = (
                f"read_csv({path}, header = true, skip = {ev.skip}, all_varchar = true, "
                f"delim = {literal(ev.delimiter)}, quote = '\"', escape = '\"', "
                f"encoding = {literal(encoding)}, ignore_errors = true, store_rejects = true, "
                f"auto_detect = false, columns = {self._columns(ev)})"
            )
            self._csv.append(ev)
        self.con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT * FROM {source}")

    def _utf8_copy(self, name: str, ev: EvidenceFile) -> str:
        """A UTF-8 copy of a UTF-16 big-endian file in the spill folder (line for line, so the
        rows keep their line numbers), decoded a megabyte at a time. Before it, such a file
        imported nothing and said nothing."""
        copy = Path(self._tmp.name) / f"{name}-utf8.csv"
        with (
            open(ev.path, encoding="utf-16", errors="replace", newline="") as source,
            copy.open("w", encoding="utf-8", newline="") as target,
        ):
            while chunk := source.read(2**20):
                target.write(chunk)
        self._copies[str(copy)] = ev.path
        return str(copy)

    def _columns(self, ev: EvidenceFile) -> str:
        """The ``columns`` struct of read_csv. DuckDB needs a unique, non-empty name per column
        (case ignored): a blank or repeated header cell gets a placeholder that nothing reads."""
        names: list[str] = []
        seen: set[str] = set()
        for number, name in enumerate(ev.header, start=1):
            key = name.strip().lower()
            names.append(name if key and key not in seen else f"entitle_column_{number}")
            seen.add(key)
        return "{" + ", ".join(f"{literal(n)}: 'VARCHAR'" for n in names) + "}"

    def day(self, column: str, ev: EvidenceFile) -> str:
        if ev.typed_dates:
            return f"CAST({quote(column)} AS DATE)"
        # The date part only, before the first space or T (the time says nothing about the
        # day; a regular expression here cost 60 % more per row); the file's own style
        # first (most rows are in it), year first (always accepted) after.
        patterns = ", ".join(
            literal(p)
            for p in (STYLES[ev.date_style].duckdb if ev.date_style != "iso" else ())
            + STYLES["iso"].duckdb
        )
        part = f"split_part(replace(trim({quote(column)}), 'T', ' '), ' ', 1)"
        general = f"try_strptime({part}, [{patterns}])"
        if ev.date_pattern:  # most rows in one go, as the first rows write them
            whole = f"try_strptime({quote(column)}, {literal(ev.date_pattern)})"
            # coalesce(whole, general) in effect; but DuckDB then trimmed every value (split_part
            # names the trimmed text twice, and the shared part was computed for all rows): a
            # CASE computes the general parse only where the whole pattern failed (-15 % CPU
            # in this step at 1M rows)
            return f"CAST(CASE WHEN {whole} IS NOT NULL THEN {whole} ELSE {general} END AS DATE)"
        return f"CAST({general} AS DATE)"

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

    def copy(self, sql: str, path: Path) -> tuple[str, ...]:
        """The result of ``sql`` written to a Parquet file; its column names."""
        self.con.execute(f"COPY ({sql}) TO {literal(str(path))} (FORMAT PARQUET)")
        found = self.con.execute(f"DESCRIBE SELECT * FROM read_parquet({literal(str(path))})")
        return tuple(str(row[0]) for row in found.fetchall())

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
        types = ", ".join(
            f"{literal(c)}: '{'INTEGER' if c == 'anonymous' else 'VARCHAR'}'" for c in columns
        )
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM read_csv("
            f"{literal(str(path))}, header = true, auto_detect = false, columns = {{{types}}}, "
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
                file = self._copies.get(str(file), str(file))
                out.append((file, int(line), str(message).split("\n")[0]))
        return out

    def close(self) -> None:
        self.con.close()
        self._tmp.cleanup()


# -- Spark -----------------------------------------------------------------------------------


class SparkEngine:
    """Apache Spark: the same SQL over Parquet (or UTF-8 CSV) in a data lake."""

    def __init__(self, spark: Any):
        self.input_errors: tuple[type[Exception], ...] = ()
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
            "iso"
        ].spark
        part = f"split_part(replace(trim(`{column}`), 'T', ' '), ' ', 1)"
        tries = ", ".join(f"try_to_timestamp({part}, {literal(p)})" for p in patterns)
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
