"""The charts' two layouts (issue #17 item 8): one drawing code, parametrised by a
:class:`~entitle.reports.charts.Layout`. The wide one is what the reports print (its bytes are in
tests/snapshots/report.html); the narrow one is drawn 360 units wide for a phone, so shown at a
phone's ~350 px its text keeps nearly its own size: every label at 11 units or more, each bar's
label on its own line above the bar, the title wrapped, at most five dates under a line chart."""

from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import Markup

from entitle.reports.charts import NARROW, WIDE, Layout, bars, lines, paired_bars, stacked_bars

TITLE = "Shortfall cost by product, the products short the most first (USD)"  # 67 characters
ITEMS = [("system-center", Decimal("28918.50")), ("sql-server", Decimal("20090.00"))]
YEARS = [f"year {y}" for y in range(12)]
SERIES = [("all User", [Decimal(1500 * (y + 1)) for y in range(12)]), ("all Device", [900] * 12)]


def attr(tag: str, name: str) -> str | None:
    found = re.search(rf"\b{name}='([^']*)'", tag)
    return found.group(1) if found else None


def texts(svg: Markup) -> list[tuple[float, float, int, str]]:
    """Each ``<text>``: x, y, its font size (its own, else the chart's) and its words."""
    base = int(attr(str(svg).split(">", 1)[0], "font-size") or 0)
    out = []
    for tag, words in re.findall(r"<text ([^>]*)>([^<]*)</text>", str(svg)):
        size = attr(tag, "font-size")
        x, y = float(attr(tag, "x") or "nan"), float(attr(tag, "y") or "nan")
        out.append((x, y, int(size) if size else base, words))
    return out


def every_chart(layout: Layout) -> list[Markup]:
    return [
        bars(ITEMS, TITLE, "USD", layout=layout),
        paired_bars([("sql-server 2022 core", 20, 16)], TITLE, ("required", "owned"), layout),
        stacked_bars([("all CALs", [3, 2, 0])], TITLE, ["User", "Device", "Suite"], layout),
        lines(YEARS, SERIES, TITLE, "USD", layout=layout),
    ]


def test_the_narrow_layout_is_360_wide_with_every_label_at_11_or_more() -> None:
    for svg in every_chart(NARROW):
        assert "viewBox='0 0 360.0 " in svg and "width='360.0'" in svg
        found = texts(svg)
        assert min(size for _, _, size, _ in found) >= 11, svg
        # the 67-character title on two rows of at most 44 characters
        assert [w for _, _, _, w in found[:2]] == [
            "Shortfall cost by product, the products",
            "short the most first (USD)",
        ]


def test_the_narrow_layout_puts_each_label_above_its_bar() -> None:
    svg = str(bars(ITEMS, TITLE, "USD", layout=NARROW))
    labels = {w: (x, y) for x, y, _, w in texts(Markup(svg))}
    bar_tops = [float(y) for y in re.findall(r"<rect x='0' y='([\d.]+)'", svg)]
    assert len(bar_tops) == 2
    for (x, y), top in zip((labels["system-center"], labels["sql-server"]), bar_tops, strict=True):
        assert x == 0 and y < top  # at the left edge, its baseline above the bar
    # the longest bar leaves 120 units for its value: 360 - 120
    assert "width='240.0'" in svg


def test_the_narrow_line_chart_shows_five_dates_and_values_in_thousands() -> None:
    svg = lines(YEARS, SERIES, "Cost per year", "USD", layout=NARROW)
    dates = [w for _, _, _, w in texts(svg) if w.startswith("year")]
    # the first, the last and evenly between: round(i * 11 / 4) for i in 0..4
    assert dates == ["year 0", "year 3", "year 6", "year 8", "year 11"]
    # the top of the axis is the largest value, 1,500 x 12 = 18,000, written in thousands
    assert "18k" in [w for _, _, _, w in texts(svg)]


def test_the_wide_layout_keeps_the_label_column_and_every_date() -> None:
    for svg in every_chart(WIDE):
        found = texts(svg)
        assert found[0][3] == TITLE  # one title row
        assert min(size for _, _, size, _ in found) >= 10
    svg = bars(ITEMS, TITLE, "USD")
    assert [(x, w) for x, _, _, w in texts(svg)][1] == (292.0, "system-center")  # 300 - 8
    dates = [w for _, _, _, w in texts(lines(YEARS, SERIES, "Cost", "USD")) if w.startswith("year")]
    assert dates == YEARS
