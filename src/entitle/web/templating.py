"""The pages' Jinja2 environment and the filters that write values for people: dates and
times as ``6 Dec 2026, 18:41 UTC`` (never raw ISO with microseconds), money with thousands
separators, and a sortable column heading that keeps the page's other query parameters."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from entitle.web.wording import plain

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parent / "templates")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when(value: Any) -> str:
    """A day as ``6 Dec 2026``; a moment (an ISO string or a datetime, taken as UTC) as
    ``6 Dec 2026, 18:41 UTC``; anything else as it is (blank for ``None``)."""
    if value is None or value == "":
        return ""
    moment: date | None = value if isinstance(value, date) else None
    if isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            return value
    if moment is None:
        return str(value)
    day = f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"
    if isinstance(moment, datetime):
        return f"{day}, {moment.hour:02d}:{moment.minute:02d} UTC"
    return day


def money(value: Any) -> str:
    """``1234.5`` as ``1,234.50``."""
    try:
        return f"{Decimal(str(value)).quantize(Decimal('0.01')):,}"
    except ArithmeticError:
        return str(value)


def sort_link(label: str, key: str, order: Any, params: dict[str, Any], prefix: str = "") -> Markup:
    """A column heading that sorts the list by ``key`` on the server (ascending first, then
    descending), keeping the page's other query parameters; ``prefix`` tells two lists of one
    page apart (``a`` for the audit: ``asort``, ``adir``)."""
    now = order.sort == key
    sort, dir = f"{prefix}sort", f"{prefix}dir"
    query = {k: v for k, v in params.items() if v not in (None, "") and k not in (sort, dir)}
    query.update({sort: key, dir: "asc" if now and order.desc else ("desc" if now else "asc")})
    arrow = (" ▼" if order.desc else " ▲") if now else ""
    return Markup(f"<a class='sort' href='?{escape(urlencode(query))}'>{escape(label)}{arrow}</a>")


def aria_sort(key: str, order: Any) -> Markup:
    if order.sort != key:
        return Markup("")
    return Markup(f" aria-sort='{'descending' if order.desc else 'ascending'}'")


TEMPLATES.env.filters["when"] = when
TEMPLATES.env.filters["money"] = money
TEMPLATES.env.globals["sort_link"] = sort_link
TEMPLATES.env.globals["aria_sort"] = aria_sort

TEMPLATES.env.filters["plain"] = plain
