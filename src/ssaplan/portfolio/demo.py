"""The portfolio's step of the ILLUSTRATIVE demo world: generated programs, budgets and
deliveries for real countries, regions, accounts and codes.

The world is generated from public facts (``reference/data``: population, World Bank
income group and fragility, landlocked or not, designations such as major non-NATO
ally, and the legal bars on assisting some countries) so that its structure is
believable, while every program in it is invented:

- no security assistance for state sponsors of terrorism, countries under an arms
  embargo or without a government to partner with; after a coup, civil society only;
- each partner's yearly money grows with its population (less than in proportion),
  its need (low income, fragility, conflict) and its standing (allies), and shrinks
  for high-income partners; micro-states get small programs only;
- the few very large lines are the public commitments of ``data/demo_anchors.csv``
  (the Israel and Jordan memoranda of understanding, Egypt's FMF, ...);
- a program's status agrees with its dates, money and deliveries: a completed program
  has its money obligated and disbursed and everything delivered; a proposed one has
  nothing obligated;
- some programs draw on two accounts, and some programs with several partners give
  them unequal shares.

Everything comes from one seeded generator, so a seed always gives the same world.
Every generated program says in its description that it is illustrative.
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ssaplan.core.errors import Conflict
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.portfolio.engine import FULL_SHARE, fiscal_year
from ssaplan.portfolio.models import BudgetLine, Program
from ssaplan.portfolio.schemas import BudgetLineIn, MilestoneIn, ProgramCreate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import Catalog, get_catalog
from ssaplan.reference.facts import Facts, get_facts

FIRST_FY, LAST_FY = 2025, 2029
# The world is generated as of this day (start of FY2027), not the clock, so it is reproducible.
AS_OF = date(2026, 10, 1)
CURRENT_FY = fiscal_year(AS_OF)
LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real program."
DATA = Path(__file__).parent / "data"
TEMPLATES_FILE = DATA / "demo_templates.csv"
ANCHORS_FILE = DATA / "demo_anchors.csv"

# Landlocked partners get no navies, coast guards or sea-lane programs (country_facts.csv).
LANDLOCKED = frozenset(iso3 for iso3, f in get_facts().countries.items() if f.landlocked)

# A partner's yearly money before its circumstances: a partner of 20 million people.
BASE_ENVELOPE = 22_000_000
INCOME_FACTOR = {"L": 1.0, "LM": 1.0, "UM": 0.5, "H": 0.06, None: 0.5}
FRAGILITY_FACTOR = {"conflict": 1.7, "fragility": 1.25, None: 1.0}
ALLY_FACTOR = 1.8  # major non-NATO allies
NATO_FACTOR = 1.4
COUP_FACTOR = 0.05  # civil society only
# Caps on a partner's yearly money by population: no micro-state gets a big program.
CAPS = ((100_000, 2_500_000), (1_000_000, 15_000_000), (10**12, 400_000_000))
# Accounts a program may draw a second line from (a share of each year's money).
SECOND_ACCOUNT = {
    "FMF": "IMET",
    "INCLE": "ESF",
    "NADR": "PKO",
    "10USC333": "10USC332",
    "PKO": "GPOI",
    "ESF": "DA",
}
SECOND_ACCOUNT_RATE = 0.15
# About one program for this much of a partner's yearly money.
PROGRAM_SIZE = 1_200_000


@dataclass(frozen=True)
class Template:
    """A kind of program the generator draws from."""

    title: str  # "{partner}" is replaced by the partner's name
    agency: str
    account: str
    institution_type: str
    purpose: str
    level: str
    dac_code: str
    objectives: tuple[str, ...]
    size: tuple[int, int]  # typical total dollars over the program's life
    years: tuple[int, int]  # duration range
    deliveries: bool = False
    weight: float = 1.0
    developed_ok: bool = False  # also for high-income partners

    @property
    def maritime(self) -> bool:
        """Navies, coast guards and sea lanes: not for landlocked partners."""
        title = self.title.lower()
        return "maritime" in title or "coast guard" in title or "navy" in title

    @property
    def civil_society(self) -> bool:
        """Works with civil society or non-state providers, not with the government."""
        return self.institution_type in ("civil_society", "non_state")


@lru_cache(maxsize=1)
def templates() -> tuple[tuple[Template, ...], tuple[Template, ...]]:
    """The program templates of ``demo_templates.csv``: (single-country, regional)."""
    single: list[Template] = []
    regional: list[Template] = []
    with TEMPLATES_FILE.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            t = Template(
                title=row["title"],
                agency=row["agency"],
                account=row["account"],
                institution_type=row["institution_type"],
                purpose=row["purpose"],
                level=row["level"],
                dac_code=row["dac_code"],
                objectives=tuple(row["objectives"].split("|")),
                size=(int(row["size_min"]), int(row["size_max"])),
                years=(int(row["years_min"]), int(row["years_max"])),
                deliveries=row["deliveries"] == "true",
                weight=float(row["weight"]),
                developed_ok=row["developed_ok"] == "true",
            )
            (regional if row["scope"] == "regional" else single).append(t)
    return tuple(single), tuple(regional)


@dataclass(frozen=True)
class Anchor:
    """A public multi-year commitment the demo reproduces as one large program."""

    iso3: str
    account: str
    agency: str
    annual: int
    first_fy: int
    last_fy: int
    title: str
    basis: str
    source_url: str


@lru_cache(maxsize=1)
def anchors() -> tuple[Anchor, ...]:
    """The commitments of ``demo_anchors.csv``."""
    with ANCHORS_FILE.open(encoding="utf-8", newline="") as fh:
        return tuple(
            Anchor(
                row["iso3"],
                row["account"],
                row["agency"],
                int(row["annual_usd"]),
                int(row["first_fy"]),
                int(row["last_fy"]),
                row["title"],
                row["basis"],
                row["source_url"],
            )
            for row in csv.DictReader(fh)
        )


REGIONAL_PARTNERS = (
    "AU",
    "ECOWAS",
    "SADC",
    "EAC",
    "IGAD",
    "ASEAN",
    "OAS",
    "SICA",
    "CARICOM",
    "PIF",
    "GCC",
    "AF",
    "EAP",
    "EUR",
    "NEA",
    "SCA",
    "WHA",
)

DELIVERY_NAMES = (
    "Patrol boats",
    "Radios and spares",
    "Night-vision devices",
    "Training package",
    "Surveillance radar",
    "Vehicles",
    "Body armor",
    "Maintenance support",
    "Unmanned aerial systems",
    "Forensic laboratory equipment",
    "Scanning equipment",
)
MARITIME_DELIVERIES = frozenset({"Patrol boats", "Surveillance radar"})


def partners(catalog: Catalog | None = None) -> list[str]:
    """Every real country and contested territory with a regional bureau, bar the U.S."""
    catalog = catalog or get_catalog()
    return sorted(
        c.iso3
        for c in catalog.countries.values()
        if c.status in ("sovereign", "other") and c.bureau and c.iso3 != "USA"
    )


def eligible(iso3: str, facts: Facts | None = None) -> bool:
    """Whether the demo may give ``iso3`` security assistance at all."""
    return not (facts or get_facts()).no_security_assistance(iso3)


def population_cap(population: int) -> int:
    """The most a partner of this size gets in a year (anchors aside)."""
    return next(cap for limit, cap in CAPS if population < limit)


def envelope(iso3: str, catalog: Catalog, facts: Facts) -> float:
    """A partner's expected yearly money (dollars) before noise, anchors aside.

    Grows with population (to the power 0.35, capped at 3.5 times the base), need
    (income group, fragility) and standing (major non-NATO ally, NATO), shrinks for
    high-income partners, capped by population (:data:`CAPS`).
    """
    f = facts.countries.get(iso3)
    if f is None or not eligible(iso3, facts):
        return 0.0
    size = min(3.5, (max(f.population, 1000) / 20e6) ** 0.35)
    amount = BASE_ENVELOPE * size * INCOME_FACTOR[f.income_group] * FRAGILITY_FACTOR[f.fcs]
    if "major_non_nato_ally" in facts.designated(iso3):
        amount *= ALLY_FACTOR
    elif iso3 in catalog.region_members("NATO"):
        amount *= NATO_FACTOR
    if "coup_restriction" in facts.restricted(iso3):
        amount *= COUP_FACTOR
    return min(amount, population_cap(f.population))


def _round(amount: float) -> int:
    return int(round(amount / 1000.0)) * 1000


@dataclass
class _Draft:
    """A program before its money is scaled to its partner's envelope."""

    template: Template
    title: str
    countries: list[str]
    regions: list[str]
    start: date
    end: date
    status: str
    weights: dict[int, float]  # relative money by fiscal year, inside FIRST_FY..LAST_FY
    second_account: str | None = None
    shares: dict[str, int] | None = None
    scale: float = 0.0  # dollars of the whole life, set when the partner's money is known
    extra: dict[str, Any] = field(default_factory=dict)


