"""The monitoring domain's step of the ILLUSTRATIVE demo world: a flexible reserve, money
that stopped moving, late deliveries, a crisis, a legal restriction, the review rules run
over the whole portfolio, a few decisions, and two surge requests.

Programs are picked from what the database holds when the step runs (by partner and
status, in id order through the seeded generator), never by fixed ids. The legal
restriction review is opened the way the compliance domain opens one
(:meth:`MonitoringService.open_review`), and says it is illustrative.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.monitoring.schemas import (
    CrisisIn,
    DecisionIn,
    ReserveIn,
    SurgeCreate,
    SurgeDecision,
)
from ssaplan.monitoring.service import MonitoringService
from ssaplan.monitoring.surge import SurgeService
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.schemas import BudgetLineIn, MilestoneIn, ProgramPublic, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.strategy.service import StrategyService

LABEL = "ILLUSTRATIVE DEMO DATA"
ACTOR = Actor("demo-loader", "admin")
RESERVES = (
    ("FMF", 60_000_000),
    ("INCLE", 25_000_000),
    ("PKO", 15_000_000),
    ("10USC333", 40_000_000),
)


def _budget(p: ProgramPublic, change: dict[int, tuple[float, float]]) -> list[BudgetLineIn]:
    """The program's budget with the obligated and disbursed shares of some years set."""
    out = []
    for b in p.budget:
        obligated, disbursed = b.obligated, b.disbursed
        if b.fiscal_year in change:
            o_share, d_share = change[b.fiscal_year]
            obligated = int(round(b.planned * o_share / 1000)) * 1000
            disbursed = int(round(obligated * d_share / 1000)) * 1000
        out.append(
            BudgetLineIn(
                fiscal_year=b.fiscal_year,
                account=b.account,
                planned=b.planned,
                obligated=obligated,
                disbursed=disbursed,
            )
        )
    return out


