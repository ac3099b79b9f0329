"""Names in exports, turned into the estate's ids and the catalog's words.

- :func:`host_id`: ``SRV-FS01.contoso.com`` → ``srv-fs01`` (one id for a server, whichever tool
  named it: UAL, SIL, AD, RVTools and Hyper-V spell it differently).
- :func:`user_id`: ``CONTOSO\\Alice`` → ``contoso\\alice``.
- :func:`product_of`: ``Windows Server 2012 R2 Datacenter`` → (windows-server, datacenter, 2012r2),
  also for SQL Server names and the OS names of SIL, AD, RVTools and Hyper-V.
- :class:`RoleTable`: UAL role GUIDs and role names → products, from ``data/ual_roles.toml``.

Imports only :mod:`entitle.catalog` (to check editions and versions) and the standard library.
"""

from __future__ import annotations

import ipaddress
import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from entitle.catalog import Catalog
from entitle.importers.result import Outcome
from entitle.source import Source

_PRODUCTS = (
    ("windows-server", re.compile(r"windows\s+server", re.I)),
    ("sql-server", re.compile(r"sql\s+server", re.I)),
    ("exchange-server", re.compile(r"exchange\s+server", re.I)),
    ("sharepoint-server", re.compile(r"sharepoint\s+server", re.I)),
    ("skype-server", re.compile(r"(skype\s+for\s+business|lync)\s+server", re.I)),
)
_VERSION = re.compile(
    r"\b(2008|2010|2012|2013|2014|2015|2016|2017|2019|2022|2025)(\s*r2)?\b|\b(subscription\s+edition)\b",
    re.I,
)
_VIRTUAL = re.compile(
    r"vmware|virtual\s*machine|virtualbox|kvm|qemu|xen|hvm domu|amazon ec2|google compute|"
    r"openstack|nutanix|parallels|bochs|hyper-v",
    re.I,
)


def is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        return False
    return True


def host_id(name: str) -> str:
    """The estate id of a server or computer: lower case, without its DNS domain."""
    text = name.strip().strip("\\").lower().rstrip(".")
    if not text or is_address(text):
        return text
    return text.split(".", 1)[0]


def user_id(name: str) -> str:
    """The estate id of a user as UAL writes it (``domain\\name``), in lower case."""
    return name.strip().lower()


def guid(text: str) -> str:
    return text.strip().strip("{}").lower()


@dataclass(frozen=True, slots=True)
class ProductName:
    product: str
    edition: str | None
    version: str | None


def product_of(text: str, catalog: Catalog) -> ProductName | None:
    """The product, edition and version a product or OS name names, where the catalog knows them
    (an edition or version it does not know is ``None``). ``None`` for other software."""
    for product_id, pattern in _PRODUCTS:
        if not pattern.search(text):
            continue
        product = catalog.products.get(product_id)
        if product is None:
            return None
        version: str | None = None
        found = _VERSION.search(text)
        if found:
            version = "se" if found.group(3) else found.group(1) + ("r2" if found.group(2) else "")
            version = version if version in product.version_ids else None
        words = re.findall(r"[a-z]+", text.lower())
        edition = next((w for w in words if w in product.editions), None)
        return ProductName(product_id, edition, version)
    return None


def windows_os(out: Outcome, ose: str, os_name: str, catalog: Catalog, source: Source) -> bool:
    """Add the software row of a Windows Server operating system named like "Windows Server
    2019 Datacenter" on ``ose``; False when the name is not one (with edition and version)."""
    named = product_of(os_name, catalog)
    if not (named and named.product == "windows-server" and named.version and named.edition):
        return False
    cells = {
        "ose": ose,
        "product": "windows-server",
        "edition": named.edition,
        "version": named.version,
    }
    out.add("software", cells, source)
    return True


OR_LATER = re.compile(r"\bor\s+later\b", re.I)


def windows_guest(out: Outcome, ose: str, guest: str, catalog: Catalog, source: Source) -> bool:
    """Add the Windows Server row of a guest OS named like "Microsoft Windows Server 2019
    (64-bit)" (VMware) or "Windows Server 2019 Datacenter" (Hyper-V KVP): its edition where the
    name gives one, else blank (finding ``edition-unknown``: the rules license it as the cheaper
    of Standard and Datacenter); the version named, or the newest the catalog knows where the
    name says "or later" or gives none (finding ``version-assumed``). False for other OSes."""
    named = product_of(guest, catalog)
    if named is None or named.product != "windows-server":
        return False
    versions = catalog.products["windows-server"].version_ids
    version = named.version
    if version is None or OR_LATER.search(guest):
        floor = versions.index(version) if version in versions else 0
        version = versions[-1]
        out.warn(
            "version-assumed",
            f"{ose}: the guest OS is '{guest}', so the version is taken as {version}, the newest "
            f"of {', '.join(versions[floor:])} (a license of a later version covers an earlier "
            "one, §7.4; write the version in software.csv if it is older)",
            source,
        )
    cells = {
        "ose": ose,
        "product": "windows-server",
        "edition": named.edition or "",
        "version": version,
    }
    out.add("software", cells, source, weak=named.edition is None)
    if named.edition:
        out.count("Windows Server guests")
    else:
        out.count("Windows Server guests, edition unknown")
        if not any(f.code == "edition-unknown" for f in out.findings):
            out.warn(
                "edition-unknown",
                f"the guest OS name gives no Windows Server edition ('{guest}' on {ose}, as "
                "VMware names every Windows guest): written with a blank edition, licensed as "
                "whichever of "
                "Standard and Datacenter costs less on the host (§3.1); write the edition in "
                "software.csv where it is known",
                source,
            )
    return True


