"""Helpers for the workbench's forms: reading amounts and dates as people type them, and
putting every validation message next to the field it is about.

A problem's location (``("body", "budget", 0, "planned")`` from a service, or a pydantic
error's ``loc``) becomes a dotted key (``budget.0.planned``) that templates look up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date

from pydantic import ValidationError

from ssaplan.core.errors import Detail

_AMOUNT = re.compile(r"^\$?\s*([0-9][0-9,_ ]*(?:\.[0-9]+)?)\s*([kmb])?$", re.IGNORECASE)
_SCALE = {"k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
# Locations that start with these name the request, not a field.
_ROOTS = ("body", "query", "form")


def parse_amount(text: str | None) -> int | None:
    """Whole dollars from ``1,200,000``, ``$1.2M``, ``350k`` or ``0``; None when empty.

    Raises ValueError with a message for the form when the text is not an amount.
    """
    raw = (text or "").strip()
    if not raw:
        return None
    m = _AMOUNT.match(raw)
    if m is None:
        raise ValueError(f"{raw!r} is not an amount: write whole dollars, e.g. 1,200,000 or 1.2M")
    number = float(m.group(1).replace(",", "").replace("_", "").replace(" ", ""))
    value = number * _SCALE.get((m.group(2) or "").lower(), 1)
    if value != int(value):
        raise ValueError(f"{raw!r} is not whole dollars")
    return int(value)


def parse_date(text: str | None) -> date | None:
    """A date from ``YYYY-MM-DD`` (what date inputs send); None when empty."""
    raw = (text or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{raw!r} is not a date (YYYY-MM-DD)") from None


def key(loc: Iterable[str | int]) -> str:
    """A location as the dotted key a form template uses (``budget.0.planned``)."""
    parts = [str(p) for p in loc]
    while parts and parts[0] in _ROOTS:
        parts = parts[1:]
    return ".".join(parts)


def field_errors(details: Iterable[Detail]) -> dict[str, str]:
    """Messages by field key; several problems of one field are joined."""
    out: dict[str, str] = {}
    for d in details:
        k = key(d.loc)
        out[k] = f"{out[k]}; {d.msg}" if k in out else d.msg
    return out


def validation_details(exc: ValidationError) -> list[Detail]:
    """A pydantic error as problems with their locations."""
    out = []
    for e in exc.errors():
        loc = tuple(p if isinstance(p, int) else str(p) for p in e.get("loc", ()))
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        out.append(Detail(loc, msg))
    return out
