"""Importing real exports through the web (``entitle import KIND FILE... --into ESTATE``): into a
new estate or merged into one, in the background, with the summary; the client's file names never
become paths; the raw tables as uploaded, a page at a time. The fixtures are the hand-written
exports of tests/fixtures/exports (see its README); counts are read off those files by hand."""

from __future__ import annotations

from pathlib import Path

from entitle.web import sources
from entitle.web.errors import ApiError

from .conftest import World
from .kit import FIXTURES, job_of, refused, sign_in

AD = [FIXTURES / "ad" / "users.csv", FIXTURES / "ad" / "computers.csv"]


def files(paths: list[Path], prefix: str = "") -> list[tuple[str, tuple[str, bytes]]]:
    return [("files", (prefix + p.name, p.read_bytes())) for p in paths]


def ad_import(world: World, **form: str) -> dict:
    c, m = world.client, world.editor
    data = {
        "kind": "ad",
        "external_ou": "OU=Partners,OU=External,DC=contoso,DC=com",
        "external_attribute": "EmployeeType=Contractor",
        **form,
    }
    r = c.post(f"/api/orgs/{m.org_id}/imports", files=files(AD), data=data, headers=m.auth)
    assert r.status_code == 202, r.text
    return {"response": r.json(), **job_of(c, m, r.json()["job"]["id"])}


def test_ad_exports_make_an_estate_and_a_second_import_changes_nothing(world: World) -> None:
    """users.csv: 9 accounts, 2 disabled (frank, krbtgt) → 7 users; Carol's OU is
    OU=Partners,OU=External and Dave's EmployeeType is Contractor → 2 external, 5 internal.
    computers.csv: 6 computers, 1 disabled (OLD-WKS-0009) → 5 devices, FS01 a server.
    Disabled accounts skipped: 3 (docs/importers.md, "ad")."""
    first = ad_import(world, name="from AD")
    assert first["job"]["state"] == "done", first
    result = first["result"]
    assert result["mapped"] == {"users": 5, "external users": 2, "computers": 5}
    assert result["written"] == {
        "users": {"added": 7, "updated": 0},
        "devices": {"added": 5, "updated": 0},
    }
    assert {s["reason"]: s["count"] for s in result["skipped"]} == {"disabled account": 3}
    assert sorted(result["files"]) == ["computers.csv", "users.csv"]
    e = first["response"]["estate"]["id"]
    estate = world.client.get(
        f"/api/orgs/{world.admin.org_id}/estates/{e}", headers=world.viewer.auth
    )
    assert estate.json()["estate"]["status"] == "ready"
    again = ad_import(world, estate_id=str(e))
    assert again["job"]["state"] == "done"
    assert again["result"]["written"] == {
        "users": {"added": 0, "updated": 0},
        "devices": {"added": 0, "updated": 0},
    }


def test_the_raw_tables_page_by_page(world: World) -> None:
    c, m = world.client, world.viewer
    e = ad_import(world, name="tables")["response"]["estate"]["id"]
    base = f"/api/orgs/{m.org_id}/estates/{e}/tables"
    counts = {t["table"]: t["rows"] for t in c.get(base, headers=m.auth).json()["tables"]}
    assert counts["users"] == 7 and counts["devices"] == 5 and counts["hosts"] == 0
    assert counts["access"] == 0
    first = c.get(base + "/users?limit=3", headers=m.auth).json()
    assert (first["total"], first["offset"], len(first["rows"])) == (7, 0, 3)
    last = c.get(base + "/users?limit=3&offset=6", headers=m.auth).json()
    assert len(last["rows"]) == 1 and last["rows"][0]["source"] == "users.csv:8"
    user = first["header"].index("user")
    external = first["header"].index("external")
    found = c.get(base + "/users?q=carol", headers=m.auth).json()
    assert found["total"] == 1
    assert found["rows"][0]["values"][user] == "contoso\\carol"
    assert found["rows"][0]["values"][external] == "yes"
    missing = c.get(base + "/prices", headers=m.auth).json()
    assert missing["present"] is False and missing["rows"] == []
    refused(c.get(base + "/secrets", headers=m.auth), 404, "not-found")
    refused(c.get(base + "/users?limit=501", headers=m.auth), 422, "invalid")
    page = c.get(f"/orgs/{m.org_id}/estates/{e}/tables/users?page=2&q=contoso", headers=m.auth)
    assert page.status_code == 200
    assert "page 1 of 1" in page.text  # 7 rows fit one page of 50
    sample = c.get(
        f"/orgs/{m.org_id}/estates/{world.estate_id}/tables/access?page=2", headers=m.auth
    )
    assert "Rows 51–100 of" in sample.text and 'rel="prev"' in sample.text


