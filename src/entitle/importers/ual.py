"""User Access Logging (Windows Server 2012 and later): evidence of who used which server role.

Accepts ``Export-Csv`` output of ``Get-UalUserAccess``, ``Get-UalDeviceAccess``,
``Get-UalDailyAccess``, ``Get-UalDailyUserAccess``, ``Get-UalDailyDeviceAccess`` (evidence,
reduced by :mod:`entitle.importers.reduce` on DuckDB or Spark; also as Parquet), and
``Get-UalOverview``, ``Get-UalSystemId``, ``Get-UalHyperV``, ``Get-UalDns`` or a DHCP/DNS table
(inventory, read here). ``ActivityCount`` (a yearly total per user or device) and
``AccessCount`` (one day's count) are kept apart as ``activity_count`` and ``access_count``.

What comes out: access.csv (distinct OSE, product, user, device inside the window), users.csv and
devices.csv rows for them (weak: a directory import says more), software.csv from the product
names, hosts.csv and oses.csv from the system ids. Machine accounts (``…$``) are left out; an
address that no DNS/DHCP table names stays an address device, with a finding.
Imports :mod:`entitle.catalog`, :mod:`entitle.source` and :mod:`entitle.importers` modules.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from entitle.catalog import Catalog
from entitle.estate.convert import MAX_COUNT
from entitle.estate.spreadsheet import looks_like_formula
from entitle.importers import reduce
from entitle.importers.dates import Window
from entitle.importers.engines import DuckDBEngine, SparkEngine
from entitle.importers.names import ProductName, guid, host_id, product_of, role_table
from entitle.importers.result import BulkRows, ImportResult, NewRow, Outcome
from entitle.importers.servers import server_rows
from entitle.importers.ual_dates import reduce_dated
from entitle.importers.ual_files import EVIDENCE, UalFile, classify, open_file, resolve_servers
from entitle.importers.ual_inventory import Inventory, read_inventory
from entitle.importers.ual_scan import examples as scan_examples
from entitle.source import Problem, Source

STATUS_REASONS = {
    "outside-window": "outside the evidence window",
    "machine-account": "machine account (a name ending in $)",
    "bad-date": "a date in no known style (mixed date formats?)",
    "no-server": "no server name (blank PSComputerName)",
    "no-role": "no role GUID",
}
WINDOWS_FAMILY = ("windows-server", "rds", "ad-rms")


def import_ual(
    paths: Sequence[Path],
    catalog: Catalog,
    window: Window,
    *,
    server: str | None = None,
    engine: str = "duckdb",
    progress: reduce.Progress | None = None,
    spark: Any = None,
    date_style: str = "auto",
    bulk_dir: Path | None = None,
) -> ImportResult:
    """Read UAL exports (see the module text). ``engine`` is ``duckdb`` or ``spark`` (``spark``
    may give a SparkSession; else a local one is started). ``date_style`` (``day-first``,
    ``month-first``) overrides what the date columns say (``auto``). With ``bulk_dir`` (and
    DuckDB) the access tuples are written to a Parquet file there (``result.bulk``), not held
    as rows."""
    out = Outcome("ual")
    files: list[UalFile] = []
    unused: list[Problem] = []
    for path in paths:
        export, parquet, problems = open_file(path)
        out.problems.extend(p for p in problems if p.severity == "error")
        for p in problems:
            if p.severity != "error":
                out.skip(p.message.split(":")[0], p.source)
        if export is None:
            continue
        kind, problem = classify(export)
        if problem is not None and problem.severity == "warning":
            unused.append(problem)
            continue
        if problem is not None or kind is None:
            out.problems.extend([problem] if problem else [])
            continue
        files.append(UalFile(kind, export, parquet))
    _skip_unused(unused, files, out)
    files, problems = resolve_servers(files, server)
    out.problems.extend(problems)
    evidence = [f for f in files if f.kind in EVIDENCE]
    sources = _evidence_sources(evidence, out)
    if out.problems:
        return out.result()
    inv = read_inventory([f for f in files if f.kind not in EVIDENCE], out)
    servers: dict[str, Source] = {}
    for ose, _ in inv.overview:
        servers.setdefault(ose, inv.overview[(ose, _)][2])
    if sources:
        _reduce(
            sources,
            evidence,
            inv,
            catalog,
            window,
            engine,
            spark,
            progress,
            servers,
            out,
            date_style,
            bulk_dir,
        )
    _overview_software(inv, catalog, out)
    server_rows(servers, inv.systems, inv.vm_hosts, out)
    return out.result()


def _skip_unused(unused: list[Problem], files: list[UalFile], out: Outcome) -> None:
    """Files this importer does not use are skipped with a warning naming each, as long as
    some file is used; with none, they are the refusal (no silent zero)."""
    if not files:
        out.problems.extend(Problem(p.source, p.message, p.hint) for p in unused)
        return
    for p in unused:
        out.warn("file-not-used", f"{p.source.file} skipped: {p.message} ({p.hint})", p.source)


def _evidence_sources(files: list[UalFile], out: Outcome) -> list[reduce.EvidenceFile]:
    sources = []
    for f in files:
        export = f.export
        names = {c.lower(): c for c in export.header}
        daily = f.kind.startswith("daily")
        columns = {
            key: names[col.lower()]
            for key, col in (
                ("server", "PSComputerName"),
                ("role_guid", "RoleGuid"),
                ("product_name", "ProductName"),
                ("role_name", "RoleName"),
                ("user_name", "UserName"),
                ("ip_address", "IPAddress"),
                ("day", "AccessDate"),
                ("first_seen", "FirstSeen"),
                ("last_seen", "LastSeen"),
                ("access_count", "AccessCount"),
                ("activity_count", "ActivityCount"),
            )
            if col.lower() in names
        }
        typed = False  # else the style is decided from the whole file (ual_dates)
        if f.parquet:
            types = dict(part.split(":", 1) for part in export.type_name[8:].split(","))
            date_column = (columns["day"] if daily else columns["first_seen"]).lower()
            typed = types.get(date_column, "").startswith(("DATE", "TIMESTAMP"))
        sources.append(
            reduce.EvidenceFile(
                path=str(export.path),
                kind=f.kind,  # type: ignore[arg-type]
                columns=columns,
                file_format="parquet" if f.parquet else "csv",
                server=f.server,
                encoding=export.encoding,
                delimiter=export.delimiter,
                skip=export.skip,
                typed_dates=typed,
                header=export.header,
            )
        )
    return sources


def _make_engine(engine: str, spark: Any) -> reduce.Engine:
    if engine == "spark":
        return SparkEngine(spark) if spark is not None else SparkEngine.local()
    return DuckDBEngine()


def _reduce(
    sources: list[reduce.EvidenceFile],
    files: list[UalFile],
    inv: Inventory,
    catalog: Catalog,
    window: Window,
    engine_name: str,
    spark: Any,
    progress: reduce.Progress | None,
    servers: dict[str, Source],
    out: Outcome,
    date_style: str = "auto",
    bulk_dir: Path | None = None,
) -> None:
    engine = _make_engine(engine_name, spark)
    try:
        seen, sources = reduce_dated(engine, sources, files, date_style, window, progress, out)
        if out.problems:
            return
        _reduce_with(seen, engine, sources, files, inv, catalog, window, servers, out, bulk_dir)
    except engine.input_errors as error:  # e.g. DuckDB's CSV parser in a state it cannot leave
        out.rows.pop("access", None)
        out.bulk.pop("access", None)
        lines = str(error).splitlines()
        named = [
            line.split("=", 1)[1].strip() for line in lines if line.strip().startswith("file =")
        ]
        where = next((f.file for f in files if named and f.export.path == Path(named[0])), "")
        message = f"the evidence cannot be parsed: {lines[0] if lines else type(error).__name__}"
        hint = "export it again with Export-Csv; if it was edited, save it as CSV UTF-8"
        out.error(Source(where or ", ".join(sorted({f.file for f in files}))), message, hint)
    finally:
        engine.close()


def _reduce_with(
    seen: reduce.Reduction,
    engine: reduce.Engine,
    sources: list[reduce.EvidenceFile],
    files: list[UalFile],
    inv: Inventory,
    catalog: Catalog,
    window: Window,
    servers: dict[str, Source],
    out: Outcome,
    bulk_dir: Path | None = None,
) -> None:
    _report_status(seen, sources, files, window, out)
    merged = list(engine.rows(reduce.MERGED_USERS))
    if merged:
        _, first, last = merged[0]
        out.warn(
            "user-names-merged",
            f"{len(merged)} user(s) written in more than one way were taken as one (e.g. "
            f"'{first}' and '{last}'): Windows account names do not depend on case",
            files[0].file,
        )
    role_map = _role_map(seen.roles, inv, catalog, files, servers, out)
    ip_map = sorted(inv.names.items())
    example = Source(files[0].file)
    reduce.access_table(engine, role_map, ip_map, window.since, window.until)
    count = next(iter(engine.rows(reduce.ACCESS_COUNT)))[0]
    if bulk_dir is not None and isinstance(engine, DuckDBEngine):
        # the tuples go from DuckDB to a file, never one Python object each (sorted when written)
        path = bulk_dir / "access.parquet"
        columns = engine.copy(reduce.ACCESS_ROWS, path)
        out.bulk["access"] = BulkRows(path, columns, count, example)
        found = [(example, c, v) for c, v in engine.rows(reduce.FORMULA_CELLS)]
        out.warn_formulas("access", [f for f in found if looks_like_formula(f[2])])
    else:
        access = out.rows.setdefault("access", [])
        for row in engine.rows(reduce.ACCESS_ROWS_SORTED):
            cells = dict(zip(reduce.ACCESS_ROW_COLUMNS, row, strict=True))
            for extra in ("access_count", "activity_count"):
                if not cells[extra]:
                    del cells[extra]
            access.append(NewRow(cells, example))
    out.count("access tuples", count)
    if not count and not out.problems:
        reasons = "; ".join(f"{n} {reason}" for reason, n in out.skip_counts.most_common(3) if n)
        out.error(
            Source(files[0].file) if len(files) == 1 else Source(", ".join(f.file for f in files)),
            f"no access was mapped from the evidence ({reasons or 'no row in the window'})",
            "a role no product licenses is left out (data/ual_roles.toml lists those known); "
            "check the files and the window",
        )
    for (user,) in sorted(engine.rows(reduce.ACCESS_USERS)):
        out.add("users", {"user": user}, example, weak=True)
    unnamed = 0
    for device, by_address in sorted(engine.rows(reduce.ACCESS_DEVICES)):
        cells = {"device": device, "kind": "address"} if by_address else {"device": device}
        out.add("devices", cells, example, weak=True)
        unnamed += bool(by_address)
    if unnamed:
        out.warn(
            "device-is-address",
            f"{unnamed} device(s) known only by an IP address: "
            "device CALs cannot be planned on addresses (DHCP moves them between "
            "machines); add Get-UalDns or a DHCP/DNS table (IPAddress, HostName)",
            files[0].file,
        )


def _report_status(
    seen: reduce.Reduction,
    sources: list[reduce.EvidenceFile],
    files: list[UalFile],
    window: Window,
    out: Outcome,
) -> None:
    for status, count in seen.status.items():
        if status == "ok":
            out.count("evidence rows in the window", count)
            continue
        if status == "bad-count":
            _refuse_counts(count, scan_examples(status, window, sources, files), files, out)
            continue
        reason = STATUS_REASONS.get(status, status)
        if status == "outside-window":
            reason = f"{reason} ({window})"
        examples = scan_examples(status, window, sources, files)
        out.skip(reason, examples[0] if examples else None, count)
        for where in examples[1:]:
            out.skip_examples[reason].append(where)
    malformed: dict[str, int] = {}
    for file, line, message in seen.rejects:
        shown = _display(file, files)
        malformed[shown] = malformed.get(shown, 0) + 1
        out.skip(f"malformed row ({message})", Source(shown, line))
    for n, f in enumerate(files):
        _refuse_unused(f, seen.by_file.get(n, {}), malformed.get(f.file, 0), window, out)


def _refuse_unused(
    f: UalFile, fates: dict[str, int], malformed: int, window: Window, out: Outcome
) -> None:
    """No silent zero: an evidence file none of whose rows is used is refused, with why."""
    if fates.get("ok"):
        return
    why = [
        f"{n} {STATUS_REASONS.get(status, status)}"
        + (f" ({window})" if status == "outside-window" else "")
        for status, n in sorted(fates.items(), key=lambda kv: -kv[1])
    ]
    if malformed:
        why.append(f"{malformed} malformed")
    if not why:
        out.error(
            Source(f.file),
            "no evidence row could be read: the export has no rows",
            "leave the file out, or export it again with Export-Csv",
        )
        return
    top = max(fates, key=lambda k: fates[k]) if fates else "malformed"
    hint = {
        "outside-window": "widen --since/--until to the dates of the file, or leave it out",
        "bad-date": "give --date-style day-first or month-first, or convert the dates to "
        "YYYY-MM-DD",
        "machine-account": "the file holds only computer accounts; leave it out",
        "no-server": "give --server NAME",
    }.get(top, "the export is malformed; export it again with Export-Csv")
    lead = "no evidence row could be read" if not fates else "no evidence row of this file is used"
    out.error(Source(f.file), f"{lead} ({'; '.join(why)})", hint)


def _refuse_counts(count: int, found: list[Source], files: list[UalFile], out: Outcome) -> None:
    """Rows whose AccessCount (ActivityCount) is negative, not a whole number or too large are
    errors, each named by its line (the first three): a count of -5 was kept and 10^29 blanked."""
    message = f"AccessCount (ActivityCount) is not a whole number from 0 to {MAX_COUNT:,}"
    hint = "export the UAL table again; a count is never negative"
    if count > len(found):
        hint += f"; {count:,} such rows in all"
    for where in found or [Source(files[0].file)]:
        out.error(where, message, hint)


def _display(path: str, files: list[UalFile]) -> str:
    for f in files:
        if str(f.export.path) == path or str(Path(path).resolve()) == str(f.export.path.resolve()):
            return f.file
    return path


def _role_map(
    roles: list[tuple[str, str, str, str, int]],
    inv: Inventory,
    catalog: Catalog,
    files: list[UalFile],
    servers: dict[str, Source],
    out: Outcome,
) -> list[tuple[str, str, str, str, int]]:
    """(server, role GUID) → products, the server's own overview first (see the module text)."""
    table = role_table()
    rows: list[tuple[str, str, str, str, int]] = []
    names: dict[str, ProductName | None] = {}
    where = Source(files[0].file)
    for server, role_guid, product_name, role_name, count in roles:
        ose = host_id(server)
        if not ose:  # ".contoso.com", "\\": a name with no host part names no server
            out.skip(f"server name {server!r} has no host name", where, count)
            continue
        servers.setdefault(ose, where)
        listed = inv.overview.get((ose, guid(role_guid)))
        if listed is not None:
            role_name, product_name = listed[0] or role_name, listed[1] or product_name
        role = table.by_name(role_name) if role_name else None
        known = table.by_guid(role_guid)
        if role is None:
            role = known
        elif known is not None and known.name != role.name and listed is not None:
            out.warn(
                "role-guid-differs",
                f"{ose} names role {role_guid} '{role_name}', the "
                f"table says '{known.name}'; the server's overview is followed",
                listed[2],
            )
        if role is None:
            out.skip(f"role GUID {role_guid} ({role_name or 'no name'}) is not known", where, count)
            continue
        if product_name not in names:  # thousands of servers share a few product names
            names[product_name] = product_of(product_name, catalog)
        _software(ose, role.products, names[product_name], catalog, where, out)
        for product in role.products:
            rows.append((server, role_guid, ose, product, int(role.anonymous)))
    return rows


