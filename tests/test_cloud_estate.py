"""Estate format version 2 for cloud and hybrid estates (issue #16, item 1): hosts.csv
`provider` and `dedicated`, blank hardware only on a provider's shared host (and then every VM
there gives vcpus), oses.csv `replaces` and the container columns, software.csv `model`
`provider`/`byol` and `esu`. Spec: shared/spec/estate-format.md, "Additions, version 2";
docs/rules/cloud-and-hybrid.md."""

from __future__ import annotations

from pathlib import Path

from entitle.estate.loader import load_estate


def write(folder: Path, tables: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text, encoding="utf-8")
    return folder


HOSTS = (
    "host,processors,cores_per_processor,provider,dedicated\n"
    "hv1,2,16,,\n"
    "azure-eu,,,azure,no\n"
    "aws-dh1,2,24,AWS,yes\n"
    "hoster,,,outsourcer,\n"
)
OSES = (
    "ose,host,virtual,vcpus,replaces\n"
    "app1,hv1,yes,4,\n"
    "app1-az,azure-eu,yes,8,app1\n"
    "db-aws,aws-dh1,yes,,\n"
    "out1,hoster,yes,2,\n"
)
SOFTWARE = (
    "ose,product,edition,version,model,esu\n"
    "app1-az,windows-server,datacenter,2022,byol,\n"
    "db-aws,sql-server,enterprise,2019,Provider,\n"
    "out1,windows-server,standard,2012r2,,yes\n"
)


def test_provider_columns_are_loaded(tmp_path: Path) -> None:
    e, problems = load_estate(
        write(tmp_path / "e", {"hosts": HOSTS, "oses": OSES, "software": SOFTWARE})
    )
    assert e is not None, problems
    hosts = {h.host: h for h in e.hosts}
    # The spec: blank provider = own premises; a provider's shared host may leave the hardware
    # blank, and Host.cores is then 0 (no rule counts it).
    assert hosts["hv1"].provider is None and hosts["hv1"].cores == 32
    assert hosts["azure-eu"].provider == "azure" and hosts["azure-eu"].shared_cloud
    assert hosts["azure-eu"].processors is None and hosts["azure-eu"].cores == 0
    assert hosts["aws-dh1"].provider == "aws" and hosts["aws-dh1"].dedicated
    assert hosts["aws-dh1"].listed and not hosts["aws-dh1"].shared_cloud
    assert hosts["hoster"].provider == "outsourcer" and not hosts["hoster"].listed
    oses = {o.ose: o for o in e.oses}
    assert oses["app1-az"].replaces == "app1" and oses["app1"].replaces is None
    models = {s.ose: s.model for s in e.software}
    assert models == {"app1-az": "byol", "db-aws": "provider", "out1": None}
    assert [s.esu for s in e.software] == [False, False, True]


def test_blank_hardware_only_on_a_providers_shared_host(tmp_path: Path) -> None:
    hosts = (
        "host,processors,cores_per_processor,provider,dedicated\n"
        "own1,,,,\n"  # line 2: own server, hardware required
        "dh1,,8,azure,yes\n"  # line 3: dedicated: its hardware is known, so required
        "shared,2,,aws,\n"  # line 4: one of the two given, the other blank
        "x,2,8,,yes\n"  # line 5: dedicated without a provider
        "y,2,8,ibm,\n"  # line 6: not a provider
    )
    e, problems = load_estate(write(tmp_path / "e", {"hosts": hosts}))
    assert e is None
    said = [(p.source.line, p.message) for p in problems]
    assert (2, "processors is blank") in said and (2, "cores_per_processor is blank") in said
    assert (3, "processors is blank") in said
    assert (4, "cores_per_processor is blank") in said
    assert (5, "dedicated is yes but provider is blank") in said
    assert (6, "provider 'ibm' is not one of the allowed values") in said
    assert all(str(p).startswith("hosts.csv:") for p in problems)


def test_every_vm_on_a_shared_host_gives_vcpus(tmp_path: Path) -> None:
    oses = (
        "ose,host,virtual,vcpus,replaces\n"
        "vm1,azure-eu,yes,,\n"  # line 2: no vcpus on shared hardware
        "p1,azure-eu,no,4,\n"  # line 3: a physical OSE on shared hardware
        "vm2,aws-dh1,yes,,\n"  # line 4: dedicated host: vcpus may be blank
        "vm3,hv1,yes,2,vm9\n"  # line 5: replaces an OSE nobody defines
        "vm4,hv1,yes,2,vm4\n"  # line 6: replaces itself
    )
    e, problems = load_estate(write(tmp_path / "e", {"hosts": HOSTS, "oses": oses}))
    assert e is None
    said = {p.source.line: p.message for p in problems}
    assert said[2] == "vcpus is blank for vm1 on azure-eu, a provider's shared host"
    assert said[3] == "p1 is a physical OSE on azure-eu, a provider's shared host"
    assert 4 not in said
    assert said[5] == "replaces 'vm9' is not a OSE in oses.csv"
    assert said[6] == "replaces names the row's own OSE 'vm4'"
    assert all(p.source.file.endswith("oses.csv") for p in problems)


def test_containers_are_written_with_kind_and_runs_in(tmp_path: Path) -> None:
    oses = (
        "ose,host,virtual,vcpus,kind,runs_in\n"
        "vm1,hv1,yes,8,,\n"
        "c1,hv1,yes,2,container,vm1\n"
        "c2,hv1,yes,2,HyperV-Container,\n"
        "c3,hv1,no,2,container,\n"  # line 5: a container is virtual
        "vm2,hv1,yes,2,,vm1\n"  # line 6: runs_in without a container kind
        "c4,hv1,yes,2,container,nowhere\n"  # line 7: unknown OSE
    )
    e, problems = load_estate(write(tmp_path / "e", {"hosts": HOSTS, "oses": oses}))
    assert e is None
    said = {p.source.line: p.message for p in problems}
    assert said[5] == "a container is written with virtual = no"
    assert said[6] == "runs_in is given for an OSE that is not a container"
    assert said[7] == "runs_in 'nowhere' is not a OSE in oses.csv"
    assert set(said) == {5, 6, 7}
    good = "\n".join(oses.splitlines()[:4]) + "\n"
    e, problems = load_estate(write(tmp_path / "g", {"hosts": HOSTS, "oses": good}))
    assert e is not None, problems
    kinds = {o.ose: (o.kind, o.runs_in) for o in e.oses}
    assert kinds == {
        "vm1": (None, None),
        "c1": ("container", "vm1"),
        "c2": ("hyperv-container", None),
    }
