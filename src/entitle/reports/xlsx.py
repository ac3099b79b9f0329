"""The report as an Excel workbook (openpyxl): Summary, Lines, Choices, Plan, Evidence,
Findings, Assumptions (and What-if when a change file was applied, Cloud when hosts are at a
provider).

Every table has a bold frozen header, a filter and column widths fitted to its text. Numbers are
numbers: counts ``#,##0``, money a currency format, dates real dates.

**Money is exact.** A cell holds an IEEE double; an amount is written as a number only when the
shortest text of that double is the amount itself (``Decimal(repr(float(x))) == x``, true for
every amount of up to 15 significant digits — any real price or total). Otherwise it is written
as its exact text, so a workbook never shows a figure the engine did not compute.

**No formula injection.** Text is always written as a string cell (never a formula), and text
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return also gets Excel's "quote
prefix" style, so editing the cell later cannot turn it into a formula either.

**Deterministic.** The document's created/modified time and every zip entry's time are the
report's generation time, so the same input at the same time gives the same bytes.

Imports the report model only.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from entitle.reports.model import Report, line_label

RISKY_START = ("=", "+", "-", "@", "\t", "\r")
COUNT = "#,##0"
SIGNED_COUNT = "+#,##0;-#,##0;0"
DATE = "yyyy-mm-dd"
DATETIME = "yyyy-mm-dd hh:mm:ss"
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CHF": "CHF "}
HEADER_FILL = PatternFill("solid", fgColor="DCE3EC")


def money_format(currency: str) -> str:
    code = re.sub(r"[^A-Za-z]", "", currency)[:3].upper() or "USD"
    symbol = SYMBOLS.get(code)
    if symbol:
        return f'"{symbol}"#,##0.00;-"{symbol}"#,##0.00'
    return f'#,##0.00 "{code}";-#,##0.00 "{code}"'


def exact_number(amount: Decimal) -> float | str:
    """The amount as a double when that double is exactly it, else its exact text."""
    as_float = float(amount)
    return as_float if Decimal(repr(as_float)) == amount else str(amount)


class Money(Decimal):
    """Marks a Decimal to be written with the currency format."""


class Signed(int):
    """Marks a count change, shown with its sign."""


def _put(ws: Worksheet, row: int, col: int, value: Any, money_fmt: str) -> None:
    cell = ws.cell(row=row, column=col)
    if value is None or value == "":
        return
    if isinstance(value, Money):
        cell.value = exact_number(Decimal(value))
        cell.number_format = money_fmt
        if isinstance(cell.value, str):
            cell.data_type = "s"
            cell.alignment = Alignment(horizontal="right")
    elif isinstance(value, bool):
        cell.value = "yes" if value else "no"
    elif isinstance(value, Signed):
        cell.value = int(value)
        cell.number_format = SIGNED_COUNT
    elif isinstance(value, int):
        cell.value = value
        cell.number_format = COUNT
    elif isinstance(value, Decimal):
        cell.value = exact_number(value)
    elif isinstance(value, datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATETIME
    elif isinstance(value, date):
        cell.value = value
        cell.number_format = DATE
    else:
        text = str(value)
        cell.value = text
        cell.data_type = "s"  # a string, whatever it starts with: never a formula
        if text.startswith(RISKY_START):
            cell.quotePrefix = True


def _table(
    wb: Workbook,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    money_fmt: str,
) -> Worksheet:
    ws = wb.create_sheet(title)
    for j, name in enumerate(header, start=1):
        _put(ws, 1, j, name, money_fmt)
        ws.cell(row=1, column=j).font = Font(bold=True)
        ws.cell(row=1, column=j).fill = HEADER_FILL
    for i, row in enumerate(rows, start=2):
        for j, value in enumerate(row, start=1):
            _put(ws, i, j, value, money_fmt)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(header))
    ws.auto_filter.ref = f"A1:{last}{max(len(rows) + 1, 1)}"
    _widths(ws, header, rows)
    return ws


def _width_of(value: Any) -> int:
    if isinstance(value, Decimal):
        return len(f"{value:,.2f}") + 3
    if isinstance(value, datetime):
        return 19
    if isinstance(value, date):
        return 10
    return len(str(value)) if value is not None else 0


def _widths(ws: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    for j, name in enumerate(header):
        longest = max([len(name) + 4] + [_width_of(r[j]) for r in rows[:2000] if j < len(r)])
        ws.column_dimensions[get_column_letter(j + 1)].width = min(max(longest + 2, 8), 70)


def _summary_rows(r: Report) -> list[list[Any]]:
    s = r.summary
    rows: list[list[Any]] = [
        ["Estate", s.estate],
        ["Position as of", s.as_of],
        ["Currency", s.currency],
        ["Cost to be compliant", Money(s.total_cost)],
        ["Status", "compliant" if s.compliant else "shortfall"],
        ["Plan", s.optimality or "computed"],
        ["Lower bound", Money(s.lower_bound) if s.lower_bound is not None else None],
        ["License lines", s.lines],
        ["Lines short", s.lines_short],
        ["Licenses short", s.units_short],
    ]
    rows += [[f"Findings: {sev}", n] for sev, n in s.findings]
    rows += [["Catalog version", s.catalog_version], ["Generated (UTC)", s.generated_at]]
    rows.append(["", ""])
    rows.append(["Top shortfalls", "cost"])
    rows += [[line_label(x), Money(x.cost)] for x in r.top_shortfalls]
    return rows


def _line_rows(r: Report) -> list[list[Any]]:
    return [
        [
            x.product,
            x.license,
            x.edition,
            x.version,
            x.model,
            x.required,
            x.owned,
            x.shortfall,
            x.surplus,
            Money(x.unit_price) if x.unit_price is not None else None,
            Money(x.cost),
            " + ".join(f"{n} × {size}-core pack" for size, n in x.packs.items()),
            Money(x.monthly_cost) if x.monthly_cost is not None else None,
            x.price_source,
        ]
        for x in r.lines
    ]


def _what_if_rows(r: Report) -> list[list[Any]]:
    if r.what_if is None:
        return []
    rows: list[list[Any]] = []
    for c in r.what_if.changed:
        row: list[Any] = [c.label]
        for name in ("required", "owned", "shortfall"):
            before = getattr(c.before, name) if c.before else 0
            after = getattr(c.after, name) if c.after else 0
            row += [before, after, Signed(after - before)]
        before_cost = c.before.cost if c.before else Decimal(0)
        after_cost = c.after.cost if c.after else Decimal(0)
        row += [Money(before_cost), Money(after_cost), Money(after_cost - before_cost)]
        rows.append(row)
    total = r.what_if
    rows.append(
        ["Total"]
        + [None] * 9
        + [Money(total.total_before), Money(total.total_after), Money(total.total_change)]
    )
    return rows


def build_workbook(r: Report) -> Workbook:
    fmt = money_format(r.currency)
    wb = Workbook()
    wb.remove(wb.active)
    summary = _table(wb, "Summary", ["item", "value"], _summary_rows(r), fmt)
    summary.auto_filter.ref = None
    _table(
        wb,
        "Lines",
        [
            "product",
            "license",
            "edition",
            "version",
            "model",
            "required",
            "owned",
            "shortfall",
            "surplus",
            "unit price",
            "cost",
            "packs to buy",
            "billed per month",
            "price from",
        ],
        _line_rows(r),
        fmt,
    )
    if r.what_if is not None:
        ws = _table(
            wb,
            "What-if",
            ["license"]
            + [
                f"{n} {w}"
                for n in ("required", "owned", "short")
                for w in ("before", "after", "change")
            ]
            + ["cost before", "cost after", "cost change"],
            _what_if_rows(r),
            fmt,
        )
        ws.cell(row=1, column=15, value="changes applied")
        for i, text in enumerate(r.changes, start=2):
            _put(ws, i, 15, text, fmt)
    _table(
        wb,
        "Choices",
        ["decision", "chosen", "cost", "alternatives", "why"],
        [[c.decision, c.chosen, Money(c.cost), c.alternatives, c.why] for c in r.choices],
        fmt,
    )
    _table(
        wb,
        "Plan",
        [
            "section",
            "holder kind",
            "holder",
            "product",
            "license",
            "edition",
            "version",
            "quantity",
            "model",
            "reason",
        ],
        [
            [
                p.section,
                p.holder_kind,
                p.holder,
                p.product,
                p.license,
                p.edition,
                p.version,
                p.quantity,
                p.model,
                p.reason,
            ]
            for p in r.plan
        ],
        fmt,
    )
    if r.cloud:
        _table(
            wb,
            "Cloud",
            [
                "provider",
                "host",
                "OSE",
                "product",
                "edition",
                "version",
                "model",
                "right",
                "entitlement",
                "units",
                "short",
                "note",
            ],
            [
                [
                    c.provider,
                    c.host,
                    c.ose,
                    c.product,
                    c.edition,
                    c.version,
                    c.model,
                    c.right,
                    c.entitlement,
                    c.quantity,
                    c.short,
                    c.note,
                ]
                for c in r.cloud
            ],
            fmt,
        )
    _table(
        wb,
        "Evidence",
        ["license", "units", "where", "reason", "evidence"],
        [[e.line, e.quantity, e.where, e.reason, e.evidence] for e in r.evidence],
        fmt,
    )
    _table(
        wb,
        "Findings",
        ["severity", "code", "message", "source"],
        [[f.severity, f.code, f.message, f.source] for f in r.findings],
        fmt,
    )
    assumptions: list[list[Any]] = [[k, v, None, "", ""] for k, v in r.assumptions]
    assumptions += [
        [
            f"price: {p.line}",
            "",
            Money(p.unit_price) if p.unit_price is not None else None,
            p.source,
            p.confidence,
        ]
        for p in r.prices
    ]
    _table(
        wb,
        "Assumptions",
        ["assumption", "value", "unit price", "from", "confidence"],
        assumptions,
        fmt,
    )
    stamp = r.summary.generated_at.replace(tzinfo=None, microsecond=0)
    wb.properties.creator = "entitle"
    wb.properties.created = stamp
    wb.properties.modified = stamp
    wb.properties.title = f"License position of {r.summary.estate} on {r.summary.as_of.isoformat()}"
    return wb


def render_xlsx(r: Report) -> bytes:
    """The workbook's bytes, every zip entry stamped with the generation time."""
    raw = io.BytesIO()
    build_workbook(r).save(raw)
    stamp = r.summary.generated_at
    when = (max(stamp.year, 1980), stamp.month, stamp.day, stamp.hour, stamp.minute, stamp.second)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=when)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o600 << 16
            data = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps "modified" with now
                iso = stamp.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + iso + rb"\g<2>", data
                )
            dst.writestr(entry, data)
    return out.getvalue()
