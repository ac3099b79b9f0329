"""Issue #17 item 2: the decision tool on an estate honours the product and the prices asked
about, and its words tell "the cheapest of the strategies you could adopt" from the exact
optimum (web and ``entitle decide ESTATE --years``). Worked by hand (licensing-rules §1.2: a
user CAL covers one person on any device, a device CAL any people on one device):

MIXED, Windows Server and RDS (users ann, bob, cat):
    windows-server access: ann from pc1 and pc2; bob and cat from kiosk
    rds access:            bob and cat from kiosk

  product windows-server at user 20, device 5 (the estate's prices.csv says 10 and 8):
    exact optimum  ann: 2 device CALs (2 x 5 = 10 < 20); kiosk: 1 device CAL (5 < 40) = 15
    all User       3 x 20 = 60            all Device   pc1, pc2, kiosk: 3 x 5 = 15
  product rds at user 30, device 50 (only bob and cat need an RDS CAL, both on the kiosk; an
  RDS CAL is additive, with the Windows Server CAL on the same side, §1.3, at 10 and 8):
    exact optimum  the kiosk: RDS device CAL 50 + WS device CAL 8 = 58 < 2 x (30 + 10) = 80
                   -> 0 user, 2 device licenses, 58
    all User       bob and cat: 2 x (30 + 10) = 80, 4 user licenses
    all Device     the kiosk: 50 + 8 = 58, 2 device licenses

DEDICATED, Windows Server at user 10, device 8 (prices.csv): ann on pc1 and pc2, dan on pc3
    exact optimum  ann a user CAL (10 < 16), dan a device CAL (8 < 10)   = 18
    all User       2 x 10 = 20            all Device   3 x 8 = 24
    questionnaire  the one group of users with own devices: 2 user CALs (20) cost no more
                   than 3 device CALs (24)                               = 20
  so with no growth the cheapest strategy you could adopt costs 20 each year, and the exact
  optimum is cheaper by 2.00 in year 0 and in year 1.
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from entitle.cli.main import app as cli

from .conftest import World
from .kit import job_of, upload

ACCESS = "ose,product,user,device\n"
MIXED = {
    "hosts": "host,processors,cores_per_processor\nh1,1,16\n",
    "oses": "ose,host,virtual\nh1,h1,no\n",
    "software": "ose,product,edition,version\nh1,windows-server,standard,2022\nh1,rds,,2022\n",
    "users": "user,external\nann,no\nbob,no\ncat,no\n",
    "devices": "device,kind\npc1,workstation\npc2,workstation\nkiosk,workstation\n",
    "access": ACCESS + "h1,windows-server,ann,pc1\nh1,windows-server,ann,pc2\n"
    "h1,windows-server,bob,kiosk\nh1,windows-server,cat,kiosk\n"
    "h1,rds,bob,kiosk\nh1,rds,cat,kiosk\n",
    "prices": "product,license,price\nwindows-server,user-cal,10\nwindows-server,device-cal,8\n",
}
DEDICATED = {
    **{k: MIXED[k] for k in ("hosts", "oses", "prices")},
    "software": "ose,product,edition,version\nh1,windows-server,standard,2022\n",
    "users": "user,external\nann,no\ndan,no\n",
    "devices": "device,kind\npc1,workstation\npc2,workstation\npc3,workstation\n",
    "access": ACCESS + "h1,windows-server,ann,pc1\nh1,windows-server,ann,pc2\n"
    "h1,windows-server,dan,pc3\n",
}


def decide(world: World, estate: int, question: dict) -> dict:
    c, m = world.client, world.viewer
    r = c.post(f"/api/orgs/{m.org_id}/estates/{estate}/decide", json=question, headers=m.auth)
    assert r.status_code == 202, r.text
    done = job_of(c, m, r.json()["job"]["id"])
    assert done["job"]["state"] == "done", done
    return dict(done["result"])


def table(result: dict) -> dict:
    return {
        s["strategy"]: (s["user_licenses"], s["device_licenses"], s["list_cost"])
        for s in result["strategies"]
    }


def test_the_product_and_the_prices_asked_change_every_row(world: World) -> None:
    e = upload(world.client, world.editor, MIXED, "mixed")
    windows = decide(
        world, e, {"product": "windows-server", "user_price": 20, "device_price": 5, "years": 1}
    )
    rows = table(windows)
    assert rows["exact optimum"] == (0, 3, 15)
    assert rows["all User"] == (3, 0, 60)
    assert rows["all Device"] == (0, 3, 15)
    prices = windows["questionnaire"]["prices"]
    assert (prices["product"], prices["user_cal"], prices["device_cal"]) == (
        "windows-server",
        20,
        5,
    )

    rds = decide(world, e, {"product": "rds", "user_price": 30, "device_price": 50, "years": 1})
    rows = table(rds)
    assert rows["exact optimum"] == (0, 2, 58)
    assert rows["all User"] == (4, 0, 80)
    assert rows["all Device"] == (0, 2, 58)
    assert rds["evidence"]["users"] == 2 and rds["evidence"]["shared_devices"] == 1
    # and the growth is priced the same way: year 1 without growth is year 0 again
    assert rds["growth"]["years"][1]["exact optimum"] == 58


VERDICT = (
    "exact optimum: cheaper than every strategy in every year projected, by 2.00 in year 0, "
    "2.00 in year 1 (a choice per user and device, not one rule for all)"
)


def test_the_words_tell_the_cheapest_strategy_from_the_exact_optimum(world: World) -> None:
    e = upload(world.client, world.editor, DEDICATED, "dedicated")
    result = decide(world, e, {"years": 1})
    assert table(result) == {
        "exact optimum": (1, 1, 18),
        "all User": (2, 0, 20),
        "all Device": (0, 3, 24),
        "questionnaire's answer": (2, 0, 20),
    }
    verdicts = result["growth"]["verdicts"]
    assert verdicts == [
        "all User: the cheapest of the strategies you could adopt in every year projected",
        "all Device: not the cheapest of the strategies you could adopt, even today",
        "questionnaire's answer: the cheapest of the strategies you could adopt in every year "
        "projected",
        VERDICT,
    ]
    page = world.client.get(
        f"/orgs/{world.viewer.org_id}/estates/{e}/decide", headers=world.viewer.auth
    )
    assert page.status_code == 200
    assert VERDICT in page.text
    assert "cheapest in every year projected" not in page.text


def test_the_command_line_says_the_same(tmp_path: Path) -> None:
    for name, text in DEDICATED.items():
        (tmp_path / f"{name}.csv").write_text(text)
    run = CliRunner().invoke(cli, ["decide", str(tmp_path), "--years", "1"], terminal_width=200)
    assert run.exit_code == 0, run.output
    out = " ".join(run.output.split())
    assert "questionnaire's answer: the cheapest of the strategies you could adopt" in out
    assert VERDICT in out
