"""Scenarios built from the stored world: programs, budget lines and the assessment.

``ssaplan allocate --fiscal-years 2027-2031 --from-portfolio`` builds, from the
database, a scenario in the file format (docs/allocation.md, section 3), so a
planner never has to write JSON to get an answer:

- **candidates**: proposed and approved programs with money planned in the window,
  one per program, in its main partner country (the largest share) and main account
  (the most money in the window); ``annual`` is its mean planned money over the
  years it has any, offered at three **levels** (full, 75%, 50%);
- **account marks**: what the budget lines of every program in the pipeline plan in
  each account and year (scaled by ``marks_percent``), less what programs already
  notified, obligated or implementing take there (commitments are paid first);
- **absorptive capacity**: from the assessment's *absorptive capacity* construct and
  the partner's peak planned money (section 2 of docs/allocation.md gives the formula),
  less its commitments;
- **values**: from the partner's priority and propensity in the latest saved
  assessment, the partner's relevance to the program's objectives, the evidence of
  effectiveness for its kind of program and a concave function of its dollars.

Two hooks take what other domains will provide, and nothing else: ``eligible``
(``(country, account, fiscal_year) -> bool``, compliance's verdict; where it says no,
the scenario carries a restriction) and ``evidence`` (``ProgramFacts -> multiplier``,
the evaluation evidence base). Without them every cell is eligible and evidence is 1.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.allocation.scenario_parts import Eligible
from ssaplan.assessment.models import Assessment, AssessmentCountry
from ssaplan.assessment.service import latest_readable_id
from ssaplan.core.errors import BadRequest, Detail, Invalid
from ssaplan.portfolio.models import BudgetLine, Program, ProgramCountry, ProgramObjective
from ssaplan.portfolio.visibility import Audience, only_visible
from ssaplan.reference.catalog import Catalog

CANDIDATE_STATUSES = ("proposed", "approved")
COMMITTED_STATUSES = ("notified", "obligated", "implementing")
LEVELS = (("full", 1.0), ("75%", 0.75), ("50%", 0.5))
CAPACITY_CONSTRUCT = "absorptive capacity"
DOLLAR_EXPONENT = 0.8  # f(D) = (D / $1M)^0.8: each further dollar adds less
MAX_YEARS = 20


@dataclass(frozen=True)
class ProgramFacts:
    """What the evidence hook is told about a candidate program."""

    code: str
    title: str
    agency: str
    account: str
    country: str
    purpose: str | None
    dac_code: str | None
    institution_type: str | None


#: ``evidence(program) -> multiplier`` (1 = average evidence; bounded to [0, 3]).
Evidence = Callable[[ProgramFacts], float]


@dataclass(frozen=True)
class BuildOptions:
    """How a scenario is built from the portfolio (defaults documented in docs/allocation.md)."""

    reserve_share: float = 0.05
    marks_percent: float = 100.0
    name: str | None = None


@dataclass
class Built:
    """A scenario built from the portfolio (file format) and what was left out, and why."""

    scenario: dict[str, Any]
    skipped: dict[str, int] = field(default_factory=dict)
    assessment_id: int | None = None
    notes: list[str] = field(default_factory=list)


def parse_years(text: str) -> tuple[int, ...]:
    """``2027-2031`` or ``2027,2029`` to fiscal years; refused with a clear message."""
    text = text.strip()
    try:
        if "-" in text:
            first, last = (int(x) for x in text.split("-", 1))
            years = tuple(range(first, last + 1))
        else:
            years = tuple(sorted({int(x) for x in text.split(",") if x.strip()}))
    except ValueError:
        raise BadRequest(f"fiscal years {text!r}: give a range such as 2027-2031") from None
    if not years or not all(1900 <= y <= 2200 for y in years):
        raise BadRequest(f"fiscal years {text!r}: give a range such as 2027-2031")
    if len(years) > MAX_YEARS:
        raise BadRequest(f"fiscal years {text!r}: {len(years)} years; the limit is {MAX_YEARS}")
    return years


def value_of(
    dollars: int,
    *,
    priority: float | None,
    propensity: float | None,
    relevance: float,
    evidence: float,
) -> float:
    """A level's value (docs/allocation.md, section 2)::

        value = P x Q x O x E x (D / $1M)^0.8

    P = max(priority, 10) / 100 (0.1 without a priority), Q = max(propensity, 10) / 100
    (0.5 without an assessment), O = 1 + (mean relevance of the partner to the
    program's objectives, 0-3) / 3, E = the evidence multiplier, D = the level's
    dollars over all its years.
    """
    p = 0.1 if priority is None else max(priority, 10.0) / 100.0
    q = 0.5 if propensity is None else max(propensity, 10.0) / 100.0
    o = 1.0 + min(max(relevance, 0.0), 3.0) / 3.0
    e = min(max(evidence, 0.0), 3.0)
    return p * q * o * e * (max(dollars, 0) / 1e6) ** DOLLAR_EXPONENT


def capacity_of(peak: int, score: float) -> int:
    """Absorptive capacity in dollars a year: the partner's peak planned money in the
    window (every program in the pipeline) times 0.5 + its absorptive-capacity score
    (0-1): half its peak for the weakest, one and a half times it for the strongest."""
    return int(peak * (0.5 + min(max(score, 0.0), 1.0)))


def build_from_portfolio(
    session: Session,
    catalog: Catalog,
    fiscal_years: Sequence[int],
    *,
    options: BuildOptions | None = None,
    eligible: Eligible | None = None,
    evidence: Evidence | None = None,
    audience: Audience | None = None,
) -> Built:
    """The scenario of the stored world for ``fiscal_years`` (file format, not yet parsed).

    ``audience`` (the requesting user's view; every program by default) limits it to
    the programs they may see: a hidden program is no candidate, and its dollars are in
    no account mark, commitment or country's money (docs/markings.md)."""
    audience = audience or Audience()
    options = options or BuildOptions()
    problems = []
    if not 0.0 <= options.reserve_share < 1.0:
        problems.append(Detail(("reserve_share",), "must be at least 0 and below 1"))
    if not 0.0 <= options.marks_percent <= 1000.0:
        problems.append(Detail(("marks_percent",), "must be between 0 and 1000"))
    if problems:
        raise Invalid("invalid portfolio scenario options", problems)
    years = tuple(sorted(set(fiscal_years)))
    first, last = years[0], years[-1]
    skipped: dict[str, int] = defaultdict(int)

    programs = {
        p.id: p
        for p in session.execute(
            only_visible(
                select(Program).where(Program.status.notin_(("suspended", "terminated"))),
                audience,
                catalog,
            )
        ).scalars()
    }
    shares: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pid, iso3, bp in session.execute(
        select(ProgramCountry.program_id, ProgramCountry.iso3, ProgramCountry.share_bp)
    ):
        shares[pid].append((bp, iso3))
    objectives: dict[int, list[str]] = defaultdict(list)
    for pid, oid in session.execute(
        select(ProgramObjective.program_id, ProgramObjective.objective_id)
    ):
        objectives[pid].append(oid)

    # money by program x year x account, in the window
    lines: dict[int, dict[tuple[int, str], int]] = defaultdict(lambda: defaultdict(int))
    for pid, fy, account, planned in session.execute(
        select(
            BudgetLine.program_id, BudgetLine.fiscal_year, BudgetLine.account_id, BudgetLine.planned
        ).where(BudgetLine.fiscal_year.between(first, last))
    ):
        p = programs.get(pid)
        if p is None or fy not in years:
            continue
        acct = account or p.account_id
        if acct is None:
            skipped["budget lines without an account"] += 1
            continue
        lines[pid][(fy, acct)] += int(planned)

    marks: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(years, 0))
    committed: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(years, 0))
    country_money: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(years, 0))
    country_committed: dict[str, dict[int, int]] = defaultdict(lambda: dict.fromkeys(years, 0))
    for pid, cells in lines.items():
        p = programs[pid]
        partners = shares.get(pid, [])
        total_bp = sum(bp for bp, _ in partners) or 1
        for (fy, acct), dollars in cells.items():
            marks[acct][fy] += dollars
            if p.status in COMMITTED_STATUSES:
                committed[acct][fy] += dollars
            for bp, iso3 in partners:
                part = dollars * bp // total_bp
                country_money[iso3][fy] += part
                if p.status in COMMITTED_STATUSES:
                    country_committed[iso3][fy] += part

    # the latest saved assessment (priority, propensity, absorptive capacity, relevance)
    # (the newest one the audience may read: one computed over programs it may not see
    # is not theirs to build on)
    assessment_id = (
        session.execute(
            select(Assessment.id).order_by(Assessment.id.desc()).limit(1)
        ).scalar_one_or_none()
        if audience.unrestricted
        else latest_readable_id(session, catalog, audience)
    )
    assessed: dict[str, AssessmentCountry] = {}
    if assessment_id is not None:
        assessed = {
            r.iso3: r
            for r in session.execute(
                select(AssessmentCountry).where(AssessmentCountry.assessment_id == assessment_id)
            ).scalars()
        }

    candidates: list[dict[str, Any]] = []
    restrictions: list[dict[str, Any]] = []
    for pid in sorted(lines, key=lambda i: programs[i].code):
        p = programs[pid]
        if p.status not in CANDIDATE_STATUSES:
            continue
        cells = lines[pid]
        partners = sorted(shares.get(pid, []), key=lambda t: (-t[0], t[1]))
        if not partners:
            skipped["candidate programs without a partner country (regional only)"] += 1
            continue
        if len(p.code) > 64:
            skipped["candidate programs whose id is longer than 64 characters"] += 1
            continue
        by_account: dict[str, int] = defaultdict(int)
        by_year: dict[int, int] = defaultdict(int)
        for (fy, acct), dollars in cells.items():
            by_account[acct] += dollars
            by_year[fy] += dollars
        account = max(sorted(by_account), key=lambda a: by_account[a])
        funded_years = sorted(y for y, d in by_year.items() if d > 0)
        if not funded_years:
            skipped["candidate programs with no money planned in the window"] += 1
            continue
        country = partners[0][1]
        if country not in catalog.countries or account not in catalog.accounts:
            skipped["candidate programs naming a code the reference data does not know"] += 1
            continue
        annual = sum(by_year[y] for y in funded_years) // len(funded_years)
        row = assessed.get(country)
        relevance_by = (row.policy or {}).get("relevance", {}) if row is not None else {}
        objs = objectives.get(pid, [])
        relevance = sum(relevance_by.get(o, 0) for o in objs) / len(objs) if objs else 0.0
        facts = ProgramFacts(
            p.code,
            p.title,
            p.agency_id,
            account,
            country,
            p.purpose_id,
            p.dac_code,
            p.institution_type_id,
        )
        multiplier = 1.0 if evidence is None else float(evidence(facts))
        if not math.isfinite(multiplier):
            multiplier = 1.0
        spread = 0.05 + 0.5 * (1.0 - (row.completeness if row is not None else 0.0))
        levels: list[dict[str, Any]] = []
        for label, fraction in LEVELS:
            level_annual = int(annual * fraction) // 1000 * 1000
            if level_annual <= 0 or any(lv["annual"] == level_annual for lv in levels):
                continue
            value = value_of(
                level_annual * len(funded_years),
                priority=row.priority if row is not None else None,
                propensity=row.propensity if row is not None else None,
                relevance=relevance,
                evidence=multiplier,
            )
            levels.append(
                {
                    "annual": level_annual,
                    "value": round(value, 6),
                    "value_sd": round(value * spread, 6),
                    "label": label,
                }
            )
        if not levels:
            skipped["candidate programs under $1,000 a year"] += 1
            continue
        candidates.append(
            {
                "id": p.code,
                "title": p.title,
                "country": country,
                "account": account,
                "fiscal_years": funded_years,
                "must_fund": False,
                "requires": [],
                "levels": levels,
            }
        )
        if eligible is not None:
            blocked = [y for y in funded_years if not eligible(country, account, y)]
            if blocked:
                restrictions.append(
                    {"country": country, "account": account, "fiscal_years": blocked}
                )

    scale = options.marks_percent / 100.0
    accounts = {
        a: {str(y): max(0, int(marks[a][y] * scale) - committed[a][y]) for y in years}
        for a in sorted(marks)
    }
    capacity: dict[str, dict[str, int]] = {}
    for iso3 in sorted(country_money):
        row = assessed.get(iso3)
        score = (row.constructs or {}).get(CAPACITY_CONSTRUCT) if row is not None else None
        if score is None or iso3 not in catalog.countries:
            continue  # not assessed: not limited
        peak = max(country_money[iso3].values())
        k = capacity_of(peak, float(score))
        capacity[iso3] = {str(y): max(0, k - country_committed[iso3][y]) for y in years}
    label = f"FY{first}-{last}" if len(years) > 1 else f"FY{first}"
    name = options.name or f"Portfolio {label}"
    description = (
        f"Built from the stored portfolio for {label}: proposed and approved programs as "
        f"candidates; account marks at {options.marks_percent:g}% of planned budget lines, "
        "less commitments (notified, obligated, implementing); "
        + (
            f"values and absorptive capacity from assessment #{assessment_id}."
            if assessment_id is not None
            else "no saved assessment: neutral values, no capacity limits."
        )
    )
    scenario: dict[str, Any] = {
        "name": name,
        "description": description,
        "fiscal_years": list(years),
        "accounts": accounts,
        "reserve_share": options.reserve_share,
        "absorptive_capacity": capacity,
        "regional_floors": [],
        "candidates": candidates,
    }
    if restrictions:
        scenario["restrictions"] = restrictions
    notes = []
    if not candidates:
        notes.append(f"no proposed or approved program has money planned in {label}")
    if assessment_id is None:
        notes.append("no saved assessment: every partner valued alike, none limited")
    return Built(scenario, dict(skipped), assessment_id, notes)
