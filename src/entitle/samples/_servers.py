"""The server side of one generated site: hosts, OSEs, installed software and server management.

A *site* is one copy of the sample company's data centre: a 3-host Hyper-V cluster running the
production and dev-test VMs, standalone physical servers of several shapes (one an old AMD
Opteron running SQL Server on the physical OSE) and a branch office's Essentials server. The
default estate has one site with unprefixed ids (``hv1``, ``sql1``); larger estates add sites
whose ids start with ``s2-``, ``s3-``, ... Imports only the standard library.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

Row = dict[str, str]
Tables = dict[str, list[Row]]

# (product, edition, version, model) installed beside Windows Server.
Install = tuple[str, str, str, str]


@dataclass(frozen=True, slots=True)
class VmSpec:
    """A VM of the site template: name, Windows versions to pick from, vCPUs to pick from."""

    name: str
    windows: tuple[str, ...]
    vcpus: tuple[int, ...]
    extra: tuple[Install, ...] = ()
    environment: str = "production"


@dataclass(frozen=True, slots=True)
class PhysicalSpec:
    """A standalone physical server whose OSE runs the workload itself (ose id = host id)."""

    name: str
    processors: int
    cores_per_processor: int
    cpu_model: str
    windows_edition: str
    windows_version: str
    extra: tuple[Install, ...] = ()


HYPERV_HOSTS = ("hv1", "hv2", "hv3")
HYPERV_SHAPE = (2, 16, "Intel Xeon Gold 6326")

SQL_STD_2022 = "sql-server", "standard", "2022"

PRODUCTION_VMS: tuple[VmSpec, ...] = (
    VmSpec("dc1", ("2025",), (2,)),
    VmSpec("dc2", ("2022",), (2,)),
    VmSpec("fs1", ("2022",), (4,)),
    VmSpec("fs2", ("2019",), (4,)),
    VmSpec("app1", ("2022",), (4, 8)),  # supplier portal and line-of-business front end
    VmSpec("app2", ("2019", "2025"), (4,)),
    VmSpec("web1", ("2022", "2025"), (2, 4)),  # intranet, authenticated
    VmSpec("rds1", ("2022",), (8,), (("rds", "", "2022", ""),)),
    VmSpec("rds2", ("2022",), (8,), (("rds", "", "2022", ""),)),
    VmSpec("exch1", ("2019",), (8,), (("exchange-server", "standard", "2019", ""),)),
    VmSpec("sp1", ("2019",), (8,), (("sharepoint-server", "", "2019", ""),)),
    VmSpec("sql1", ("2022",), (4,), ((*SQL_STD_2022, "server-cal"),)),
    VmSpec("sql2", ("2022",), (4, 6), ((*SQL_STD_2022, ""),)),  # model left to the engine
    VmSpec("sql3", ("2025",), (4,), ((*SQL_STD_2022, "server-cal"),)),
    VmSpec("sqlent1", ("2022",), (8,), (("sql-server", "enterprise", "2022", ""),)),
)
DEV_TEST_VMS: tuple[VmSpec, ...] = (
    VmSpec("dev-sql1", ("2022",), (4,), (("sql-server", "enterprise", "2022", ""),), "dev-test"),
    VmSpec("dev-app1", ("2025",), (4,), (), "dev-test"),
    VmSpec("test-web1", ("2022",), (2,), (), "dev-test"),
)
PHYSICAL: tuple[PhysicalSpec, ...] = (
    PhysicalSpec(
        "sqlold1",
        2,
        16,
        "AMD Opteron 6284 SE",
        "standard",
        "2016",
        (("sql-server", "standard", "2016", "per-core"),),
    ),
    PhysicalSpec(
        "erp1",
        4,
        6,
        "Intel Xeon E7-4807",
        "standard",
        "2019",
        (("sql-server", "standard", "2019", ""),),
    ),
    PhysicalSpec("bk1", 2, 12, "Intel Xeon Silver 4214", "standard", "2019"),
    PhysicalSpec("web-dmz1", 1, 8, "Intel Xeon E-2288G", "standard", "2022"),
    PhysicalSpec("br1", 1, 8, "Intel Xeon E-2378", "essentials", "2022"),
)
# Physical servers System Center does not manage (DMZ web server, branch office server).
UNMANAGED = frozenset({"web-dmz1", "br1"})
# A Windows Server 2012 R2 Hyper-V host kept for two legacy line-of-business VMs, covered by a
# 2012 R2 Standard processor license bought in 2014 (docs/estate-format.md, license `processor`).
LEGACY_HOST = ("legacy1", 2, 8, "Intel Xeon E5-2650 v2")
LEGACY_VMS = ("lob-legacy1", "lob-legacy2")


@dataclass(frozen=True, slots=True)
class Site:
    """The ids of one site's servers, by the role people use them for."""

    prefix: str
    cluster: str
    products: Mapping[str, tuple[str, ...]]  # ose -> products installed, in software.csv order
    hosting: tuple[str, ...]
    production: tuple[str, ...]  # every production server OSE that people reach, incl. physical
    dev_test: tuple[str, ...]

    def id(self, name: str) -> str:
        return self.prefix + name

    def ids(self, *names: str) -> tuple[str, ...]:
        return tuple(self.prefix + n for n in names)