def load(ctx: DemoContext) -> dict[str, Any]:
    """The demo step (after the strategies: the rules read their indicators)."""
    rng = random.Random(ctx.seed * 17 + 11)  # noqa: S311 - reproducible demo data, not a secret
    as_of = ctx.as_of
    current = fiscal_year(as_of)
    with ctx.store.transaction() as session:
        portfolio = PortfolioService(session, ACTOR)
        surges = SurgeService(session, ACTOR)
        reviews = ReviewService(session, ACTOR, as_of=as_of)
        strategies = StrategyService(session, ACTOR)
        for account, amount in RESERVES:
            surges.set_reserve(
                account,
                current,
                ReserveIn(amount=amount, note=f"{LABEL}: held back for short-notice needs"),
            )
        implementing = [
            p
            for p in portfolio.list_programs(ProgramFilter(status="implementing"), limit=None).items
            if len(p.countries) == 1
        ]
        # Money that stopped moving: last year's money mostly unobligated; for one, money
        # obligated two years ago barely disbursed.
        with_last_year = [
            p for p in implementing if any(b.fiscal_year == current - 1 for b in p.budget)
        ]
        stalled = rng.sample(with_last_year, min(4, len(with_last_year)))
        for k, p in enumerate(stalled):
            change = {current - 1: (rng.uniform(0.1, 0.3), 0.2)}
            if k == 0 and any(b.fiscal_year == current - 2 for b in p.budget):
                change[current - 2] = (0.95, 0.05)
            portfolio.update(p.id, ProgramUpdate(version=p.version, budget=_budget(p, change)))
        # Late deliveries: a request long ago, approved late, still not obligated.
        with_deliveries = [p for p in implementing if p.milestones and p not in stalled]
        late = rng.sample(with_deliveries, min(3, len(with_deliveries)))
        for p in late:
            first = p.milestones[0]
            requested = as_of - timedelta(days=rng.randint(600, 800))
            milestones = [
                MilestoneIn(
                    id=first.id,
                    name=first.name,
                    requested_on=requested,
                    approved_on=requested + timedelta(days=rng.randint(150, 260)),
                )
            ] + [
                MilestoneIn(
                    id=m.id,
                    name=m.name,
                    requested_on=m.requested_on,
                    approved_on=m.approved_on,
                    obligated_on=m.obligated_on,
                    delivered_on=m.delivered_on,
                )
                for m in p.milestones[1:]
            ]
            current_p = portfolio.get(p.id)
            portfolio.update(p.id, ProgramUpdate(version=current_p.version, milestones=milestones))
        # A crisis and a legal restriction in partner countries with strategies.
        listing = strategies.list_strategies(limit=None).items
        countries = [s.country for s in listing if s.country]
        crisis = None
        if len(countries) > 2:
            crisis = reviews.record_crisis(
                CrisisIn(
                    country=countries[2],
                    occurred_on=as_of - timedelta(days=20),
                    kind="unrest",
                    severity="severe",
                    description=f"{LABEL}: violent unrest after disputed elections; curfews "
                    "in the capital and the border regions",
                )
            )
        restricted = None
        if len(countries) > 3:
            there = [p for p in implementing if p.countries == [countries[3]] and p not in stalled]
            if there:
                restricted = sorted(there, key=lambda p: p.id)[0]
                MonitoringService(session, ACTOR, as_of=as_of).open_review(
                    restricted.id,
                    "legal_restriction",
                    [
                        f"{LABEL}: a new Sec. 7008 coup restriction on {countries[3]} reaches "
                        f"{restricted.account or 'this account'} from FY{current} (in a live "
                        "system the compliance domain opens this review when the restriction "
                        "is recorded)"
                    ],
                    source="compliance (demo)",
                )
        run = reviews.run_rules()
        decided = 0
        # A few decisions, so the queue shows decided reviews and their effects.
        open_reviews = reviews.list_reviews(status="open", limit=None).items
        by_trigger: dict[str, list[Any]] = {}
        for r in open_reviews:
            by_trigger.setdefault(r.trigger, []).append(r)
        for trigger, decision, why in (
            (
                "crisis_event",
                "suspend",
                "Suspended until the security situation allows safe delivery and oversight.",
            ),
            (
                "money_not_moving",
                "restructure",
                "Restructured: next year's plan cut to what "
                "the implementer can obligate; the balance goes back to the account.",
            ),
        ):
            pending = sorted(by_trigger.get(trigger, []), key=lambda r: r.program)
            if not pending:
                continue
            r = pending[0]
            p = portfolio.get(r.program)
            budget = []
            if decision == "restructure":
                budget = [
                    {
                        "fiscal_year": b.fiscal_year,
                        "account": b.account,
                        "planned": max(b.obligated, b.planned // 2),
                    }
                    for b in p.budget
                    if b.fiscal_year > current and b.planned > 0
                ][:1]
            reviews.decide(
                r.id,
                DecisionIn.model_validate(
                    {
                        "decision": decision,
                        "rationale": f"{LABEL}: {why}",
                        "version": r.version,
                        "budget": budget,
                    }
                ),
            )
            decided += 1
        # Surges: one approved (a new program), one waiting for a decision.
        surges_made = 0
        plans = [
            (s, o)
            for summary in listing
            if summary.country
            for s in [strategies.get(summary.id)]
            for o in s.objectives
            if o.sustainment is not None
        ]
        if plans:
            s, o = plans[0]
            assert o.sustainment is not None  # noqa: S101 - filtered above
            request = surges.request(
                SurgeCreate(
                    title=f"Emergency border surveillance support, {s.partner_name}",
                    justification=f"{LABEL}: armed groups crossing the northern border; the "
                    "partner asked for surveillance equipment and mentors within 60 days",
                    country=s.country or "",
                    account="FMF",
                    fiscal_year=current,
                    amount=4_500_000,
                    objective=o.id,
                    sustainment_plan=o.sustainment.id,
                    new_program={
                        "title": f"Crisis surge: border surveillance, {s.partner_name}",
                        "agency": "State/PM",
                        "start": as_of.isoformat(),
                        "end": date(current + 1, 9, 30).isoformat(),
                        "description": f"{LABEL} Surge program drawn on the flexible reserve.",
                    },
                )
            )
            surges.approve(
                request.id,
                SurgeDecision(note=f"{LABEL}: approved; sustainment as planned", version=1),
            )
            surges_made += 1
            if len(plans) > 1:
                s2, o2 = plans[-1]
                assert o2.sustainment is not None  # noqa: S101
                existing = sorted(o2.programs)
                target = next(
                    (
                        code
                        for code in existing
                        if portfolio.get(code).status in ("implementing", "obligated")
                        and s2.country in portfolio.get(code).countries
                    ),
                    None,
                )
                if target is not None:
                    surges.request(
                        SurgeCreate(
                            title=f"Surge of trainers after the attacks, {s2.partner_name}",
                            justification=f"{LABEL}: mobile training teams to rebuild the "
                            "units hit in the attacks",
                            country=s2.country or "",
                            account="INCLE",
                            fiscal_year=current,
                            amount=2_000_000,
                            objective=o2.id,
                            sustainment_plan=o2.sustainment.id,
                            program=target,
                        )
                    )
                    surges_made += 1
    return {
        "reviews_opened": run.opened
        + (1 if restricted else 0)
        + (crisis.reviews_opened if crisis else 0),
        "reviews_decided": decided,
        "surge_requests": surges_made,
        "late_deliveries_added": len(late),
        "stalled_programs": len(stalled),
    }
