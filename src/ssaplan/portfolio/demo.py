"""The portfolio's step of the ILLUSTRATIVE demo world: generated programs, budgets and
deliveries for real countries, regions, accounts and codes.

Everything generated comes from one seeded generator, so a seed always gives the same
world. Every generated program says in its description that it is illustrative, so no
one mistakes it for real data.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from ssaplan.core.errors import Conflict
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.portfolio.models import BudgetLine, Program
from ssaplan.portfolio.schemas import BudgetLineIn, MilestoneIn, ProgramCreate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import Catalog, get_catalog

FIRST_FY, LAST_FY = 2025, 2029
# The world is generated as of this day (start of FY2027), not the clock, so it is reproducible.
AS_OF = date(2026, 10, 1)
LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real program."

# Landlocked states (UN-OHRLLS list of landlocked developing countries, plus Europe's
# landlocked states and Kosovo): no maritime programs for them.
LANDLOCKED = frozenset(
    {
        "AFG",
        "AND",
        "ARM",
        "AUT",
        "AZE",
        "BDI",
        "BFA",
        "BLR",
        "BOL",
        "BTN",
        "BWA",
        "CAF",
        "CHE",
        "CZE",
        "ETH",
        "HUN",
        "KAZ",
        "KGZ",
        "LAO",
        "LIE",
        "LSO",
        "LUX",
        "MDA",
        "MKD",
        "MLI",
        "MNG",
        "MWI",
        "NER",
        "NPL",
        "PRY",
        "RWA",
        "SMR",
        "SRB",
        "SSD",
        "SVK",
        "SWZ",
        "TCD",
        "TJK",
        "TKM",
        "UGA",
        "UZB",
        "VAT",
        "XKX",
        "ZMB",
        "ZWE",
    }
)


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
    developed_ok: bool = False  # also for high-income allies

    @property
    def maritime(self) -> bool:
        """Navies, coast guards and sea lanes: not for landlocked partners."""
        return "maritime" in self.title.lower()


TEMPLATES_FILE = Path(__file__).parent / "data" / "demo_templates.csv"


@lru_cache(maxsize=1)
def templates() -> tuple[tuple[Template, ...], tuple[Template, ...]]:
    """The program templates of ``templates.csv``: (single-country, regional)."""
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


def _partners(catalog: Catalog) -> list[str]:
    """Every real country and contested territory with a regional bureau, bar the U.S."""
    return sorted(
        c.iso3
        for c in catalog.countries.values()
        if c.status in ("sovereign", "other") and c.bureau and c.iso3 != "USA"
    )


def _round(amount: float) -> int:
    return int(round(amount / 1000.0)) * 1000


def _budget(
    rng: random.Random, total: int, start: date, end: date, status: str
) -> list[BudgetLineIn]:
    # The total spreads over the program's whole life; only FY2025-FY2029 lines are kept.
    years = list(range(fiscal_year(start), fiscal_year(end) + 1))
    shares = [rng.uniform(0.6, 1.4) for _ in years]
    scale = total / sum(shares)
    current = fiscal_year(AS_OF)
    lines = []
    for fy, share in zip(years, shares, strict=True):
        if not FIRST_FY <= fy <= LAST_FY:
            continue
        planned = _round(share * scale)
        obligated = disbursed = 0
        funded = status in ("obligated", "implementing", "completed", "suspended", "terminated")
        if funded and fy < current:
            obligated = _round(planned * rng.uniform(0.85, 1.0))
            disbursed = _round(obligated * rng.uniform(0.55, 1.0))
        elif funded and fy == current:
            obligated = _round(planned * rng.uniform(0.0, 0.35))
            disbursed = _round(obligated * rng.uniform(0.0, 0.5))
        lines.append(
            BudgetLineIn(fiscal_year=fy, planned=planned, obligated=obligated, disbursed=disbursed)
        )
    return lines


def _status(rng: random.Random, start: date, end: date) -> str:
    if end < AS_OF:
        return rng.choices(["completed", "terminated"], [0.96, 0.04])[0]
    if start > AS_OF + timedelta(days=240):
        return rng.choices(["proposed", "approved"], [0.7, 0.3])[0]
    if start > AS_OF:
        return rng.choices(["approved", "notified", "obligated"], [0.3, 0.4, 0.3])[0]
    return rng.choices(
        ["implementing", "obligated", "suspended", "terminated"], [0.88, 0.06, 0.04, 0.02]
    )[0]


def _deliveries(rng: random.Random, start: date) -> list[MilestoneIn]:
    out = []
    for name in rng.sample(DELIVERY_NAMES, rng.randint(1, 3)):
        requested = start + timedelta(days=rng.randint(-120, 200))
        approved = requested + timedelta(days=rng.randint(20, 200))
        obligated = approved + timedelta(days=rng.randint(30, 300))
        delivered = obligated + timedelta(days=rng.randint(120, 800))
        dates = [d if d <= AS_OF else None for d in (requested, approved, obligated, delivered)]
        # A later step cannot have happened if an earlier one has not.
        for i in range(1, 4):
            if dates[i - 1] is None:
                dates[i] = None
        out.append(
            MilestoneIn(
                name=name,
                requested_on=dates[0],
                approved_on=dates[1],
                obligated_on=dates[2],
                delivered_on=dates[3],
            )
        )
    return out


def _program(
    rng: random.Random,
    t: Template,
    partner_name: str,
    countries: Sequence[str],
    regions: Sequence[str],
    weight: float,
) -> ProgramCreate:
    # Starts spread over FY2022-FY2029 so every fiscal year carries a similar load, as a
    # standing portfolio does; programs that ended before FY2025 are drawn again.
    while True:
        start = date(2021, 10, 1) + timedelta(days=rng.randint(0, 8 * 365 - 90))
        end = start + timedelta(days=365 * rng.randint(*t.years) - 1)
        if end >= date(FIRST_FY - 1, 10, 1):
            break
    low, high = t.size
    # Engagement scales a program's size, within reason: at most 1.6x the template's range.
    total = _round(rng.uniform(low, high) * min(weight, 1.6))
    status = _status(rng, start, end)
    marking = rng.choices(["U", "SBU", "CUI"], [0.9, 0.06, 0.04])[0]
    return ProgramCreate(
        title=t.title.format(partner=partner_name),
        description=f"{LABEL} {t.title.format(partner=partner_name)}; funded from {t.account}.",
        agency=t.agency,
        account=t.account,
        countries=list(countries),
        regions=list(regions),
        institution_type=t.institution_type,
        level=t.level,
        purpose=t.purpose,
        objectives=list(t.objectives),
        dac_code=t.dac_code,
        start=start,
        end=end,
        status=status,
        marking=marking,
        budget=_budget(rng, total, start, end, status),
        milestones=_deliveries(rng, start) if t.deliveries else [],
    )


def generate(seed: int = 2013, catalog: Catalog | None = None) -> list[ProgramCreate]:
    """The demo programs for ``seed``: same seed, same programs."""
    catalog = catalog or get_catalog()
    single_templates, regional_templates = templates()
    rng = random.Random(seed)
    partners = _partners(catalog)
    wealthy = {m for org in ("EU", "NATO") for m in catalog.region_members(org)}
    wealthy |= {
        "AUS",
        "NZL",
        "JPN",
        "KOR",
        "SGP",
        "CHE",
        "NOR",
        "ISL",
        "CAN",
        "LIE",
        "MCO",
        "SMR",
        "AND",
        "VAT",
        "BRN",
        "QAT",
        "ARE",
        "KWT",
    }
    wealthy -= {"ALB", "MKD", "MNE", "BGR", "ROU"}  # newer NATO members still receive FMF
    programs: list[ProgramCreate] = []
    for iso3 in partners:
        name = catalog.countries[iso3].name
        engagement = rng.lognormvariate(0.0, 0.7)
        if iso3 in wealthy:
            pool = [t for t in single_templates if t.developed_ok]
            count = rng.randint(1, 4)
        else:
            pool = list(single_templates)
            count = max(3, min(32, int(round(11.5 * engagement))))
        if iso3 in LANDLOCKED:
            pool = [t for t in pool if not t.maritime]
        chosen = rng.choices(pool, [t.weight for t in pool], k=count)
        for t in chosen:
            programs.append(_program(rng, t, name, [iso3], [], engagement))
    for code in REGIONAL_PARTNERS:
        region = catalog.regions[code]
        for t in rng.sample(regional_templates, rng.randint(2, 4)):
            programs.append(_program(rng, t, region.name, [], [code], 1.0))
    subregions: dict[str, list[str]] = {}
    for iso3 in partners:
        sub = catalog.countries[iso3].un_subregion
        if sub and iso3 not in wealthy:
            subregions.setdefault(sub, []).append(iso3)
    for _sub, members in sorted(subregions.items()):
        if len(members) < 2:
            continue
        for _ in range(rng.randint(2, 5)):
            group = sorted(rng.sample(members, min(len(members), rng.randint(2, 4))))
            names = [catalog.countries[g].name for g in group]
            label = ", ".join(names[:-1]) + " and " + names[-1]
            fits = [t for t in regional_templates if not (t.maritime and LANDLOCKED & set(group))]
            t = rng.choice(fits)
            programs.append(_program(rng, t, label, group, [], 1.0))
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
    partners = {c for p in programs for c in p.countries or []}
    return {"programs": len(programs), "partners": len(partners), "budget_lines": lines}