def _status(rng: random.Random, start: date, end: date) -> str:
    """A status the dates allow: ended programs are completed (or were terminated);
    running ones are obligated, implementing, suspended or terminated; future ones are
    still proposed, approved or notified (nothing obligated before they start)."""
    if end < AS_OF:
        return rng.choices(["completed", "terminated"], [0.95, 0.05])[0]
    if start > AS_OF + timedelta(days=240):
        return rng.choices(["proposed", "approved"], [0.7, 0.3])[0]
    if start > AS_OF:
        return rng.choices(["approved", "notified"], [0.45, 0.55])[0]
    return rng.choices(
        ["implementing", "obligated", "suspended", "terminated"], [0.86, 0.08, 0.04, 0.02]
    )[0]


def _dates(rng: random.Random, years: tuple[int, int]) -> tuple[date, date]:
    # Starts spread over FY2022-FY2029 so every fiscal year carries a similar load, as a
    # standing portfolio does; programs that ended before FY2025 are drawn again.
    while True:
        start = date(2021, 10, 1) + timedelta(days=rng.randint(0, 8 * 365 - 90))
        end = start + timedelta(days=365 * rng.randint(*years) - 1)
        if end >= date(FIRST_FY - 1, 10, 1):
            return start, end


def _weights(rng: random.Random, start: date, end: date) -> dict[int, float]:
    """Each fiscal year's part of the program's life money; only FY2025-FY2029 kept."""
    years = list(range(fiscal_year(start), fiscal_year(end) + 1))
    raw = [rng.uniform(0.6, 1.4) for _ in years]
    total = sum(raw)
    return {fy: w / total for fy, w in zip(years, raw, strict=True) if FIRST_FY <= fy <= LAST_FY}