def site_prefix(index: int) -> str:
    """Ids of the first site carry no prefix; site 2 is ``s2-``, and so on."""
    return "" if index == 0 else f"s{index + 1}-"


def add_site(tables: Tables, index: int, rng: random.Random, as_of: date) -> Site:
    """Append one site's hosts, OSEs, software and server management rows to ``tables``."""
    prefix = site_prefix(index)
    cluster = f"{prefix}hv-cluster"
    products: dict[str, tuple[str, ...]] = {}
    hosts, oses, software = tables["hosts"], tables["oses"], tables["software"]

    def install(ose: str, items: list[Install]) -> None:
        for product, edition, version, model in items:
            software.append(
                {
                    "ose": ose,
                    "product": product,
                    "edition": edition,
                    "version": version,
                    "model": model,
                }
            )
        products[ose] = tuple(item[0] for item in items)

    processors, cores, cpu = HYPERV_SHAPE
    hosting: list[str] = []
    for name in HYPERV_HOSTS:
        host = prefix + name
        hosts.append(_host(host, processors, cores, cpu, cluster))
        ose = f"{host}-host"
        oses.append(_ose(ose, host, virtual=False, hosting_only=True))
        install(ose, [("windows-server", "datacenter", "2022", "")])
        hosting.append(ose)

    production: list[str] = []
    dev_test: list[str] = []
    placement = [prefix + name for name in HYPERV_HOSTS]
    for n, spec in enumerate(PRODUCTION_VMS + DEV_TEST_VMS):
        if n % len(placement) == 0:
            rng.shuffle(placement)
        ose = prefix + spec.name
        oses.append(
            _ose(
                ose,
                placement[n % len(placement)],
                virtual=True,
                vcpus=rng.choice(spec.vcpus),
                environment=spec.environment,
            )
        )
        items: list[Install] = [("windows-server", "standard", rng.choice(spec.windows), "")]
        items += spec.extra
        install(ose, items)
        (dev_test if spec.environment == "dev-test" else production).append(ose)

    for phys in PHYSICAL:
        host = prefix + phys.name
        hosts.append(_host(host, phys.processors, phys.cores_per_processor, phys.cpu_model, ""))
        oses.append(_ose(host, host, virtual=False))
        items = [("windows-server", phys.windows_edition, phys.windows_version, "")]
        install(host, items + list(phys.extra))
        production.append(host)

    _version_2(tables, prefix, as_of, install)
    _cloud(tables, prefix, as_of, install)

    managed = tables["managed"]
    for ose in hosting + production:
        if ose.removeprefix(prefix) not in UNMANAGED:
            managed.append({"product": "system-center", "ose": ose, "device": "", "user": ""})
    return Site(prefix, cluster, products, tuple(hosting), tuple(production), tuple(dev_test))


