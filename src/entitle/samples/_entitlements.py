"""What the generated company owns: entitlements with realistic gaps, surpluses and old versions,
and a small price list that overrides two of the catalog's indicative prices.

Quantities follow from the generated servers and people, so a scaled estate keeps the same
pattern: the third Hyper-V host has no Datacenter licenses, the backup server is 8 cores short,
Windows Server user CALs and Core CAL Suites together cover most but not all users, the RDS
CALs are 2019 for 2022 session hosts, the SharePoint license is 2016 for a 2019 farm.
Imports only the standard library and :mod:`entitle.samples._servers`.
"""

from __future__ import annotations

from entitle.samples._servers import Row, Site, Tables

EA = ("EA-7301", "2022-07-01", "2027-06-30")  # agreement, purchased, sa_until
OPEN = ("OPEN-4410", "2019-05-14", "")
OPEN_SA_LAPSED = ("OPEN-4410", "2019-05-14", "2022-05-13")  # SA bought with it, not renewed
OPEN_2016 = ("OPEN-2217", "2016-11-02", "")
OEM = ("OEM", "2023-02-20", "")
CSP = ("CSP-0932", "2024-03-01", "")
LEGACY = ("OPEN-1180", "2014-03-03", "")

# Two negotiated prices that replace the catalog's indicative list (prices.csv).
PRICES: tuple[Row, ...] = (
    {
        "product": "windows-server",
        "license": "core",
        "edition": "standard",
        "price": "68.90",
        "currency": "USD",
    },
    {
        "product": "sql-server",
        "license": "core",
        "edition": "standard",
        "price": "1850.00",
        "currency": "USD",
    },
)


def entitlements(tables: Tables, sites: list[Site]) -> list[Row]:
    """The entitlements of the whole estate: host-assigned licenses per site, then CALs and MLs
    bought centrally for everyone."""
    lines: list[tuple[str, str, str, str, int, tuple[str, str, str], str, str]] = []

    def own(
        product: str,
        license: str,
        edition: str,
        version: str,
        quantity: int,
        terms: tuple[str, str, str],
        assigned_to: str = "",
        unit_price: str = "",
    ) -> None:
        lines.append((product, license, edition, version, quantity, terms, assigned_to, unit_price))

    for site in sites:
        own("windows-server", "core", "datacenter", "2022", 32, EA, site.id("hv1"), "398.00")
        own("windows-server", "core", "datacenter", "2022", 32, EA, site.id("hv2"), "398.00")
        own("windows-server", "core", "standard", "2016", 32, OPEN_2016, site.id("sqlold1"))
        own("windows-server", "core", "standard", "2019", 32, OPEN, site.id("erp1"), "60.75")
        own("windows-server", "core", "standard", "2019", 16, OPEN, site.id("bk1"), "60.75")
        own("windows-server", "core", "standard", "2022", 16, CSP, site.id("web-dmz1"))
        own("windows-server", "server", "essentials", "2022", 1, OEM, site.id("br1"), "501.00")
        own("sql-server", "core", "standard", "2016", 24, OPEN_2016, site.id("sqlold1"))
        own("sql-server", "core", "standard", "2019", 24, OPEN, site.id("erp1"), "1793.00")
        own("windows-server", "processor", "standard", "2012r2", 1, LEGACY, site.id("legacy1"))

    n = len(sites)
    internal = sum(1 for row in tables["users"] if row["external"] != "yes")
    kiosks = sum(1 for row in tables["devices"] if row["kind"] == "kiosk")
    clients = sum(1 for row in tables["managed"] if row["product"] == "configuration-manager")
    server_cal_oses = {
        row["ose"]
        for row in tables["software"]
        if row["product"] == "sql-server"
        and row["model"] == "server-cal"
        and not row.get("passive_for")
    }
    sql_cal_users = {
        row["user"]
        for row in tables["access"]
        if row["ose"] in server_cal_oses and row["user"] and row["purpose"] != "admin"
    }

    own("windows-server", "user-cal", "", "2019", round(internal * 0.45), OPEN, unit_price="38.00")
    own("windows-server", "user-cal", "", "2012r2", 40 * n, ("OPEN-1180", "2014-03-03", ""))
    own("windows-server", "device-cal", "", "2019", kiosks, OPEN, unit_price="33.00")
    own("windows-server", "external-connector", "", "2019", n, OPEN, unit_price="1543.00")
    own("rds", "device-cal", "", "2019", kiosks + 2 * n, OPEN, unit_price="102.00")
    own("rds", "user-cal", "", "2022", 12 * n, EA)
    own("sql-server", "server", "standard", "2022", len(server_cal_oses), EA, unit_price="989.00")
    own("sql-server", "user-cal", "", "2022", round(len(sql_cal_users) * 0.8), EA)
    own("sql-server", "core", "enterprise", "2022", 8 * n, EA, unit_price="7561.50")
    own("exchange-server", "server", "standard", "2019", n, EA)
    own("sharepoint-server", "server", "", "2016", n, OPEN_2016)
    own("core-cal-suite", "user-cal", "", "", round(internal * 0.45), EA, unit_price="102.35")
    own("system-center", "server-ml", "standard", "2019", 96 * n, OPEN)
    own("configuration-manager", "client-ml-ose", "", "2016", round(clients * 0.4), OPEN)
    for site in sites:
        # The cloud part (docs/rules/cloud-and-hybrid.md), last so the other ids stay: Standard
        # cores with SA for fs2-az (Azure Hybrid Benefit), 2 Enterprise cores with SA for
        # sql4-az's 8 Standard vCPUs (1 Enterprise core = 4 vCPUs), Standard 2019 cores whose SA
        # lapsed for rpt1-aws.
        own("windows-server", "core", "standard", "2022", 8, EA, site.id("fs2-az"), "68.90")
        own("sql-server", "core", "enterprise", "2022", 2, EA, site.id("sql4-az"), "7561.50")
        own("sql-server", "core", "standard", "2019", 4, OPEN_SA_LAPSED, site.id("rpt1-aws"))

    width = max(3, len(str(len(lines))))
    return [
        {
            "id": f"E-{number:0{width}d}",
            "product": product,
            "license": license,
            "edition": edition,
            "version": version,
            "quantity": str(quantity),
            "sa_until": terms[2],
            "assigned_to": assigned_to,
            "agreement": terms[0],
            "purchased": terms[1],
            "unit_price": unit_price,
        }
        for number, (
            product,
            license,
            edition,
            version,
            quantity,
            terms,
            assigned_to,
            unit_price,
        ) in enumerate(lines, start=1)
    ]
