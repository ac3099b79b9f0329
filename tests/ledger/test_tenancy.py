"""Tenancy by an organisation key the session applies (issue 13, item 4): a query written with
no organisation in it sees only the session's organisation's entitlements, assignments and
retirements, on SQLite and PostgreSQL; migration 0008 turns the web's ``slug/ref`` ids into
that key and keeps the audit chain verifiable."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session, aliased

from entitle.catalog import default_catalog
from entitle.ledger import audit, db, moves, service
from entitle.ledger.importing import read_file
from entitle.ledger.models import (
    COMMAND_LINE,
    Assignment,
    EntitlementRow,
    Event,
    Retirement,
    for_org,
)

from .kit import write_csv

ACME, GLOBEX = 1, 2


def csv(quantity: int, host: str) -> str:
    return (
        "id,product,license,edition,version,quantity,purchased,assigned_to\n"
        f"WS-1,windows-server,core,standard,2022,{quantity},2024-01-10,{host}\n"
    )


def as_org(ledger: service.Ledger, org: int) -> service.Ledger:
    return replace(ledger, engine=for_org(ledger.engine, org))


def fill(ledger: service.Ledger, tmp_path: Path) -> None:
    """``WS-1`` three times: 16 cores at ACME on hv-acme, 32 at GLOBEX on hv-globex, 8 in the
    command line's ledger on hv-cli; GLOBEX retires 2 of its cores."""
    for org, quantity, host in ((ACME, 16, "hv-acme"), (GLOBEX, 32, "hv-globex")):
        path = write_csv(tmp_path, f"{org}.csv", csv(quantity, host))
        candidates, problems = read_file(path, default_catalog(), {})
        assert problems == []
        assert service.import_candidates(as_org(ledger, org), candidates).added == 1
    path = write_csv(tmp_path, "cli.csv", csv(8, "hv-cli"))
    candidates, _ = read_file(path, default_catalog(), {})
    assert service.import_candidates(ledger, candidates).added == 1
    assert moves.retire(
        as_org(ledger, GLOBEX), "WS-1", 2, date(2024, 6, 1), "sold", ("host", "hv-globex")
    ).ok


@pytest.mark.parametrize(
    ("org", "quantity", "host"),
    [(ACME, 16, "hv-acme"), (GLOBEX, 32, "hv-globex"), (COMMAND_LINE, 8, "hv-cli")],
)
def test_a_query_with_no_organisation_in_it_sees_only_the_sessions(
    ledger: service.Ledger, tmp_path: Path, org: int, quantity: int, host: str
) -> None:
    fill(ledger, tmp_path)
    engine = ledger.engine if org == COMMAND_LINE else for_org(ledger.engine, org)
    with Session(engine) as session:
        rows = session.execute(select(EntitlementRow)).scalars().all()
        assert [(r.ref, r.quantity, r.org_id) for r in rows] == [("WS-1", quantity, org)]
        assert session.execute(select(Assignment.holder).distinct()).scalars().all() == [host]
        retired = session.execute(select(Retirement.quantity)).scalars().all()
        assert retired == ([2] if org == GLOBEX else [])
        counted = select(func.count()).select_from(EntitlementRow)
        assert session.execute(counted).scalar_one() == 1
        other = aliased(EntitlementRow)
        joined = select(other.ref, Assignment.holder).join(
            Assignment, Assignment.entitlement_id == other.id
        )
        assert set(session.execute(joined).all()) == {("WS-1", host)}
        every_id = {1, 2, 3}  # three rows in the table, one of them this organisation's
        found = {i for i in every_id if session.get(EntitlementRow, i) is not None}
        assert found == {rows[0].id}


