"""The strategy domain's step of the ILLUSTRATIVE demo world: sector strategies for the
partners with the most active programs (and one region), their results frameworks,
and measurements through the last fiscal year — some indicators off track for the
last two periods, so the review rules have something to find.

Programs are picked from what the database holds when the step runs (by partner,
status and the goal-tree objectives they serve), never by fixed ids, so the step
works whatever the portfolio's generator made. Same seed, same strategies.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date
from typing import Any

from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.schemas import ProgramPublic
from ssaplan.portfolio.service import PortfolioService
from ssaplan.reference.catalog import get_catalog
from ssaplan.strategy import engine
from ssaplan.strategy.measurements import MeasurementService
from ssaplan.strategy.schemas import MeasurementIn, StrategyCreate
from ssaplan.strategy.service import StrategyService

LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real strategy."
ACTOR = Actor("demo-loader", "admin")
COUNTRIES = 12  # country strategies
ACTIVE = ("approved", "notified", "obligated", "implementing")
SERVING = (*ACTIVE, "proposed", "suspended")

# Indicators by goal (G1 ... G4): (name, kind, unit, direction, frequency, breakdowns).
INDICATORS: dict[str, list[tuple[str, str, str, str, str, list[str]]]] = {
    "G1": [
        (
            "Share of border crossings with working biometric screening",
            "effectiveness",
            "%",
            "increase",
            "annual",
            ["region"],
        ),
        (
            "Officers trained and certified",
            "performance",
            "officers",
            "increase",
            "quarterly",
            ["sex", "institution"],
        ),
        (
            "Average days to close a trafficking investigation",
            "effectiveness",
            "days",
            "decrease",
            "semiannual",
            [],
        ),
    ],
    "G2": [
        (
            "Joint operations conducted with U.S. forces",
            "effectiveness",
            "operations",
            "increase",
            "annual",
            [],
        ),
        (
            "Interdictions reported to the regional centre",
            "performance",
            "cases",
            "increase",
            "quarterly",
            ["region"],
        ),
    ],
    "G3": [
        (
            "Complaints against security forces resolved within 90 days",
            "effectiveness",
            "%",
            "increase",
            "annual",
            ["institution"],
        ),
        (
            "Oversight and justice staff trained",
            "performance",
            "people",
            "increase",
            "quarterly",
            ["sex"],
        ),
    ],
    "G4": [
        (
            "Peacekeepers deployed meeting UN standards",
            "effectiveness",
            "personnel",
            "increase",
            "annual",
            ["sex"],
        ),
        ("Units certified for deployment", "performance", "units", "increase", "semiannual", []),
    ],
}
PAID_BY = {
    "G1": "the partner's Ministry of Interior recurrent budget",
    "G2": "the partner's Ministry of Defence budget",
    "G3": "the partner's Ministry of Justice and the judiciary's budget",
    "G4": "the partner's defence budget and UN troop-cost reimbursements",
}


def _round(value: float) -> int:
    return int(round(value / 1000.0)) * 1000


def _partners(programs: list[ProgramPublic]) -> list[str]:
    """The countries with the most active single-country programs, most first."""
    counts = Counter(
        p.countries[0] for p in programs if len(p.countries) == 1 and p.status in ACTIVE
    )
    return [c for c, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:COUNTRIES]]


def _region(programs: list[ProgramPublic]) -> str | None:
    """The regional bureau with the most regional programs."""
    catalog = get_catalog()
    counts = Counter(
        r
        for p in programs
        for r in p.regions
        if p.status in SERVING and catalog.regions[r].kind == "bureau"
    )
    best = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return best[0][0] if best else None


def _values(
    rng: random.Random,
    baseline: float,
    targets: dict[int, float],
    base_period: engine.Period,
    frequency: str,
    as_of: date,
    trouble: str,
) -> list[tuple[engine.Period, float]]:
    """Measured totals for every period that has ended by ``as_of``."""
    out = []
    done = [p for p in engine.periods(frequency, min(targets), max(targets)) if p.end() < as_of]
    for n, period in enumerate(done):
        expected = engine.expected_value(period, (base_period, baseline), targets)
        if expected is None:
            continue
        left = len(done) - n
        if trouble == "off_track" and left <= 2:
            ratio = rng.uniform(0.15, 0.5)
        elif trouble == "at_risk" and left <= 1:
            ratio = rng.uniform(0.72, 0.86)
        elif trouble == "ahead":
            ratio = rng.uniform(1.15, 1.35)
        else:
            ratio = rng.gauss(1.02, 0.05)
        value = baseline + ratio * (expected - baseline)
        out.append((period, round(value, 1)))
    return out


def _framework(
    rng: random.Random,
    partner: str,
    partner_name: str,
    programs: list[ProgramPublic],
    first_fy: int,
    last_fy: int,
    sustain_all: bool,
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Objectives (as the API takes them) and each indicator's planned trouble."""
    catalog = get_catalog()
    serving = [p for p in programs if p.status in SERVING]
    goals = Counter(o for p in serving for o in p.objectives)
    chosen = [o for o, _ in sorted(goals.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    objectives = []
    trouble: dict[str, str] = {}
    for n, goal_id in enumerate(chosen, start=1):
        goal = goal_id.split(".")[0]
        linked = sorted(p.id for p in serving if goal_id in p.objectives)[:15]
        planned = sum(p.totals.planned for p in serving if p.id in linked)
        pool = INDICATORS.get(goal, INDICATORS["G1"])
        indicators = []
        for k, (name, kind, unit, direction, frequency, dims) in enumerate(
            rng.sample(pool, min(2, len(pool)))
        ):
            code = f"{n}.{'ab'[k]}"
            base = {"%": rng.uniform(20, 55), "days": rng.uniform(120, 240)}.get(
                unit, float(rng.randint(40, 400))
            )
            base = round(base, 1)
            step = base * rng.uniform(0.06, 0.14)
            sign = 1 if direction == "increase" else -1
            targets = [
                {"fiscal_year": fy, "value": round(base + sign * step * (fy - first_fy + 1), 1)}
                for fy in range(first_fy, last_fy + 1)
            ]
            if unit == "%":
                for t in targets:
                    t["value"] = min(t["value"], 98.0)
            per = engine.PER_YEAR[frequency]
            baseline_period = engine.Period(first_fy - 1, per, per).label
            indicators.append(
                {
                    "code": code,
                    "name": name,
                    "kind": kind,
                    "unit": unit,
                    "direction": direction,
                    "baseline_value": base,
                    "baseline_period": baseline_period,
                    "data_source": (
                        "partner ministry reports, verified by the embassy"
                        if kind == "effectiveness"
                        else "implementer quarterly reports"
                    ),
                    "frequency": frequency,
                    "disaggregations": dims,
                    "targets": targets,
                }
            )
            trouble[code] = rng.choices(
                ["none", "off_track", "at_risk", "ahead"], [0.6, 0.22, 0.12, 0.06]
            )[0]
        sustainment = None
        if sustain_all or n < len(chosen):
            shares = [
                {"fiscal_year": fy, "share_bp": min(10_000, 1000 + 1250 * (fy - first_fy))}
                for fy in range(first_fy, last_fy + 1)
            ]
            sustainment = {
                "life_cycle_cost": max(1_000_000, _round(planned * rng.uniform(0.2, 0.35))),
                "transition_on": date(last_fy, 9, 30).isoformat(),
                "paid_by": PAID_BY.get(goal, PAID_BY["G1"]),
                "description": (
                    f"{LABEL} Spare parts, maintenance, instructors and salaries are moved to "
                    f"{partner_name}'s budget step by step; U.S. support ends on transition."
                ),
                "partner_shares": shares,
            }
        objectives.append(
            {
                "code": str(n),
                "title": f"{catalog.objectives[goal_id].name} ({partner_name})",
                "goal_objective": goal_id,
                "description": f"{LABEL} What {partner_name} should be able to do by FY{last_fy}.",
                "assumptions": (
                    "Trained staff stay in post; the partner funds recurring costs as "
                    "committed; the security situation allows field work."
                ),
                "programs": linked,
                "indicators": indicators,
                "sustainment": sustainment,
            }
        )
    return objectives, trouble


def load(ctx: DemoContext) -> dict[str, Any]:
    """The demo step: strategies with frameworks and measurements (after the portfolio
    and the assessment)."""
    catalog = get_catalog()
    rng = random.Random(ctx.seed * 13 + 5)  # noqa: S311 - reproducible demo data, not a secret
    first_fy, last_fy = ctx.first_fy, ctx.last_fy
    made: list[str] = []
    measurements = 0
    with ctx.store.transaction() as session:
        portfolio = PortfolioService(session, ACTOR)
        everything = portfolio.list_programs(ProgramFilter(), limit=None).items
        by_country: dict[str, list[ProgramPublic]] = defaultdict(list)
        for p in everything:
            for c in p.countries:
                by_country[c].append(p)
        partners: list[tuple[str, str | None, list[ProgramPublic]]] = [
            (iso3, None, by_country[iso3]) for iso3 in _partners(everything)
        ]
        region = _region(everything)
        if region is not None:
            members = catalog.region_members(region)
            regional = [
                p
                for p in everything
                if region in p.regions
                or (len(p.countries) > 1 and set(p.countries) <= set(members))
            ]
            partners.append((region, region, regional))
        strategies = StrategyService(session, ACTOR, catalog)
        values = MeasurementService(session, ACTOR, catalog)
        for n, (partner, region_code, programs) in enumerate(partners):
            name = catalog.regions[partner].name if region_code else catalog.countries[partner].name
            objectives, trouble = _framework(
                rng, partner, name, programs, first_fy, last_fy, sustain_all=n % 3 != 2
            )
            if not objectives:
                continue
            # Make sure the world shows each case: one objective well ahead of its targets
            # (programs serving only it are scale-up candidates), one off track.
            if n == 0:
                trouble.update({code: "ahead" for code in trouble if code.startswith("1.")})
            if n == 1:
                trouble["2.a"] = "off_track"
            planned = sum(p.totals.planned for p in programs if p.status in SERVING)
            agency = Counter(catalog.top_agency(p.agency) for p in programs).most_common(1)[0][0]
            body = StrategyCreate.model_validate(
                {
                    "title": f"{name} security sector strategy FY{first_fy}-FY{last_fy}",
                    ("region" if region_code else "country"): partner,
                    "agency": agency,
                    "first_fy": first_fy,
                    "last_fy": last_fy,
                    "status": "active",
                    "theory_of_change": (
                        f"{LABEL} If {name}'s security and justice institutions gain the "
                        "skills, equipment and oversight the programs provide, and the partner "
                        "takes over their upkeep as committed, then they will control territory "
                        "and borders, cooperate against shared threats and respect the rule of "
                        "law — because capability without sustainment and accountability does "
                        "not last."
                    ),
                    "objectives": objectives,
                    "commitments": [
                        *(
                            {
                                "kind": "cost_share",
                                "description": f"{name} funds its share of operations and "
                                f"maintenance in FY{fy}",
                                "fiscal_year": fy,
                                "amount": _round(planned / 5 * rng.uniform(0.05, 0.12)),
                                "status": "met" if fy < 2027 else "pending",
                            }
                            for fy in range(first_fy, min(last_fy, first_fy + 2) + 1)
                        ),
                        {
                            "kind": "legislation",
                            "description": "Pass the law giving the oversight body powers to "
                            "investigate complaints",
                            "due_on": "2027-06-30",
                            "status": "pending",
                        },
                        {
                            "kind": "personnel",
                            "description": "Assign trained officers to the new units for at "
                            "least three years",
                            "personnel": rng.randint(60, 400),
                            "status": rng.choice(["met", "pending", "missed"]),
                        },
                    ],
                }
            )
            s = strategies.create(body)
            made.append(s.id)
            items = []
            for o in s.objectives:
                for ind in o.indicators:
                    assert ind.baseline_value is not None and ind.baseline_period  # noqa: S101
                    targets = {t.fiscal_year: t.value for t in ind.targets}
                    series = _values(
                        rng,
                        ind.baseline_value,
                        targets,
                        engine.parse_period(ind.baseline_period),
                        ind.frequency,
                        ctx.as_of,
                        trouble.get(ind.code, "none"),
                    )
                    for k, (period, value) in enumerate(series):
                        quality = rng.choices("ABCD", [0.2, 0.55, 0.2, 0.05])[0]
                        if k >= len(series) - 2:
                            quality = rng.choice("AB")  # the periods the rules judge are solid
                        items.append(
                            MeasurementIn(
                                indicator=ind.id,
                                period=period.label,
                                value=value,
                                quality=quality,
                                confidence=rng.choice(["high", "medium", "medium", "low"]),
                                source=f"{LABEL} {ind.data_source}",
                            )
                        )
                        if "sex" in ind.disaggregations and k >= len(series) - 4:
                            women = round(value * rng.uniform(0.12, 0.35), 1)
                            for sex, part in (("female", women), ("male", round(value - women, 1))):
                                items.append(
                                    MeasurementIn(
                                        indicator=ind.id,
                                        period=period.label,
                                        value=part,
                                        disaggregation={"sex": sex},
                                        quality="B",
                                        confidence="medium",
                                        source=f"{LABEL} {ind.data_source}",
                                    )
                                )
            if items:
                measurements += len(values.save_many(items, summary="demo").created)
    return {"strategies": len(made), "measurements": measurements}
