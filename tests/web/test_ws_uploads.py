"""Issue #17 item 3: a folder upload (relative paths in the file names, as ``<input
webkitdirectory>`` sends them) or a ``.zip`` of one, so same-named exports of several servers
import together; archives that would escape their folder (zip slip) or unpack to too much (zip
bombs) are refused whole, naming the entry, before anything is unpacked or stored."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from entitle.web import archives
from entitle.web.errors import ApiError

from .conftest import SAMPLE, World
from .kit import FIXTURES, job_of, refused

UAL = FIXTURES / "ual"


def zipped(entries: dict[str, bytes], level: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", level) as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return out.getvalue()


def server_folders() -> dict[str, bytes]:
    """fs01's and sql01's exports: both have a SystemId.csv and an Overview.csv."""
    return {
        f"ual/{server}/{p.name}": p.read_bytes()
        for server in ("fs01", "sql01")
        for p in sorted((UAL / server).glob("*.csv"))
    }


def access_oses(world: World, estate: int) -> list[str]:
    c, m = world.client, world.editor
    table = c.get(f"/api/orgs/{m.org_id}/estates/{estate}/tables/access?limit=500", headers=m.auth)
    body = table.json()
    ose = body["header"].index("ose")
    return [row["values"][ose] for row in body["rows"]]


@pytest.mark.parametrize("how", ["folder", "zip"])
def test_same_named_exports_of_two_servers_import_together(world: World, how: str) -> None:
    """Each folder's Get-UalSystemId names its server, so each server's access rows get their
    own OSE. fs01 alone gives 5 access tuples in August 2025 (test_ws_imports: 7 rows in the
    window, alice twice from .31), so 5 of the rows are fs01's and the rest sql01's."""
    c, m = world.client, world.editor
    folder = server_folders()
    if how == "folder":  # the names a browser sends for <input webkitdirectory>
        files = [("files", (name, data)) for name, data in folder.items()]
    else:
        files = [("files", ("exports.zip", zipped(folder)))]
    r = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=files,
        data={"kind": "ual", "since": "2025-08-01", "until": "2025-08-31", "name": how},
        headers=m.auth,
    )
    assert r.status_code == 202, r.text
    done = job_of(c, m, r.json()["job"]["id"])
    assert done["job"]["state"] == "done", done
    shown = done["result"]["files"]
    assert "fs01/SystemId.csv" in shown and "sql01/SystemId.csv" in shown
    assert "fs01/Overview.csv" in shown and "sql01/Overview.csv" in shown
    oses = access_oses(world, r.json()["estate"]["id"])
    assert oses.count("fs01") == 5
    assert set(oses) == {"fs01", "sql01"}


def test_an_estate_folder_zipped_gives_the_same_position(world: World) -> None:
    c, m = world.client, world.editor
    folder = {f"sample-estate/{p.name}": p.read_bytes() for p in sorted(SAMPLE.iterdir())}
    r = c.post(
        f"/api/orgs/{m.org_id}/estates",
        files=[("files", ("sample.zip", zipped(folder)))],
        data={"name": "zipped"},
        headers=m.auth,
    )
    assert r.status_code == 202, r.text
    assert job_of(c, m, r.json()["job"]["id"])["job"]["state"] == "done"
    base = f"/api/orgs/{m.org_id}/estates/"
    zipped_cost = c.get(base + f"{r.json()['estate']['id']}/position", headers=m.auth).json()
    loose_cost = c.get(base + f"{world.estate_id}/position", headers=m.auth).json()
    assert zipped_cost["position"]["total_cost"] == loose_cost["position"]["total_cost"]


@pytest.mark.parametrize(
    "entry",
    ["../evil/SystemId.csv", "/etc/SystemId.csv", "C:/Windows/SystemId.csv", "a/../../x.csv"],
)
def test_an_entry_outside_the_folder_refuses_the_archive(world: World, entry: str) -> None:
    c, m = world.client, world.editor
    data = zipped({"fs01/SystemId.csv": b"x", entry: b"x"})
    r = c.post(
        f"/api/orgs/{m.org_id}/imports",
        files=[("files", ("exports.zip", data))],
        data={"kind": "ual"},
        headers=m.auth,
    )
    (item,) = refused(r, 422, "invalid")["errors"]
    assert item["source"] == "exports.zip"
    assert "points outside the archive's folder" in item["message"]


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world: World) -> None:
    """32 MiB of zeros deflate to about 32 KiB: about 1,000 to 1, over the limit of 250 to 1
    for entries over 16 MiB (the workbook reader's)."""
    c, m = world.client, world.editor
    data = zipped({"fs01/SystemId.csv": bytes(32 * 2**20)})
    assert len(data) < 32 * 2**20 // 250
    r = c.post(
        f"/api/orgs/{m.org_id}/estates",
        files=[("files", ("estate.zip", data))],
        headers=m.auth,
    )
    (item,) = refused(r, 422, "invalid")["errors"]
    assert "zip bomb" in item["message"] and "fs01/SystemId.csv" in item["message"]


def test_the_unpacked_size_and_entries_are_bounded() -> None:
    """Declared sizes are checked before reading: 3 entries of 400 KiB stored (no compression,
    ratio 1) are 1,200 KiB, over a limit of 1 MiB; 4 entries are over a limit of 3."""
    data = zipped({f"s/{i}.csv": bytes(400 * 1024) for i in range(3)}, zipfile.ZIP_STORED)
    with pytest.raises(ApiError) as big:
        archives.expand([("x.zip", data)], archives.ZipLimits(max_bytes=2**20))
    assert "would unpack to 1 MiB, over the limit of 1 MiB" in big.value.items[0].message
    many = zipped({f"s/{i}.csv": b"a" for i in range(4)})
    with pytest.raises(ApiError) as entries:
        archives.expand([("x.zip", many)], archives.ZipLimits(max_entries=3))
    assert "4 entries, over the limit of 3" in entries.value.items[0].message
    # within the limits: the entries, named under the archive, folders kept
    assert archives.expand([("x.zip", many), ("", b"")])[0] == ("x.zip/s/0.csv", b"a")


def test_a_link_or_a_damaged_archive_is_refused(tmp_path: Path) -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        link = zipfile.ZipInfo("fs01/SystemId.csv")
        link.external_attr = 0o120777 << 16  # a symbolic link, as zip -y stores one
        z.writestr(link, "/etc/passwd")
    with pytest.raises(ApiError) as linked:
        archives.expand([("l.zip", out.getvalue())])
    assert "is a symbolic link" in linked.value.items[0].message
    with pytest.raises(ApiError) as cut:
        archives.expand([("c.zip", out.getvalue()[:30])])
    assert "not a zip archive, or cut short" in cut.value.items[0].message
