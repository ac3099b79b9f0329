"""``Get-SilUalAccess``: one day's count of distinct users and devices per server role.

SIL samples UAL once a day (the day two days before the run) and keeps only the counts:
``ProductName``, ``RoleGuid``, ``RoleName``, ``SampleDate``, ``UniqueUserAccessCount``,
``UniqueDeviceAccessCount``. Counts name nobody, so they cannot become access.csv rows (a CAL is
planned per user or device); what they do give: the role's products are in use on the server —
its Windows Server edition and version from ``ProductName`` go to software.csv — and how many
users and devices need a CAL for it that day, which the finding ``sil-access-counts`` reports
with what to import for names. Imports :mod:`entitle.catalog` and :mod:`entitle.importers`
helpers.
"""

from __future__ import annotations

from entitle.catalog import Catalog
from entitle.importers.exports import ExportRow
from entitle.importers.names import product_of, role_table
from entitle.importers.result import Outcome


def _count(text: str) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if value >= 0 else None


def access_row(row: ExportRow, ose: str, catalog: Catalog, out: Outcome) -> None:
    table = role_table()
    role = table.by_guid(row.get("roleguid")) or (
        table.by_name(row.get("rolename")) if row.get("rolename") else None
    )
    users, devices = (
        _count(row.get("uniqueuseraccesscount")),
        _count(row.get("uniquedeviceaccesscount")),
    )
    if role is None:
        out.skip("Get-SilUalAccess: a role no product licenses", row.source)
        return
    if users is None or devices is None:
        out.skip("Get-SilUalAccess: a count that is not a whole number", row.source)
        return
    named = product_of(row.get("productname"), catalog)
    if named and named.product == "windows-server" and named.edition and named.version:
        out.add(
            "software",
            {
                "ose": ose,
                "product": "windows-server",
                "edition": named.edition,
                "version": named.version,
            },
            row.source,
        )
    out.count("role access counts (Get-SilUalAccess)")
    if users or devices:
        out.warn(
            "sil-access-counts",
            f"{ose}: {users} users and {devices} devices used {role.name} "
            f"({', '.join(role.products)}) on {row.get('sampledate') or 'the sample day'}; "
            "SIL counts them without names, so no CAL can be planned from it: import "
            "Get-UalUserAccess and Get-UalDeviceAccess of the server",
            row.source,
        )
