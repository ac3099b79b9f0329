"""Lookups over an estate that several rules need (built once, read-only)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from entitle.estate.records import Access, Estate, Host, Ose, Software


@dataclass(frozen=True, slots=True)
class EstateIndex:
    estate: Estate
    hosts: dict[str, Host]
    oses: dict[str, Ose]
    oses_by_host: dict[str, tuple[Ose, ...]]
    software_by_ose: dict[str, tuple[Software, ...]]
    access_by_ose: dict[str, tuple[Access, ...]]
    cluster_hosts: dict[str, tuple[str, ...]]
    first_placed: dict[str, date]  # an OSE's first day in placements.csv

    @classmethod
    def build(cls, estate: Estate) -> EstateIndex:
        by_host: dict[str, list[Ose]] = defaultdict(list)
        for o in estate.oses:
            by_host[o.host].append(o)
        sw: dict[str, list[Software]] = defaultdict(list)
        for s in estate.software:
            sw[s.ose].append(s)
        acc: dict[str, list[Access]] = defaultdict(list)
        for a in estate.access:
            acc[a.ose].append(a)
        first: dict[str, date] = {}
        for p in estate.placements:
            if p.ose not in first or p.since < first[p.ose]:
                first[p.ose] = p.since
        clusters: dict[str, list[str]] = defaultdict(list)
        for h in estate.hosts:
            if h.cluster:
                clusters[h.cluster].append(h.host)
        return cls(
            estate=estate,
            hosts={h.host: h for h in estate.hosts},
            oses={o.ose: o for o in estate.oses},
            oses_by_host={k: tuple(v) for k, v in by_host.items()},
            software_by_ose={k: tuple(v) for k, v in sw.items()},
            access_by_ose={k: tuple(v) for k, v in acc.items()},
            cluster_hosts={k: tuple(sorted(v)) for k, v in clusters.items()},
            first_placed=first,
        )

    def software(self, ose: str, product: str) -> tuple[Software, ...]:
        return tuple(s for s in self.software_by_ose.get(ose, ()) if s.product == product)

    def first_software(self, ose: str, product: str) -> Software | None:
        for s in self.software_by_ose.get(ose, ()):
            if s.product == product:
                return s
        return None

    def mobility_hosts(self, host: str) -> tuple[str, ...]:
        """The hosts whose VMs may run on ``host``: its cluster, or just itself."""
        cluster = self.hosts[host].cluster
        return self.cluster_hosts[cluster] if cluster else (host,)

    def has_active_sa(self, product: str, as_of: date, license: str | None = None) -> bool:
        return any(
            e.product == product
            and (license is None or e.license == license)
            and e.sa_until is not None
            and e.sa_until >= as_of
            for e in self.estate.entitlements
        )
