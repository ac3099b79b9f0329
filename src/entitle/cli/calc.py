"""``entitle calc``: one server shape, priced by the same engine as ``position``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from entitle.cli.common import bounded, emit, fail, get_catalog, to_json
from entitle.estate.records import Estate, Host, Ose, Software
from entitle.source import Source

if TYPE_CHECKING:
    from entitle.catalog import Catalog

SHAPE = Source("calc")
# The estate's limit for processors per host, cores per processor and vCPUs per VM
# (estate/convert.py's MAX_CORES, which tests/test_cli_startup.py holds equal): written here
# because importing the estate's converter loads its workbook reader, openpyxl (0.15 s).
MAX_CORES = 4096


def shape_estate(
    catalog: Catalog,
    product: str,
    edition: str | None,
    version: str | None,
    processors: int,
    cores: int,
    vms: int,
    vcpus: int | None,
    cpu_model: str | None,
    model: str | None,
) -> Estate:
    """An estate of one host: the product on the physical OSE (no VMs), or on ``vms`` VMs with a
    physical OSE that only hosts them."""
    version = version or catalog.latest_version(product)
    if version is None:
        fail([f"--product {product}: has no versions to license"])
    host = Host("server", processors, cores, cpu_model, None, SHAPE)
    software: list[Software] = []
    oses: list[Ose] = []
    if vms == 0:
        oses.append(Ose("server-os", "server", False, None, "production", False, SHAPE))
        software.append(Software("server-os", product, version, edition, model, SHAPE))  # type: ignore[arg-type]
    else:
        oses.append(Ose("host-os", "server", False, None, "production", True, SHAPE))
        for i in range(1, vms + 1):
            name = f"vm{i}"
            oses.append(Ose(name, "server", True, vcpus, "production", False, SHAPE))
            software.append(Software(name, product, version, edition, model, SHAPE))  # type: ignore[arg-type]
    return Estate(hosts=(host,), oses=tuple(oses), software=tuple(software), name="calc")


def register(app: typer.Typer) -> None:
    @app.command("calc")
    def calc(
        product: str | None = typer.Option(
            None,
            "--product",
            "-p",
            help="A catalog product id (`entitle products`); default the server OS, Windows Server.",
        ),
        processors: int = typer.Option(..., "--processors", min=1, help="Physical processors."),
        cores: int = typer.Option(..., "--cores", min=1, help="Cores per processor."),
        edition: str | None = typer.Option(
            None, "--edition", "-e", help="Edition installed; blank lets the engine choose."
        ),
        version: str | None = typer.Option(None, "--version", help="Version; default the latest."),
        vms: int = typer.Option(0, "--vms", min=0, help="VMs running the product (0 = physical)."),
        vcpus: int | None = typer.Option(None, "--vcpus", min=1, help="Virtual cores per VM."),
        cpu_model: str | None = typer.Option(
            None, "--cpu-model", help="CPU model (drives SQL's core factor)."
        ),
        model: str | None = typer.Option(
            None, "--model", help="per-core, per-vm, server-cal or payg."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
        catalog_path: Path | None = typer.Option(None, "--catalog", help="Another catalog file."),
    ) -> None:
        """License one server shape with the same engine as `position`.

        Example: entitle calc --processors 2 --cores 8 --vms 4 --edition standard
        (2×8 cores, 4 VMs of Windows Server Standard → 32 core licenses).
        """
        # the engine is imported here, not with the module: `entitle --help` stays light
        from entitle.cli.common import generation_time
        from entitle.cli.render import terminal
        from entitle.position import compute_position
        from entitle.reports import build_report
        from entitle.reports.terminal import render_report

        shape = (
            ("--processors", processors, 1, "processors per host"),
            ("--cores", cores, 1, "cores per processor"),
            ("--vms", vms, 0, "VMs on one host"),
            ("--vcpus", vcpus, 1, "virtual cores per VM"),
        )
        # the estate's limit for processors, cores and vCPUs, and for the VMs of one host (each
        # VM is built and licensed: a billion of them would exhaust any machine)
        out_of_range = [bounded(v, o, low, MAX_CORES, what) for o, v, low, what in shape]
        if any(out_of_range):
            fail([p for p in out_of_range if p])
        catalog = get_catalog(catalog_path)
        product = product or catalog.roles.server_os
        problems = []
        if product not in catalog.products:
            problems.append(f"--product {product!r}: unknown; one of {', '.join(catalog.products)}")
        else:
            prod = catalog.product(product)
            if edition is not None and edition not in prod.editions:
                problems.append(
                    f"--edition {edition!r}: {product} editions are "
                    f"{', '.join(prod.editions) or 'none'}"
                )
            if version is not None and version not in prod.version_ids:
                problems.append(
                    f"--version {version!r}: {product} versions are {', '.join(prod.version_ids)}"
                )
        if model is not None and model not in ("per-core", "per-vm", "server-cal", "payg"):
            problems.append(f"--model {model!r}: one of per-core, per-vm, server-cal, payg")
        if problems:
            fail(problems)
        estate = shape_estate(
            catalog, product, edition, version, processors, cores, vms, vcpus, cpu_model, model
        )
        result = compute_position(estate, catalog)
        if as_json:
            emit(to_json(result.as_json()), None)
        else:
            report = build_report(result, generation_time(), catalog=catalog)
            render_report(report, terminal(), explain=True)
