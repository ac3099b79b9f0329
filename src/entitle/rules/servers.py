"""All server-side requirements of an estate: Windows Server, SQL Server, the Server + CAL
products' server licenses, System Center server MLs and client MLs, dev-test exclusions."""

from __future__ import annotations

from datetime import date

from entitle.catalog.model import Catalog
from entitle.estate.records import Estate, Ose, Software
from entitle.rules.cloud import cloud_rules, handled_here, tag_dedicated
from entitle.rules.demand import Decision, Demand
from entitle.rules.esu import esu_demand
from entitle.rules.index import EstateIndex
from entitle.rules.management import server_mls
from entitle.rules.mobility import (
    Places,
    SaStock,
    lapse_finding,
    sa_rights,
    server_license_option,
)
from entitle.rules.sql import sql_server
from entitle.rules.windows import windows_server
from entitle.source import Finding


def server_demand(estate: Estate, catalog: Catalog, as_of: date) -> Demand:
    """Everything the servers of ``estate`` require, as decisions between allowed options."""
    idx = EstateIndex.build(estate)
    decisions: list[Decision] = []
    findings = _dev_test(idx)
    for rule in (windows_server, sql_server):
        d, f = rule(idx, catalog, as_of)
        decisions += d
        findings += f
    places = Places.build(idx, catalog, as_of)
    d, f = _server_licenses(idx, catalog, places, as_of)
    decisions += d
    findings += f
    d, f = server_mls(idx, catalog, as_of)
    decisions += d
    findings += f
    if catalog.cloud is not None:
        roles = catalog.roles
        products = (roles.server_os, roles.database, *catalog.server_cal_products())
        d, f = cloud_rules(idx, catalog, as_of, products)
        decisions = tag_dedicated(idx, catalog, decisions) + d
        findings += f
        d, f = esu_demand(idx, catalog, as_of)
        decisions += d
        findings += f
    findings += places.findings(idx)
    return Demand(tuple(decisions), tuple(findings))


def _dev_test(idx: EstateIndex) -> list[Finding]:
    out = []
    for ose in idx.estate.oses:
        if ose.environment == "dev-test" and idx.software_by_ose.get(ose.ose):
            products = sorted({s.product for s in idx.software_by_ose[ose.ose]})
            out.append(
                Finding(
                    "info",
                    "dev-test-excluded",
                    f"{ose.ose} is dev-test: {', '.join(products)} there are covered by the developers' "
                    "and testers' Visual Studio subscriptions and are not counted.",
                    str(ose.source),
                )
            )
    return out


def _server_licenses(
    idx: EstateIndex, catalog: Catalog, places: Places, as_of: date
) -> tuple[list[Decision], list[Finding]]:
    """Exchange, SharePoint and Skype for Business: one server license per OSE running them
    (Server + CAL). A VM's license is assigned to a physical server and, without License
    Mobility, moves at most once per 90 days (§7.1): it is counted on every host the VM may run
    on and every host it left fewer than 90 days ago. With Software Assurance active on the day
    (catalog ``sa_rights.mobility`` lists ``product:server-cal``), one license follows the VM
    within its farm; a limited SA stock goes to the VMs that save most (most hosts), ties by
    OSE id (catalog ``sa_rights.mobility_choice``)."""
    rows = []
    for ose in idx.estate.oses:
        if ose.environment != "production":
            continue
        for product in catalog.server_cal_products():
            for sw in idx.software(ose.ose, product):
                if catalog.cloud is not None and handled_here(idx, catalog, ose, sw):
                    continue  # at a provider: rules/cloud.py
                rows.append((ose, sw))
    mobile, findings = _mobile_server_licenses(idx, catalog, places, as_of, rows)
    out = []
    for ose, sw in rows:
        name = catalog.product(sw.product).name
        follows = (ose.ose, sw.product) in mobile
        hosts = (ose.host,) if follows else places.hosts(ose, mobile=False)
        base = f"{ose.ose}: one {name} server license per OSE (Server + CAL)"
        option = server_license_option(ose, sw, base, hosts, follows, places, f"{name} server")
        out.append(
            Decision(
                f"{sw.product}@{ose.ose}",
                sw.product,
                ose.ose,
                (option,),
                "Server + CAL",
            )
        )
    return out, findings


def _mobile_server_licenses(
    idx: EstateIndex,
    catalog: Catalog,
    places: Places,
    as_of: date,
    rows: list[tuple[Ose, Software]],
) -> tuple[set[tuple[str, str]], list[Finding]]:
    """The (VM, product) pairs whose server license follows the VM (§7.1): owned server licenses
    with SA active on ``as_of``, one per VM that could otherwise run on several hosts, biggest
    saving (hosts − 1) first, ties by OSE id."""
    rights = sa_rights(catalog)
    mobile: set[tuple[str, str]] = set()
    findings: list[Finding] = []
    for product in catalog.server_cal_products():
        if not rights.mobile_with_sa(product, "server-cal"):
            continue
        spread = sorted(
            (
                (-(len(places.hosts(ose, mobile=False)) - 1), ose.ose, sw)
                for ose, sw in rows
                if sw.product == product
                and ose.virtual
                and len(places.hosts(ose, mobile=False)) > 1
            ),
            key=lambda r: r[:2],
        )
        if not spread:
            continue
        stock = SaStock.build(idx, catalog, product, "server", as_of)
        for _, ose_id, sw in spread:
            if stock.take(sw.edition, 1):
                mobile.add((ose_id, product))
        if any(p == product for _, p in mobile):
            name = catalog.product(product).name
            lapse = lapse_finding(
                catalog,
                stock.rows,
                as_of,
                f"License Mobility of {name} server licenses",
                "entitlements.csv",
            )
            if lapse is not None:
                findings.append(lapse)
    return mobile, findings