def _draft(
    rng: random.Random,
    t: Template,
    partner_name: str,
    countries: Sequence[str],
    regions: Sequence[str],
) -> _Draft:
    start, end = _dates(rng, t.years)
    second = SECOND_ACCOUNT.get(t.account) if rng.random() < SECOND_ACCOUNT_RATE else None
    return _Draft(
        template=t,
        title=t.title.format(partner=partner_name),
        countries=list(countries),
        regions=list(regions),
        start=start,
        end=end,
        status=_status(rng, start, end),
        weights=_weights(rng, start, end),
        second_account=second,
        scale=rng.uniform(*t.size),
    )


def _lines(rng: random.Random, d: _Draft) -> list[BudgetLineIn]:
    """Budget lines whose money agrees with the status (see the module docstring)."""
    lines: list[BudgetLineIn] = []
    for fy, share in sorted(d.weights.items()):
        planned = _round(d.scale * share)
        if planned <= 0:
            continue
        parts: list[tuple[str | None, int]] = [(None, planned)]
        if d.second_account:
            other = _round(planned * rng.uniform(0.2, 0.4))
            parts = [(None, planned - other), (d.second_account, other)]
        for account, amount in parts:
            obligated, disbursed = _money(rng, d.status, fy, amount)
            lines.append(
                BudgetLineIn(
                    fiscal_year=fy,
                    account=account,
                    planned=amount,
                    obligated=obligated,
                    disbursed=disbursed,
                )
            )
    return lines


