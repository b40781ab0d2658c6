"""One money format for every page, chart and command: ``$3.0B``, ``$563.6M``, ``$12.5K``,
``$950``; exact dollars where a reader needs them (tooltips, exports, ``--json``).

Axis ticks come from :func:`nice_ticks` (steps of 1, 2 or 5 times a power of ten), labelled
with :func:`money_tick`, which drops a needless ``.0`` (``$2B``, ``$2.5B``).
"""

from __future__ import annotations

import math

_UNITS = ((1e9, "B"), (1e6, "M"), (1e3, "K"))


def money(value: float | int | None) -> str:
    """Dollars in the short form: one decimal for thousands, millions and billions."""
    if value is None:
        return "–"
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    for limit, suffix in _UNITS:
        # Round first, so 999,950 shows as $1.0M, not $1000.0K.
        if round(v / limit, 1) >= 1 and (limit == 1e9 or round(v / limit, 1) < 1000):
            return f"{sign}${v / limit:.1f}{suffix}"
    return f"{sign}${v:,.0f}"


def dollars(value: float | int | None) -> str:
    """Exact whole dollars, with thousands separators (for tooltips and detail)."""
    if value is None:
        return "–"
    return f"{'-' if value < 0 else ''}${abs(int(value)):,}"


def money_tick(value: float) -> str:
    """An axis label: like :func:`money`, without a trailing ``.0``."""
    text = money(value)
    return text.replace(".0B", "B").replace(".0M", "M").replace(".0K", "K")


def _nice_step(raw: float) -> float:
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def nice_span(low: float, high: float, count: int = 4) -> list[float]:
    """Round ticks covering ``low`` to ``high`` (not from 0) in about ``count`` steps of
    1, 2, 2.5 or 5 x 10^n: for an axis of values far from zero, such as a percentage
    between 36 and 94 (ticks 20, 40, 60, 80, 100)."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return [0.0]
    if high <= low:
        low, high = low - 1, high + 1
    step = _nice_step((high - low) / max(count, 1))
    first = math.floor(low / step + 1e-9) * step
    ticks = [first]
    while ticks[-1] < high - 1e-9 * max(abs(high), step):
        ticks.append(first + len(ticks) * step)
    return [round(t, 10) for t in ticks]


def nice_ticks(top: float, count: int = 4) -> list[float]:
    """Ticks from 0 to at least ``top`` in about ``count`` steps of 1, 2, 2.5 or 5 x 10^n."""
    if top <= 0 or not math.isfinite(top):
        return [0.0]
    step = _nice_step(top / max(count, 1))
    ticks = [0.0]
    while ticks[-1] < top - 1e-9 * top:
        ticks.append(ticks[-1] + step)
    return ticks
