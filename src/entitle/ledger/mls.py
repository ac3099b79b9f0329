"""The Microsoft License Statement (MLS) entitlement summary, read by its column headers.

Headers (licensing data-formats §4.1, Pivot Data and License Summary tabs): ``License Product
Family`` and ``Effective License Quantity`` are needed; ``License Version``, ``Country of
Usage`` (only "All Countries" rows count, as the Flexera importer does), ``Active SA Quantity``,
``Product Pool`` and an agreement number column are used when present. The family text
("Windows Server Standard Core", "SQL Server Enterprise 2 Core", "Windows Server Device CAL")
gives product, edition, license kind and pack size; other products of the statement (Office,
Windows client, ...) are skipped with a warning. Each row becomes the spec's entitlement columns,
converted like ``entitlements.csv``. Imports :mod:`entitle.source` and the catalog model.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from entitle.catalog.model import Catalog
from entitle.source import Problem, Severity, Source

FAMILY, QUANTITY, VERSION = (
    "license product family",
    "effective license quantity",
    "license version",
)
COUNTRY, SA_QUANTITY, POOL = "country of usage", "active sa quantity", "product pool"
AGREEMENT_HEADERS = (
    "license/enrollment/customer number",
    "licensing id",
    "agreement number",
    "enrollment number",
    "license agreement",
)
REQUIRED = (FAMILY, QUANTITY)
KNOWN = (FAMILY, QUANTITY, VERSION, COUNTRY, SA_QUANTITY, POOL, *AGREEMENT_HEADERS)
PACK = re.compile(r"\b([0-9]+)\s*-?\s*core\b")
YEAR = re.compile(r"\b(20[0-9]{2}|19[0-9]{2})\s*(r2)?\b|\bse\b")


def is_mls(header: Sequence[str]) -> bool:
    return all(name in header for name in REQUIRED)


def _word(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}\b", text) is not None


def parse_family(catalog: Catalog, family: str) -> tuple[dict[str, str], str | None]:
    """Spec columns (product, edition, license) and the pack size for a family text, or an
    empty mapping and the reason it cannot be read."""
    text = " ".join(family.lower().replace("_", " ").split())
    names: list[tuple[str, str]] = []
    for product in catalog.products.values():
        names.append((product.name.lower(), product.id))
        names.extend((alias, product.id) for alias in product.aliases if len(alias) > 4)
    found = [(name, pid) for name, pid in names if _word(text, name)]
    if not found:
        return {}, "not a server product that the catalog knows"
    product_id = max(found, key=lambda item: len(item[0]))[1]
    product = catalog.product(product_id)
    edition = next((e for e in product.editions if _word(text, e)), "")
    if _word(text, "external connector"):
        license = "external-connector"
    elif _word(text, "cal") or "suite" in text:
        if _word(text, "user"):
            license = "user-cal"
        elif _word(text, "device"):
            license = "device-cal"
        else:
            return {}, "a CAL family that says neither User nor Device"
    elif _word(text, "client ml") or _word(text, "client management license"):
        license = "client-ml-user" if _word(text, "user") else "client-ml-ose"
    elif _word(text, "server ml") or _word(text, "server management license"):
        license = "server-ml"
    elif _word(text, "core") or PACK.search(text):
        license = "core"
    else:
        license = "server"
    pack = PACK.search(text)
    columns = {"product": product_id, "edition": edition, "license": license}
    return columns | ({"pack": pack.group(1)} if pack else {}), None


def version_of(text: str) -> str:
    found = YEAR.search(text.lower())
    if found is None:
        return ""
    if found.group(0) == "se":
        return "se"
    return found.group(1) + ("r2" if found.group(2) else "")


def spec_cells(
    catalog: Catalog,
    cells: Mapping[str, str],
    where: Source,
    problems: list[Problem],
    agreement: str | None,
) -> dict[str, str] | None:
    """The spec's entitlement columns for one MLS row, ``None`` for a row that is skipped or
    bad (bad rows add an error, skipped ones a warning)."""
    family = cells.get(FAMILY, "")
    if not family:
        problems.append(
            Problem(
                where,
                "License Product Family is blank",
                "every statement row names its product family",
            )
        )
        return None
    country = cells.get(COUNTRY, "")
    if country and country.lower() != "all countries":
        return None  # per-country rows repeat the "All Countries" total
    columns, why = parse_family(catalog, family)
    if why is not None:
        severity: Severity = "warning" if why.startswith("not a server") else "error"
        hint = (
            "skipped"
            if severity == "warning"
            else "edit the family to say e.g. 'Windows Server User CAL'"
        )
        problems.append(Problem(where, f"'{family}': {why}", hint, severity=severity))
        return None
    quantity = cells.get(QUANTITY, "")
    if not re.fullmatch(r"[0-9]+", quantity):
        problems.append(
            Problem(
                where,
                f"Effective License Quantity '{quantity}' is not a whole number",
                "write the count of licenses, e.g. 16",
            )
        )
        return None
    units = int(quantity) * int(columns.pop("pack", "1"))
    row = dict(columns, quantity=str(units), version=version_of(cells.get(VERSION, "")))
    number = next((cells[h] for h in AGREEMENT_HEADERS if cells.get(h)), None) or agreement
    if number:
        row["agreement"] = number
    for name in (SA_QUANTITY, POOL):
        if cells.get(name):
            row[f"mls {name}"] = cells[name]
    row["mls family"] = family
    return row
