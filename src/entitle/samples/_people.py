"""The people side of one generated site: users, their devices, what they access, client management.

Each site has office staff (some with a laptop and a desktop, some with one device, some with a
phone that reads mail), a shift-worker group sharing a few kiosks, two or three IT admins whose
server access is ``purpose=admin``, a branch office working on an Essentials server, external
supplier-portal users, and a couple of unauthenticated requests to the public web server.
Imports only the standard library and :mod:`entitle.samples._servers`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from entitle.samples._servers import Site, Tables

FIRST = (  # noqa: SIM905 (a word list reads best as words)
    "Aisha Alice Amir Ana Ben Bruno Carla Carol Chen Chloe Daniel Dave Diego Elena Emma Eric "
    "Fatima Felix Grace Hana Hugo Ines Ivan Jack Julia Karin Kenji Laura Leo Lina Lucas Maria "
    "Marta Mei Mohammed Nadia Noah Olga Omar Paul Priya Rafael Rosa Sam Sara Sofia Tariq Tom "
    "Uma Victor Yusuf Zoe"
).split()
LAST = (  # noqa: SIM905 (a word list reads best as words)
    "Adams Ahmed Berg Brown Chen Costa Diaz Dubois Evans Fischer Garcia Gupta Hansen Ito Jansen "
    "Khan Kim Kowalski Lee Lopez Martin Meyer Moreau Murphy Nakamura Nguyen Novak Okafor Olsen "
    "Patel Petrov Rossi Santos Schmidt Silva Singh Smith Suzuki Taylor Tanaka Walsh Weber "
    "Wilson Wong Yilmaz Zhang"
).split()
DEPARTMENTS = (
    ("Finance", 14),
    ("Sales", 22),
    ("Marketing", 8),
    ("HR", 6),
    ("Legal", 4),
    ("Procurement", 8),
    ("Customer Service", 20),
    ("Engineering", 14),
    ("IT", 4),
)
SUPPLIERS = ("acme-logistics", "northwind", "contoso-parts", "fabrikam", "tailspin")
WINDOWS_CLIENT = ("Windows 11", "Windows 11", "Windows 11", "Windows 10")
PHONE_OS = ("iOS 18", "Android 15")
KIOSK_OS = "Windows 10 IoT Enterprise"
ONE_OR_TWO = (("laptop", "desktop"), ("laptop",), ("desktop",))
DEVICE_PREFIX = {"laptop": "lt", "desktop": "pc", "kiosk": "kiosk", "phone": "ph"}
ERP_DEPARTMENTS = frozenset({"Finance", "Procurement"})
FS1_DEPARTMENTS = frozenset({"Finance", "HR", "Legal", "Procurement", "IT"})


@dataclass(slots=True)
class Registry:
    """Id counters shared by every site of one generated estate (local to one call)."""

    width: int
    window: tuple[str, ...]  # the dates of the 90 days before the as-of date, oldest first
    user_ids: dict[str, int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)

    def user_id(self, first: str, last: str) -> str:
        base = (first[0] + last).lower()
        seen = self.user_ids.get(base, 0) + 1
        self.user_ids[base] = seen
        return base if seen == 1 else f"{base}{seen}"

    def next_id(self, kind: str) -> str:
        """``lt-0001``, ``lt-0002``, ... one counter per kind."""
        count = self.counters.get(kind, 0) + 1
        self.counters[kind] = count
        return f"{kind}-{count:0{self.width}d}"


def seen_window(as_of: date, days: int = 90) -> tuple[str, ...]:
    return tuple((as_of - timedelta(days=days - n)).isoformat() for n in range(days))


@dataclass(slots=True)
class _Site:
    """Helpers bound to one site while its people are generated."""

    tables: Tables
    site: Site
    registry: Registry
    rng: random.Random

    def access(
        self, user: str, device: str, ose: str, product: str, level: str = "", purpose: str = ""
    ) -> None:
        window = self.registry.window
        first = self.rng.randrange(len(window) - 14)
        last = self.rng.randrange(first, len(window))
        self.tables["access"].append(
            {
                "user": user,
                "device": device,
                "ose": self.site.id(ose),
                "product": product,
                "level": level,
                "purpose": purpose,
                "first_seen": window[first],
                "last_seen": window[last],
            }
        )

    def person(self, department: str, *, supplier: str = "") -> str:
        """A new user; a ``supplier`` makes an external supplier-portal user."""
        external = bool(supplier)
        if external:
            user = self.registry.next_id(f"ext-{supplier}")
            label = f"{supplier.replace('-', ' ').title()} portal user"
        else:
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            user, label = self.registry.user_id(first, last), f"{first} {last}"
        self.tables["users"].append(
            {
                "user": user,
                "external": "yes" if external else "no",
                "name": label,
                "department": department,
            }
        )
        return user

    def device(self, kind: str, os: str, user: str, managed: bool) -> str:
        device = self.registry.next_id(DEVICE_PREFIX[kind])
        self.tables["devices"].append({"device": device, "kind": kind, "os": os})
        if managed:
            self.tables["managed"].append(
                {"product": "configuration-manager", "ose": "", "device": device, "user": user}
            )
        return device


def add_people(
    tables: Tables, site: Site, users: int, registry: Registry, rng: random.Random
) -> None:
    """Append ``users`` internal users of one site, its externals, devices, access and client
    management rows to ``tables``."""
    s = _Site(tables, site, registry, rng)
    admins = max(1, round(users / 100))
    branch = min(20, users // 15)
    shift = round(users * 0.12)
    office = max(0, users - admins - branch - shift)
    for _ in range(admins):
        _admin(s)
    names, weights = zip(*DEPARTMENTS, strict=True)
    for department in rng.choices(names, weights, k=office):
        _office_worker(s, department)
    _shift_workers(s, shift)
    for _ in range(branch):
        _branch_worker(s)
    for _ in range(max(1, round(users / 30))):
        user = s.person("", supplier=rng.choice(SUPPLIERS))
        s.access(user, "", "app1", "windows-server")
        if rng.random() < 0.3:
            s.access(user, "", "sp1", "sharepoint-server")
    for _ in range(2):  # anonymous visitors of the public web site
        s.access("", "", "web-dmz1", "windows-server")
    s.access("", site.id("app1"), "sql1", "sql-server")  # server-to-server: no CAL needed
    s.access("", site.id("web1"), "sql2", "sql-server")


def _office_worker(s: _Site, department: str, kinds: tuple[str, ...] = ()) -> tuple[str, list[str]]:
    """An office worker: a laptop and a desktop (35%), a laptop or a desktop, maybe a phone."""
    rng = s.rng
    user = s.person(department)
    if not kinds:
        shape = rng.random()
        kinds = ONE_OR_TWO[0] if shape < 0.35 else ONE_OR_TWO[1] if shape < 0.8 else ONE_OR_TWO[2]
    managed = rng.random() < 0.92
    pcs = [s.device(kind, rng.choice(WINDOWS_CLIENT), user, managed) for kind in kinds]

    def pc() -> str:
        return rng.choice(pcs)

    s.access(user, pcs[0], rng.choice(("dc1", "dc2")), "windows-server")
    s.access(user, pc(), "fs1" if department in FS1_DEPARTMENTS else "fs2", "windows-server")
    enterprise = department in ("Legal", "Finance") and rng.random() < 0.5
    s.access(user, pcs[0], "exch1", "exchange-server", "enterprise" if enterprise else "")
    if rng.random() < 0.3:
        phone = s.device("phone", rng.choice(PHONE_OS), user, managed=False)
        s.access(user, phone, "exch1", "exchange-server")
    if rng.random() < 0.75:
        s.access(
            user, pc(), "sp1", "sharepoint-server", "enterprise" if rng.random() < 0.15 else ""
        )
    if rng.random() < 0.5:
        s.access(user, pc(), "web1", "windows-server")
    if rng.random() < 0.35:
        s.access(user, pc(), "app1", "windows-server")
        s.access(user, pc(), "sql1", "sql-server")
    if rng.random() < 0.2:
        s.access(user, pc(), "app2", "windows-server")
        s.access(user, pc(), "sql2", "sql-server")
    if department == "Sales" and rng.random() < 0.5:
        s.access(user, pc(), "sql3", "sql-server")
    if department in ERP_DEPARTMENTS:
        s.access(user, pc(), "erp1", "windows-server")
        s.access(user, pc(), "erp1", "sql-server")
        if department == "Finance" and rng.random() < 0.3:
            s.access(user, pc(), "sqlold1", "sql-server")
    if department in ("Finance", "Sales") and rng.random() < 0.2:
        s.access(user, pc(), "sqlent1", "sql-server")
    if rng.random() < 0.1:
        s.access(user, pc(), rng.choice(("rds1", "rds2")), "rds")
    if department in ("Engineering", "IT") and rng.random() < 0.4:
        s.access(user, pc(), "dev-app1", "windows-server")
        s.access(user, pc(), "dev-sql1", "sql-server")
        s.access(user, pc(), "test-web1", "windows-server")
    return user, pcs


def _admin(s: _Site) -> None:
    """An IT admin: an ordinary office worker with a laptop and a desktop, plus admin access to
    every server of the site (licensing-rules.md §1.5: up to two administrators need no CAL)."""
    user, pcs = _office_worker(s, "IT", ONE_OR_TWO[0])
    laptop = pcs[0]
    for ose in s.site.hosting + s.site.production:
        for product in s.site.products[ose]:
            if product in ("windows-server", "sql-server", "exchange-server", "sharepoint-server"):
                s.access(user, laptop, ose.removeprefix(s.site.prefix), product, purpose="admin")


def _shift_workers(s: _Site, count: int) -> None:
    """Warehouse shift workers: many people per kiosk, reaching the RDS session hosts."""
    if count == 0:
        return
    rng = s.rng
    kiosks = [s.device("kiosk", KIOSK_OS, "", managed=True) for _ in range(-(-count // 9))]
    for _ in range(count):
        user = s.person("Warehouse")
        used = rng.sample(kiosks, min(len(kiosks), rng.choice((1, 1, 2))))
        s.access(user, used[0], rng.choice(("dc1", "dc2")), "windows-server")
        for kiosk in used:
            s.access(user, kiosk, rng.choice(("rds1", "rds2")), "rds")
        if rng.random() < 0.4:
            s.access(user, used[0], "exch1", "exchange-server")


def _branch_worker(s: _Site) -> None:
    """A branch-office user: one desktop, the branch's Essentials server, mail and intranet."""
    rng = s.rng
    user = s.person("Branch")
    pc = s.device("desktop", rng.choice(WINDOWS_CLIENT), user, managed=rng.random() < 0.9)
    s.access(user, pc, "br1", "windows-server")
    s.access(user, pc, "exch1", "exchange-server")
    if rng.random() < 0.4:
        s.access(user, pc, "sp1", "sharepoint-server")