def _money(rng: random.Random, status: str, fy: int, planned: int) -> tuple[int, int]:
    """Obligated and disbursed dollars of one line, as the status and year allow."""
    if status in ("proposed", "approved", "notified") or fy > CURRENT_FY:
        return 0, 0
    if status == "completed":
        obligated = _round(planned * rng.uniform(0.96, 1.0))
        return obligated, _round(obligated * rng.uniform(0.92, 1.0))
    if fy == CURRENT_FY:  # the fiscal year has just begun
        if status != "implementing":
            return 0, 0
        obligated = _round(planned * rng.uniform(0.0, 0.1))
        return obligated, _round(obligated * rng.uniform(0.0, 0.3))
    if status == "obligated":
        obligated = _round(planned * rng.uniform(0.85, 1.0))
        return obligated, _round(obligated * rng.uniform(0.0, 0.15))
    if status == "terminated":
        obligated = _round(planned * rng.uniform(0.3, 0.8))
        return obligated, _round(obligated * rng.uniform(0.3, 0.9))
    obligated = _round(planned * rng.uniform(0.85, 1.0))  # implementing, suspended
    return obligated, _round(obligated * rng.uniform(0.45, 0.9))


def _deliveries(rng: random.Random, d: _Draft) -> list[MilestoneIn]:
    """Deliveries whose dates agree with the status: a completed program delivered
    everything before it ended; a program not yet obligated has nothing obligated or
    delivered; a suspended or terminated one delivers nothing after it stopped."""
    if not d.template.deliveries:
        return []
    names = [n for n in DELIVERY_NAMES if d.template.maritime or n not in MARITIME_DELIVERIES]
    last_step = {"proposed": 0, "approved": 1, "notified": 1, "obligated": 2}.get(d.status, 3)
    cutoff = AS_OF if d.status != "completed" else min(d.end, AS_OF)
    if d.status in ("suspended", "terminated"):
        cutoff = AS_OF - timedelta(days=rng.randint(30, 240))
    out = []
    for name in rng.sample(names, rng.randint(1, 3)):
        if d.status == "completed":
            # Everything happened between the start and the end.
            span = max((cutoff - d.start).days, 8)
            marks = sorted(rng.sample(range(1, span), 4)) if span > 5 else [1, 2, 3, 4]
            steps: list[date | None] = [d.start + timedelta(days=m) for m in marks]
        else:
            requested = d.start + timedelta(days=rng.randint(-120, 200))
            approved = requested + timedelta(days=rng.randint(20, 200))
            obligated = approved + timedelta(days=rng.randint(30, 300))
            delivered = obligated + timedelta(days=rng.randint(120, 800))
            steps = [requested, approved, obligated, delivered]
            for i in range(4):
                if i > last_step or steps[i] is None or steps[i] > cutoff:  # type: ignore[operator]
                    steps[i] = None
                if i > 0 and steps[i - 1] is None:
                    steps[i] = None
        out.append(
            MilestoneIn(
                name=name,
                requested_on=steps[0],
                approved_on=steps[1],
                obligated_on=steps[2],
                delivered_on=steps[3],
            )
        )
    return out


def _finish(rng: random.Random, d: _Draft) -> ProgramCreate:
    t = d.template
    account_text = t.account + (f" and {d.second_account}" if d.second_account else "")
    marking = rng.choices(["U", "SBU", "CUI"], [0.9, 0.06, 0.04])[0]
    return ProgramCreate(
        title=d.title,
        description=f"{LABEL} {d.title}; funded from {account_text}.",
        agency=t.agency,
        account=t.account,
        countries=d.countries,
        regions=d.regions,
        shares=d.shares,
        institution_type=t.institution_type,
        level=t.level,
        purpose=t.purpose,
        objectives=list(t.objectives),
        dac_code=t.dac_code,
        start=d.start,
        end=d.end,
        status=d.status,
        marking=marking,
        budget=_lines(rng, d),
        milestones=_deliveries(rng, d),
    )


