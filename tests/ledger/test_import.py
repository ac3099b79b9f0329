"""Importing entitlements: idempotent (a content hash per record), all or nothing with every bad
row reported, the MLS entitlement summary by its headers, workbooks, product keys encrypted."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from entitle.catalog import default_catalog
from entitle.ledger import query, service
from entitle.ledger.importing import read_file
from entitle.ledger.models import EntitlementRow, Event

from .kit import write_csv

GOOD = """
id,product,license,edition,version,quantity,purchased,sa_until,agreement,unit_price,product_key,key_kind
WS-1,windows-server,core,standard,2022,16,2024-01-10,2027-01-31,EA-100,73.50,VK7JG-NPHTM-C97JM-9MPGT-3V66T,MAK
CAL-1,windows-server,user-cal,,2022,50,2024-01-10,,EA-100,40,,
"""


def counts(ledger: service.Ledger) -> tuple[int, int]:
    with Session(ledger.engine) as session:
        rows = session.scalar(select(func.count()).select_from(EntitlementRow))
        events = session.scalar(select(func.count()).select_from(Event))
    return rows or 0, events or 0


def load(path: Path, **kw: str) -> tuple[list, list]:
    mapping = {k.replace("_", " "): v for k, v in kw.items()}
    return read_file(path, default_catalog(), mapping)


def test_importing_the_same_file_twice_changes_nothing(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    candidates, problems = load(write_csv(tmp_path, "entitlements.csv", GOOD))
    assert problems == []
    assert service.import_candidates(ledger, candidates).added == 2
    # events: init + agreement EA-100 + two entitlements
    assert counts(ledger) == (2, 4)
    again = service.import_candidates(ledger, load(tmp_path / "entitlements.csv")[0])
    assert (again.added, again.unchanged) == (0, 2)
    assert counts(ledger) == (2, 4)


def test_identical_rows_are_two_purchases_and_still_import_once(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    twice = "product,license,quantity\nwindows-server,user-cal,10\nwindows-server,user-cal,10\n"
    path = write_csv(tmp_path, "entitlements.csv", twice)
    assert service.import_candidates(ledger, load(path)[0]).added == 2
    assert service.import_candidates(ledger, load(path)[0]).added == 0
    assert counts(ledger)[0] == 2


def test_a_malformed_file_imports_nothing_and_reports_every_bad_row(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    bad = """
product,license,quantity,purchased
windows-server,core,16,2024-01-10
windows-sever,core,16,2024-01-10
windows-server,core,sixteen,2024-01-10
windows-server,core,8,2024-02-30
windows-server,user-cal,5,2024-01-10
"""
    candidates, problems = load(write_csv(tmp_path, "entitlements.csv", bad))
    assert candidates == []
    lines = sorted({p.source.line for p in problems if p.severity == "error"})
    assert lines == [3, 4, 5]
    assert "entitlements.csv:3: " in str(problems[0]) and "windows-server" in str(problems[0])
    assert counts(ledger) == (0, 1)


def test_an_id_that_is_taken_by_other_content_imports_nothing(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    path = write_csv(tmp_path, "entitlements.csv", GOOD)
    service.import_candidates(ledger, load(path)[0])
    changed = write_csv(
        tmp_path,
        "more.csv",
        GOOD.replace(",50,", ",60,") + "NEW-1,windows-server,user-cal,,2022,5,2024-03-01,,,,,",
    )
    report = service.import_candidates(ledger, load(changed)[0])
    assert report.added == 0 and len(report.problems) == 1
    assert "id CAL-1 is already in the ledger" in str(report.problems[0])
    assert str(report.problems[0]).startswith("more.csv:3:")
    assert counts(ledger) == (2, 4)


MLS = """
Microsoft License Statement,,,,,
Calculation date,2025-06-30,,,,
,,,,,
{header}
Server,Windows Server Standard Core,2022,24,24,All Countries
Server,Windows Server Standard Core,2022,24,24,Germany
Server,SQL Server Enterprise 2 Core,2019,4,0,All Countries
CAL,Windows Server Device CAL,2022,120,120,All Countries
Applications,Office Professional Plus,2021,300,0,All Countries
""".format(
    header=",".join(
        [
            "Product Pool",
            "License Product Family",
            "License Version",
            "Effective License Quantity",
            "Active SA Quantity",
            "Country of Usage",
        ]
    )
)


def test_the_mls_entitlement_summary_imports_by_its_headers(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    candidates, problems = read_file(
        write_csv(tmp_path, "mls.csv", MLS), default_catalog(), {}, agreement="EA-7"
    )
    # Office is not a server product: skipped with a warning, not an error.
    assert [p.severity for p in problems] == ["warning"] and "Office" in str(problems[0])
    got = sorted(
        (
            c.entitlement.product,
            c.entitlement.license,
            c.entitlement.edition,
            c.entitlement.version,
            c.entitlement.quantity,
        )
        for c in candidates
    )
    assert got == [
        # "2 Core" packs: 4 licenses × 2 cores = 8 core units.
        ("sql-server", "core", "enterprise", "2019", 8),
        ("windows-server", "core", "standard", "2022", 24),  # the Germany row is a subtotal
        ("windows-server", "device-cal", None, "2022", 120),
    ]
    assert {c.entitlement.agreement for c in candidates} == {"EA-7"}
    assert service.import_candidates(ledger, candidates).added == 3


def test_unknown_headers_say_what_to_map_and_map_works(tmp_path: Path) -> None:
    theirs = "Family,Qty\nWindows Server Datacenter Core,16\n"
    path = write_csv(tmp_path, "statement.csv", theirs)
    candidates, problems = load(path)
    assert candidates == [] and len(problems) == 1
    message = str(problems[0])
    assert message.startswith("statement.csv:1:") and "Family, Qty" in message
    assert "--map" in message
    mapped, problems = read_file(
        path,
        default_catalog(),
        {"Family": "License Product Family", "Qty": "Effective License Quantity"},
    )
    assert problems == [] and mapped[0].entitlement.edition == "datacenter"


def test_a_workbook_with_an_entitlements_sheet(ledger: service.Ledger, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Entitlements"
    sheet.append(["product", "license", "edition", "version", "quantity"])
    sheet.append(["sql-server", "core", "standard", "2022", 8])
    book.create_sheet("notes").append(["anything"])
    path = tmp_path / "owned.xlsx"
    book.save(path)
    candidates, problems = load(path)
    assert problems == [] and candidates[0].entitlement.quantity == 8
    assert str(candidates[0].entitlement.source) == "owned.xlsx:Entitlements!2"
    assert service.import_candidates(ledger, candidates).added == 1


def test_product_keys_are_encrypted_at_rest_and_shown_only_to_editors(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    service.import_candidates(ledger, load(write_csv(tmp_path, "e.csv", GOOD))[0])
    key = "VK7JG-NPHTM-C97JM-9MPGT-3V66T"
    with ledger.engine.connect() as conn:
        stored = conn.execute(text("SELECT product_key FROM entitlements WHERE ref='WS-1'"))
        events = conn.execute(text("SELECT after FROM audit_events")).scalars().all()
    assert key not in stored.scalar_one()
    assert not any(key in (e or "") for e in events)
    editor = {i["id"]: i for i in query.listing(ledger.engine, service.today(), ledger.fernet)}
    assert editor["WS-1"]["product_key"] == key and editor["WS-1"]["key_kind"] == "MAK"
    viewer = {i["id"]: i for i in query.listing(ledger.engine, service.today())}
    assert "product_key" not in viewer["WS-1"] and viewer["WS-1"]["has_key"]


def test_a_product_key_without_the_ledger_key_imports_nothing(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    viewer = service.Ledger(ledger.url, ledger.engine, "viewer", None)
    report = service.import_candidates(viewer, load(write_csv(tmp_path, "e.csv", GOOD))[0])
    assert report.added == 0 and "encryption key" in str(report.problems[0])
    assert counts(ledger) == (0, 1)


def test_assigned_to_is_a_host_so_a_cal_cannot_carry_it(tmp_path: Path) -> None:
    text = "product,license,quantity,assigned_to\nwindows-server,user-cal,5,hv1\n"
    candidates, problems = load(write_csv(tmp_path, "entitlements.csv", text))
    assert candidates == []
    assert str(problems[0]).startswith("entitlements.csv:2: assigned_to names a host")
