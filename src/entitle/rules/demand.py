"""What the rules produce: needs (license units required somewhere, with the reason and the
evidence) grouped into decisions between allowed options."""

from __future__ import annotations

from dataclasses import dataclass, field

from entitle.source import Finding


@dataclass(frozen=True, slots=True)
class Need:
    """``quantity`` license units of one kind, needed at one place for one reason.

    ``host`` is where core, server and connector licenses must be assigned (None for CALs and
    client MLs, which follow a user or a device). ``model`` is how the thing is licensed.
    """

    product: str
    license: str
    quantity: int
    edition: str | None = None
    version: str | None = None
    host: str | None = None
    ose: str | None = None
    model: str = ""
    reason: str = ""
    evidence: tuple[str, ...] = ()
    holders: tuple[str, ...] = ()  # users/devices/OSEs that hold the units (CALs, client MLs)
    billed: bool = False  # pay-as-you-go: billed monthly, never bought
    # Only licenses with Software Assurance (or subscription) active on the as-of date may cover
    # these units: an SA-only right (per-VM licensing, License Mobility, unlimited virtualization).
    sa_required: bool = False

    @property
    def key(self) -> tuple[str, str, str | None, str | None]:
        return (self.product, self.license, self.edition, self.version)


@dataclass(frozen=True, slots=True)
class Option:
    """One allowed way to license a decision's subject: the needs it creates, plus nested
    decisions that remain open inside it (each SQL VM's own choice, say)."""

    label: str
    needs: tuple[Need, ...] = ()
    subdecisions: tuple[Decision, ...] = ()
    note: str = ""
    warning: str = ""  # emitted as a finding when this option is chosen
    shadow: tuple[Need, ...] = ()  # counted when choosing, reported elsewhere (Server+CAL CALs)
    notices: tuple[Finding, ...] = ()  # emitted as they are when this option is chosen


@dataclass(frozen=True, slots=True)
class Decision:
    """A subject (a host, a cluster, an OSE, a user) and the options the rules allow for it.
    ``why`` says why the options are what they are (fixed model, Datacenter installed …)."""

    key: str
    product: str
    subject: str
    options: tuple[Option, ...]
    why: str = ""


@dataclass(frozen=True, slots=True)
class Demand:
    decisions: tuple[Decision, ...] = ()
    findings: tuple[Finding, ...] = field(default=())