def _mean_yearly(drafts: Sequence[_Draft]) -> float:
    """The drafts' money per fiscal year of FIRST_FY..LAST_FY, at their current scale."""
    total = sum(d.scale * sum(d.weights.values()) for d in drafts)
    return total / (LAST_FY - FIRST_FY + 1)


def population_shares(members: Sequence[str], facts: Facts) -> dict[str, int]:
    """Unequal shares in basis points, by the square root of each partner's population
    (largest remainder, summing to 10,000)."""
    weights = [math.sqrt(max(facts.countries[m].population, 1000)) for m in members]
    total = sum(weights)
    raw = [FULL_SHARE * w / total for w in weights]
    parts = [int(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: FULL_SHARE - sum(parts)]:
        parts[i] += 1
    return dict(zip(members, parts, strict=True))


def _anchor_programs(rng: random.Random, a: Anchor) -> list[ProgramCreate]:
    """The commitment as an implementing program, and, where it ends before
    :data:`LAST_FY`, the follow-on a planner would hold as proposed."""
    out = [_anchor_program(rng, a, a.first_fy, a.last_fy, "implementing")]
    if a.last_fy < LAST_FY:
        out.append(_anchor_program(rng, a, a.last_fy + 1, LAST_FY + 4, "proposed"))
    return out


def _anchor_program(
    rng: random.Random, a: Anchor, first_fy: int, last_fy: int, status: str
) -> ProgramCreate:
    start = date(first_fy - 1, 10, 1)
    end = date(last_fy, 9, 30)
    lines = []
    for fy in range(max(FIRST_FY, first_fy), min(LAST_FY, last_fy) + 1):
        obligated = disbursed = 0
        if fy < CURRENT_FY and status == "implementing":
            obligated = a.annual
            disbursed = _round(a.annual * rng.uniform(0.55, 0.9))
        lines.append(
            BudgetLineIn(fiscal_year=fy, planned=a.annual, obligated=obligated, disbursed=disbursed)
        )
    if status != "implementing":
        title = f"{a.title}: follow-on after FY{a.last_fy} (planning figure)"
        return ProgramCreate(
            title=title,
            description=f"{LABEL} A planning figure for after the commitment ends "
            f"({a.basis}; {a.source_url}); no new commitment exists.",
            agency=a.agency,
            account=a.account,
            countries=[a.iso3],
            institution_type="armed_forces",
            level="national",
            purpose="build_capacity",
            objectives=["G1.3", "G2.2"],
            dac_code="15210",
            start=start,
            end=end,
            status=status,
            marking="U",
            budget=lines,
        )
    milestones = []
    for i, item in enumerate(("Foreign Military Sales case: munitions", "Sustainment case")):
        requested = date(CURRENT_FY - 3, 11, 1) + timedelta(days=90 * i)
        milestones.append(
            MilestoneIn(
                name=item,
                requested_on=requested,
                approved_on=requested + timedelta(days=60),
                obligated_on=requested + timedelta(days=150),
                delivered_on=requested + timedelta(days=540) if i == 0 else None,
            )
        )
    return ProgramCreate(
        title=a.title,
        description=f"{LABEL} Sized after a public commitment: {a.basis} ({a.source_url}).",
        agency=a.agency,
        account=a.account,
        countries=[a.iso3],
        institution_type="armed_forces",
        level="national",
        purpose="build_capacity",
        objectives=["G1.3", "G2.2"],
        dac_code="15210",
        start=start,
        end=end,
        status="implementing",
        marking="U",
        budget=lines,
        milestones=milestones,
    )


def generate(seed: int = 2013, catalog: Catalog | None = None) -> list[ProgramCreate]:
    """The demo programs for ``seed``: same seed, same programs."""
    catalog = catalog or get_catalog()
    facts = get_facts()
    single_templates, regional_templates = templates()
    rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not a secret
    programs: list[ProgramCreate] = []
    for a in anchors():
        programs.extend(_anchor_programs(rng, a))
    for iso3 in partners(catalog):
        yearly = envelope(iso3, catalog, facts) * rng.lognormvariate(0.0, 0.3)
        if yearly <= 0:
            continue
        f = facts.countries[iso3]
        yearly = min(yearly, population_cap(f.population))
        pool = list(single_templates)
        if f.income_group == "H":
            pool = [t for t in pool if t.developed_ok]
        if "coup_restriction" in facts.restricted(iso3):
            pool = [t for t in single_templates if t.civil_society]
        if f.landlocked:
            pool = [t for t in pool if not t.maritime]
        count = max(1, min(40, round(yearly / PROGRAM_SIZE)))
        name = catalog.countries[iso3].name
        drafts: list[_Draft] = []
        while len(drafts) < count:
            t = rng.choices(pool, [t.weight for t in pool])[0]
            d = _draft(rng, t, name, [iso3], [])
            if d.weights:
                drafts.append(d)
        mean = _mean_yearly(drafts)
        for d in drafts:
            d.scale = max(150_000.0, d.scale * yearly / mean) if mean else d.scale
        # Programs bunch in some years: no year may pass the partner's cap.
        cap = population_cap(f.population)
        peak = max(
            sum(d.scale * d.weights.get(fy, 0.0) for d in drafts)
            for fy in range(FIRST_FY, LAST_FY + 1)
        )
        if peak > cap:
            for d in drafts:
                d.scale *= cap / peak
        programs.extend(_finish(rng, d) for d in drafts)
    for code in REGIONAL_PARTNERS:
        region = catalog.regions[code]
        for t in rng.sample(regional_templates, rng.randint(2, 4)):
            d = _draft(rng, t, region.name, [], [code])
            if d.weights:
                programs.append(_finish(rng, d))
    subregions: dict[str, list[str]] = {}
    for iso3 in partners(catalog):
        known = facts.countries.get(iso3)
        if known is None or known.income_group == "H" or facts.restricted(iso3):
            continue
        sub = catalog.countries[iso3].un_subregion
        if sub:
            subregions.setdefault(sub, []).append(iso3)
    for _sub, members in sorted(subregions.items()):
        if len(members) < 2:
            continue
        for _ in range(rng.randint(2, 4)):
            group = sorted(rng.sample(members, min(len(members), rng.randint(2, 4))))
            names = [catalog.countries[g].name for g in group]
            label = ", ".join(names[:-1]) + " and " + names[-1]
            fits = [t for t in regional_templates if not (t.maritime and LANDLOCKED & set(group))]
            d = _draft(rng, rng.choice(fits), label, group, [])
            if not d.weights:
                continue
            # Cross-border money follows the partners' sizes, not equal shares.
            d.shares = population_shares(group, facts)
            # No member's part in any year may pass a fifth of its own cap.
            peak = max(d.weights.values())
            d.scale = min(
                d.scale,
                *(
                    0.2 * population_cap(facts.countries[g].population) / (bp / FULL_SHARE * peak)
                    for g, bp in d.shares.items()
                ),
            )
            programs.append(_finish(rng, d))
    return programs


def load(ctx: DemoContext) -> dict[str, Any]:
    """The demo step: generate the programs and save them in one transaction."""
    with ctx.store.transaction() as session:
        existing = session.execute(select(func.count()).select_from(Program)).scalar_one()
        if existing:
            raise Conflict(
                f"the database already holds {existing} programs: load the demo into a new "
                "database (--db sqlite:///demo.db)"
            )
        ctx.log(f"generating the illustrative programs (seed {ctx.seed})...")
        programs = generate(ctx.seed)
        ctx.log(f"saving {len(programs)} programs...")
        PortfolioService(session, Actor("demo-loader", "admin")).upsert_many(
            programs, source="demo"
        )
        lines = session.execute(select(func.count()).select_from(BudgetLine)).scalar_one()
    partner_set = {c for p in programs for c in p.countries or []}
    return {"programs": len(programs), "partners": len(partner_set), "budget_lines": lines}
