"""A country brief: one partner's programs, money and status on a page, for an audience.

Pure rendering: the country's roll-up and programs in (already filtered to what the
audience may see), Markdown or HTML out. The brief states its audience and what was
withheld from it, as counts only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any

from ssaplan.portfolio.schemas import ProgramPublic

FORMATS = ("markdown", "html")


def _money(value: int) -> str:
    return f"${value:,}"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).replace("|", "\\|").split())


def _groups(rollup: Mapping[str, Any], dimension: str) -> list[tuple[str, int]]:
    rows = rollup.get("by", {}).get(dimension, [])
    return [(str(r["key"]), int(r["planned"])) for r in rows]


def render_brief(
    country: Mapping[str, Any],
    programs: Sequence[ProgramPublic],
    audience: str,
    withheld: str,
    *,
    fmt: str = "markdown",
    generated: datetime | None = None,
) -> str:
    """The brief as text (``fmt`` ``markdown`` or ``html``)."""
    rollup = country["portfolio"]
    total = rollup["total"]
    when = generated.strftime("%Y-%m-%d %H:%M UTC") if generated else ""
    title = f"Country brief: {country['name']} ({country['iso3']})"
    facts = [
        ("Audience", audience),
        ("Generated", when),
        ("Regional bureau", country.get("bureau") or "none"),
        ("Programs", str(len(programs))),
        ("Planned (the country's share)", _money(total["planned"])),
        ("Obligated", _money(total["obligated"])),
        ("Disbursed", _money(total["disbursed"])),
    ]
    by_status = _groups(rollup, "status")
    by_year = _groups(rollup, "fiscal_year")
    rows = [
        (
            p.id,
            p.title,
            p.agency,
            p.status,
            f"{p.start.isoformat()} to {p.end.isoformat()}",
            _money(p.totals.planned),
        )
        for p in programs
    ]
    head = ("Id", "Title", "Agency", "Status", "Period", "Planned (program)")
    if fmt == "html":
        return _html(title, withheld, facts, by_status, by_year, head, rows)
    lines = [f"# {title}", "", f"*{withheld}*", ""]
    lines += [f"- **{k}:** {_cell(v)}" for k, v in facts]
    if by_status:
        lines += ["", "## Planned money by status", ""]
        lines += [f"- {k}: {_money(v)}" for k, v in by_status]
    if by_year:
        lines += ["", "## Planned money by fiscal year", ""]
        lines += [f"- FY{k}: {_money(v)}" for k, v in by_year]
    lines += ["", "## Programs", ""]
    if rows:
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(_cell(c) for c in r) + " |" for r in rows]
    else:
        lines.append("No programs to show.")
    return "\n".join(lines) + "\n"


def _html(
    title: str,
    withheld: str,
    facts: list[tuple[str, str]],
    by_status: list[tuple[str, int]],
    by_year: list[tuple[str, int]],
    head: tuple[str, ...],
    rows: Sequence[tuple[str, ...]],
) -> str:
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="withheld"><em>{escape(withheld)}</em></p>',
        "<dl>",
    ]
    out += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts]
    out.append("</dl>")
    for heading, groups, prefix in (
        ("Planned money by status", by_status, ""),
        ("Planned money by fiscal year", by_year, "FY"),
    ):
        if groups:
            out.append(f"<h2>{heading}</h2><ul>")
            out += [f"<li>{escape(prefix + k)}: {_money(v)}</li>" for k, v in groups]
            out.append("</ul>")
    out.append("<h2>Programs</h2>")
    if rows:
        out.append("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead>")
        out.append("<tbody>")
        out += ["<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows]
        out.append("</tbody></table>")
    else:
        out.append("<p>No programs to show.</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