def test_an_update_with_no_organisation_in_it_changes_only_the_sessions_rows(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    fill(ledger, tmp_path)
    with Session(for_org(ledger.engine, ACME)) as session:
        changed = session.execute(update(EntitlementRow).values(source="x"))
        assert changed.rowcount == 1  # type: ignore[attr-defined]
        session.rollback()


def test_a_new_entitlement_takes_the_sessions_organisation_and_no_other(
    ledger: service.Ledger, tmp_path: Path
) -> None:
    fill(ledger, tmp_path)
    with Session(ledger.engine) as session:
        rows = session.execute(
            text("SELECT org_id, ref, quantity FROM entitlements ORDER BY org_id")
        ).all()
    assert [tuple(r) for r in rows] == [(0, "WS-1", 8), (ACME, "WS-1", 16), (GLOBEX, "WS-1", 32)]
    with Session(for_org(ledger.engine, ACME)) as session:
        session.add(
            EntitlementRow(
                org_id=GLOBEX,
                ref="E-9",
                product="windows-server",
                license="core",
                quantity=1,
                content_hash="h9",
                source="x",
            )
        )
        with pytest.raises(ValueError, match="belongs to organisation 2"):
            session.flush()


def test_verification_sees_every_organisation(ledger: service.Ledger, tmp_path: Path) -> None:
    fill(ledger, tmp_path)
    with Session(for_org(ledger.engine, ACME)) as session:
        count, found = audit.verify(session)
    # init, three imports each with its assignment, GLOBEX's retirement (with its holding's
    # end and the rest kept): whatever the count, no row of another organisation is "deleted"
    assert found == []
    assert count >= 8
    with ledger.engine.begin() as conn:  # a change behind the ledger's back at GLOBEX
        conn.execute(text(f"UPDATE entitlements SET quantity = 99 WHERE org_id = {GLOBEX}"))
    with Session(for_org(ledger.engine, ACME)) as session:
        _, found = audit.verify(session)
    assert len(found) == 1 and "quantity is 99" in found[0].message


# -- migration 0008 ------------------------------------------------------------------------

COLUMNS_0007 = (
    "id, ref, product, license, edition, version, quantity, purchased, unit_price, sa_start, "
    "sa_end, agreement_id, product_key, key_kind, content_hash, source, extra"
)


def state_0007(row_id: int, ref: str) -> dict[str, object]:
    """A row's state as 0007's audit recorded it (no ``org_id``)."""
    return {
        "id": row_id,
        "ref": ref,
        "product": "windows-server",
        "license": "core",
        "edition": "standard",
        "version": "2022",
        "quantity": 16,
        "purchased": "2024-01-10",
        "unit_price": None,
        "sa_start": None,
        "sa_end": None,
        "agreement_id": None,
        "product_key": None,
        "key_kind": None,
        "content_hash": f"h{row_id}",
        "source": "web",
        "extra": None,
    }


def test_prefixed_ids_become_the_organisation_key_and_the_chain_still_verifies(
    url: str,
) -> None:
    engine = db.open_engine(url)
    refs = ["acme/E-1", "globex/E-1", "E-1", "nobody/E-2"]
    try:
        db.upgrade(engine, "0007")
        with db.writer(engine).begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO web_orgs (slug, name, created_at) VALUES "
                    "('acme', 'Acme', '2026-12-06 18:00:00'), "
                    "('globex', 'Globex', '2026-12-06 18:00:00')"
                )
            )
            for i, ref in enumerate(refs, 1):
                state = state_0007(i, ref)
                conn.execute(
                    text(
                        f"INSERT INTO entitlements ({COLUMNS_0007}) VALUES (:id, :ref, :product, "
                        ":license, :edition, :version, :quantity, :purchased, :unit_price, "
                        ":sa_start, :sa_end, :agreement_id, :product_key, :key_kind, "
                        ":content_hash, :source, :extra)"
                    ),
                    {**state, "purchased": date(2024, 1, 10)},
                )
        with Session(db.writer(engine)) as session, session.begin():
            chain = audit.lock(session, "ann")
            for i, ref in enumerate(refs, 1):
                chain.append("entitlement.import", f"entitlement:{i}", None, state_0007(i, ref))
        db.upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT id, org_id, ref FROM entitlements ORDER BY id"))
            # acme is org 1, globex org 2; a prefix no organisation has is the command line's
            assert [tuple(r) for r in rows] == [
                (1, 1, "E-1"),
                (2, 2, "E-1"),
                (3, 0, "E-1"),
                (4, 0, "nobody/E-2"),
            ]
        with Session(engine) as session:
            assert audit.verify(session) == (8, [])
            event = session.execute(select(Event).where(Event.seq == 5)).scalar_one()
            assert (event.actor, event.action, event.entity) == (
                "entitle migration 0008",
                "entitlement.tenant",
                "entitlement:1",
            )
            before, after = json.loads(event.before or ""), json.loads(event.after or "")
            assert (before["ref"], after["ref"], after["org_id"]) == ("acme/E-1", "E-1", 1)
        with pytest.raises(Exception, match="(?i)unique"), db.writer(engine).begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO entitlements (id, org_id, ref, product, license, quantity, "
                    "content_hash, source) VALUES (100, 1, 'E-1', 'p', 'core', 1, 'hx', 'x')"
                )
            )
    finally:
        engine.dispose()


def test_a_purchase_recorded_before_the_migration_is_the_same_purchase_after_it(
    url: str,
) -> None:
    """The web's purchases are idempotent (the same purchase twice adds nothing): one recorded
    as ``acme/E-1`` before 0008 is recognised when recorded again as ``E-1`` after it."""
    from entitle.estate.records import Entitlement  # noqa: PLC0415
    from entitle.ledger.importing import canonical_fields  # noqa: PLC0415
    from entitle.source import Source  # noqa: PLC0415
    from entitle.web import orgledger  # noqa: PLC0415
    from entitle.web.models import Organisation  # noqa: PLC0415

    bought = Entitlement(
        "windows-server",
        "core",
        16,
        "E-1",
        edition="standard",
        version="2022",
        purchased=date(2024, 1, 10),
    )
    old = replace(bought, id="acme/E-1", source=Source("web"))
    digest = hashlib.sha256(f"1#{canonical_fields(old, None)}".encode()).hexdigest()
    engine = db.open_engine(url)
    try:
        db.upgrade(engine, "0007")
        state = {**state_0007(1, "acme/E-1"), "content_hash": digest}
        with db.writer(engine).begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO web_orgs (slug, name, created_at) "
                    "VALUES ('acme', 'Acme', '2026-12-06 18:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO entitlements (id, ref, product, license, edition, version, "
                    "quantity, purchased, content_hash, source) VALUES (1, 'acme/E-1', "
                    "'windows-server', 'core', 'standard', '2022', 16, :p, :h, 'web')"
                ),
                {"p": date(2024, 1, 10), "h": digest},
            )
        with Session(db.writer(engine)) as session, session.begin():
            audit.lock(session, "ann").append("entitlement.import", "entitlement:1", None, state)
        db.upgrade(engine)
        with Session(engine) as session:
            org = session.execute(select(Organisation)).scalar_one()
            session.expunge(org)
        ledger = orgledger.open_ledger(url, engine, "ann@a.test")
        again = orgledger.purchase(ledger, org, bought, default_catalog())
        assert (again["added"], again["unchanged"]) == (0, 1)
    finally:
        engine.dispose()
