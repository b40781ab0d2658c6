"""The restrictions timeline as inline SVG, drawn on the server (no JavaScript, no CDN).

One row per country (or per restriction), a bar per restriction period coloured by type
and labelled by it (readable without colour), its waivers as thin bars beneath, fiscal
years marked, today as a line. Open-ended periods run to the right edge with an arrow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from html import escape

from markupsafe import Markup

from ssaplan.compliance.inputs import fiscal_year_bounds

TYPE_CLASSES = ("coup", "child_soldiers", "trafficking_tier3", "state_sponsor_of_terrorism")


@dataclass(frozen=True)
class Span:
    """One period on the timeline."""

    start: date
    end: date | None
    kind: str  # the restriction type id
    label: str
    tooltip: str
    link: str | None = None


@dataclass(frozen=True)
class Row:
    """One line of the timeline: its label (and link), its periods and their waivers."""

    label: str
    spans: Sequence[Span]
    waivers: Sequence[Span] = field(default_factory=tuple)
    link: str | None = None


def timeline(
    rows: Sequence[Row],
    *,
    first_fy: int,
    last_fy: int,
    today: date,
    title: str,
    width: int = 980,
) -> Markup:
    """The rows over fiscal years ``first_fy`` to ``last_fy``."""
    lo, _ = fiscal_year_bounds(first_fy)
    _, hi = fiscal_year_bounds(last_fy)
    label_w, pad_r, top, row_h = 190, 16, 26, 30
    plot_w = width - label_w - pad_r
    height = top + row_h * max(len(rows), 1) + 8
    span_days = (hi - lo).days + 1

    def x(day: date) -> float:
        clamped = min(max(day, lo), hi)
        return label_w + plot_w * (clamped - lo).days / span_days

    out = [
        f'<svg class="chart timeline" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for fy in range(first_fy, last_fy + 1):
        start, _ = fiscal_year_bounds(fy)
        gx = x(start)
        out.append(
            f'<line class="grid" x1="{gx:.1f}" x2="{gx:.1f}" y1="{top - 6}" y2="{height - 4}"/>'
            f'<text class="axis" x="{gx + 3:.1f}" y="{top - 10}">FY{fy}</text>'
        )
    if lo <= today <= hi:
        tx = x(today)
        out.append(
            f'<line class="today" x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 6}" y2="{height - 4}" '
            f'stroke="#b2182b" stroke-dasharray="3,2"><title>today, {today.isoformat()}</title>'
            "</line>"
        )
    for i, row in enumerate(rows):
        y = top + i * row_h
        short = row.label if len(row.label) <= 28 else row.label[:27] + "…"
        text = (
            f'<text class="label" x="{label_w - 8}" y="{y + 15}" text-anchor="end">'
            f"{escape(short)}</text>"
        )
        if row.link:
            text = f'<a href="{escape(row.link)}">{text}</a>'
        out.append(text)
        for span in row.spans:
            if span.end is not None and span.end < lo or span.start > hi:
                continue
            x0 = x(span.start)
            x1 = x(span.end) if span.end is not None else label_w + plot_w
            w = max(2.0, x1 - x0)
            kind = span.kind if span.kind in TYPE_CLASSES else "other"
            bar = (
                f'<rect class="span t-{kind}" x="{x0:.1f}" y="{y + 3}" width="{w:.1f}" '
                f'height="16" rx="2"><title>{escape(span.tooltip)}</title></rect>'
            )
            if span.end is None or span.end > hi:
                bar += (
                    f'<path class="span t-{kind}" d="M{x1:.1f},{y + 3}l6,8l-6,8z">'
                    f"<title>{escape(span.tooltip)}</title></path>"
                )
            if w > 60:
                fits = int(w / 6.5)  # about 6.5 px per character at 11 px
                shown = span.label if len(span.label) <= fits else span.label[:fits]
                bar += (
                    f'<text class="span-label" x="{x0 + 4:.1f}" y="{y + 15}">{escape(shown)}</text>'
                )
            if span.link:
                bar = f'<a href="{escape(span.link)}">{bar}</a>'
            out.append(bar)
        for waiver in row.waivers:
            if waiver.end is not None and waiver.end < lo or waiver.start > hi:
                continue
            x0 = x(waiver.start)
            x1 = x(waiver.end) if waiver.end is not None else label_w + plot_w
            out.append(
                f'<rect class="waiver" x="{x0:.1f}" y="{y + 21}" width="{max(2.0, x1 - x0):.1f}" '
                f'height="5"><title>{escape(waiver.tooltip)}</title></rect>'
            )
    if not rows:
        out.append(
            f'<text class="empty" x="{width / 2}" y="{top + 16}" text-anchor="middle">'
            "no restriction in these years</text>"
        )
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704
