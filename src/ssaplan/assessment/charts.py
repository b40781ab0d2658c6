"""Assessment charts as inline SVG (like :mod:`ssaplan.ui.charts`): the priority x
propensity scatter, score bars and rank intervals. Every mark carries its numbers as a
``<title>`` tooltip, so the charts read without colour and without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from markupsafe import Markup

# One short label per quadrant, used by the chart's corners and the pages' badges alike.
QUADRANT_LABELS = {
    "sustain": "Sustain",
    "shape_conditions": "Shape conditions",
    "opportunity": "Opportunity",
    "reconsider": "Reconsider",
}
QUADRANT_COLORS = {
    "sustain": "#1b7837",
    "shape_conditions": "#b2182b",
    "opportunity": "#2166ac",
    "reconsider": "#8c8c8c",
}


def scatter(
    points: Sequence[Mapping[str, Any]],
    *,
    propensity_cut: float | None,
    priority_cut: float | None,
    title: str,
    width: int = 640,
    height: int = 460,
    label_top: int = 25,
) -> Markup:
    """Priority (y) against propensity (x), both 0-100, split at the cuts.

    ``points`` carry ``iso3``, ``name``, ``propensity``, ``priority`` and ``quadrant``;
    each links to its country page; the ``label_top`` highest priorities are labelled
    with their ISO3 code (every point has its numbers as a tooltip).
    """
    pad_l, pad_r, pad_t, pad_b = 48, 12, 16, 40
    plot_w, plot_h = width - pad_l - pad_r, height - pad_t - pad_b

    def x(v: float) -> float:
        return pad_l + plot_w * v / 100

    def y(v: float) -> float:
        return pad_t + plot_h * (1 - v / 100)

    out = [
        f'<svg class="chart scatter" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>',
        f'<rect class="plot" x="{pad_l}" y="{pad_t}" width="{plot_w}" height="{plot_h}" '
        'fill="#fafafa" stroke="#ccc"/>',
    ]
    for v in (0, 25, 50, 75, 100):
        out.append(
            f'<text class="axis" x="{x(v):.1f}" y="{height - pad_b + 14}" '
            f'text-anchor="middle">{v}</text>'
            f'<text class="axis" x="{pad_l - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v}</text>'
        )
    out.append(
        f'<text class="axis-title" x="{pad_l + plot_w / 2:.1f}" y="{height - 6}" '
        'text-anchor="middle">propensity (conditions for sustained progress) →</text>'
        f'<text class="axis-title" x="12" y="{pad_t + plot_h / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {pad_t + plot_h / 2:.1f})">priority →</text>'
    )
    if propensity_cut is not None:
        out.append(
            f'<line class="cut" x1="{x(propensity_cut):.1f}" x2="{x(propensity_cut):.1f}" '
            f'y1="{pad_t}" y2="{pad_t + plot_h}" stroke="#666" stroke-dasharray="4 3">'
            f"<title>median propensity {propensity_cut:.1f}</title></line>"
        )
    if priority_cut is not None:
        out.append(
            f'<line class="cut" x1="{pad_l}" x2="{pad_l + plot_w}" y1="{y(priority_cut):.1f}" '
            f'y2="{y(priority_cut):.1f}" stroke="#666" stroke-dasharray="4 3">'
            f"<title>median priority {priority_cut:.1f}</title></line>"
        )
    # Corner labels name the quadrants as the badges do, in their colour, on a white
    # ground so points under them do not make them unreadable.
    corner = [
        (pad_l + plot_w - 6, pad_t + 16, "end", "sustain"),
        (pad_l + 6, pad_t + 16, "start", "shape_conditions"),
        (pad_l + plot_w - 6, pad_t + plot_h - 8, "end", "opportunity"),
        (pad_l + 6, pad_t + plot_h - 8, "start", "reconsider"),
    ]
    for cx, cy, anchor, key in corner:
        text = QUADRANT_LABELS[key]
        w = 7.2 * len(text) + 10
        rx = cx - w + 5 if anchor == "end" else cx - 5
        out.append(
            f'<rect class="quadrant-label-bg" x="{rx:.1f}" y="{cy - 13}" width="{w:.1f}" '
            f'height="18" rx="3" fill="#fff" fill-opacity="0.85" stroke="{QUADRANT_COLORS[key]}"/>'
            f'<text class="quadrant-label" x="{cx}" y="{cy}" text-anchor="{anchor}" '
            f'font-size="12" font-weight="600" fill="{QUADRANT_COLORS[key]}">{escape(text)}</text>'
        )
    shown = [p for p in points if p.get("propensity") is not None and p.get("priority") is not None]
    # Labels for the highest priorities only: two hundred codes would cover each other.
    labelled = {p["iso3"] for p in sorted(shown, key=lambda p: -p["priority"])[:label_top]}
    for p in shown:
        px, py = x(p["propensity"]), y(p["priority"])
        color = QUADRANT_COLORS.get(p.get("quadrant") or "", "#444")
        tip = (
            f"{p['name']} ({p['iso3']}): propensity {p['propensity']:.1f}, "
            f"priority {p['priority']:.1f}"
        )
        out.append(
            f'<a href="/assessment/countries/{escape(p["iso3"])}"><g class="point" '
            f'data-iso3="{escape(p["iso3"])}"><circle cx="{px:.1f}" cy="{py:.1f}" r="4" '
            f'fill="{color}" fill-opacity="0.75"><title>{escape(tip)}</title></circle>'
            + (
                f'<text class="point-label" x="{px + 5:.1f}" y="{py - 4:.1f}" font-size="8" '
                f'fill="#333">{escape(p["iso3"])}</text>'
                if p["iso3"] in labelled
                else ""
            )
            + "</g></a>"
        )
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704


def score_bar(value: float | None, *, width: int = 120, label: str = "") -> Markup:
    """A small horizontal bar for a 0-100 score (empty box when undefined)."""
    if value is None:
        return Markup(  # noqa: S704 - constant markup
            f'<svg class="bar-mini" width="{width}" height="10" role="img" aria-label="no score">'
            f'<rect x="0" y="1" width="{width}" height="8" fill="none" stroke="#ccc"/></svg>'
        )
    w = max(0.0, min(1.0, value / 100)) * width
    tip = f"{label} {value:.1f}".strip()
    return Markup(  # noqa: S704 - numbers and escaped text only
        f'<svg class="bar-mini" width="{width}" height="10" role="img" aria-label="{escape(tip)}">'
        f'<rect x="0" y="1" width="{width}" height="8" fill="#eee"/>'
        f'<rect x="0" y="1" width="{w:.1f}" height="8" fill="#3575b1">'
        f"<title>{escape(tip)}</title></rect></svg>"
    )


def rank_interval(
    rank: int | None, low: int | None, high: int | None, total: int, *, width: int = 120
) -> Markup:
    """The rank's 90% interval under weight uncertainty as a line, the rank as a dot
    (rank 1 at the left)."""
    if rank is None or low is None or high is None or total < 1:
        return Markup("")

    def x(r: int) -> float:
        return 4 + (width - 8) * (r - 1) / max(1, total - 1)

    tip = f"rank {rank}; 90% of weight draws: {low} to {high}"
    return Markup(  # noqa: S704 - numbers and escaped text only
        f'<svg class="interval" width="{width}" height="12" role="img" aria-label="{escape(tip)}">'
        f"<title>{escape(tip)}</title>"
        f'<line x1="4" x2="{width - 4}" y1="6" y2="6" stroke="#ddd"/>'
        f'<line x1="{x(low):.1f}" x2="{x(high):.1f}" y1="6" y2="6" stroke="#3575b1" '
        'stroke-width="3"/>'
        f'<circle cx="{x(rank):.1f}" cy="6" r="3" fill="#0b4a86"/></svg>'
    )
