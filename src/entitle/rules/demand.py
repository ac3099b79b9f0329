"""What the rules produce: needs (license units required somewhere, with the reason and the
evidence) grouped into decisions between allowed options."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from entitle.source import Finding


@dataclass(frozen=True, slots=True)
class CloudTerms:
    """Which owned licenses may cover a need at a provider (docs/rules/cloud-and-hybrid.md).

    ``right`` is the right that lets licenses with Software Assurance (or subscription) active on
    the as-of date cover it (``azure-hybrid-benefit``, ``license-mobility``,
    ``flexible-virtualization``; blank: none does); ``bought_before`` also lets licenses bought
    before that day cover it without SA (a Listed Provider's dedicated host). ``dual_use`` names
    the editions whose licenses may cover it while they cover needs on premises too (Azure
    Hybrid Benefit: Datacenter; Standard during the 180-day migration overlap). ``ratios``:
    (owned edition, virtual cores covered, per licenses) where one edition's license covers
    another's virtual cores at a ratio (SQL Server under Azure Hybrid Benefit). ``failed`` says
    why nothing may cover it, when nothing may."""

    provider: str
    right: str = ""
    bought_before: date | None = None
    dual_use: tuple[str, ...] = ()
    ratios: tuple[tuple[str, int, int], ...] = ()
    failed: str = ""

    def ratio(self, edition: str | None) -> tuple[int, int] | None:
        for owned, vcpus, licenses in self.ratios:
            if owned == edition:
                return vcpus, licenses
        return None


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
    # At a provider: the rights under which owned licenses may cover it (None: on premises).
    cloud: CloudTerms | None = None

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
