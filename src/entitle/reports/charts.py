"""Charts as inline SVG, written by hand: no JavaScript, no network, identical on every run.

Each function takes plain labelled numbers and a :class:`Layout` and returns one ``<svg>``
element as :class:`markupsafe.Markup`, every label escaped. :data:`WIDE` puts the labels in a
column left of the bars (a laptop, paper); :data:`NARROW` draws 360 units wide for a phone, each
label on its own line above its bar, the title wrapped, the text larger. Coordinates are printed
with one decimal, so the same input gives the same bytes. Imports nothing of entitle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#2f6db5", "#e08a2e", "#4a9b5e", "#b8483f", "#7d5ba6", "#5d8a99", "#c2a33a", "#8a8a8a")
LABEL_W = 300
BAR_W = 420
ROW_H = 22


@dataclass(frozen=True)
class Layout:
    """Where a chart's parts go (sizes in the units of its ``viewBox``)."""

    width: float | None  # the chart's width; None: as wide as its labels, bars and values need
    font: int  # the labels' size
    small: int  # the values beside bars, a line chart's axis values and dates
    label_w: int  # the column left of the bars that holds their labels; 0: each label above
    title_chars: int  # the title wrapped at this many characters; 0: on one line
    left: float  # a line chart's margin for its axis values
    right: float  # and on its right
    plot_h: float  # a line chart's plotting height
    dates: int  # at most this many dates under a line chart (first, last, evenly between); 0: all
    thousands: bool  # axis values of 10,000 and more in thousands ("12k")

    @property
    def lift(self) -> int:
        """How far a bar sits below its row's top: the line of its label when that is above."""
        return 0 if self.label_w else 16

    def room(self, reserve: float) -> float:
        """The longest bar's length, leaving ``reserve`` for the value written after it."""
        return BAR_W if self.width is None else self.width - self.label_w - reserve


WIDE = Layout(None, 12, 10, LABEL_W, 0, 80.0, 50.0, 240.0, 0, False)
NARROW = Layout(360.0, 13, 11, 0, 44, 52.0, 14.0, 180.0, 5, True)


def _n(x: float) -> str:
    return f"{x:.1f}"


def _svg(width: float, height: float, body: list[str], title: str, layout: Layout) -> Markup:
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {_n(width)} {_n(height)}' "
        f"width='{_n(width)}' height='{_n(height)}' role='img' aria-label='{escape(title)}' "
        f"font-family='DejaVu Sans, Arial, sans-serif' font-size='{layout.font}'>"
    )
    return Markup(head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _fmt(value: Decimal | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.quantize(Decimal('0.01')):,}"
    return f"{value:,}"


def _text(x: float, y: float, text: str, anchor: str = "start", extra: str = "") -> str:
    return f"<text x='{_n(x)}' y='{_n(y)}' text-anchor='{anchor}'{extra}>{escape(text)}</text>"


def _wrap(text: str, width: int) -> list[str]:
    rows: list[str] = []
    for word in text.split():
        if rows and len(rows[-1]) + 1 + len(word) <= width:
            rows[-1] += " " + word
        else:
            rows.append(word)
    return rows or [""]


def _title(title: str, layout: Layout) -> tuple[list[str], float]:
    """The title in bold, wrapped as the layout says; and the baseline of its last row."""
    rows = _wrap(title, layout.title_chars) if layout.title_chars else [title]
    body = [_text(0, 16 + 17 * i, row, extra=" font-weight='bold'") for i, row in enumerate(rows)]
    return body, 16 + 17 * (len(rows) - 1)


def _label(layout: Layout, y: float, name: str) -> str:
    """A bar's label: right-aligned in the label column, or above the bar."""
    if layout.label_w:
        return _text(layout.label_w - 8, y, name, "end")
    return _text(0, y, name)


def _legend(names: Sequence[str], y: float, x0: float, width: float) -> tuple[list[str], float]:
    """Legend entries from ``x0``, wrapping before ``width``; and the y of the last row."""
    out, x = [], x0
    for i, name in enumerate(names):
        size = 24 + 7.2 * len(name)
        if x > x0 and x + size > width:
            x, y = x0, y + 18
        colour = PALETTE[i % len(PALETTE)]
        out.append(f"<rect x='{_n(x)}' y='{_n(y - 10)}' width='12' height='12' fill='{colour}'/>")
        out.append(_text(x + 16, y, name))
        x += size
    return out, y


def bars(
    items: Sequence[tuple[str, Decimal | int]], title: str, unit: str = "", layout: Layout = WIDE
) -> Markup:
    """Horizontal bars, one per labelled value (largest first as given)."""
    top = max((v for _, v in items), default=0) or 1
    body, y = _title(title, layout)
    y += 14
    x0, lift, room = layout.label_w, layout.lift, layout.room(120)
    row = ROW_H + lift
    for i, (name, value) in enumerate(items):
        ry = y + i * row
        w = float(value) / float(top) * room
        body.append(_label(layout, ry + 14, name))
        body.append(
            f"<rect x='{x0}' y='{_n(ry + lift + 3)}' width='{_n(w)}' height='{ROW_H - 6}' "
            f"fill='{PALETTE[0]}'><title>{escape(name)}: {escape(_fmt(value))} {escape(unit)}"
            "</title></rect>"
        )
        body.append(_text(x0 + w + 6, ry + lift + 14, f"{_fmt(value)} {unit}".strip()))
    width = layout.width or LABEL_W + BAR_W + 130
    return _svg(width, y + row * len(items) + 10, body, title, layout)


def paired_bars(
    items: Sequence[tuple[str, int, int]],
    title: str,
    names: tuple[str, str],
    layout: Layout = WIDE,
) -> Markup:
    """Two bars per label (e.g. required and owned), on one scale."""
    top = max((max(a, b) for _, a, b in items), default=0) or 1
    x0, lift, room = layout.label_w, layout.lift, layout.room(70)
    body, y = _title(title, layout)
    legend, last = _legend(names, y + 22, x0, layout.width or 10_000)
    body += legend
    y = last + 12
    row = ROW_H + 10 + lift
    for i, (name, a, b) in enumerate(items):
        ry = y + i * row
        body.append(_label(layout, ry + 15, name))
        for j, value in enumerate((a, b)):
            w = value / top * room
            yy = ry + lift + 2 + j * 12
            body.append(
                f"<rect x='{x0}' y='{_n(yy)}' width='{_n(w)}' height='11' "
                f"fill='{PALETTE[j]}'><title>{escape(name)}: {escape(names[j])} {value:,}"
                "</title></rect>"
            )
            body.append(
                _text(x0 + w + 4, yy + 10, f"{value:,}", extra=f" font-size='{layout.small}'")
            )
    width = layout.width or LABEL_W + BAR_W + 90
    return _svg(width, y + row * len(items), body, title, layout)


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[int]]],
    title: str,
    names: Sequence[str],
    layout: Layout = WIDE,
) -> Markup:
    """One bar per label, split into segments (one colour per name)."""
    top = max((sum(v) for _, v in rows), default=0) or 1
    x0, lift, room = layout.label_w, layout.lift, layout.room(160)
    body, y = _title(title, layout)
    legend, last = _legend(names, y + 22, x0, layout.width or 10_000)
    body += legend
    y = last + 12
    row = ROW_H + lift
    for i, (name, values) in enumerate(rows):
        ry = y + i * row
        body.append(_label(layout, ry + 14, name))
        x = float(x0)
        for j, value in enumerate(values):
            if not value:
                continue
            w = value / top * room
            body.append(
                f"<rect x='{_n(x)}' y='{_n(ry + lift + 3)}' width='{_n(w)}' "
                f"height='{ROW_H - 6}' fill='{PALETTE[j]}'><title>{escape(name)}: {value:,} "
                f"{escape(names[j])}</title></rect>"
            )
            x += w
        shown = " + ".join(f"{v:,} {names[j].lower()}" for j, v in enumerate(values) if v)
        size = f" font-size='{layout.small + 1}'"
        body.append(_text(x + 6, ry + lift + 14, shown, extra=size))
    width = layout.width or LABEL_W + BAR_W + 220
    return _svg(width, y + row * len(rows) + 10, body, title, layout)