def _software(
    ose: str,
    products: tuple[str, ...],
    named: ProductName | None,
    catalog: Catalog,
    where: Source,
    out: Outcome,
) -> None:
    """software.csv rows for what a product name says (``named``: :func:`product_of`)."""
    if named is None or named.version is None:
        return
    if named.product == "windows-server":
        if named.edition:
            out.add(
                "software",
                {
                    "ose": ose,
                    "product": "windows-server",
                    "edition": named.edition,
                    "version": named.version,
                },
                where,
            )
        for product in products:
            if product in WINDOWS_FAMILY and product != "windows-server":
                versions = catalog.products[product].version_ids
                if named.version in versions:
                    out.add(
                        "software",
                        {"ose": ose, "product": product, "version": named.version},
                        where,
                    )
    elif named.product in products and named.edition:
        out.add(
            "software",
            {
                "ose": ose,
                "product": named.product,
                "edition": named.edition,
                "version": named.version,
            },
            where,
        )


def _overview_software(inv: Inventory, catalog: Catalog, out: Outcome) -> None:
    table = role_table()
    for (ose, role_guid), (role_name, product_name, where) in sorted(inv.overview.items()):
        role = table.by_name(role_name) if role_name else table.by_guid(role_guid)
        products = role.products if role else ()
        _software(ose, products, product_of(product_name, catalog), catalog, where, out)
