"""An IATI activity as a program of the shared portfolio (``import iati --as-portfolio``).

Pure mapping, no database:

- **id**: the IATI identifier. **title**, **description**: default-language text.
- **agency**: the reporting organisation's IATI identifier looked up in
  ``iati_agencies.csv`` (U.S. agencies); any other publisher gets the fallback agency
  (State unless told otherwise), and the summary lists how many did.
- **countries**: recipient countries (ISO 3166 alpha-2 -> alpha-3); an unknown code is
  an error here, because a program's partner must be a real country. **regions**: DAC
  recipient regions through ``iati_regions.csv``, and vocabulary-99 regions whose code
  is a catalog region (what ssaplan's own export writes).
- **dac_code**: the vocabulary-1 (DAC 5-digit) sector with the largest percentage;
  **institution type, level, purpose, objectives** from ``dac_mapping.csv``.
- **start/end**: actual dates, else planned ones, else the first and last money dates.
- **status**: activity status 1 pipeline -> proposed, 2 implementation -> implementing,
  3 finalisation and 4 closed -> completed, 5 cancelled -> terminated, 6 suspended.
- **budget by U.S. fiscal year** (1 Oct-30 Sep), in whole dollars: planned = budgets
  (revised ones replace the original for the same period) by the FY of their start;
  obligated = commitments (type 2); disbursed = disbursements and expenditures (3, 4),
  by the FY of the transaction date. Amounts without a dollar value are left out and
  a year whose net is negative (corrections larger than the year's flows) counts 0;
  both are reported.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pydantic

from ssaplan.core.errors import Detail
from ssaplan.ingest.iati_activity import ActivityRecord
from ssaplan.ingest.mapping import Mappings, taxonomy_for
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.portfolio.schemas import MAX_DESCRIPTION, ProgramCreate
from ssaplan.reference.catalog import Catalog

STATUS_TO_PIPELINE = {
    "1": "proposed",
    "2": "implementing",
    "3": "completed",
    "4": "completed",
    "5": "terminated",
    "6": "suspended",
}
COMMITMENT = ("2",)
SPENDING = ("3", "4")


@dataclass
class ProgramDraft:
    """The program an activity becomes, or the reasons it cannot."""

    item: ProgramCreate | None
    problems: list[Detail]
    notes: list[str] = field(default_factory=list)
    agency_fallback: bool = False


def activity_to_program(
    rec: ActivityRecord,
    *,
    source: str,
    catalog: Catalog,
    mappings: Mappings,
    fallback_agency: str,
) -> ProgramDraft:
    """Map one activity; see the module docstring for every rule."""
    loc: tuple[str | int, ...] = (source, f"line {rec.line}")
    act = rec.activity
    problems: list[Detail] = []
    notes: list[str] = []

    ref = (act.get("reporting_org_ref") or "").upper()
    agency = mappings.agencies.get(ref)
    fallback = agency is None
    if fallback:
        agency = fallback_agency

    countries: list[str] = []
    for c in rec.countries:
        if c["iso3"]:
            countries.append(c["iso3"])
        else:
            shown = c["code"] or c["name"] or "(empty)"
            problems.append(
                Detail(
                    (*loc, "recipient-country"),
                    f"{shown!r} is not an ISO 3166 country code: a program's partner must be "
                    "a known country (fix the code or leave the activity out)",
                )
            )
    regions: list[str] = []
    for r in rec.regions:
        mapped = mappings.regions.get(r["code"]) if r["vocabulary"] in ("1", "") else None
        if r["vocabulary"] == "99" and r["code"] in catalog.regions:
            mapped = r["code"]  # the reporting organisation's own codes: ssaplan's export
        if mapped:
            regions.append(mapped)
        else:
            notes.append(
                f"recipient-region {r['code']} (vocabulary {r['vocabulary']}) has no "
                "region in iati_regions.csv: left out"
            )

    dac5 = sorted(
        (s for s in rec.sectors if s["vocabulary"] == "1" and s["code"]),
        key=lambda s: -(s["percentage"] if s["percentage"] is not None else 0.0),
    )
    codes = [s["code"] for s in dac5]
    dac_code = next((c for c in codes if c in catalog.dac_codes), None)
    taxonomy = taxonomy_for(codes, mappings)

    budget, money_notes = _budget_by_fy(rec)
    notes += money_notes
    start = act.get("actual_start") or act.get("planned_start")
    end = act.get("actual_end") or act.get("planned_end")
    money_dates = _money_dates(rec)
    if start is None and money_dates:
        start = min(money_dates)
    if end is None and money_dates:
        end = max(money_dates)
    if start is None:
        problems.append(
            Detail((*loc, "activity-date"), "no start date: add an activity-date of type 1 or 2")
        )
    if end is None:
        end = start

    description = next(
        (
            d["text"]
            for d in act.get("descriptions", [])
            if d["lang"] == (act.get("default_language") or "")
        ),
        next((d["text"] for d in act.get("descriptions", [])), ""),
    )
    fields: dict[str, Any] = {
        "id": rec.identifier,
        "title": (act.get("title") or rec.identifier)[:300],
        "description": description[:MAX_DESCRIPTION],  # a donor's essay is kept in part
        "agency": agency,
        "countries": countries,
        "regions": regions,
        "dac_code": dac_code,
        "start": start,
        "end": end,
        "status": STATUS_TO_PIPELINE.get(act.get("status") or "", "implementing"),
        "marking": "U",  # published in IATI, so public by definition
        "budget": budget,
        **taxonomy,
    }
    if problems:
        return ProgramDraft(None, problems, notes, fallback)
    try:
        item = ProgramCreate(**fields)
    except pydantic.ValidationError as exc:
        return ProgramDraft(
            None,
            [
                Detail((*loc, *(str(p) for p in e["loc"])), e["msg"])
                for e in exc.errors(include_url=False)
            ],
            notes,
            fallback,
        )
    return ProgramDraft(item, [], notes, fallback)


def _budget_by_fy(rec: ActivityRecord) -> tuple[list[dict[str, int]], list[str]]:
    notes: list[str] = []
    planned: dict[int, int] = defaultdict(int)
    obligated: dict[int, int] = defaultdict(int)
    disbursed: dict[int, int] = defaultdict(int)
    budgets = [b for b in rec.budgets if b["kind"] == "budget"]
    revised_periods = {(b["period_start"], b["period_end"]) for b in budgets if b["type"] == "2"}
    missing_usd = 0
    for b in budgets:
        if b["type"] != "2" and (b["period_start"], b["period_end"]) in revised_periods:
            continue  # a revised budget replaces the original for the same period
        when = b["period_start"] or b["value_date"]
        if b["usd"] is None or when is None:
            missing_usd += 1
            continue
        planned[fiscal_year(when)] += b["usd"]
    for t in rec.transactions:
        target = (
            obligated if t["type"] in COMMITMENT else disbursed if t["type"] in SPENDING else None
        )
        if target is None:
            continue
        when = t["transaction_date"] or t["value_date"]
        if t["usd"] is None or when is None:
            missing_usd += 1
            continue
        target[fiscal_year(when)] += t["usd"]
    if missing_usd:
        notes.append(f"{missing_usd} amount(s) without a U.S. dollar value left out of the budget")
    lines = []
    for fy in sorted(set(planned) | set(obligated) | set(disbursed)):
        line = {"fiscal_year": fy}
        for name, values in (
            ("planned", planned),
            ("obligated", obligated),
            ("disbursed", disbursed),
        ):
            value = values.get(fy, 0)
            if value < 0:
                notes.append(f"net {name} in FY{fy} is negative (${value:,}): counted as 0")
                value = 0
            line[name] = value
        lines.append(line)
    return lines, notes


def _money_dates(rec: ActivityRecord) -> list[date]:
    out: list[date] = []
    for b in rec.budgets:
        out += [d for d in (b["period_start"], b["period_end"]) if d is not None]
    out += [t["transaction_date"] for t in rec.transactions if t["transaction_date"] is not None]
    return out
