"""The decision tool's data mode on an uploaded estate (``entitle decide ESTATE``), and the
dashboard's charts. The estate, and the CAL costs worked out by hand (licensing-rules §1.2: a
user CAL covers one person on any device, a device CAL any people on one device):

    users    ann, bob, cat (internal)
    access   ann from pc1 and pc2; bob and cat from kiosk (shared)
    prices   Windows Server user CAL 10, device CAL 8

    exact optimum    ann a user CAL (10 < 2 x 8), kiosk a device CAL (8 < 2 x 10) = 18
    all User         3 users x 10                                               = 30
    all Device       pc1, pc2, kiosk: 3 x 8                                      = 24
    questionnaire    ann's group (own devices) → user, the shared group → device = 18

Growth, one year at +100 % head count: three new users, one like each (a copy of ann comes with
copies of her two devices): all User 6 x 10 = 60; all Device 5 devices x 8 = 40; the optimum two
user CALs (ann and her copy) and the kiosk's device CAL = 28.
"""

from __future__ import annotations

import secrets

from .conftest import World, sign_up
from .kit import job_of, refused, sign_in, upload

ESTATE = {
    "hosts": "host,processors,cores_per_processor\nh1,1,16\n",
    "oses": "ose,host,virtual\nh1,h1,no\n",
    "software": "ose,product,edition,version\nh1,windows-server,standard,2022\n",
    "users": "user,external\nann,no\nbob,no\ncat,no\n",
    "devices": "device,kind\npc1,workstation\npc2,workstation\nkiosk,workstation\n",
    "access": "ose,product,user,device\n"
    "h1,windows-server,ann,pc1\nh1,windows-server,ann,pc2\n"
    "h1,windows-server,bob,kiosk\nh1,windows-server,cat,kiosk\n",
    "prices": "product,license,price\nwindows-server,user-cal,10\nwindows-server,device-cal,8\n",
}


def test_data_mode_prices_the_optimum_beside_the_simple_strategies(world: World) -> None:
    c, m = world.client, world.viewer
    e = upload(c, world.editor, ESTATE, "cal decision")
    r = c.post(
        f"/api/orgs/{m.org_id}/estates/{e}/decide",
        json={"years": 1, "headcount_growth": 100},
        headers=m.auth,  # a viewer may ask: it reads the estate, changes nothing
    )
    assert r.status_code == 202, r.text
    done = job_of(c, m, r.json()["job"]["id"])
    assert done["job"]["state"] == "done", done
    result = done["result"]
    costs = {
        s["strategy"]: (s["user_licenses"], s["device_licenses"], s["list_cost"])
        for s in result["strategies"]
    }
    assert costs == {
        "exact optimum": (1, 1, 18),
        "all User": (3, 0, 30),
        "all Device": (0, 3, 24),
        "questionnaire's answer": (1, 1, 18),
    }
    saves = {s["strategy"]: s["optimum_saves"] for s in result["strategies"]}
    assert saves == {
        "exact optimum": 0,
        "all User": 12,
        "all Device": 6,
        "questionnaire's answer": 0,
    }
    assert result["evidence"]["users"] == 3 and result["evidence"]["shared_devices"] == 1
    year1 = result["growth"]["years"][1]
    assert (year1["all User"], year1["all Device"], year1["exact optimum"]) == (60, 40, 28)
    assert "<svg" in result["chart_svg"]

    page = c.get(f"/orgs/{m.org_id}/estates/{e}/decide?job={done['job']['id']}", headers=m.auth)
    assert page.status_code == 200 and 'id="strategies"' in page.text
    assert (
        "<desc>List cost of licensing every CAL need under each strategy: exact optimum 18.00"
        in page.text
    )
    # the strategies and the growth chart, each drawn wide and narrow (a phone's layout)
    assert page.text.count("<desc>") == 4


