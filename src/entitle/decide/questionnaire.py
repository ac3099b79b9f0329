"""The CAL Decision Tool's questionnaire, answered by **entitle's own logic, not Microsoft's**.

Microsoft's tool (microsoft.com/licensing/CalTool) asks the questions of licensing-rules.md §9 but
does not publish how it scores them (§12 q7). This is our logic, written down so anyone can check
it, and priced — Microsoft's is count-based:

1. Split the people: ``dedicated`` (share of users with devices of their own, ``devices_per_user``
   each on average), ``shared`` (share of users on shared devices: shifts, kiosks, counters) and
   the ``rest`` (no device known). Counts are rounded half up.
2. Dedicated people: **User CALs** when devices cannot be counted reliably (device CALs need every
   device found — an audit finds the ones you missed), when devices per user are expected to grow
   (each new device would need another device CAL; a user CAL already covers it), or when user CALs
   cost no more than device CALs for their devices. Otherwise **Device CALs**.
3. Shared devices: **Device CALs** when the devices cost less than CALs for the people who share
   them (§10 example 41: 20 shift workers on 5 terminals → 5 device CALs), else User CALs.
4. The rest: User CALs (a user CAL covers whatever device they use, §1.1).
5. Ties go to fewer licenses, then to User CALs (as the optimizer breaks them).

The answer is "User", "Device" or "Mix", with counts, cost, the reason for each group and the
considerations a buyer should know (switching type only at SA renewal, §1.8).
Imports nothing of entitle beyond the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from entitle.estate.convert import MAX_COUNT

CURRENT = ("user", "device", "mix", "unknown")
DISCLAIMER = (
    "entitle's own logic, not Microsoft's (Microsoft does not publish its CAL Decision Tool's "
    "scoring); confirm with your licensing partner before you buy"
)


def whole(x: Decimal) -> int:
    return int(x.to_integral_value(rounding=ROUND_HALF_UP))


@dataclass(frozen=True, slots=True)
class Answers:
    """The questionnaire's answers (shares are fractions 0..1)."""

    users: int
    dedicated_share: Decimal
    devices_per_user: Decimal
    shared_share: Decimal
    shared_devices: int
    can_count_devices: bool = True
    device_growth: bool = False
    current: str = "unknown"

    def problems(self) -> list[str]:
        out = []
        if self.users < 1:
            out.append("--users must be at least 1")
        for name, share in (("--dedicated", self.dedicated_share), ("--shared", self.shared_share)):
            if not 0 <= share <= 1:
                out.append(f"{name} must be a percentage from 0 to 100")
        if self.dedicated_share + self.shared_share > 1:
            out.append("--dedicated and --shared together must not exceed 100 (%)")
        if self.dedicated_share > 0 and self.devices_per_user < 1:
            out.append("--devices-per-user must be at least 1 when some users have own devices")
        if self.shared_share > 0 and self.shared_devices < 1:
            out.append("--shared-devices must be at least 1 when some users share devices")
        if self.shared_devices < 0:
            out.append("--shared-devices must not be negative")
        if self.devices_per_user < 0:
            out.append("--devices-per-user must not be negative")
        # the estate's count limit (entitle.estate.convert.MAX_COUNT)
        for name, count in (
            ("--users", self.users),
            ("--shared-devices", self.shared_devices),
            ("--devices-per-user", self.devices_per_user),
        ):
            if count > MAX_COUNT:
                out.append(f"{name} must be at most {MAX_COUNT:,}")
        if self.current not in CURRENT:
            out.append("--current must be one of: " + ", ".join(CURRENT))
        return out


@dataclass(frozen=True, slots=True)
class Prices:
    product: str
    user: Decimal
    device: Decimal


@dataclass(frozen=True, slots=True)
class Group:
    """One population and the CAL type chosen for it."""

    name: str  # dedicated | shared | rest
    users: int
    devices: int
    choice: str  # user | device
    user_cost: Decimal
    device_cost: Decimal
    reason: str

    @property
    def cals(self) -> int:
        return self.users if self.choice == "user" else self.devices

    @property
    def cost(self) -> Decimal:
        return self.user_cost if self.choice == "user" else self.device_cost


