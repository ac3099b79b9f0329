"""Which UAL cmdlet wrote a file, and which server it speaks for.

Windows PowerShell's ``Export-Csv`` names the CIM class on its ``#TYPE`` line
(``…#root/AccessLogging/MsftUal_DailyAccess``); without that line the header tells. A UAL
export says nothing about the server it came from unless it was collected remotely (then each
row has ``PSComputerName``): the server is that column, else ``--server``, else the
``SystemDNSHostName`` of the one ``Get-UalSystemId`` export in the same folder.
Imports :mod:`entitle.source` and :mod:`entitle.importers.exports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from entitle.importers.exports import Export, read_export, sniff
from entitle.source import Problem, Severity, Source

# kind: (cmdlet, CIM class, columns it must have)
KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "overview": ("Get-UalOverview", "MsftUal_Overview", ("GUID", "RoleName", "ProductName")),
    "user": (
        "Get-UalUserAccess",
        "MsftUal_UserAccess",
        ("UserName", "RoleGuid", "ActivityCount", "FirstSeen", "LastSeen"),
    ),
    "device": (
        "Get-UalDeviceAccess",
        "MsftUal_DeviceAccess",
        ("IPAddress", "RoleGuid", "ActivityCount", "FirstSeen", "LastSeen"),
    ),
    "daily": (
        "Get-UalDailyAccess",
        "MsftUal_DailyAccess",
        ("UserName", "IPAddress", "RoleGuid", "AccessCount", "AccessDate"),
    ),
    "daily-user": (
        "Get-UalDailyUserAccess",
        "MsftUal_DailyUserAccess",
        ("UserName", "RoleGuid", "AccessCount", "AccessDate"),
    ),
    "daily-device": (
        "Get-UalDailyDeviceAccess",
        "MsftUal_DailyDeviceAccess",
        ("IPAddress", "RoleGuid", "AccessCount", "AccessDate"),
    ),
    "systemid": (
        "Get-UalSystemId",
        "MsftUal_SystemId",
        ("SystemDNSHostName", "PhysicalProcessorCount", "CoresPerPhysicalProcessor"),
    ),
    "hyperv": ("Get-UalHyperV", "MsftUal_HyperV", ("UUID", "ChassisSerialNumber")),
    "dns": ("Get-UalDns", "MsftUal_Dns", ("IPAddress", "HostName")),
}
EVIDENCE = ("user", "device", "daily", "daily-user", "daily-device")
UNSUPPORTED = {
    "MsftUal_ServerUser": "Get-UalServerUser",
    "MsftUal_ServerDevice": "Get-UalServerDevice",
}
# Exports that may sit in a folder of UAL exports but give this importer nothing: (cmdlet, CIM
# class, columns that tell it, why it is not used). Without a #TYPE line the columns tell.
NOT_USED: tuple[tuple[str, str, tuple[str, ...], str], ...] = (
    (
        "Get-UalServerUser",
        "MsftUal_ServerUser",
        ("UUID", "ChassisSerialNumber", "UserName", "ActivityCount"),
        "it names no role; Get-UalUserAccess or Get-UalDailyAccess give the same users by role",
    ),
    (
        "Get-UalServerDevice",
        "MsftUal_ServerDevice",
        ("UUID", "ChassisSerialNumber", "IPAddress", "ActivityCount"),
        "it names no role; Get-UalDeviceAccess or Get-UalDailyAccess give the same devices",
    ),
    (
        "Get-SilUalAccess",
        "MsftSil_UalAccess",
        ("SampleDate", "UniqueUserAccessCount"),
        "a SIL export (counts without names): import it with 'entitle import sil'",
    ),
    (
        "Get-SilComputer",
        "MsftSil_Computer",
        ("NumberOfCores", "OSName"),
        "a SIL export: import it with 'entitle import sil'",
    ),
    (
        "Get-SilSoftware",
        "MsftSil_Software",
        ("Name", "Vendor", "Version"),
        "a SIL export: import it with 'entitle import sil'",
    ),
    (
        "Get-SilWindowsUpdate",
        "MsftSil_WindowsUpdate",
        ("ID", "InstallDate"),
        "installed updates say nothing about licenses",
    ),
)
NAME_COLUMNS = (
    ("ipaddress", "ip", "address", "ipv4address"),
    ("hostname", "name", "dnshostname", "device", "computername"),
)


@dataclass(frozen=True, slots=True)
class UalFile:
    kind: str  # a key of KINDS, or "names" for a DHCP/DNS address table
    export: Export  # the head only, for evidence files
    parquet: bool = False
    server: str | None = None  # the server to assume where a row names none

    @property
    def file(self) -> str:
        return self.export.file

    @property
    def per_row_server(self) -> bool:
        """The rows name their server (a local run leaves PSComputerName blank)."""
        if self.parquet:
            return self.export.has("PSComputerName")
        return any(r.get("pscomputername") for r in self.export.rows)


def _class_kind(type_name: str) -> str | None:
    cls = type_name.replace("#", "/").rsplit("/", 1)[-1].strip()
    for kind, (_, class_name, _) in KINDS.items():
        if cls.lower() == class_name.lower():
            return kind
    return None


def classify(export: Export) -> tuple[str | None, Problem | None]:
    """The kind of a UAL export, from its ``#TYPE`` line or its columns."""
    where = export.header_source
    kind = _class_kind(export.type_name) if export.type_name else None
    if kind is None:
        kind = _column_kind(export)
    if kind is None:
        unused = not_used(export)
        if unused is not None:  # a warning: the file is skipped, unless nothing else is usable
            return None, Problem(where, f"{unused[0]} export not used", unused[1], "warning")
        if export.has("AccessCount") and not export.has("AccessDate"):
            hint = "daily exports (Get-UalDaily*) have AccessDate and AccessCount"
        elif export.has("AccessDate") and export.has("ActivityCount"):
            hint = (
                "Get-UalDaily* exports count AccessCount per day; ActivityCount is the yearly "
                "total of Get-UalUserAccess and Get-UalDeviceAccess"
            )
        else:
            hint = (
                "give Export-Csv output of a Get-Ual* cmdlet, or a DHCP/DNS table with "
                "IPAddress and HostName"
            )
        header = ", ".join(export.header) or "nothing"
        severity: Severity = "warning"
        if len(export.header) == 1 and any(d in export.header[0] for d in ";|"):
            hint = "the fields seem separated by an unusual character; export again with Export-Csv"
            severity = "error"
        return None, Problem(
            where, f"not a UAL export this importer knows (header: {header})", hint, severity
        )
    if kind in KINDS:
        cmdlet, _, required = KINDS[kind]
        missing = export.missing(required)
        if missing:
            hint = f"{cmdlet} exports have " + ", ".join(required)
            if "AccessCount" in missing and export.has("ActivityCount"):
                hint += "; ActivityCount belongs to Get-UalUserAccess/Get-UalDeviceAccess"
            if "ActivityCount" in missing and export.has("AccessCount"):
                hint += "; AccessCount belongs to the Get-UalDaily* exports"
            word = "column" if len(missing) == 1 else "columns"
            return None, Problem(
                where, f"{cmdlet} export without {word} {', '.join(missing)}", hint
            )
    return kind, None