def test_data_mode_refuses_bad_questions_before_queueing(world: World) -> None:
    c, m = world.client, world.viewer
    base = f"/api/orgs/{m.org_id}/estates/{world.estate_id}/decide"
    refused(c.post(base, json={"years": 9}, headers=m.auth), 422, "invalid")
    unknown = c.post(base, json={"product": "notepad"}, headers=m.auth)
    assert refused(unknown, 422, "invalid")["errors"][0]["source"] == "product"
    bad = c.post(
        f"/api/orgs/{m.org_id}/estates",
        files=[("files", ("hosts.csv", b"host,processors\nh,x\n"))],
        headers=world.editor.auth,
    )
    job_of(c, world.editor, bad.json()["job"]["id"])
    invalid = c.post(
        f"/api/orgs/{m.org_id}/estates/{bad.json()['estate']['id']}/decide", json={}, headers=m.auth
    )
    refused(invalid, 409, "not-ready")


def test_the_decide_form_and_the_dashboard_charts(world: World) -> None:
    """The dashboard charts the organisation's latest position: shortfall cost by product,
    required vs owned and — once the decision tool ran on that estate — the strategies; each
    SVG has a title and a description, and a chart with nothing to show says why instead."""
    c = world.client
    ann = sign_up(c, f"dash-{secrets.token_hex(3)}@d.example", "Org D")
    empty = c.get(f"/?org={ann.org_id}", headers=ann.auth)
    assert "No position yet" in empty.text and "<svg" not in empty.text
    # 16 Standard core licenses owned for h1's 16 cores (§3.1): nothing short
    compliant = {
        **{k: ESTATE[k] for k in ("hosts", "oses", "software")},
        "entitlements": "product,license,quantity,edition,version\n"
        "windows-server,core,16,standard,2022\n",
    }
    upload(c, ann, compliant, "compliant")
    page = c.get(f"/?org={ann.org_id}", headers=ann.auth)
    assert "Nothing is short: no shortfall cost to chart." in page.text
    assert "<desc>windows-server standard 2022 core: 16 required, 16 owned.</desc>" in page.text
    assert "No CAL strategies compared yet" in page.text

    e = upload(c, ann, ESTATE, "with CALs")
    csrf = sign_in(c, ann.email)
    try:
        assert (
            c.post(f"/orgs/{ann.org_id}/estates/{e}/decide", data={"years": "1"}).status_code == 403
        )
        bad = c.post(
            f"/orgs/{ann.org_id}/estates/{e}/decide", data={"csrf_token": csrf, "years": "x"}
        )
        assert 'role="alert"' in bad.text and "years must be a whole number" in bad.text
        started = c.post(
            f"/orgs/{ann.org_id}/estates/{e}/decide",
            data={"csrf_token": csrf, "years": "1", "headcount_growth": "100"},
            follow_redirects=False,
        )
        assert started.status_code == 303, started.text
        job_id = int(started.headers["location"].rsplit("/", 1)[1])
        job_of(c, ann, job_id)
        bar = c.get(started.headers["location"])
        assert f"/orgs/{ann.org_id}/estates/{e}/decide?job={job_id}" in bar.text
        # the questionnaire's growth chart: drawn wide and narrow, in the catalog's currency
        asked = c.post("/decide", data={"csrf_token": csrf, "users": "10", "dedicated": "50"})
        assert asked.text.count("<desc>Cost of each CAL strategy per year (USD). year 0:") == 2
        assert "<div class='chart-narrow'><svg" in asked.text
        dash = c.get(f"/?org={ann.org_id}")
    finally:
        c.cookies.clear()
    # shortfall by product, cost over time, required vs owned, the strategies: wide and narrow
    assert dash.text.count("<svg") == 8
    assert dash.text.count("<desc>") == 8
    assert "Shortfall cost by product" in dash.text
    assert "exact optimum 18.00" in dash.text and "all User 30.00" in dash.text
    assert "the optimum saves 12.00 against all User, 6.00 against all Device" in dash.text
