"""Indicator trend charts as inline SVG (like :mod:`ssaplan.ui.charts`): measured values
against the target path, drawn on the server, every point carrying its numbers as a
``<title>`` tooltip so the chart reads without colour and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

from ssaplan.ui.money import nice_span

# A point's status (when rated) marks it: colour plus a shape, so it reads in grey too.
STATUS_MARK = {"on_track": "circle", "at_risk": "diamond", "off_track": "square"}
# Presentation attributes, so the chart draws the same whatever the page's stylesheet.
COLOR = {
    "on_track": "#2f8f5b",
    "at_risk": "#d08a1b",
    "off_track": "#b2182b",
    "unrated": "#8c8c8c",
    "actual": "#1f4e8c",
    "target": "#d08a1b",
    "grid": "#d8dce4",
    "baseline": "#5d6678",
}


def _fmt(value: float) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


# Axis text is 10 units high; a character of a sans-serif is at most about 0.6 of that
# wide, and labels keep this much space between them.
_CHAR_W, _LABEL_GAP = 6.0, 8.0


def _period_labels(
    periods: Sequence[str], x: Callable[[int], float], width: int
) -> list[tuple[float, str, str]]:
    """The period labels to draw, as (x, text-anchor, text): every period if they fit side
    by side, else every second, third, ... (the fewest skipped that fit), always with the
    first and the last period (a label that would run past the chart's right edge ends at
    it instead)."""
    n = len(periods)

    def placed(picks: list[int]) -> list[tuple[float, str, str]] | None:
        out: list[tuple[float, str, str]] = []
        right_of_last = float("-inf")
        for i in picks:
            w = len(periods[i]) * _CHAR_W
            px, anchor, left = x(i), "middle", x(i) - w / 2
            if px + w / 2 > width - 2:
                px, anchor, left = width - 2, "end", width - 2 - w
            if left < right_of_last + _LABEL_GAP:
                return None
            right_of_last = left + w
            out.append((px, anchor, periods[i]))
        return out

    for step in range(1, n):
        picks = list(range(0, n, step))
        if picks[-1] != n - 1:
            picks.append(n - 1)
        # Every step-th period, and the last: if it crowds the one before, that one goes.
        fitted = placed(picks) or (placed(picks[:-2] + picks[-1:]) if len(picks) > 2 else None)
        if fitted is not None:
            return fitted
    return placed([0, n - 1] if n > 1 else [0]) or placed([0]) or []


def trend(
    periods: Sequence[str],
    actual: Sequence[float | None],
    target: Sequence[float | None],
    *,
    title: str,
    unit: str = "",
    status: Sequence[str | None] | None = None,
    baseline: float | None = None,
    width: int = 560,
    height: int = 220,
) -> Markup:
    """Measured values (solid, with points) against the target path (dashed) by period.

    ``actual`` and ``target`` align with ``periods`` (None where there is none);
    ``status`` optionally marks each measured point on_track / at_risk / off_track.
    """
    pad_l, pad_r, pad_t, pad_b = 56, 12, 22, 30
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b
    values = [v for v in (*actual, *target) if v is not None]
    if baseline is not None:
        values.append(baseline)
    out = [
        f'<svg class="chart trend" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    if not periods or not values:
        out.append(
            f'<text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle">'
            "no measurements yet</text></svg>"
        )
        return Markup("".join(out))  # noqa: S704 - only our own markup and escaped text
    ticks = nice_span(min(values), max(values))
    low, high = ticks[0], ticks[-1]
    n = len(periods)

    def x(i: int) -> float:
        return pad_l + (plot_w * (i + 0.5) / n)

    def y(v: float) -> float:
        return pad_t + plot_h * (1 - (v - low) / (high - low))

    for v in ticks:
        out.append(
            f'<line class="grid" x1="{pad_l}" x2="{width - pad_r}" y1="{y(v):.1f}" '
            f'y2="{y(v):.1f}" stroke="{COLOR["grid"]}"/>'
            f'<text class="axis" x="{pad_l - 4}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{escape(_fmt(v))}</text>'
        )
    for px, anchor, label in _period_labels(periods, x, width):
        out.append(
            f'<text class="axis" x="{px:.1f}" y="{height - 10}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    if baseline is not None:
        out.append(
            f'<line class="baseline" x1="{pad_l}" x2="{width - pad_r}" y1="{y(baseline):.1f}" '
            f'y2="{y(baseline):.1f}" stroke="{COLOR["baseline"]}" stroke-dasharray="2 3"><title>'
            f"{escape(f'baseline {_fmt(baseline)} {unit}'.strip())}</title></line>"
        )
    target_pts = [(x(i), y(v)) for i, v in enumerate(target) if v is not None]
    if len(target_pts) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in target_pts)
        out.append(
            f'<polyline class="target" points="{path}" fill="none" stroke="{COLOR["target"]}" '
            'stroke-width="1.5" stroke-dasharray="6 4"/>'
        )
    for i, goal in enumerate(target):
        if goal is not None:
            tip = f"{periods[i]} target: {_fmt(goal)} {unit}".strip()
            out.append(
                f'<circle class="target-point" cx="{x(i):.1f}" cy="{y(goal):.1f}" r="2.5" '
                f'fill="{COLOR["target"]}">'
                f"<title>{escape(tip)}</title></circle>"
            )
    actual_pts = [(x(i), y(v)) for i, v in enumerate(actual) if v is not None]
    if len(actual_pts) > 1:
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in actual_pts)
        out.append(
            f'<polyline class="actual" points="{path}" fill="none" stroke="{COLOR["actual"]}" '
            'stroke-width="2"/>'
        )
    for i, measured in enumerate(actual):
        if measured is None:
            continue
        state = status[i] if status is not None and i < len(status) else None
        tip = f"{periods[i]}: {_fmt(measured)} {unit}".strip()
        if target[i] is not None:
            tip += f" (target {_fmt(target[i] or 0.0)})"
        if state:
            tip += f" — {state.replace('_', ' ')}"
        px, py = x(i), y(measured)
        cls = f"point {state or 'unrated'}"
        fill = f'fill="{COLOR.get(state or "unrated", COLOR["unrated"])}"'
        shape = STATUS_MARK.get(state or "", "circle")
        if shape == "square":
            mark = (
                f'<rect class="{cls}" x="{px - 4:.1f}" y="{py - 4:.1f}" width="8" height="8" '
                f"{fill}>"
            )
        elif shape == "diamond":
            mark = (
                f'<polygon class="{cls}" points="{px:.1f},{py - 5:.1f} {px + 5:.1f},{py:.1f} '
                f'{px:.1f},{py + 5:.1f} {px - 5:.1f},{py:.1f}" {fill}>'
            )
        else:
            mark = f'<circle class="{cls}" cx="{px:.1f}" cy="{py:.1f}" r="4" {fill}>'
        end = mark.split(" ", 1)[0][1:]
        out.append(f"{mark}<title>{escape(tip)}</title></{end}>")
    out.append(
        f'<line class="actual" x1="{pad_l}" x2="{pad_l + 18}" y1="10" y2="10" '
        f'stroke="{COLOR["actual"]}" stroke-width="2"/>'
        f'<text class="legend" x="{pad_l + 22}" y="14">measured</text>'
        f'<line class="target" x1="{pad_l + 90}" x2="{pad_l + 108}" y1="10" y2="10" '
        f'stroke="{COLOR["target"]}" stroke-dasharray="6 4"/>'
        f'<text class="legend" x="{pad_l + 112}" y="14">target</text>'
    )
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704
