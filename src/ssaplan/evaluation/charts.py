"""Evaluation charts as inline SVG (like :mod:`ssaplan.ui.charts`): the event study with
its intervals, synthetic-control paths and gaps, and a forest plot of the evidence.
Every mark carries its numbers as a ``<title>`` tooltip, so the charts read without
colour and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup


def _num(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) / span * (b - a)


def _open(kind: str, width: int, height: int, title: str) -> list[str]:
    return [
        f'<svg class="chart {kind}" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]


def _close(out: list[str]) -> Markup:
    out.append("</svg>")
    # Every dynamic piece went through html.escape or is a number we formatted.
    return Markup("".join(out))  # noqa: S704


def event_study(
    points: Sequence[Mapping[str, Any]],
    *,
    title: str,
    unit: str = "",
    width: int = 640,
    height: int = 300,
) -> Markup:
    """Effects by period relative to treatment with their intervals.

    ``points``: ``rel_period``, ``estimate``, ``ci_low``, ``ci_high`` (``None`` for the
    reference period). Pre-periods are drawn hollow, post-periods filled; a dashed line
    marks the start of treatment, a solid one zero.
    """
    pad_l, pad_r, pad_t, pad_b = 56, 12, 16, 36
    rows = [p for p in points if p.get("estimate") is not None]
    out = _open("event-study", width, height, title)
    if not rows:
        out.append(f'<text x="{width / 2}" y="40" text-anchor="middle">no event study</text>')
        return _close(out)
    values = [0.0] + [
        float(v)
        for p in rows
        for v in (p["estimate"], p.get("ci_low"), p.get("ci_high"))
        if v is not None
    ]
    lo, hi = min(values), max(values)
    margin = (hi - lo) * 0.08 or 1.0
    lo, hi = lo - margin, hi + margin
    periods = [int(p["rel_period"]) for p in rows]
    first, last = min(periods) - 0.5, max(periods) + 0.5
    x = _scale(first, last, pad_l, width - pad_r)
    y = _scale(lo, hi, height - pad_b, pad_t)
    for frac in (0.0, 0.5, 1.0):
        v = lo + (hi - lo) * frac
        out.append(
            f'<line class="grid" x1="{pad_l}" x2="{width - pad_r}" y1="{y(v):.1f}" '
            f'y2="{y(v):.1f}"/><text class="axis" x="{pad_l - 4}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{_num(v)}</text>'
        )
    out.append(
        f'<line class="zero" x1="{pad_l}" x2="{width - pad_r}" y1="{y(0):.1f}" y2="{y(0):.1f}" '
        'stroke="#555"/>'
        f'<line class="start" x1="{x(-0.5):.1f}" x2="{x(-0.5):.1f}" y1="{pad_t}" '
        f'y2="{height - pad_b}" stroke="#888" stroke-dasharray="4 3"/>'
    )
    for p in rows:
        e, rel = float(p["estimate"]), int(p["rel_period"])
        cx = x(rel)
        low, high = p.get("ci_low"), p.get("ci_high")
        tip = f"period {rel:+d}: {_num(e)} {unit}".strip()
        if low is not None and high is not None:
            tip += f" [{_num(float(low))}, {_num(float(high))}]"
            out.append(
                f'<line class="ci" x1="{cx:.1f}" x2="{cx:.1f}" y1="{y(float(low)):.1f}" '
                f'y2="{y(float(high)):.1f}" stroke="#2166ac" stroke-width="2"/>'
            )
        post = rel >= 0
        fill = "#2166ac" if post else "#fff"
        out.append(
            f'<circle class="point {"post" if post else "pre"}" cx="{cx:.1f}" cy="{y(e):.1f}" '
            f'r="4" fill="{fill}" stroke="#2166ac" stroke-width="1.5">'
            f"<title>{escape(tip)}</title></circle>"
        )
        out.append(
            f'<text class="axis" x="{cx:.1f}" y="{height - pad_b + 14}" '
            f'text-anchor="middle">{rel:+d}</text>'
        )
    out.append(
        f'<text class="axis" x="{(pad_l + width - pad_r) / 2}" y="{height - 6}" '
        'text-anchor="middle">periods since treatment started (hollow: before)</text>'
    )
    return _close(out)


def synth_paths(
    gaps: Sequence[Mapping[str, Any]],
    *,
    treated: str,
    start: float,
    title: str,
    width: int = 640,
    height: int = 300,
) -> Markup:
    """The treated unit's outcome and its synthetic control over time.

    ``gaps``: ``time``, ``treated``, ``synthetic``, ``gap``; a dashed line at ``start``.
    """
    pad_l, pad_r, pad_t, pad_b = 56, 12, 24, 30
    out = _open("synth", width, height, title)
    if not gaps:
        out.append(f'<text x="{width / 2}" y="40" text-anchor="middle">no paths</text>')
        return _close(out)
    times = [float(g["time"]) for g in gaps]
    values = [float(g[k]) for g in gaps for k in ("treated", "synthetic")]
    lo, hi = min(values), max(values)
    margin = (hi - lo) * 0.08 or 1.0
    x = _scale(min(times), max(times), pad_l, width - pad_r)
    y = _scale(lo - margin, hi + margin, height - pad_b, pad_t)
    for frac in (0.0, 0.5, 1.0):
        v = lo - margin + (hi - lo + 2 * margin) * frac
        out.append(
            f'<line class="grid" x1="{pad_l}" x2="{width - pad_r}" y1="{y(v):.1f}" '
            f'y2="{y(v):.1f}"/><text class="axis" x="{pad_l - 4}" y="{y(v) + 4:.1f}" '
            f'text-anchor="end">{_num(v)}</text>'
        )
    out.append(
        f'<line class="start" x1="{x(start):.1f}" x2="{x(start):.1f}" y1="{pad_t}" '
        f'y2="{height - pad_b}" stroke="#888" stroke-dasharray="4 3"/>'
    )
    for key, colour, dash, label in (
        ("treated", "#b2182b", "", treated),
        ("synthetic", "#2166ac", ' stroke-dasharray="6 3"', f"synthetic {treated}"),
    ):
        pts = " ".join(f"{x(float(g['time'])):.1f},{y(float(g[key])):.1f}" for g in gaps)
        out.append(
            f'<polyline class="path {key}" points="{pts}" fill="none" stroke="{colour}" '
            f'stroke-width="2"{dash}><title>{escape(label)}</title></polyline>'
        )
    for g in gaps:
        tip = (
            f"{float(g['time']):g}: {treated} {_num(float(g['treated']))}, synthetic "
            f"{_num(float(g['synthetic']))}, gap {_num(float(g['gap']))}"
        )
        out.append(
            f'<circle class="year" cx="{x(float(g["time"])):.1f}" '
            f'cy="{y(float(g["treated"])):.1f}" r="2.5" fill="#b2182b">'
            f"<title>{escape(tip)}</title></circle>"
        )
    for t in (min(times), start, max(times)):
        label = f"{t:g}"  # periods are years or counters: never with a thousands comma
        out.append(
            f'<text class="axis" x="{x(t):.1f}" y="{height - pad_b + 14}" '
            f'text-anchor="middle">{label}</text>'
        )
    out.append(
        f'<rect x="{pad_l + 4}" y="6" width="12" height="3" fill="#b2182b"/>'
        f'<text class="legend" x="{pad_l + 20}" y="11">{escape(treated)}</text>'
        f'<rect x="{pad_l + 180}" y="6" width="12" height="3" fill="#2166ac"/>'
        f'<text class="legend" x="{pad_l + 196}" y="11">synthetic control</text>'
    )
    return _close(out)


def forest(
    rows: Sequence[tuple[str, float, float, float, bool]],
    *,
    title: str,
    width: int = 780,
    row_h: int = 22,
) -> Markup:
    """A forest plot: ``(label, estimate, low, high, pooled)`` per row, a line at zero.

    Pooled rows are drawn as diamonds, single estimates as squares.
    """
    label_w, pad_r, pad_t = 360, 24, 8
    height = pad_t * 2 + row_h * max(len(rows), 1) + 18
    out = _open("forest", width, height, title)
    if not rows:
        out.append(f'<text x="{width / 2}" y="20" text-anchor="middle">no estimates</text>')
        return _close(out)
    lo = min(0.0, *(r[2] for r in rows))
    hi = max(0.0, *(r[3] for r in rows))
    margin = (hi - lo) * 0.05 or 0.1
    x = _scale(lo - margin, hi + margin, label_w, width - pad_r)
    out.append(
        f'<line class="zero" x1="{x(0):.1f}" x2="{x(0):.1f}" y1="{pad_t}" '
        f'y2="{height - 18}" stroke="#555"/>'
    )
    for i, (label, est, low, high, pooled) in enumerate(rows):
        cy = pad_t + i * row_h + row_h / 2
        short = label if len(label) <= 48 else label[:47] + "…"
        tip = f"{label}: {est:.3f} [{low:.3f}, {high:.3f}]"
        bold = ' font-weight="700"' if pooled else ""
        out.append(
            f'<text class="label" x="{label_w - 6}" y="{cy + 4:.1f}" text-anchor="end"'
            f"{bold}>{escape(short)}</text>"
            f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="{cy:.1f}" y2="{cy:.1f}" '
            'stroke="#2166ac" stroke-width="1.5"/>'
        )
        if pooled:
            d = (
                f"M{x(low):.1f},{cy:.1f} L{x(est):.1f},{cy - 6:.1f} "
                f"L{x(high):.1f},{cy:.1f} L{x(est):.1f},{cy + 6:.1f} Z"
            )
            out.append(
                f'<path class="pooled" d="{d}" fill="#1b7837"><title>{escape(tip)}</title></path>'
            )
        else:
            out.append(
                f'<rect class="study" x="{x(est) - 4:.1f}" y="{cy - 4:.1f}" width="8" height="8" '
                f'fill="#2166ac"><title>{escape(tip)}</title></rect>'
            )
    for v in (lo, 0.0, hi):
        out.append(
            f'<text class="axis" x="{x(v):.1f}" y="{height - 4}" text-anchor="middle">'
            f"{v:.2f}</text>"
        )
    return _close(out)
