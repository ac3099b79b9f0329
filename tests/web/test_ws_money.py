"""Money in the web's JSON is the CLI's (src/entitle/money.py): on the estate priced in tenths
of tests/moneykit.py (16 x 0.1 = 1.6 core licenses, 3 x 0.1 = 0.3 user CALs, 1.9 in all, where
floats would give 1.6000000000000001, 0.30000000000000004 and 1.9000000000000001), the stored
position, a position computed on another day, a line's evidence, the decision tool's job result
and the dashboard's history hold the same exact numbers as ``entitle position --json``."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from entitle.cli.main import app
from entitle.web import history
from moneykit import CENT, check_money, lines_by_license, money_values, write

from .conftest import sign_up
from .kit import job_of, upload


def test_every_face_writes_the_same_exact_amounts(app: FastAPI, tmp_path: Path) -> None:
    with TestClient(app) as c:
        check_every_face(c, tmp_path)


def check_every_face(c: TestClient, tmp_path: Path) -> None:
    m = sign_up(c, "money@cent.example", "Cent")
    e = upload(c, m, CENT, "cent")
    base = f"/api/orgs/{m.org_id}/estates/{e}"

    r = CliRunner().invoke(
        app, ["position", str(write(tmp_path / "cent")), "--json", "--as-of", "2026-11-28"]
    )
    assert r.exit_code == 0, r.output
    cli = check_money(r.stdout)

    computed = c.get(f"{base}/position?as_of=2026-11-28", headers=m.auth)
    assert computed.status_code == 200, computed.text
    position = check_money(computed.text)["position"]
    assert money_values(position) == money_values(cli)
    assert position["total_cost"] == Decimal("1.9")
    assert lines_by_license(position) == {
        "core": (16, Decimal("0.1"), Decimal("1.6")),
        "user-cal": (3, Decimal("0.1"), Decimal("0.3")),
    }

    stored = c.get(f"{base}/position", headers=m.auth)
    assert stored.status_code == 200, stored.text
    kept = check_money(stored.text)["position"]
    assert lines_by_license(kept) == lines_by_license(cli)
    assert kept["total_cost"] == Decimal("1.9")

    index = [x["license"] for x in position["lines"]].index("user-cal")
    why = c.get(f"{base}/lines/{index}?as_of=2026-11-28", headers=m.auth)
    assert why.status_code == 200, why.text
    line = check_money(why.text)["line"]
    assert (line["unit_price"], line["cost"]) == (Decimal("0.1"), Decimal("0.3"))

    # the decision tool at 0.1 a user CAL and 0.7 a device CAL: three users, no device known,
    # so the optimum is three user CALs (§1.1), 0.3
    r = c.post(f"{base}/decide", json={"user_price": "0.1", "device_price": "0.7"}, headers=m.auth)
    assert r.status_code == 202, r.text
    done = job_of(c, m, r.json()["job"]["id"])
    assert done["job"]["state"] == "done", done
    job = c.get(f"/api/orgs/{m.org_id}/jobs/{done['job']['id']}", headers=m.auth)
    result = check_money(job.text)["result"]
    costs = {s["strategy"]: s["list_cost"] for s in result["strategies"]}
    assert costs["exact optimum"] == costs["all User"] == Decimal("0.3")
    assert result["questionnaire"]["prices"] == {
        "product": "windows-server",
        "user_cal": Decimal("0.1"),
        "device_cal": Decimal("0.7"),
    }

    # the dashboard's history sums the lines per product: 1.6 + 0.3, exactly
    brief = json.loads(json.dumps(history.summary(json.loads(stored.text)["position"])))
    assert brief["total_cost"] == 1.9 and brief["cost"] == {"windows-server": 1.9}
    assert isinstance(brief["total_cost"], float)
