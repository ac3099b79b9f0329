"""Migration events → placements.csv (issue #12, item 7; docs/importers.md "VM placements").

Stays worked out by hand from the rows written in each test: per VM, in time order, each arrival
opens a stay that the next arrival closes; a first event's source host gets a one-day stay.
"""

from __future__ import annotations

from pathlib import Path

from exportkit import rows, skipped, write_export

from entitle.catalog import Catalog
from entitle.importers.hyperv import import_hyperv
from entitle.importers.merge import merge
from entitle.importers.result import NewRow
from entitle.importers.rvtools import import_rvtools
from entitle.source import Source

VINFO = ["VM", "Powerstate", "Template", "DNS Name", "CPUs", "Host"]
VEVENT = ["Created Time", "Event Type", "VM", "Source Host", "Host"]


def stays(result_rows: list[dict[str, str]]) -> list[tuple[str, str, str, str]]:
    return sorted((r["ose"], r["host"], r["from"], r.get("until", "")) for r in result_rows)


def rvtools_files(tmp_path: Path, with_events: bool) -> list[Path]:
    files = [
        write_export(
            tmp_path / "RVTools_tabvInfo.csv",
            VINFO,
            [["APP02", "poweredOn", "False", "app02.contoso.com", "4", "esx01.contoso.com"]],
        )
    ]
    if with_events:
        files.append(
            write_export(
                tmp_path / "RVTools_tabvEvent.csv",
                VEVENT,
                [
                    # vMotion esx01 → esx02 on 1 Aug, DRS back to esx01 on 15 Oct; a power-on
                    # event in between is not a migration (skipped).
                    [
                        "2026-08-01 10:00:00",
                        "VmMigratedEvent",
                        "APP02",
                        "esx01.contoso.com",
                        "esx02.contoso.com",
                    ],
                    ["2026-09-01 08:00:00", "VmPoweredOnEvent", "APP02", "", "esx02.contoso.com"],
                    [
                        "2026-10-15 23:10:00",
                        "DrsVmMigratedEvent",
                        "APP02",
                        "esx02.contoso.com",
                        "esx01.contoso.com",
                    ],
                ],
            )
        )
    return files


def test_rvtools_vevent_gives_the_stays(tmp_path: Path, catalog: Catalog) -> None:
    # The VM's id is vInfo's DNS name (app02), hosts lose their domain. Stays: esx01 on 1 Aug
    # (the first event's source, a one-day stay), esx02 from 1 Aug until 15 Oct, esx01 from
    # 15 Oct, still there (until blank).
    result = import_rvtools(rvtools_files(tmp_path, True), catalog)
    assert result.ok, result.problems
    assert stays(rows(result, "placements")) == [
        ("app02", "esx01", "2026-08-01", "2026-08-01"),
        ("app02", "esx01", "2026-10-15", ""),
        ("app02", "esx02", "2026-08-01", "2026-10-15"),
    ]
    assert skipped(result)["vEvent row that is not a migration"] == 1
    assert "no-migration-history" not in {f.code for f in result.findings}


def test_rvtools_without_events_says_placements_are_not_filled(
    tmp_path: Path, catalog: Catalog
) -> None:
    result = import_rvtools(rvtools_files(tmp_path, False), catalog)
    assert result.ok, result.problems
    assert rows(result, "placements") == []
    warning = [f for f in result.findings if f.code == "no-migration-history"]
    assert len(warning) == 1 and "placements.csv is not filled" in warning[0].message


def test_hyperv_migration_events(tmp_path: Path, catalog: Catalog) -> None:
    # Get-VM: APP03 on HV02. Events logged by the destination host: APP03 arrived on HV01 on
    # 2 Sep (VM named in VMName), on HV02 on 20 Nov (VM named only in the Message, in quotes).
    # Stays: hv01 from 2 Sep until 20 Nov; hv02 from 20 Nov, still there.
    vm = write_export(
        tmp_path / "Get-VM.csv",
        ["Name", "ComputerName", "ProcessorCount", "State"],
        [["APP03", "HV02", "4", "Running"]],
    )
    events = write_export(
        tmp_path / "migrations.csv",
        ["TimeCreated", "Id", "MachineName", "VMName", "Message"],
        [
            ["9/2/2026 1:00:00 PM", "20415", "HV01.contoso.com", "APP03", "Live migration done"],
            [
                "11/20/2026 9:30:00 AM",
                "20415",
                "HV02.contoso.com",
                "",
                "Completed the live migration of virtual machine 'APP03'.",
            ],
        ],
    )
    result = import_hyperv([vm, events], catalog)
    assert result.ok, result.problems
    assert stays(rows(result, "placements")) == [
        ("app03", "hv01", "2026-09-02", "2026-11-20"),
        ("app03", "hv02", "2026-11-20", ""),
    ]
    without = import_hyperv([vm], catalog)
    assert "no-migration-history" in {f.code for f in without.findings}


def test_merging_placements_is_idempotent_and_closes_open_stays(
    tmp_path: Path, catalog: Catalog
) -> None:
    result = import_rvtools(rvtools_files(tmp_path, True), catalog)
    tables, first = merge({}, result.rows)
    assert first.added["placements"] == 3
    tables, again = merge(tables, result.rows)
    assert again.added["placements"] == 0 and again.updated["placements"] == 0
    # A newer export shows the VM moving on to esx03 on 1 Nov: the open esx01 stay from 15 Oct
    # ends on 1 Nov; a new open stay starts on esx03.
    newer = {
        "placements": (
            NewRow(
                {"ose": "app02", "host": "esx03", "from": "2026-11-01"}, Source("vEvent.csv", 2)
            ),
        )
    }
    tables, _ = merge(tables, newer)
    assert stays(list(tables["placements"].rows.values())) == [
        ("app02", "esx01", "2026-08-01", "2026-08-01"),
        ("app02", "esx01", "2026-10-15", "2026-11-01"),
        ("app02", "esx02", "2026-08-01", "2026-10-15"),
        ("app02", "esx03", "2026-11-01", ""),
    ]
    assert tables["placements"].header[:4] == ["ose", "host", "from", "until"]
