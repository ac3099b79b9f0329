"""Charts as inline SVG, written by hand: no JavaScript, no network, identical on every run.

Each function takes plain labelled numbers and returns one ``<svg>`` element as
:class:`markupsafe.Markup`, every label escaped. Coordinates are printed with one decimal, so the
same input gives the same bytes. Imports nothing of entitle.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from markupsafe import Markup, escape

PALETTE = ("#2f6db5", "#e08a2e", "#4a9b5e", "#b8483f", "#7d5ba6", "#5d8a99", "#c2a33a", "#8a8a8a")
FONT = "font-family='DejaVu Sans, Arial, sans-serif' font-size='12'"
LABEL_W = 300
BAR_W = 420
ROW_H = 22


def _n(x: float) -> str:
    return f"{x:.1f}"


def _svg(width: float, height: float, body: list[str], title: str) -> Markup:
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {_n(width)} {_n(height)}' "
        f"width='{_n(width)}' height='{_n(height)}' role='img' aria-label='{escape(title)}' {FONT}>"
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


def _legend(
    names: Sequence[str], y: float, x0: float = LABEL_W, width: float = 10_000
) -> tuple[list[str], float]:
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


def bars(items: Sequence[tuple[str, Decimal | int]], title: str, unit: str = "") -> Markup:
    """Horizontal bars, one per labelled value (largest first as given)."""
    top = max((v for _, v in items), default=0) or 1
    height = 30 + ROW_H * len(items) + 10
    body = [_text(0, 16, title, extra=" font-weight='bold'")]
    for i, (name, value) in enumerate(items):
        y = 30 + i * ROW_H
        w = float(value) / float(top) * BAR_W
        body.append(_text(LABEL_W - 8, y + 14, name, "end"))
        body.append(
            f"<rect x='{LABEL_W}' y='{_n(y + 3)}' width='{_n(w)}' height='{ROW_H - 6}' "
            f"fill='{PALETTE[0]}'><title>{escape(name)}: {escape(_fmt(value))} {escape(unit)}"
            "</title></rect>"
        )
        body.append(_text(LABEL_W + w + 6, y + 14, f"{_fmt(value)} {unit}".strip()))
    return _svg(LABEL_W + BAR_W + 130, height, body, title)


def paired_bars(
    items: Sequence[tuple[str, int, int]], title: str, names: tuple[str, str]
) -> Markup:
    """Two bars per label (e.g. required and owned), on one scale."""
    top = max((max(a, b) for _, a, b in items), default=0) or 1
    row = ROW_H + 10
    height = 50 + row * len(items)
    body = [_text(0, 16, title, extra=" font-weight='bold'")]
    body += _legend(names, 38)[0]
    for i, (name, a, b) in enumerate(items):
        y = 50 + i * row
        body.append(_text(LABEL_W - 8, y + 15, name, "end"))
        for j, value in enumerate((a, b)):
            w = value / top * BAR_W
            yy = y + 2 + j * 12
            body.append(
                f"<rect x='{LABEL_W}' y='{_n(yy)}' width='{_n(w)}' height='11' "
                f"fill='{PALETTE[j]}'><title>{escape(name)}: {escape(names[j])} {value:,}"
                "</title></rect>"
            )
            body.append(_text(LABEL_W + w + 4, yy + 10, f"{value:,}", extra=" font-size='10'"))
    return _svg(LABEL_W + BAR_W + 90, height, body, title)


def stacked_bars(
    rows: Sequence[tuple[str, Sequence[int]]], title: str, names: Sequence[str]
) -> Markup:
    """One bar per label, split into segments (one colour per name)."""
    top = max((sum(v) for _, v in rows), default=0) or 1
    height = 50 + ROW_H * len(rows) + 10
    body = [_text(0, 16, title, extra=" font-weight='bold'")]
    body += _legend(names, 38)[0]
    for i, (name, values) in enumerate(rows):
        y = 50 + i * ROW_H
        body.append(_text(LABEL_W - 8, y + 14, name, "end"))
        x = float(LABEL_W)
        for j, value in enumerate(values):
            if not value:
                continue
            w = value / top * BAR_W
            body.append(
                f"<rect x='{_n(x)}' y='{_n(y + 3)}' width='{_n(w)}' height='{ROW_H - 6}' "
                f"fill='{PALETTE[j]}'><title>{escape(name)}: {value:,} {escape(names[j])}"
                "</title></rect>"
            )
            x += w
        shown = " + ".join(f"{v:,} {names[j].lower()}" for j, v in enumerate(values) if v)
        body.append(_text(x + 6, y + 14, shown, extra=" font-size='11'"))
    return _svg(LABEL_W + BAR_W + 220, height, body, title)


def lines(
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | int | None]]],
    title: str,
    unit: str = "",
    step: bool = False,
) -> Markup:
    """One line per series over the labelled x positions (``step``: holds until the next x)."""
    width, left, right, plot_h = 760.0, 80.0, 50.0, 240.0
    values = [float(v) for _, vs in series for v in vs if v is not None]
    hi = max(values, default=0.0) or 1.0
    span = (width - left - right) / max(len(xs) - 1, 1)
    body = [_text(0, 16, title, extra=" font-weight='bold'")]
    legend, last = _legend([name for name, _ in series], 38, 0, width)
    body += legend
    top_y = last + 22
    base = top_y + plot_h
    for k in range(5):
        tick = hi * k / 4
        y = base - plot_h * k / 4
        body.append(
            f"<line x1='{_n(left)}' y1='{_n(y)}' x2='{_n(width - right)}' y2='{_n(y)}' "
            "stroke='#ddd'/>"
        )
        body.append(_text(left - 6, y + 4, f"{tick:,.0f}", "end", " font-size='10'"))
    for i, name in enumerate(xs):
        body.append(_text(left + i * span, base + 16, name, "middle", " font-size='10'"))
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
    return _svg(width, base + 30, body, title)


# -- narrow layouts (a phone's width): labels above their bars, the title wrapped ------------

NARROW_W = 360.0
NARROW_FONT = "font-family='DejaVu Sans, Arial, sans-serif' font-size='13'"


def _wrap(text: str, width: int = 44) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _narrow_svg(height: float, body: list[str], title: str) -> Markup:
    head = (
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {_n(NARROW_W)} {_n(height)}' "
        f"width='{_n(NARROW_W)}' height='{_n(height)}' role='img' aria-label='{escape(title)}' "
        f"{NARROW_FONT}>"
    )
    return Markup(head + f"<title>{escape(title)}</title>" + "".join(body) + "</svg>")


def _narrow_title(title: str) -> tuple[list[str], float]:
    rows = _wrap(title)
    body = [_text(0, 16 + 17 * i, row, extra=" font-weight='bold'") for i, row in enumerate(rows)]
    return body, 16 + 17 * len(rows)


def bars_narrow(items: Sequence[tuple[str, Decimal | int]], title: str, unit: str = "") -> Markup:
    """:func:`bars` for a narrow screen: each label on its own line above its bar, the value
    beside the bar, the bars scaled to the width that is left."""
    top = max((v for _, v in items), default=0) or 1
    body, y = _narrow_title(title)
    room = NARROW_W - 120
    for name, value in items:
        w = float(value) / float(top) * room
        body.append(_text(0, y + 14, name))
        body.append(
            f"<rect x='0' y='{_n(y + 19)}' width='{_n(w)}' height='14' fill='{PALETTE[0]}'>"
            f"<title>{escape(name)}: {escape(_fmt(value))} {escape(unit)}</title></rect>"
        )
        body.append(_text(w + 6, y + 31, f"{_fmt(value)} {unit}".strip()))
        y += 40
    return _narrow_svg(y + 6, body, title)


def paired_bars_narrow(
    items: Sequence[tuple[str, int, int]], title: str, names: tuple[str, str]
) -> Markup:
    """:func:`paired_bars` for a narrow screen: the label above its two bars."""
    top = max((max(a, b) for _, a, b in items), default=0) or 1
    body, y = _narrow_title(title)
    legend, y = _legend(names, y + 16, 0, NARROW_W)
    body += legend
    y += 6
    room = NARROW_W - 70
    for name, a, b in items:
        body.append(_text(0, y + 14, name))
        for j, value in enumerate((a, b)):
            w = value / top * room
            yy = y + 19 + j * 13
            body.append(
                f"<rect x='0' y='{_n(yy)}' width='{_n(w)}' height='11' fill='{PALETTE[j]}'>"
                f"<title>{escape(name)}: {escape(names[j])} {value:,}</title></rect>"
            )
            body.append(_text(w + 4, yy + 10, f"{value:,}", extra=" font-size='12'"))
        y += 48
    return _narrow_svg(y + 4, body, title)


def lines_narrow(
    xs: Sequence[str],
    series: Sequence[tuple[str, Sequence[Decimal | int | None]]],
    title: str,
    unit: str = "",
    step: bool = False,
) -> Markup:
    """:func:`lines` for a narrow screen: the legend wrapped under the title, at most five x
    labels (the first, the last and evenly between), the values in thousands when large."""
    left, right, plot_h = 52.0, 14.0, 180.0
    values = [float(v) for _, vs in series for v in vs if v is not None]
    hi = max(values, default=0.0) or 1.0
    span = (NARROW_W - left - right) / max(len(xs) - 1, 1)
    body, y = _narrow_title(title)
    legend, last = _legend([name for name, _ in series], y + 16, 0, NARROW_W)
    body += legend
    top_y = last + 20
    base = top_y + plot_h
    for k in range(5):
        tick = hi * k / 4
        yy = base - plot_h * k / 4
        text = f"{tick / 1000:,.0f}k" if hi >= 10_000 else f"{tick:,.0f}"
        body.append(
            f"<line x1='{_n(left)}' y1='{_n(yy)}' x2='{_n(NARROW_W - right)}' y2='{_n(yy)}' "
            "stroke='#ddd'/>"
        )
        body.append(_text(left - 4, yy + 4, text, "end", " font-size='11'"))
    shown = sorted({0, len(xs) - 1, *(round(i * (len(xs) - 1) / 4) for i in range(5))})
    for i in shown if xs else []:
        anchor = "start" if i == 0 and len(xs) > 1 else "end" if i == len(xs) - 1 else "middle"
        body.append(_text(left + i * span, base + 16, xs[i], anchor, " font-size='11'"))
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
    return _narrow_svg(base + 26, body, title)