def is_virtual(*descriptions: str) -> bool:
    """Whether a manufacturer or model string names a virtual machine."""
    return any(_VIRTUAL.search(d) for d in descriptions if d)


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    products: tuple[str, ...]
    anonymous: bool = False


class RoleTable:
    """Role GUIDs and role names → products (``data/ual_roles.toml``)."""

    def __init__(self, roles: dict[str, Role], names: dict[str, tuple[str, ...]]):
        self.roles = roles
        self.names = names

    def by_guid(self, role_guid: str) -> Role | None:
        return self.roles.get(guid(role_guid))

    def by_name(self, role_name: str) -> Role | None:
        """A role known by its name (the overview's RoleName), for a GUID the table lacks."""
        folded = role_name.strip().lower()
        for role in self.roles.values():
            if folded == role.name.lower() or folded.endswith(role.name.lower()):
                return role
        for fragment, products in self.names.items():
            if fragment in folded:
                return Role(role_name.strip(), products)
        return None


@cache
def role_table() -> RoleTable:
    text = resources.files("entitle.importers").joinpath("data/ual_roles.toml").read_text("utf-8")
    data = tomllib.loads(text)
    roles = {
        guid(key): Role(value["name"], tuple(value["products"]), bool(value.get("anonymous")))
        for key, value in data["roles"].items()
    }
    names = {key.lower(): tuple(value) for key, value in data.get("names", {}).items()}
    return RoleTable(roles, names)


@dataclass(frozen=True, slots=True)
class Vm:
    """A VM as one export names it: its name there, its DNS name (FQDN) and its UUID (VMware's VM
    UUID, else the SMBIOS/BIOS UUID; Hyper-V's VMId), any of them possibly blank."""

    name: str
    fqdn: str = ""
    uuid: str = ""
    source: Source = Source("<none>")

    @property
    def key(self) -> str:
        """What tells two VMs apart: the UUID, else the full DNS name, else the name; never the
        short name alone (``web01.prod`` and ``web01.test`` are two VMs)."""
        if self.uuid:
            return "uuid:" + guid(self.uuid)
        fqdn = self.fqdn.strip().lower().rstrip(".")
        if "." in fqdn and not is_address(fqdn):
            return "fqdn:" + fqdn
        return "name:" + self.name.strip().lower()

    @property
    def short(self) -> str:
        return host_id(self.fqdn or self.name)


def vm_ids(vms: list[Vm], out: Outcome, what: str) -> list[str | None]:
    """The OSE id of each VM: its short DNS name (the key UAL, SIL and AD share), unless two VMs
    with different keys share it — then each keeps its full DNS name (or its short name and the
    head of its UUID), with the finding ``short-name-collision``. ``None`` for a VM met again
    (same key) in the export: it is read once."""
    keys_by_short: dict[str, dict[str, Vm]] = {}
    for vm in vms:
        keys_by_short.setdefault(vm.short, {}).setdefault(vm.key, vm)
    ids: dict[str, str] = {}
    for short, found in keys_by_short.items():
        if len(found) == 1:
            ids[next(iter(found))] = short
            continue
        named = []
        for number, (key, vm) in enumerate(found.items(), start=1):
            fqdn = vm.fqdn.strip().lower().rstrip(".")
            if "." in fqdn and not is_address(fqdn):
                ids[key] = fqdn
            elif vm.uuid:
                ids[key] = f"{short}-{guid(vm.uuid)[:8]}"
            else:
                ids[key] = f"{short}-{number}"
            named.append(f"{ids[key]} ({vm.source})")
        out.warn(
            "short-name-collision",
            f"{len(found)} {what} VMs share the short name {short}: {', '.join(named)}; kept "
            f"apart under these ids, so evidence (UAL, SIL) that names only {short} is joined "
            "to neither (rename the OSEs in oses.csv if one is the server that evidence names)",
            next(iter(found.values())).source,
        )
    seen: set[str] = set()
    result: list[str | None] = []
    for vm in vms:
        if vm.key in seen:
            result.append(None)
        else:
            seen.add(vm.key)
            result.append(ids[vm.key] if vm.short else None)
    return result