def test_ual_exports_of_one_server_folder(world: World) -> None:
    """fs01's Get-UalDailyAccess, 9 rows: 7 in August 2025, carol's 6/30 row outside the window,
    FS02$ a machine account. In the window: alice from .31 (twice) and .60, bob from .44 (File
    and Print, both Windows Server roles), carol from .52, dave from 10.1.30.15 → 5 access
    tuples (ose, product, user, device), 4 users. The server is the SystemDNSHostName of the
    Get-UalSystemId in the same folder (no --server): the upload keeps the folders apart."""
    c, m = world.client, world.editor
    fs01 = sorted((FIXTURES / "ual" / "fs01").glob("*.csv"))
    r = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=files(fs01, "exports\\fs01\\"),
        data={"kind": "ual", "since": "2025-08-01", "until": "2025-08-31", "name": "ual"},
        headers=m.auth,
    )
    assert r.status_code == 202, r.text
    done = job_of(c, m, r.json()["job"]["id"])
    assert done["job"]["state"] == "done", done
    result = done["result"]
    assert result["mapped"]["evidence rows in the window"] == 7
    assert result["written"]["access"] == {"added": 5, "updated": 0}
    assert result["written"]["users"] == {"added": 4, "updated": 0}
    skipped = {s["reason"]: s for s in result["skipped"]}
    assert skipped["outside the evidence window (2025-08-01 to 2025-08-31)"]["count"] == 1
    assert skipped["machine account (a name ending in $)"]["count"] == 1
    examples = [x for s in result["skipped"] for x in s["examples"]]
    assert all(x.startswith("fs01/DailyAccess.csv:") for x in examples), examples
    e = r.json()["estate"]["id"]
    access = c.get(f"/api/orgs/{m.org_id}/estates/{e}/tables/access", headers=m.auth).json()
    ose = access["header"].index("ose")
    assert access["total"] == 5 and {row["values"][ose] for row in access["rows"]} == {"fs01"}


def test_a_generic_import_needs_its_mapping(world: World) -> None:
    """staff.csv: alice (N) and hank (Y); the third row has no Login → skipped."""
    c, m = world.client, world.editor
    staff = FIXTURES / "generic" / "staff.csv"
    no_map = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=files([staff]),
        data={"kind": "generic"},
        headers=m.auth,
    )
    assert refused(no_map, 422, "invalid")["errors"][0]["source"] == "mapping"
    mapping = (FIXTURES / "generic" / "staff-mapping.toml").read_bytes()
    r = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=[*files([staff]), ("mapping", ("staff-mapping.toml", mapping))],
        data={"kind": "generic", "name": "staff"},
        headers=m.auth,
    )
    result = job_of(c, m, r.json()["job"]["id"])["result"]
    assert result["written"] == {"users": {"added": 2, "updated": 0}}
    assert result["skipped"] == [
        {"reason": "users: blank user", "count": 1, "examples": ["staff.csv:4"]}
    ]