def not_used(export: Export) -> tuple[str, str] | None:
    """(cmdlet, why) for an export this importer knows but does not use."""
    cls = export.type_name.replace("#", "/").rsplit("/", 1)[-1].strip().lower()
    for cmdlet, class_name, columns, why in NOT_USED:
        if (cls and cls == class_name.lower()) or (not cls and export.has(*columns)):
            return cmdlet, why
    return None


def _column_kind(export: Export) -> str | None:
    user, ip = export.has("UserName"), export.has("IPAddress")
    if export.has("AccessDate", "RoleGuid"):
        return "daily" if user and ip else "daily-user" if user else "daily-device" if ip else None
    if export.has("ActivityCount", "RoleGuid") and not export.has("UUID"):
        return "user" if user and not ip else "device" if ip and not user else None
    if export.has("GUID", "RoleName"):
        return "overview"
    if export.has("SystemDNSHostName"):
        return "systemid"
    if export.has("UUID", "ChassisSerialNumber", "RoleGuid"):
        return "hyperv"
    if export.has("HostName", "IPAddress") and export.has("RoleGuid"):
        return "dns"
    if any(export.has(c) for c in NAME_COLUMNS[0]) and any(export.has(c) for c in NAME_COLUMNS[1]):
        return "names"
    return None


def parquet_export(path: Path, file: str) -> tuple[Export | None, list[Problem]]:
    """The columns of a Parquet file (and whether its dates are typed), as an empty export."""
    import duckdb

    try:
        con = duckdb.connect()
        described = con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{_escape(path)}')"
        ).fetchall()
        con.close()
    except duckdb.Error as error:
        return None, [
            Problem(
                Source(file),
                f"cannot read the Parquet file: {error}",
                "check that it is a Parquet file",
            )
        ]
    header = tuple(str(row[0]) for row in described)
    types = tuple(str(row[1]) for row in described)
    typed = ",".join(f"{n.lower()}:{t}" for n, t in zip(header, types, strict=True))
    return Export(file, path, header, (), type_name=f"parquet {typed}"), []


def _escape(path: Path) -> str:
    return str(path).replace("'", "''")


def open_file(path: Path) -> tuple[Export | None, bool, list[Problem]]:
    """(export, is Parquet, problems): the head of an evidence file, all of an inventory one."""
    file = str(path)
    if not path.exists():
        return None, False, [Problem(Source(file), "no such file", "check the path")]
    if path.suffix.lower() == ".parquet" or path.is_dir():
        export, problems = parquet_export(path if path.is_file() else path / "*.parquet", file)
        return export, True, problems
    export, problems = sniff(path, file)
    if export is None:
        return None, False, problems
    kind = _class_kind(export.type_name) if export.type_name else _column_kind(export)
    if kind in EVIDENCE:
        return export, False, problems
    full, problems = read_export(path, file)
    return full, False, problems


def resolve_servers(
    files: list[UalFile], server: str | None
) -> tuple[list[UalFile], list[Problem]]:
    """Give each file the server to assume where a row names none (see the module text)."""
    by_folder: dict[Path, set[str]] = {}
    for f in files:
        if f.kind == "systemid":
            names = {r.get("systemdnshostname") for r in f.export.rows} - {""}
            by_folder.setdefault(f.export.path.parent, set()).update(names)
    out: list[UalFile] = []
    problems: list[Problem] = []
    for f in files:
        if f.kind in ("systemid", "names", "dns"):
            out.append(f)
            continue
        guess = server
        if guess is None:
            names = by_folder.get(f.export.path.parent, set())
            guess = next(iter(names)) if len(names) == 1 else None
        if guess is None and not f.per_row_server:
            problems.append(
                Problem(
                    Source(f.file, 1),
                    "which server is this export from? Its rows name none (no PSComputerName)",
                    "give --server NAME, put the server's Get-UalSystemId export in the "
                    "same folder, or collect with Invoke-Command (which adds PSComputerName)",
                )
            )
        out.append(UalFile(f.kind, f.export, f.parquet, guess))
    return out, problems
