"""Charts as inline SVG, drawn on the server: no JavaScript, no CDN, readable without
colour (every bar carries its value as text and a tooltip), printable, and scaled to the
width of the screen (``viewBox``). Money is shown in the one short format of
:mod:`ssaplan.ui.money`; an empty chart says "no data".
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Literal

from markupsafe import Markup

from ssaplan.ui.money import dollars, money, money_tick, nice_ticks

__all__ = ["bars", "columns", "days", "money"]


def days(value: float | int | None) -> str:
    """A duration in days, one decimal: ``12.5 d``."""
    return f"{float(value or 0):,.1f} d"


def _fit(text: str, room: float, size: float = 11) -> str:
    """``text`` cut (with an ellipsis) to what fits ``room`` units of a label ``size``
    high: a sans-serif character is at most about 0.6 of its height wide."""
    most = max(1, int(room // (size * 0.6)))
    return text if len(text) <= most else text[: most - 1] + "…"


def _empty(width: int, height: int, title: str, cls: str) -> Markup:
    return Markup(  # noqa: S704 - the title is escaped
        f'<svg class="chart {cls} empty" viewBox="0 0 {width} {height}" width="100%" '
        f'role="img" aria-label="{escape(title)}: no data"><title>{escape(title)}</title>'
        f'<text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle">'
        "no data</text></svg>"
    )


def bars(
    items: Sequence[tuple[str, float]],
    *,
    title: str,
    links: Sequence[str | None] | None = None,
    labels: Sequence[str] | None = None,
    limit: int = 12,
    width: int = 520,
    unit: Literal["dollars", "days"] = "dollars",
) -> Markup:
    """Horizontal bars, largest first as given; the rest folded into 'Other'.

    ``items`` are (key, dollars) — or (key, days) with ``unit="days"``, for durations;
    ``labels`` are what the reader sees (names), the key being the tooltip; ``links``
    where each label leads.
    """
    long_form, short_form = (dollars, money) if unit == "dollars" else (days, days)
    if not items or not any(v for _, v in items):
        return _empty(width, 60, title, "bars")
    names = list(labels) if labels is not None else [k for k, _ in items]
    shown = [(k, v, names[i]) for i, (k, v) in enumerate(items[:limit])]
    if len(items) > limit:
        rest = sum(v for _, v in items[limit:])
        shown.append(("", rest, f"Other ({len(items) - limit})"))
    label_w, value_w, row_h = 190, 64, 22
    height = row_h * len(shown) + 8
    top = max(v for _, v, _ in shown) or 1
    bar_w = width - label_w - value_w
    out = [
        f'<svg class="chart bars" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for i, (key, value, label) in enumerate(shown):
        y = 4 + i * row_h
        w = max(1.0, bar_w * value / top) if value > 0 else 0
        short = _fit(label, label_w - 8)
        tip = f"{label}{f' ({key})' if key and key != label else ''}: {long_form(value)}"
        link = links[i] if links is not None and i < len(links) and key else None
        bar = (
            f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        text = (
            f'<text class="label" x="{label_w - 6}" y="{y + row_h / 2 + 4}" '
            f'text-anchor="end"><title>{escape(tip)}</title>{escape(short)}</text>'
        )
        if link:
            text = f'<a href="{escape(link)}">{text}</a>'
        out.append(
            text
            + bar
            + f'<text class="value" x="{label_w + w + 4:.1f}" y="{y + row_h / 2 + 4}">'
            + f"{short_form(value)}</text>"
        )
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704


def columns(
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    width: int = 520,
    height: int = 220,
) -> Markup:
    """Grouped vertical columns: one group per category (a fiscal year), one column per
    series, on a money axis with round ticks."""
    values = [v for _, vs in series for v in vs]
    if not categories or not any(values):
        return _empty(width, height // 2, title, "columns")
    pad_l, pad_b, pad_t = 56, 24, 24
    plot_w, plot_h = width - pad_l - 8, height - pad_b - pad_t
    ticks = nice_ticks(max(values))
    top = ticks[-1] or 1
    n_cat, n_ser = len(categories), max(len(series), 1)
    group_w = plot_w / n_cat
    col_w = group_w * 0.8 / n_ser
    out = [
        f'<svg class="chart columns" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for tick in ticks:
        y = pad_t + plot_h * (1 - tick / top)
        out.append(f'<line class="grid" x1="{pad_l}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="axis" x="{pad_l - 4}" y="{y + 4:.1f}" text-anchor="end">'
            f"{money_tick(tick)}</text>"
        )
    for ci, cat in enumerate(categories):
        x0 = pad_l + ci * group_w + group_w * 0.1
        for si, (name, vals) in enumerate(series):
            value = vals[ci] if ci < len(vals) else 0
            h = plot_h * value / top
            x = x0 + si * col_w
            tip = f"{cat} {name}: {money(value)} ({dollars(value)})"
            out.append(
                f'<rect class="col s{si}" x="{x:.1f}" y="{pad_t + plot_h - h:.1f}" '
                f'width="{max(col_w - 1, 0.5):.1f}" '
                f'height="{h:.1f}"><title>{escape(tip)}</title></rect>'
            )
        out.append(
            f'<text class="axis" x="{x0 + group_w * 0.4:.1f}" y="{height - 6}" '
            f'text-anchor="middle">{escape(cat)}</text>'
        )
    lx = pad_l
    for si, (name, _) in enumerate(series):
        out.append(
            f'<rect class="col s{si}" x="{lx}" y="4" width="10" height="10"/>'
            f'<text class="legend" x="{lx + 14}" y="13">{escape(name)}</text>'
        )
        lx += 14 + 7 * len(name) + 16
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704


# Sequential blues, light (low) to dark (high), as the maps use; readable in greyscale.
HEAT = ("#eef4fa", "#cfe0f0", "#a9c8e4", "#6fa3cf", "#3575b1", "#0b4a86")
HEAT_EMPTY = "#f6f6f6"


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    *,
    title: str,
    labels: Sequence[Sequence[str]] | None = None,
    tooltips: Sequence[Sequence[str]] | None = None,
    row_links: Sequence[str | None] | None = None,
    column_links: Sequence[str | None] | None = None,
    domain: tuple[float, float] | None = None,
    cell: int = 46,
    row_label_width: int = 200,
) -> Markup:
    """A rows x columns grid of cells shaded by value (None or 0: empty, pale grey).

    Every cell carries its ``labels`` text (readable without colour) and a ``<title>``
    tooltip; column names are written at an angle above the grid. ``domain`` is the
    value range the shades span (default: 0 to the largest value).
    """
    top = max((v for r in values for v in r if v is not None), default=0.0)
    low, high = domain if domain is not None else (0.0, top or 1.0)
    head = 120
    width = row_label_width + cell * max(len(columns), 1) + 8
    height = head + cell * max(len(rows), 1) // 2 + 8
    row_h = cell // 2
    out = [
        f'<svg class="chart heatmap" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
    for j, name in enumerate(columns):
        x = row_label_width + j * cell + cell / 2
        short = name if len(name) <= 24 else name[:23] + "…"
        text = (
            f'<text class="label col" x="{x:.1f}" y="{head - 6}" '
            f'transform="rotate(-40 {x:.1f} {head - 6})">{escape(short)}'
            f"<title>{escape(name)}</title></text>"
        )
        link = column_links[j] if column_links is not None and j < len(column_links) else None
        out.append(f'<a href="{escape(link)}">{text}</a>' if link else text)
    for i, name in enumerate(rows):
        y = head + i * row_h
        short = _fit(name, row_label_width - 8)
        text = (
            f'<text class="label row" x="{row_label_width - 6}" y="{y + row_h / 2 + 4:.1f}" '
            f'text-anchor="end">{escape(short)}<title>{escape(name)}</title></text>'
        )
        link = row_links[i] if row_links is not None and i < len(row_links) else None
        out.append(f'<a href="{escape(link)}">{text}</a>' if link else text)
        for j in range(len(columns)):
            value = values[i][j] if j < len(values[i]) else None
            x = row_label_width + j * cell
            empty = value is None or value == 0
            if empty:
                fill = HEAT_EMPTY
            else:
                span = (high - low) or 1.0
                position = (float(value) - low) / span  # type: ignore[arg-type]
                level = min(len(HEAT) - 1, max(0, int(position * len(HEAT))))
                fill = HEAT[level]
            tip = tooltips[i][j] if tooltips is not None else f"{name} / {columns[j]}: {value}"
            label = labels[i][j] if labels is not None and not empty else ""
            ink = ' fill="#fff"' if not empty and fill in HEAT[3:] else ""
            out.append(
                f'<g class="cell{" empty" if empty else ""}"><rect x="{x + 1}" y="{y + 1}" '
                f'width="{cell - 2}" height="{row_h - 2}" fill="{fill}"/>'
                f'<text class="value" x="{x + cell / 2:.1f}" y="{y + row_h / 2 + 4:.1f}" '
                f'text-anchor="middle"{ink}>'
                f"{escape(label)}</text><title>{escape(tip)}</title></g>"
            )
    if not rows or not columns:
        out.append(
            f'<text class="empty" x="{width / 2}" y="{head + 14}" '
            'text-anchor="middle">no data</text>'
        )
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704