def test_bad_exports_write_nothing_and_name_the_clients_files(world: World, tmp_path: Path) -> None:
    c, m = world.client, world.editor
    bad = [("files", ("dump/../notes.csv", b"what,ever\n1,2\n"))]
    r = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=bad,
        data={"kind": "sil", "name": "bad"},
        headers=m.auth,
    )
    assert r.status_code == 202, r.text
    done = job_of(c, m, r.json()["job"]["id"])
    assert done["job"]["state"] == "failed"
    problems = done["result"]["problems"]
    assert problems and all(p.startswith("dump/notes.csv") for p in problems), problems
    data_dir = str(world.client.app.state.workspace.settings.data_dir)  # type: ignore[attr-defined]
    assert data_dir not in repr(done)
    estate = c.get(f"/api/orgs/{m.org_id}/estates/{r.json()['estate']['id']}", headers=m.auth)
    assert estate.json()["estate"]["status"] == "invalid"
    wrong = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=[("files", ("evil.exe", b"MZ"))],
        data={"kind": "ad"},
        headers=m.auth,
    )
    assert refused(wrong, 422, "invalid")["errors"][0]["source"] == "evil.exe"
    nokind = c.post(
        f"/api/orgs/{m.org_id}/imports", files=files(AD), data={"kind": "sccm"}, headers=m.auth
    )
    refused(nokind, 422, "invalid")
    window = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=files(AD),
        data={"kind": "ual", "since": "2025-09-01", "until": "2025-08-01"},
        headers=m.auth,
    )
    assert refused(window, 422, "invalid")["errors"][0]["source"] == "since"


def test_exports_do_not_merge_into_a_workbook_estate(world: World) -> None:
    from .kit import xlsx

    c, m = world.client, world.editor
    book = xlsx({"hosts": [["host", "processors", "cores_per_processor"], ["h1", 1, 8]]})
    r = c.post(
        f"/api/orgs/{m.org_id}/estates", files=[("files", ("book.xlsx", book))], headers=m.auth
    )
    e = r.json()["estate"]["id"]
    merged = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=files(AD),
        data={"kind": "ad", "estate_id": str(e)},
        headers=m.auth,
    )
    assert refused(merged, 422, "invalid")["errors"][0]["source"] == "estate_id"
    # and its raw tables read from the workbook
    hosts = c.get(f"/api/orgs/{m.org_id}/estates/{e}/tables/hosts", headers=m.auth).json()
    assert hosts["rows"][0]["values"][:3] == ["h1", "1", "8"]


def test_client_names_never_become_paths() -> None:
    stored, labels = sources.placed(
        [
            ("ual/fs01/SystemId.csv", b"a"),
            ("ual/sql01/SystemId.csv", b"b"),
            ("../../etc/cron.d/x y$.csv", b"c"),
            ("C:\\Users\\ann\\Get-VM.csv", b"d"),
            (".hidden.csv", b"e"),
            ("README.md", b"f"),
        ]
    )
    assert sorted(stored) == [
        "part-1/SystemId.csv",
        "part-2/SystemId.csv",
        "part-3/x_y_.csv",
        "part-4/Get-VM.csv",
    ]
    assert labels["part-3/x_y_.csv"] == "cron.d/x y$.csv"
    assert all(".." not in name and not name.startswith("/") for name in stored)
    try:
        sources.placed([("a/x.csv", b"1"), ("a/x.csv", b"2")])
    except ApiError as exc:
        assert exc.items[0].message.startswith("the same file twice")
    else:
        raise AssertionError("a file named twice in one folder is refused")


def test_the_import_form_needs_the_csrf_token_and_shows_the_summary(world: World) -> None:
    c, m = world.client, world.editor
    csrf = sign_in(c, m.email)
    try:
        form = {"kind": "ad", "name": "from the page"}
        refused_page = c.post(f"/orgs/{m.org_id}/imports", files=files(AD), data=form)
        assert refused_page.status_code == 403
        ok = c.post(
            f"/orgs/{m.org_id}/imports",
            files=files(AD),
            data={**form, "csrf_token": csrf},
            follow_redirects=False,
        )
        assert ok.status_code == 303, ok.text
        job_id = int(ok.headers["location"].rsplit("/", 1)[1])
        job_of(c, m, job_id)
        page = c.get(ok.headers["location"])
        assert 'id="import-summary"' in page.text and "users.csv" in page.text
        assert "disabled account" in page.text
        bad = c.post(
            f"/orgs/{m.org_id}/imports",
            files=[("files", ("evil.exe", b"MZ"))],
            data={**form, "csrf_token": csrf},
        )
        assert bad.status_code == 200 and 'id="import-errors"' in bad.text
        assert "evil.exe: not an export file" in bad.text
    finally:
        c.cookies.clear()
