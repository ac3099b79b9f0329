"""All server-side requirements of an estate: Windows Server, SQL Server, the Server + CAL
products' server licenses, System Center server MLs and client MLs, dev-test exclusions."""

from __future__ import annotations

from datetime import date

from entitle.catalog.model import Catalog
from entitle.estate.records import Estate
from entitle.rules.cloud import cloud_rules, handled_here, tag_dedicated
from entitle.rules.demand import Decision, Demand, Need, Option
from entitle.rules.esu import esu_demand
from entitle.rules.index import EstateIndex
from entitle.rules.management import server_mls
from entitle.rules.mobility import Places
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
    decisions += _server_licenses(idx, catalog)
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
    findings += Places.build(idx, catalog, as_of).findings(idx)
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


def _server_licenses(idx: EstateIndex, catalog: Catalog) -> list[Decision]:
    """Exchange, SharePoint and Skype for Business: one server license per OSE running them."""
    out = []
    for ose in idx.estate.oses:
        if ose.environment != "production":
            continue
        for product in catalog.server_cal_products():
            for sw in idx.software(ose.ose, product):
                if catalog.cloud is not None and handled_here(idx, catalog, ose, sw):
                    continue  # at a provider: rules/cloud.py
                need = Need(
                    product,
                    "server",
                    1,
                    sw.edition,
                    sw.version,
                    host=ose.host,
                    ose=ose.ose,
                    model="server-cal",
                    reason=f"{ose.ose}: one {catalog.product(product).name} server "
                    "license per OSE (Server + CAL)",
                    evidence=(str(sw.source),),
                )
                out.append(
                    Decision(
                        f"{product}@{ose.ose}",
                        product,
                        ose.ose,
                        (Option("server-cal", (need,)),),
                        "Server + CAL",
                    )
                )
    return out
