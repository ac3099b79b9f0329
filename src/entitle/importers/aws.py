"""AWS EC2 inventory: ``describe-instances``, ``describe-hosts`` and ``describe-images`` JSON.

- ``aws ec2 describe-instances --output json`` (``Reservations[].Instances[]``): one virtual OSE
  per instance that runs Microsoft server software (its ``Name`` tag, else its ``InstanceId``),
  vCPUs = ``CpuOptions.CoreCount`` × ``ThreadsPerCore`` (else ``--vcpus-map`` by
  ``InstanceType``). ``Placement.Tenancy``: ``default`` → the shared-hardware host
  ``aws-<region>`` (region = ``AvailabilityZone`` without its letter); ``host`` → the Dedicated
  Host ``Placement.HostId``; ``dedicated`` (a Dedicated Instance: hardware of the account's own,
  but AWS names no host) → a placeholder host sized like the instance, with a finding.
  ``PlatformDetails`` (else the ``UsageOperation`` billing code, ``data/cloud.toml``) says what is
  billed: ``Windows`` → windows-server model provider (license included), ``Windows BYOL``
  (``RunInstances:0800``) → byol, ``… with SQL Server Enterprise|Standard|Web`` → sql-server,
  license included. ``terminated`` instances and Linux without SQL Server are skipped.
- ``aws ec2 describe-hosts --output json`` (``Hosts[]``: ``HostId``, ``HostProperties.Cores``,
  ``Sockets``): dedicated hosts with their processors and cores per processor.
- ``aws ec2 describe-images --image-ids … --output json`` (optional, ``Images[]``: ``ImageId``,
  ``Name``, ``Description``): the Windows Server and SQL Server version of each instance's AMI
  (``Windows_Server-2022-English-Full-SQL_2022_Standard-…``). ``describe-instances`` names no
  version, so without it no software.csv row can be written (a finding says which).

License-included Windows Server on EC2 is Datacenter (AWS's AMIs); an edition the AMI name does
not give is recorded as Datacenter with a finding. Imports :mod:`entitle.catalog`,
:mod:`entitle.source` and :mod:`entitle.importers` helpers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from entitle.catalog import Catalog
from entitle.importers.cloud import (
    JsonDoc,
    placeholder_host,
    read_json,
    refuse_if_empty,
    shared_host,
    usage_operations,
    whole,
)
from entitle.importers.names import host_id, product_of
from entitle.importers.result import ImportResult, Outcome
from entitle.source import Source

PROVIDER = "aws"
SQL_DETAILS = re.compile(r"sql\s+server\s+(enterprise|standard|web|express|developer)", re.I)
GONE = {"terminated", "shutting-down"}


@dataclass
class Inventory:
    instances: list[tuple[dict[str, object], Source]] = field(default_factory=list)
    hosts: list[tuple[dict[str, object], Source]] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # ImageId -> name and description


def _dict(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _text(value: object) -> str:
    return "" if value is None or isinstance(value, dict | list) else str(value).strip()


def _read(doc: JsonDoc, out: Outcome, found: Inventory) -> None:
    data = doc.data
    if not isinstance(data, dict) or not ({"Reservations", "Hosts", "Images"} & set(data)):
        out.error(
            Source(doc.file, 1),
            "not AWS CLI output this importer knows",
            "give aws ec2 describe-instances, describe-hosts or describe-images --output json "
            "(a JSON object with Reservations, Hosts or Images)",
        )
        return
    for reservation in _list(data.get("Reservations")):
        for instance in _list(_dict(reservation).get("Instances")):
            if isinstance(instance, dict):
                found.instances.append((instance, doc.where(_text(instance.get("InstanceId")))))
    for host in _list(data.get("Hosts")):
        if isinstance(host, dict):
            found.hosts.append((host, doc.where(_text(host.get("HostId")))))
    for image in _list(data.get("Images")):
        image = _dict(image)
        if image.get("ImageId"):
            words = f"{_text(image.get('Name'))} {_text(image.get('Description'))}"
            found.images[_text(image["ImageId"])] = words.replace("_", " ").replace("-", " ")


def import_aws(
    paths: Sequence[Path], catalog: Catalog, vcpus_map: Mapping[str, int] | None = None
) -> ImportResult:
    out = Outcome(PROVIDER)
    found = Inventory()
    for path in paths:
        doc = read_json(path, out)
        if doc is not None:
            _read(doc, out, found)
    if out.problems:
        return out.result()
    known = _hosts(found.hosts, out)
    instances = _Instances(out, catalog, known, found.images, dict(vcpus_map or {}))
    for instance, source in found.instances:
        instances.add(instance, source)
    instances.finish()
    first = Source(str(paths[0]), 1) if paths else Source("<no file>")
    refuse_if_empty(out, len(found.instances) + len(found.hosts), "EC2 records", first)
    return out.result()


def _hosts(hosts: list[tuple[dict[str, object], Source]], out: Outcome) -> set[str]:
    """Dedicated Hosts with their sockets and cores (released hosts are gone)."""
    known: set[str] = set()
    for host, source in hosts:
        host_name = host_id(_text(host.get("HostId")))
        properties = _dict(host.get("HostProperties"))
        cores, sockets = whole(properties.get("Cores")), whole(properties.get("Sockets"))
        if _text(host.get("State")).lower() in {"released", "released-permanent-failure"}:
            out.skip("Dedicated Host already released", source)
            continue
        if not host_name or cores is None or sockets is None:
            out.skip("Dedicated Host without HostId, HostProperties.Cores or Sockets", source)
            continue
        cells = {
            "host": host_name,
            "provider": PROVIDER,
            "dedicated": "yes",
            "processors": str(sockets),
            "cores_per_processor": str(-(-cores // sockets)),
        }
        if properties.get("InstanceType") or properties.get("InstanceFamily"):
            cells["instance_type"] = _text(
                properties.get("InstanceType") or properties.get("InstanceFamily")
            )
        out.add("hosts", cells, source)
        out.count("Dedicated Hosts")
        known.add(host_name)
    return known


class _Instances:
    def __init__(
        self,
        out: Outcome,
        catalog: Catalog,
        known_hosts: set[str],
        images: Mapping[str, str],
        vcpus_map: Mapping[str, int],
    ):
        self.out, self.catalog, self.known_hosts = out, catalog, known_hosts
        self.images, self.vcpus_map = images, {k.lower(): v for k, v in vcpus_map.items()}
        self.shared: dict[str, Source] = {}
        self.names: dict[str, str] = {}  # OSE id -> the instance it was given to
        self.seen: set[str] = set()
        self.duplicates: list[str] = []
        self.unknown_hosts: dict[str, Source] = {}
        self.dedicated_instances: list[str] = []
        self.unknown_types: dict[str, Source] = {}
        self.no_version: list[str] = []
        self.assumed_edition: list[str] = []

    def add(self, instance: dict[str, object], source: Source) -> None:
        out = self.out
        instance_id = _text(instance.get("InstanceId"))
        if instance_id and instance_id in self.seen:
            out.skip("the same instance again (in another file, or listed twice)", source)
            return
        self.seen.add(instance_id)
        state = _text(_dict(instance.get("State")).get("Name")).lower()
        if state in GONE:
            out.skip("terminated (or shutting-down) instance", source)
            return
        details = _text(instance.get("PlatformDetails"))
        if not details:
            code = _text(instance.get("UsageOperation")).lower()
            details = usage_operations().get(code, "")
        if not details and _text(instance.get("Platform")).lower() == "windows":
            details = "Windows"
        windows = details.lower().startswith("windows")
        sql = SQL_DETAILS.search(details)
        if not windows and not sql:
            out.skip("Linux instance without SQL Server: no Microsoft server license", source)
            return
        ose = host_id(self._name(instance))
        cpu = _dict(instance.get("CpuOptions"))
        cores, threads = whole(cpu.get("CoreCount")), whole(cpu.get("ThreadsPerCore")) or 1
        instance_type = _text(instance.get("InstanceType"))
        vcpus = cores * threads if cores else self.vcpus_map.get(instance_type.lower())
        if not ose or not vcpus:
            if ose:
                self.unknown_types.setdefault(instance_type or "(blank)", source)
            out.skip("instance without a name or id, or without CpuOptions vCPUs", source)
            return
        owner = self.names.setdefault(ose, instance_id)
        if owner != instance_id and instance_id:
            self.duplicates.append(f"{ose} → {instance_id.lower()}")
            ose = instance_id.lower()
            self.names[ose] = instance_id
        cells = {
            "ose": ose,
            "host": self._host(instance, ose, cores or vcpus, source),
            "virtual": "yes",
            "vcpus": str(vcpus),
        }
        cells["cloud_id"] = instance_id
        if state:
            cells["powerstate"] = state
        out.add("oses", cells, source)
        out.count("instances")
        image = self.images.get(_text(instance.get("ImageId")), "")
        if windows:
            model = "byol" if "byol" in details.lower() else "provider"
            self._software(ose, "windows-server", None, model, image, source)
        if sql:
            self._software(ose, "sql-server", sql.group(1).lower(), "provider", image, source)

    def _name(self, instance: dict[str, object]) -> str:
        for tag in _list(instance.get("Tags")):
            tag = _dict(tag)
            if _text(tag.get("Key")) == "Name" and _text(tag.get("Value")):
                return _text(tag.get("Value"))
        return _text(instance.get("InstanceId"))

    def _host(self, instance: dict[str, object], ose: str, cores: int, source: Source) -> str:
        placement = _dict(instance.get("Placement"))
        tenancy = _text(placement.get("Tenancy")).lower() or "default"
        if tenancy == "host":
            host = host_id(_text(placement.get("HostId")))
            if host and host not in self.known_hosts:
                self.unknown_hosts.setdefault(host, source)
            if host:
                return host
        if tenancy in {"dedicated", "host"}:
            host = f"unknown-host-of-{ose}"
            cells = {
                "host": host,
                "provider": PROVIDER,
                "dedicated": "yes",
                "processors": "1",
                "cores_per_processor": str(cores),
                "placeholder": "yes",
            }
            self.out.add("hosts", cells, source, weak=True)
            self.dedicated_instances.append(ose)
            return host
        region = re.sub(r"[a-z]$", "", _text(placement.get("AvailabilityZone")).lower())
        self.shared.setdefault(region, source)
        return shared_host(PROVIDER, region)["host"]

    def _software(
        self,
        ose: str,
        product: str,
        edition: str | None,
        model: str,
        image: str,
        source: Source,
    ) -> None:
        named = None
        if image:
            pattern = r"sql\s+(?:server\s+)?(\d{4})" if product == "sql-server" else ""
            if pattern:
                found = re.search(pattern, image, re.I)
                named = product_of(f"SQL Server {found.group(1)}", self.catalog) if found else None
            else:
                named = product_of(re.sub(r"sql.*", "", image, flags=re.I), self.catalog)
        version = named.version if named else None
        if version is None:
            self.no_version.append(f"{ose} ({product})")
            self.out.skip(
                f"{product} whose version the instance does not give (add describe-images)",
                source,
            )
            return
        if product == "windows-server":
            edition = named.edition if named else None
            if edition is None:
                edition = "datacenter"
                self.assumed_edition.append(ose)
        cells = {
            "ose": ose,
            "product": product,
            "edition": edition or "",
            "version": version,
            "model": model,
        }
        self.out.add("software", cells, source)
        self.out.count(
            f"{'Windows Server' if product == 'windows-server' else 'SQL Server'} "
            f"instances ({model})"
        )

    def finish(self) -> None:
        out = self.out
        for region, source in sorted(self.shared.items()):
            out.add("hosts", shared_host(PROVIDER, region), source)
        for host, source in sorted(self.unknown_hosts.items()):
            out.add("hosts", placeholder_host(PROVIDER, host), source, weak=True)
        if self.duplicates:
            out.warn(
                "duplicate-name",
                f"{len(self.duplicates)} instance(s) whose Name tag another instance has: named "
                f"by their InstanceId ({', '.join(self.duplicates[:3])})",
            )
        if self.unknown_hosts:
            out.warn(
                "cores-unknown",
                f"{len(self.unknown_hosts)} Dedicated Host(s) not in describe-hosts (e.g. "
                f"{', '.join(sorted(self.unknown_hosts)[:3])}): counted as 1 processor of 1 "
                "core, so the minimums apply; add aws ec2 describe-hosts --output json",
            )
        if self.dedicated_instances:
            out.warn(
                "vm-host-unknown",
                f"{len(self.dedicated_instances)} Dedicated Instance(s) (Tenancy dedicated, e.g. "
                f"{', '.join(self.dedicated_instances[:3])}): AWS names no host, so each runs on "
                "a placeholder dedicated host sized like the instance",
            )
        if self.unknown_types:
            out.warn(
                "vcpus-unknown",
                f"instance type(s) {', '.join(sorted(self.unknown_types)[:5])} without "
                "CpuOptions: those instances were skipped; give --vcpus-map FILE (columns size, "
                "vcpus)",
                next(iter(self.unknown_types.values())),
            )
        if self.no_version:
            out.warn(
                "version-unknown",
                f"{len(self.no_version)} product(s) on instances whose AMI version is not known "
                f"(e.g. {', '.join(self.no_version[:3])}): no software.csv row written; add aws "
                "ec2 describe-images --image-ids … --output json for their ImageIds",
            )
        if self.assumed_edition:
            out.warn(
                "edition-assumed",
                f"{len(self.assumed_edition)} Windows Server instance(s) whose AMI names no "
                f"edition (e.g. {', '.join(self.assumed_edition[:3])}): recorded as Datacenter, "
                "the edition of AWS's license-included Windows AMIs; correct software.csv if not",
            )
