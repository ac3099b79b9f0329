"""Active Directory: ``Get-ADUser`` and ``Get-ADComputer`` exports, as users.csv and devices.csv.

A user's id is ``domain\\samaccountname`` in lower case, as UAL writes it; the domain is
``--domain`` or the first ``DC=`` of the ``DistinguishedName``. Disabled accounts
(``Enabled`` false) are left out. A user is external when a rule says so: an OU
(``--external-ou``, matched on the end of the DN's OU path), a group (``--external-group``,
matched on ``MemberOf``) or an attribute (``--external-attribute EmployeeType=Contractor``).
A computer's id is its host name; ``kind`` is ``server`` or ``workstation`` from its OS name.
Rows are told apart by ``ObjectClass`` where the export has it, else by their columns.
Imports :mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from entitle.importers import ad_checks
from entitle.importers.exports import Export, ExportRow
from entitle.importers.names import host_id
from entitle.importers.result import ImportResult, Outcome


@dataclass(frozen=True, slots=True)
class ExternalRule:
    """What marks a user external: OUs, groups and attribute values (any one suffices)."""

    ous: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    attributes: tuple[tuple[str, str], ...] = ()

    @staticmethod
    def parse(
        ous: Sequence[str] = (), groups: Sequence[str] = (), attributes: Sequence[str] = ()
    ) -> tuple[ExternalRule, list[str]]:
        bad = [a for a in attributes if "=" not in a]
        pairs = tuple(
            (a.split("=", 1)[0].strip().lower(), a.split("=", 1)[1].strip().lower())
            for a in attributes
            if "=" in a
        )
        rule = ExternalRule(
            tuple(_ou(o) for o in ous), tuple(g.strip().lower() for g in groups), pairs
        )
        return rule, [f"--external-attribute {a!r}: write COLUMN=VALUE" for a in bad]

    def matches(self, row: ExportRow) -> bool:
        dn = row.get("distinguishedname", "dn").lower()
        path = _ou(dn.split(",", 1)[1] if "," in dn else "")
        if any(path == ou or path.endswith("," + ou) for ou in self.ous if ou):
            return True
        member_of = row.get("memberof").lower()
        groups = {m.group(1).strip() for m in re.finditer(r"cn=([^,;{}]+)", member_of)}
        if any(g in groups or g in member_of.split(";") for g in self.groups):
            return True
        return any(row.get(col).lower() == value for col, value in self.attributes)


def _ou(text: str) -> str:
    return ",".join(part.strip() for part in text.lower().split(","))


def _domain(dn: str) -> str:
    found = re.search(r"\bdc=([^,]+)", dn, re.I)
    return found.group(1).strip().lower() if found else ""


def _kind(export: Export, row: ExportRow) -> str:
    cls = row.get("objectclass").lower()
    if cls in ("user", "computer"):
        return cls
    if export.has("OperatingSystem") or export.has("DNSHostName"):
        return "computer"
    return "computer" if row.get("samaccountname").endswith("$") else "user"


def import_ad(
    paths: Sequence[Path],
    *,
    rule: ExternalRule | None = None,
    domain: str | None = None,
    encoding: str | None = None,
) -> ImportResult:
    out = Outcome("ad")
    rule = rule or ExternalRule()
    checks = ad_checks.Checks()
    for path in paths:
        exports, problems = ad_checks.read(path, encoding)
        out.problems.extend(p for p in problems if p.severity == "error")
        for p in problems:
            if p.severity != "error":
                out.skip("row cut short or with extra fields", p.source)
        for export in exports:
            if not (export.has("SamAccountName") or export.has("Name")):
                out.error(
                    export.header_source,
                    "not a Get-ADUser or Get-ADComputer export",
                    "export with SamAccountName (users) or Name (computers), "
                    "DistinguishedName and Enabled; this file has " + ", ".join(export.header),
                )
                continue
            before = sum(len(out.rows.get(t, ())) for t in ("users", "devices"))
            for row in export.rows:
                checks.row(export, row)
                if ad_checks.disabled(row):
                    out.skip(ad_checks.disabled(row), row.source)
                elif _kind(export, row) == "user":
                    _user(row, rule, domain, out, checks)
                else:
                    _computer(row, out)
            after = sum(len(out.rows.get(t, ())) for t in ("users", "devices"))
            if export.rows and after == before:
                out.error(
                    export.header_source,
                    f"no row of this export is used ({len(export.rows)} rows, all skipped: "
                    + "; ".join(f"{n} {r}" for r, n in out.skip_counts.most_common(2))
                    + ")",
                    "export the enabled users (Get-ADUser -Filter 'Enabled -eq $true') or "
                    "computers, or leave the file out",
                )
    checks.report(domain, out)
    if rule.ous or rule.groups or rule.attributes:
        external = sum(1 for r in out.rows.get("users", ()) if r.cells.get("external") == "yes")
        if not external and out.rows.get("users"):
            out.warn(
                "no-external-users",
                "the external-user rule matched no user; check the OU, group or attribute given",
            )
    return out.result()


def _user(
    row: ExportRow, rule: ExternalRule, domain: str | None, out: Outcome, checks: ad_checks.Checks
) -> None:
    sam = row.get("samaccountname")
    upn = row.get("userprincipalname")
    if not sam and not upn:
        out.skip("user without SamAccountName or UserPrincipalName", row.source)
        return
    if sam.endswith("$"):
        out.skip("machine account (a name ending in $)", row.source)
        return
    realm = (domain or _domain(row.get("distinguishedname", "dn"))).lower()
    if not realm:
        checks.no_domain.append((sam or upn, row.source))
    user = f"{realm}\\{sam}".lower() if sam and realm else (sam or upn).lower()
    external = rule.matches(row)
    cells = {"user": user, "external": "yes" if external else "no"}
    name = row.get("displayname", "name")
    if name:
        cells["name"] = name
    if row.get("department"):
        cells["department"] = row.get("department")
    out.add("users", cells, row.source)
    out.count("external users" if external else "users")


def _computer(row: ExportRow, out: Outcome) -> None:
    device = host_id(
        row.get("name") or row.get("dnshostname") or row.get("samaccountname").rstrip("$")
    )
    if not device:
        out.skip("computer without a name", row.source)
        return
    os_name = row.get("operatingsystem")
    cells = {"device": device}
    if os_name:
        cells["os"] = os_name
        cells["kind"] = "server" if "server" in os_name.lower() else "workstation"
    out.add("devices", cells, row.source)
    out.count("computers")
