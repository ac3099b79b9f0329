"""Two admins demoting each other at once (issue #14 item 4): the organisation keeps an admin.

Role changes of one organisation are serialised by a row lock on the organisation (``SELECT
... FOR UPDATE``). The test sends the two requests from two threads (each with its own client,
so its own database connection), started together by a barrier, and holds each request after
it has judged the change and before it writes it, until the other request has judged its own
change too (what happened before the lock: both saw two admins, both demoted, none left) or is
waiting for the lock (what happens now). No sleep decides anything: the hold ends on an event
or on PostgreSQL reporting the other connection waiting for a lock."""

from __future__ import annotations

import secrets
import threading
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from entitle.web.api import members

from .conftest import ADMIN, World, sign_up


def waiting_for_a_lock(database: str) -> bool:
    assert ADMIN is not None
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (database,),
        ).fetchone()
    return bool(row and row[0])


def test_two_admins_demoting_each_other_at_once_leave_one_admin(
    world: World, app: FastAPI, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip(
            "SQLite takes the write lock when the route's transaction begins (BEGIN IMMEDIATE)"
        )
    database = make_url(db_url).database or ""
    c = world.client
    tag = secrets.token_hex(3)
    ann = sign_up(c, f"ann-{tag}@race.example", "Race")
    bob = sign_up(c, f"bob-{tag}@race.example", "Bob's own")
    made = c.post(
        f"/api/orgs/{ann.org_id}/members",
        json={"email": bob.email, "role": "admin"},
        headers=ann.auth,
    )
    assert made.status_code == 201, made.text

    judged = threading.Event()
    count = 0
    count_lock = threading.Lock()
    judge = members._keep_an_admin

    def judged_then_hold(*args: Any) -> None:
        nonlocal count
        judge(*args)  # raises 409 when this change would leave no admin
        with count_lock:
            count += 1
            if count == 2:
                judged.set()
        while not judged.is_set() and not waiting_for_a_lock(database):
            judged.wait(0.01)  # a poll of the two conditions above, not a timing assumption

    monkeypatch.setattr(members, "_keep_an_admin", judged_then_hold)
    start = threading.Barrier(2)
    answers: dict[str, int] = {}

    def demote(me: Any, other: Any) -> None:
        client = TestClient(app)
        start.wait()
        r = client.post(
            f"/api/orgs/{ann.org_id}/members",
            json={"email": other.email, "role": "editor"},
            headers=me.auth,
        )
        answers[me.email] = r.status_code

    threads = [
        threading.Thread(target=demote, args=(ann, bob)),
        threading.Thread(target=demote, args=(bob, ann)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the loser is refused: 403 when the lock shows it is no admin any more, else 409
    assert sorted(answers.values())[0] == 201 and sorted(answers.values())[1] in (403, 409)
    roles = c.get(f"/api/orgs/{ann.org_id}/members", headers=ann.auth)
    if roles.status_code != 200:  # ann was the one demoted: ask bob
        roles = c.get(f"/api/orgs/{ann.org_id}/members", headers=bob.auth)
    admins = [m for m in roles.json()["members"] if m["role"] == "admin"]
    assert len(admins) == 1, roles.json()
