"""Generate realistic sample estates, seeded and deterministic.

``generate_estate(seed, users)`` is a pure function from a seed and a size to the estate's tables
(table name -> rows, with the columns of :mod:`entitle.estate.schema`); the same arguments
always give the same rows, and :func:`write_estate` writes them byte for byte the same. The
default (seed 7, 300 users) is the bundled ``examples/sample-estate``; larger ``users`` add more
sites of the same shape, for benchmarks::

    python -m entitle.samples.generate --out examples/sample-estate --seed 7
    python -m entitle.samples.generate --out /tmp/big --users 100000

Imports only the standard library and its own helper modules.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import sys
import tempfile
from datetime import date
from pathlib import Path

from entitle.estate.schema import SPEC_COLUMNS
from entitle.samples._entitlements import PRICES, entitlements
from entitle.samples._people import Registry, add_people, seen_window
from entitle.samples._servers import Site, Tables, add_site

AS_OF = date(2026, 11, 28)
SITE_USERS = 300  # internal users per site; a larger estate has more sites

COLUMNS = SPEC_COLUMNS


def generate_estate(
    seed: int = 7, users: int = 300, *, as_of: date = AS_OF, prices: bool = True
) -> Tables:
    """The tables of a sample estate with ``users`` internal users (plus about one external user
    per 30), spread over ``round(users / 300)`` sites of the same shape. Access dates fall in the
    90 days before ``as_of``. ``prices=False`` leaves ``prices.csv`` empty (catalog prices only).
    """
    if users < 1:
        raise ValueError(f"users must be at least 1, not {users}")
    rng = random.Random(seed)
    tables: Tables = {name: [] for name in COLUMNS}
    site_count = max(1, round(users / SITE_USERS))
    registry = Registry(width=max(4, len(str(users))), window=seen_window(as_of))
    sites: list[Site] = []
    for index in range(site_count):
        site = add_site(tables, index, rng, as_of)
        share = users * (index + 1) // site_count - users * index // site_count
        add_people(tables, site, share, registry, rng)
        sites.append(site)
    tables["entitlements"] = entitlements(tables, sites)
    tables["prices"] = [dict(row) for row in PRICES] if prices else []
    # Every row has every column of its table, in the format's order (blank = unknown).
    return {
        name: [{column: row.get(column, "") for column in COLUMNS[name]} for row in rows]
        for name, rows in tables.items()
    }


def write_estate(tables: Tables, folder: Path, *, readme: str | None = None) -> None:
    """Write ``tables`` as CSV files (and ``README.md`` when given) into ``folder``, replacing it.

    The files are written into a temporary folder beside ``folder`` that is then renamed, so a
    reader sees the old estate or the new one, never half of one. Empty tables are not written
    (an absent table is an empty table).
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".new", dir=folder.parent))
    try:
        staging.chmod(0o755)
        for name, columns in COLUMNS.items():
            rows = tables.get(name, [])
            if rows:
                _write_csv(staging / f"{name}.csv", columns, rows)
        if readme is not None:
            (staging / "README.md").write_text(readme, encoding="utf-8", newline="\n")
        _swap(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([row.get(column, "") for column in columns] for row in rows)


def _swap(staging: Path, folder: Path) -> None:
    """Put ``staging`` in the place of ``folder``; the old folder is removed only afterwards."""
    if not folder.exists():
        os.replace(staging, folder)
        return
    retired = staging.with_suffix(".old")
    os.replace(folder, retired)
    try:
        os.replace(staging, folder)
    except BaseException:
        os.replace(retired, folder)
        raise
    shutil.rmtree(retired)


def describe(tables: Tables, seed: int, users: int) -> str:
    """The README of a generated estate: what it contains and how to make it again."""
    count = {name: len(rows) for name, rows in tables.items()}
    internal = sum(1 for row in tables["users"] if row["external"] != "yes")
    virtual = sum(1 for row in tables["oses"] if row["virtual"] == "yes")
    sites = max(1, round(users / SITE_USERS))
    layout = (
        "one site"
        if sites == 1
        else f"{sites} sites of the same shape; ids of the second site start with `s2-`, and so on"
    )
    command = f"python -m entitle.samples.generate --out DIR --seed {seed} --users {users}"
    return f"""# Sample estate (generated: do not edit by hand)

A fictional company's Microsoft server estate in the format of `estate-format.md`, made by
`entitle.samples.generate` with seed {seed} and {users} internal users ({layout}).
`tests/test_samples.py` checks that the bundled `examples/sample-estate` equals what the
generator makes, so change the generator and regenerate rather than editing the files:

    make sample                      # seed 7, 300 users: examples/sample-estate
    {command}

## What it contains (each site has the same servers and kinds of people)

- **Servers** ({count["hosts"]} hosts, {count["oses"]} OSEs of which {virtual} virtual):
  a 3-host Hyper-V cluster (`hv1`-`hv3`, 2x16 cores, `cluster=hv-cluster`) whose physical OSEs
  are hosting-only Windows Server Datacenter 2022, running 15 production VMs (domain
  controllers, file, app, intranet web, two RDS 2022 session hosts, Exchange 2019, SharePoint 2019,
  SQL Server Standard 2022 on `sql1` and `sql3` fixed to Server + CAL and on `sql2` left for the
  engine to choose, SQL Server Enterprise 2022 on `sqlent1`) and 3 dev-test VMs; standalone
  physical servers `sqlold1` (2x16-core AMD Opteron 6284 SE, Windows Server 2016 and SQL Server
  Standard 2016 per core: the core factor matters), `erp1` (4x6 cores, SQL Server Standard 2019,
  model blank), `bk1` (2x12), `web-dmz1` (1x8, public web site) and the branch office's `br1`
  (1x8, Windows Server Essentials 2022). Windows Server versions are mixed 2016 to 2025.
  The version 2 columns as a real organisation would have them: the intranet server `web1` is a
  `front_end` that relays its users' queries to `sql2`; `sql1-dr` is a passive SQL Server copy
  (`passive_for=sql1`); `sql2` may run on two of the three cluster hosts (`hosts`) and came to its
  host by Live Migration 40 days before the position from the third (`placements.csv`), `app2`
  120 days before; an old host `legacy1` (2x8) runs two Windows
  Server 2012 R2 VMs, covered by a 2012 R2 Standard `processor` license bought in 2014.
  A small cloud part (`provider`): shared hardware at Azure (`azure-weu`) and AWS (`aws-euc1`),
  whose `processors` and `cores_per_processor` are blank; `fs2-az` (8 vCPU) takes over `fs2`
  (`replaces`, placed 60 days ago) with own Windows Server licenses (`model=byol`, Azure Hybrid
  Benefit); `sql4-az` runs Windows Server from Azure's bill and SQL Server Standard 2022 on own
  Enterprise cores (1 core covers 4 vCPUs); `web2-aws` is billed by AWS; `rpt1-aws` brings
  SQL Server Standard 2019 licenses whose Software Assurance lapsed (License Mobility fails).
- **People** ({count["users"]} users, {internal} internal; {count["devices"]} devices): office staff
  with a laptop and a desktop or one of them (some with a phone reading mail), warehouse shift
  workers sharing a few kiosks through the RDS session hosts, 3 IT admins with `purpose=admin`
  access to every server, about 20 branch users on the Essentials server, external supplier-portal
  users (`external=yes`) on `app1` and SharePoint.
- **Access** ({count["access"]} rows, first and last seen in the 90 days before {AS_OF}):
  Windows Server, RDS, SQL Server, Exchange and SharePoint (some `level=enterprise`), two
  unauthenticated requests to `web-dmz1`, two server-to-server SQL connections.
- **Management** ({count["managed"]} rows): System Center manages most server OSEs,
  Configuration Manager most laptops, desktops and kiosks (with the device's user).
- **Entitlements** ({count["entitlements"]} rows): Datacenter 2022 cores for two of the three
  cluster hosts, Standard 2016/2019/2022 cores for the standalone servers (one 8 cores short),
  Essentials, Windows Server 2019 user CALs and a Core CAL Suite (SA to 2027-06-30) that together
  cover most users, old 2012 R2 CALs, an External Connector, RDS 2019 device CALs and a few 2022
  user CALs, a 2012 R2 Standard processor license, SQL Server Standard 2022 server licenses and
  CALs, SQL Standard 2016/2019 and
  Enterprise 2022 cores, Exchange 2019 and SharePoint 2016 server licenses, System Center
  Standard server MLs and Configuration Manager client MLs; for the cloud part, Standard 2022
  cores with SA assigned to `fs2-az`, Enterprise 2022 cores with SA assigned to `sql4-az`, and
  Standard 2019 cores whose SA ended in 2022, assigned to `rpt1-aws`.
- **Placements** ({count["placements"]} rows): where two VMs ran before they moved, and when
  `fs2-az` came to Azure.
- **Prices** ({count["prices"]} rows): two negotiated prices replace the catalog's indicative
  ones; every other price comes from the catalog.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m entitle.samples.generate",
        description="Write a seeded, reproducible sample estate (a folder of CSV files).",
        epilog="Example: python -m entitle.samples.generate --out /tmp/big --users 100000",
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to (re)write")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    parser.add_argument(
        "--users", type=int, default=300, help="internal users (default 300; 300 per site)"
    )
    args = parser.parse_args(argv)
    if args.users < 1:
        parser.error("--users must be at least 1")
    tables = generate_estate(args.seed, args.users)
    write_estate(tables, args.out, readme=describe(tables, args.seed, args.users))
    rows = sum(len(rows) for rows in tables.values())
    print(f"wrote {args.out} ({rows} rows in {sum(1 for r in tables.values() if r)} tables)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