def _version_2(
    tables: Tables, prefix: str, as_of: date, install: Callable[[str, list[Install]], None]
) -> None:
    """What a real organisation writes with the version 2 columns (docs/estate-format.md): the
    intranet server is a front end of SQL Server, SQL Server has a passive DR copy, VMs moved
    between cluster hosts, and an old 2012 R2 host is covered by a processor license. Uses no
    random draws, so the rest of the site is the same as without them."""
    hosts, oses, software = tables["hosts"], tables["oses"], tables["software"]
    where = {row["ose"]: row for row in oses}
    where[prefix + "web1"]["front_end"] = "yes"  # relays its users' queries to sql2
    cluster_hosts = [prefix + name for name in HYPERV_HOSTS]

    primary = prefix + "sql1"
    dr = prefix + "sql1-dr"
    dr_host = next(h for h in cluster_hosts if h != where[primary]["host"])
    oses.append(_ose(dr, dr_host, virtual=True, vcpus=4))
    install(dr, [("windows-server", "standard", "2022", ""), (*SQL_STD_2022, "server-cal")])
    software[-1]["passive_for"] = primary

    # sql2 came to its host by Live Migration 40 days before the day of the position, and an
    # affinity rule now keeps it on two of the three hosts (`hosts`): the host it left still
    # counts for licenses without mobility for 90 days (§7.1); app2 moved 120 days ago.
    sql2 = where[prefix + "sql2"]
    others = [h for h in cluster_hosts if h != sql2["host"]]
    sql2["hosts"] = ";".join(sorted([sql2["host"], others[0]]))
    placements = tables.setdefault("placements", [])
    for name, days in (("sql2", 40), ("app2", 120)):
        vm = where[prefix + name]
        before = others[1] if name == "sql2" else next(h for h in cluster_hosts if h != vm["host"])
        moved = as_of - timedelta(days=days)
        start = as_of - timedelta(days=400)
        placements.append(_placement(vm["ose"], before, start, moved))
        placements.append(_placement(vm["ose"], vm["host"], moved, None))

    name, processors, cores, cpu = LEGACY_HOST
    host = prefix + name
    hosts.append(_host(host, processors, cores, cpu, ""))
    oses.append(_ose(f"{host}-host", host, virtual=False, hosting_only=True))
    install(f"{host}-host", [("windows-server", "standard", "2012r2", "")])
    for legacy_vm in LEGACY_VMS:
        oses.append(_ose(prefix + legacy_vm, host, virtual=True, vcpus=2))
        install(prefix + legacy_vm, [("windows-server", "standard", "2012r2", "")])


# The small cloud part of a site (docs/rules/cloud-and-hybrid.md): shared hardware at Azure and
# AWS (blank processors and cores), VMs there with their vCPUs.
AZURE_HOST, AWS_HOST = "azure-weu", "aws-euc1"
CLOUD_VMS: tuple[tuple[str, str, int, tuple[Install, ...]], ...] = (
    # fs2 is migrating to Azure (replaces, placed 60 days ago): own Windows Server licenses under
    # Azure Hybrid Benefit, inside the 180-day overlap.
    ("fs2-az", AZURE_HOST, 8, (("windows-server", "standard", "2022", "byol"),)),
    # Windows Server in Azure's bill, SQL Server Standard under Azure Hybrid Benefit.
    (
        "sql4-az",
        AZURE_HOST,
        8,
        (("windows-server", "datacenter", "2022", ""), (*SQL_STD_2022, "byol")),
    ),
    ("web2-aws", AWS_HOST, 2, (("windows-server", "datacenter", "2022", ""),)),
    # SQL Server Standard 2019 brought to AWS shared hardware (License Mobility needs SA).
    (
        "rpt1-aws",
        AWS_HOST,
        4,
        (
            ("windows-server", "datacenter", "2022", ""),
            ("sql-server", "standard", "2019", "byol"),
        ),
    ),
)


def _cloud(
    tables: Tables, prefix: str, as_of: date, install: Callable[[str, list[Install]], None]
) -> None:
    """Hosts at Azure and AWS (shared: no processors or cores) and the VMs there. Uses no random
    draws, so the rest of the site is the same as without them."""
    hosts, oses = tables["hosts"], tables["oses"]
    for host, provider in ((AZURE_HOST, "azure"), (AWS_HOST, "aws")):
        row = _host(prefix + host, 0, 0, "", "")
        row.update(processors="", cores_per_processor="", provider=provider, dedicated="no")
        hosts.append(row)
    for name, host, vcpus, items in CLOUD_VMS:
        ose = _ose(prefix + name, prefix + host, virtual=True, vcpus=vcpus)
        if name == "fs2-az":
            ose["replaces"] = prefix + "fs2"
            tables["placements"].append(
                _placement(prefix + name, prefix + host, as_of - timedelta(days=60), None)
            )
        oses.append(ose)
        install(prefix + name, list(items))


def _placement(ose: str, host: str, start: date, until: date | None) -> Row:
    return {"ose": ose, "host": host, "from": str(start), "until": str(until) if until else ""}


def _host(host: str, processors: int, cores: int, cpu_model: str, cluster: str) -> Row:
    return {
        "host": host,
        "processors": str(processors),
        "cores_per_processor": str(cores),
        "cpu_model": cpu_model,
        "cluster": cluster,
    }


def _ose(
    ose: str,
    host: str,
    *,
    virtual: bool,
    vcpus: int | None = None,
    environment: str = "production",
    hosting_only: bool = False,
) -> Row:
    return {
        "ose": ose,
        "host": host,
        "virtual": "yes" if virtual else "no",
        "vcpus": "" if vcpus is None else str(vcpus),
        "environment": environment,
        "hosting_only": "yes" if hosting_only else "no",
    }
