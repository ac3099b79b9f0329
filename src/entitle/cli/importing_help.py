"""``entitle import KIND --help``: the options and formats of one kind of export.

Click handles ``--help`` before it reads the arguments, so ``entitle import ual --help`` would
show every kind's options at once. :class:`KindHelpCommand` looks at the arguments first: with a
kind and ``--help`` it prints that kind's usage, formats and options, and exits 0.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperCommand

COMMON = ("into", "catalog_path", "json_out")
OPTIONS = {
    "ual": ("since", "until", "server", "engine", "date_style"),
    "sil": ("server",),
    "ad": ("external_ou", "external_group", "external_attribute", "domain", "encoding"),
    "rvtools": (),
    "hyperv": (),
    "azure": ("vcpus_map",),
    "aws": ("vcpus_map",),
    "generic": ("mapping",),
}
METAVARS = {
    "json_out": "",
    "date_style": " [auto|day-first|month-first]",
    "engine": " [duckdb|spark]",
    "into": " ESTATE",
    "catalog_path": " CATALOG",
    "mapping": " MAPPING.toml",
    "since": " YYYY-MM-DD",
    "until": " YYYY-MM-DD",
    "server": " NAME",
    "domain": " NETBIOS",
    "external_ou": " DN",
    "external_group": " NAME",
    "external_attribute": " COLUMN=VALUE",
    "encoding": " CODEC",
    "vcpus_map": " SIZES.csv",
}
FORMATS = {
    "ual": """User Access Logging: Export-Csv output of Get-UalDailyAccess, Get-UalDailyUserAccess,
Get-UalDailyDeviceAccess, Get-UalUserAccess, Get-UalDeviceAccess (evidence; also Parquet),
Get-UalOverview, Get-UalSystemId, Get-UalHyperV, Get-UalDns or a DHCP/DNS table (IPAddress,
HostName). With or without the #TYPE line; UTF-8, UTF-8 with BOM or UTF-16 LE; separated by
, ; or tab. Dates in any Windows culture (8/29/2025 12:00:00 AM, 29/08/2025 00:00:00,
29.08.2025, 29-8-2025, 2025/08/29, 2025-08-29): the style is decided from the whole column;
--date-style settles a column nothing decides. The server is PSComputerName, --server, or the
folder's Get-UalSystemId. Other exports in the folder are skipped with a warning.""",
    "sil": """Software Inventory Logging: Get-SilComputer (hosts, OSEs, Windows Server edition),
Get-SilSoftware (SQL Server installations and other server products), Get-SilUalAccess (role
counts: a finding), Get-SilWindowsUpdate (skipped). The server of a list is PSComputerName,
--server, or the folder's Get-SilComputer.""",
    "ad": """Active Directory: Get-ADUser / Get-ADComputer exports (CSV or workbook) or csvde
(DN, sAMAccountName, userAccountControl). The user id is DOMAIN\\name: the domain is --domain
or the first DC= of the DistinguishedName (without either the users are refused). Disabled
accounts (Enabled false, userAccountControl bit 0x2) are left out. --encoding cp1252 reads
code-page files.""",
    "rvtools": """VMware RVTools 3.x or 4.x: the workbook or its per-tab CSV export (vInfo, vCPU,
vHost, vCluster; optional vEvent), display headers or -DBColumnNames (vInfoVMName, vHostNumCpu).
A vInfo-only export (-c ExportvInfo2xlsx) gives hosts of unknown cores (cores-unknown). Windows
guests get a blank edition, licensed as the cheaper of Standard and Datacenter (edition-unknown);
SQL Server is invisible to RVTools (sql-server-invisible).""",
    "hyperv": """Hyper-V: Get-VM, Get-VMProcessor, Get-VMHost, Get-CimInstance Win32_Processor,
Get-ClusterNode, the guests' KVP items (VMName, FullyQualifiedDomainName, OSName) or a SAM VM list,
and VMMS-Admin migration events; KVP rows are joined to Get-VM by VMId or host and name.""",
    "azure": """Azure: az vm list --show-details -o json, an Azure Resource Graph CSV of the same
VMs, az sql vm list -o json. licenseType Windows_Server (Azure Hybrid Benefit) -> model byol,
none -> provider; sqlServerLicenseType PAYG -> provider, AHUB -> byol. --vcpus-map names the
vCPUs of sizes the importer does not know.""",
    "aws": """AWS: aws ec2 describe-instances, describe-hosts and describe-images (JSON).
PlatformDetails or UsageOperation give the licensing: Windows (RunInstances:0002) -> provider,
Windows BYOL (RunInstances:0800) -> byol; Placement.Tenancy shared, dedicated or host.""",
    "generic": """Any CSV or workbook, with a header mapping (TOML) given by --map.""",
}


class KindHelpCommand(TyperCommand):
    """``import`` with per-kind help (see the module text)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] in OPTIONS and any(a in ctx.help_option_names for a in args[1:]):
            typer.echo(kind_help(self, ctx, args[0]))
            ctx.exit(0)
        return super().parse_args(ctx, args)


def _help(param: Any) -> str:
    return str(getattr(param, "help", "") or "")


def kind_help(command: Any, ctx: Any, kind: str) -> str:
    wanted = set(COMMON) | set(OPTIONS[kind])
    records: list[tuple[str, str]] = []
    for param in command.params:
        if getattr(param, "param_type_name", "") == "option" and param.name in wanted:
            metavar = METAVARS.get(param.name, f" {str(param.name).upper()}")
            records.append((", ".join(getattr(param, "opts", ())) + metavar, _help(param)))
    formatter = ctx.make_formatter()
    formatter.write_usage(f"{ctx.command_path} {kind}", "FILE... --into ESTATE [OPTIONS]")
    formatter.write_paragraph()
    formatter.write_text(FORMATS[kind])
    with formatter.section("Options"):
        formatter.write_dl(records)
    formatter.write_paragraph()
    formatter.write_text("The formats, examples and every refusal: docs/importers.md")
    return formatter.getvalue()