@dataclass(frozen=True, slots=True)
class Recommendation:
    kind: str  # User | Device | Mix
    groups: tuple[Group, ...]
    considerations: tuple[str, ...]

    @property
    def user_cals(self) -> int:
        return sum(g.cals for g in self.groups if g.choice == "user")

    @property
    def device_cals(self) -> int:
        return sum(g.cals for g in self.groups if g.choice == "device")

    @property
    def cost(self) -> Decimal:
        return sum((g.cost for g in self.groups), Decimal(0))

    def choice(self, group: str) -> str:
        return next((g.choice for g in self.groups if g.name == group), "user")


@dataclass(frozen=True, slots=True)
class Population:
    dedicated_users: int
    dedicated_devices: int
    shared_users: int
    shared_devices: int
    rest: int


def population(a: Answers) -> Population:
    ded = whole(a.users * a.dedicated_share)
    shared = min(whole(a.users * a.shared_share), a.users - ded)
    return Population(
        ded, whole(ded * a.devices_per_user), shared, a.shared_devices, a.users - ded - shared
    )


def _cheaper(users: int, devices: int, p: Prices) -> str:
    user_cost, device_cost = users * p.user, devices * p.device
    if user_cost != device_cost:
        return "user" if user_cost < device_cost else "device"
    return "user" if users <= devices else "device"


def choose(
    pop: Population, a: Answers, p: Prices, fixed: dict[str, str] | None = None
) -> tuple[Group, ...]:
    """The groups of ``pop`` with a CAL type each (``fixed`` forces a group's type)."""
    fixed = fixed or {}
    groups = []
    if pop.dedicated_users:
        users, devices = pop.dedicated_users, pop.dedicated_devices
        cheaper = _cheaper(users, devices, p)
        if not a.can_count_devices:
            choice, why = (
                "user",
                "devices cannot be counted reliably, and device CALs need every one",
            )
        elif a.device_growth:
            choice, why = (
                "user",
                "devices per user are expected to grow; a user CAL covers new ones",
            )
        elif cheaper == "user":
            choice, why = (
                "user",
                (
                    f"{users:,} user CALs cost no more than {devices:,} device CALs "
                    f"({a.devices_per_user} devices each)"
                ),
            )
        else:
            choice, why = "device", f"{devices:,} device CALs cost less than {users:,} user CALs"
        choice = fixed.get("dedicated", choice)
        groups.append(
            Group("dedicated", users, devices, choice, users * p.user, devices * p.device, why)
        )
    if pop.shared_users:
        users, devices = pop.shared_users, pop.shared_devices
        choice = fixed.get("shared", _cheaper(users, devices, p))
        why = (
            f"{devices:,} shared devices cost less as device CALs than {users:,} people as user CALs"
            if choice == "device"
            else f"{users:,} people cost no more as user CALs than {devices:,} shared devices"
        )
        groups.append(
            Group("shared", users, devices, choice, users * p.user, devices * p.device, why)
        )
    if pop.rest:
        groups.append(
            Group(
                "rest",
                pop.rest,
                0,
                "user",
                pop.rest * p.user,
                Decimal(0),
                "no device is known for them; a user CAL covers whatever they use",
            )
        )
    return tuple(groups)


def recommend(a: Answers, p: Prices) -> Recommendation:
    groups = choose(population(a), a, p)
    kinds = {g.choice for g in groups}
    kind = "Mix" if len(kinds) > 1 else ("Device" if kinds == {"device"} else "User")
    notes = [DISCLAIMER]
    wanted = kind.lower()
    if a.current not in ("unknown", wanted):
        notes.append(
            f"You license {a.current} CALs today: the type of a CAL is fixed when it is bought and "
            "can be switched only at Software Assurance renewal (§1.8); buy the new type as you "
            "grow or renew."
        )
    if "device" in kinds:
        notes.append(
            "Device CALs need an accurate count of every device that reaches the servers "
            "(including printers and scanners that talk to them, §1.5)."
        )
    if "user" in kinds:
        notes.append(
            f"User CALs cost {p.user} against {p.device} per device CAL "
            "(per-user prices carry a ~15% uplift since 2012, §1.8)."
        )
    return Recommendation(kind, groups, tuple(notes))
