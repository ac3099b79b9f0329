"""SQL Server in a ``Get-SilSoftware`` list: which rows are an installation that needs licenses.

SIL lists SQL Server as Windows' installed programs do, one row per component and version:
``Microsoft SQL Server 2019 (64-bit)`` (the setup umbrella), ``SQL Server 2019 Database Engine
Services``, ``… Reporting Services``, ``… Analysis Services``, ``… Integration Services``,
``… Database Engine Shared``, ``… Common Files``, ``SQL Server 2019 Express LocalDB`` … — and
seldom an edition. The rules read here:

- **LocalDB** is the free developer engine that applications embed: it is never the server's
  installation and never gives the server an edition (it used to make an Express row that hid
  the real one).
- **An installation** is a Database Engine, Reporting, Analysis or Integration Services row: each
  needs the server licensed when it is installed (licensing-rules.md §3.5). Shared files, tools
  and the setup umbrella are not installations.
- **The edition** is the one a SQL Server row of the same version names (Enterprise, Standard,
  Web, Developer, Express), the highest-ranked where several do. Where none names one, the
  installation is counted as Standard — the cheapest paid edition, as a weak row that an edition
  written in software.csv overrides — and the finding ``sql-edition-assumed`` says so.
Imports :mod:`entitle.catalog`, :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from entitle.catalog import Catalog
from entitle.importers.names import ProductName
from entitle.importers.result import Outcome
from entitle.source import Source

INSTALLATION = re.compile(
    r"database\s+engine\s+services|reporting\s+services|analysis\s+services|"
    r"integration\s+services",
    re.I,
)
LOCALDB = re.compile(r"local\s*db", re.I)
ASSUMED = "standard"


@dataclass
class SqlRows:
    """The SQL Server rows of one OSE and version."""

    editions: set[str] = field(default_factory=set)
    installations: list[tuple[str, Source]] = field(default_factory=list)
    components: int = 0


def collect(
    name: str,
    named: ProductName,
    where: Source,
    found: dict[tuple[str, str], SqlRows],
    ose: str,
    out: Outcome,
) -> None:
    """Note one SQL Server row of ``ose`` (``named`` has its version)."""
    if LOCALDB.search(name):
        out.skip("SQL Server Express LocalDB: a free engine applications embed, no license", where)
        return
    rows = found.setdefault((ose, named.version or ""), SqlRows())
    if named.edition:
        rows.editions.add(named.edition)
    if INSTALLATION.search(name):
        rows.installations.append((name, where))
    elif not named.edition:
        rows.components += 1
        out.skip("SQL Server setup, shared files or tools: licensed with the installation", where)


def rows_for(found: dict[tuple[str, str], SqlRows], catalog: Catalog, out: Outcome) -> None:
    """software.csv rows for the SQL Server installations found (see the module text)."""
    rank = dict(catalog.products["sql-server"].edition_rank)
    for (ose, version), rows in sorted(found.items()):
        if not rows.installations and not rows.editions:
            continue
        where = rows.installations[0][1] if rows.installations else Source("")
        cells = {"ose": ose, "product": "sql-server", "version": version}
        if rows.editions:
            paid = [e for e in rows.editions if e not in ("developer", "express")]
            pool = paid or sorted(rows.editions)
            cells["edition"] = max(pool, key=lambda e: (rank.get(e, -1), e))
            out.add("software", cells, where)
            out.count("server products (Get-SilSoftware)")
            continue
        cells["edition"] = ASSUMED
        out.add("software", cells, where, weak=True)
        out.count("server products (Get-SilSoftware)")
        listed = sorted({n for n, _ in rows.installations})
        names = ", ".join(listed) + (" name" if len(listed) > 1 else " names")
        out.warn(
            "sql-edition-assumed",
            f"{ose}: {names} no edition; counted as SQL Server {version} Standard, the "
            "cheapest paid edition — write the edition in software.csv (Express and Developer "
            "are free, Enterprise costs more)",
            where,
        )
