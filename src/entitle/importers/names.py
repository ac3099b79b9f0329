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