def _dates(count: int, layout: Layout) -> list[tuple[int, str]]:
    """Which x positions get their label under a line chart, and its text-anchor."""
    if not layout.dates:
        return [(i, "middle") for i in range(count)]
    last = count - 1
    shown = sorted({0, last, *(round(i * last / (layout.dates - 1)) for i in range(layout.dates))})
    return [
        (i, "start" if i == 0 and count > 1 else "end" if i == last else "middle")
        for i in (shown if count else [])
    ]


def lines(
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | int | None]]],
    title: str,
    unit: str = "",
    step: bool = False,
    layout: Layout = WIDE,
) -> Markup:
    """One line per series over the labelled x positions (``step``: holds until the next x)."""
    width = layout.width or 760.0
    left, plot_h = layout.left, layout.plot_h
    values = [float(v) for _, vs in series for v in vs if v is not None]
    hi = max(values, default=0.0) or 1.0
    span = (width - left - layout.right) / max(len(xs) - 1, 1)
    body, y = _title(title, layout)
    legend, last = _legend([name for name, _ in series], y + 22, 0, width)
    body += legend
    base = last + 22 + plot_h
    small = f" font-size='{layout.small}'"
    for k in range(5):
        tick = hi * k / 4
        yy = base - plot_h * k / 4
        text = f"{tick / 1000:,.0f}k" if layout.thousands and hi >= 10_000 else f"{tick:,.0f}"
        body.append(
            f"<line x1='{_n(left)}' y1='{_n(yy)}' x2='{_n(width - layout.right)}' y2='{_n(yy)}' "
            "stroke='#ddd'/>"
        )
        body.append(_text(left - 6, yy + 4, text, "end", small))
    for i, anchor in _dates(len(xs), layout):
        body.append(_text(left + i * span, base + 16, xs[i], anchor, small))
    for j, (name, vs) in enumerate(series):
        points: list[tuple[float, float]] = []
        for i, v in enumerate(vs):
            if v is None:  # no value there (a series that starts later)
                continue
            point = (left + i * span, base - float(v) / hi * plot_h)
            if step and points:
                points.append((point[0], points[-1][1]))
            points.append(point)
        path = " ".join(f"{_n(px)},{_n(py)}" for px, py in points)
        colour = PALETTE[j % len(PALETTE)]
        body.append(
            f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'>"
            f"<title>{escape(name)}</title></polyline>"
        )
        for i, v in enumerate(vs):
            if v is None:
                continue
            cx, cy = left + i * span, base - float(v) / hi * plot_h
            body.append(
                f"<circle cx='{_n(cx)}' cy='{_n(cy)}' r='3' fill='{colour}'><title>"
                f"{escape(name)}, {escape(xs[i])}: {escape(_fmt(v))} {escape(unit)}</title></circle>"
            )
    return _svg(width, base + 30, body, title, layout)
