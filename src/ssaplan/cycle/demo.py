"""The ILLUSTRATIVE demo planning cycle: three fiscal years' calendars, two finished
cycles (FY2025, FY2026) for the trend, and the FY2027 cycle in progress with proposals
in every stage and generated, plausible waiting times.

Every proposal is walked through the real service with a backdated clock, so its steps,
concurrences and audit records are what the system would have recorded. Titles say they
are illustrative; the people are demo users (passwords below, also in the README).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ssaplan.core.models import User
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.core.users import actor_for, add_user, get_user, set_roles
from ssaplan.cycle import engine
from ssaplan.cycle.models import STAGES
from ssaplan.cycle.rules import shipped_rules
from ssaplan.cycle.schemas import ProposalCreate
from ssaplan.cycle.service import CycleService

LOADER = Actor("demo-loader", "admin")
COUNTRIES = ("KEN", "NGA", "GHA", "COL", "JOR", "PHL", "UKR", "MEX", "IDN", "SEN")
# (username, password, role, agency, scope kind, scope, full name)
CYCLE_USERS: tuple[tuple[str, str, str, str, str | None, str | None, str], ...] = (
    ("coordinator", "coordinator-demo-pass", "coordinator", "State/F", None, None,
     "Demo Cycle Coordinator (State/F)"),
    ("state-reviewer", "state-reviewer-demo-pass", "reviewer", "State/PM", None, None,
     "Demo Reviewer (State/PM)"),
    ("dod-reviewer", "dod-reviewer-demo-pass", "reviewer", "DoD/OSD-Policy", None, None,
     "Demo Reviewer (DoD Policy)"),
    ("doj-reviewer", "doj-reviewer-demo-pass", "reviewer", "DOJ", None, None,
     "Demo Reviewer (DOJ)"),
    ("f-reviewer", "f-reviewer-demo-pass", "reviewer", "State/F", None, None,
     "Demo Reviewer (State/F)"),
    ("legal", "legal-demo-pass", "legal", "State", None, None, "Demo Legal Adviser"),
    *(
        (f"com-{c.lower()}", f"com-{c.lower()}-demo-pass", "chief_of_mission", "State",
         "country", c, f"Demo Chief of Mission ({c})")
        for c in COUNTRIES
    ),
)  # fmt: skip
PROPOSERS = {
    "State": ("planner", "planner-demo-pass"),
    "DoD": ("dod-planner", "dodplanner-demo-pass"),
}
# account -> (proposing agency, annual level range in dollars, title stem)
PROGRAMS: dict[str, tuple[str, tuple[int, int], str]] = {
    "10USC333": ("DoD/DSCA", (3_000_000, 25_000_000), "Maritime security train-and-equip"),
    "FMF": ("State/PM", (5_000_000, 40_000_000), "Coastal patrol vessels and sustainment"),
    "IMET": ("State/PM", (400_000, 2_500_000), "Professional military education"),
    "INCLE": ("State/INL", (2_000_000, 15_000_000), "Police investigations and forensics"),
    "NADR": ("State/ISN", (1_000_000, 8_000_000), "Export control and border security"),
    "PKO": ("State/PM", (2_000_000, 12_000_000), "Peacekeeping deployment readiness"),
}
OBJECTIVES = ("G1.5", "G2.6", "G1.1", "G2.1", "G3.1")


@dataclass
class Event:
    at: float  # days from the proposal's start
    who: str
    method: str
    args: tuple[Any, ...] = ()


def _users(session: Session) -> dict[str, Actor]:
    """The cycle's demo users (created if missing), each also a viewer, as actors."""
    for username, password, role, agency, kind, scope, full in CYCLE_USERS:
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            continue
        add_user(
            session,
            LOADER,
            username=username,
            password=password,
            role=role,
            agency=agency,
            full_name=full,
            scope_kind=kind,
            scope=scope,
            demo=True,  # published password: refused in production until reset
        )
        user = get_user(session, username)
        roles = [
            {"role": a.role, "scope_kind": a.scope_kind, "scope": a.scope_id}
            for a in user.assignments
        ]
        viewer = {"role": "viewer", "scope_kind": "all", "scope": ""}
        set_roles(session, LOADER, username, [*roles, viewer])
    for agency, (username, password) in PROPOSERS.items():
        if session.execute(select(User).where(User.username == username)).scalar_one_or_none():
            continue
        add_user(
            session,
            LOADER,
            username=username,
            password=password,
            role="planner",
            agency=agency,
            demo=True,
        )
    names = [u[0] for u in CYCLE_USERS] + [u for u, _ in PROPOSERS.values()]
    return {n: actor_for(get_user(session, n)) for n in names}


def _reviewer_user(r: engine.Reviewer) -> str:
    if r.kind == "chief_of_mission":
        return f"com-{r.who.lower()}"
    if r.kind == "legal":
        return "legal"
    return {"State": "state-reviewer", "DoD": "dod-reviewer", "DOJ": "doj-reviewer"}.get(
        r.who, "f-reviewer"
    )


def _proposal(rng: random.Random, fy: int, n: int) -> dict[str, Any]:
    account = rng.choice(sorted(PROGRAMS))
    agency, (low, high), stem = PROGRAMS[account]
    country = rng.choice(COUNTRIES)
    top = rng.randrange(low, high) // 100_000 * 100_000
    levels = sorted({max(100_000, top // 2 // 100_000 * 100_000), top})
    years = [fy, fy + 1] if account != "10USC333" and rng.random() < 0.5 else [fy]
    return {
        "title": f"{stem} ({country}, illustrative demo {n})",
        "description": "ILLUSTRATIVE DEMO DATA — generated, not a real proposal.",
        "agency": agency,
        "account": account,
        "country": country,
        "fiscal_year": fy,
        "start": date(fy - 1, 10, 1),
        "end": date(fy + 1, 9, 30),
        "objectives": sorted(rng.sample(OBJECTIVES, 2)),
        "justification": "Generated justification: the partner asked for it and the gap "
        "analysis shows no other donor in this area (illustrative).",
        "sustainment_plan": "Generated plan: the partner budgets maintenance and staff from "
        "the second year (illustrative).",
        "levels": [
            {"annual": v, "value": round(v / 1e6 * rng.uniform(0.6, 1.4), 2)} for v in levels
        ],
        "fiscal_years": years,
        "restriction_flag": False,
        "vetting_flag": rng.random() < 0.2,
    }


def _plan(
    rng: random.Random, data: dict[str, Any], target: str, speed: float
) -> tuple[list[Event], str]:
    """The steps that bring a proposal to ``target`` (days from its start), and its proposer."""
    rules = shipped_rules()
    proposer = PROPOSERS["DoD" if data["agency"].startswith("DoD") else "State"][0]
    amount = max(lv["annual"] for lv in data["levels"]) * len(data["fiscal_years"])
    routed = engine.route(
        rules.routing,
        account=data["account"],
        amount=amount,
        country=data["country"],
        flagged=data["vetting_flag"],
    )
    events = [Event(0, proposer, "create")]
    if target == "draft":
        return events, proposer
    if target == "withdrawn" and rng.random() < 0.5:
        events.append(Event(rng.uniform(3, 30), proposer, "withdraw", ("priorities changed",)))
        return events, proposer
    t = rng.uniform(5, 40) * speed
    events.append(Event(t, proposer, "submit"))
    if target == "submitted":
        return events, proposer
    answers = sorted(
        (t + rng.lognormvariate(2.4, 0.7) * speed, _reviewer_user(r.reviewer)) for r in routed
    )
    if target == "in_review":
        return [*events, Event(answers[0][0], answers[0][1], "concur", ("concur",))], proposer
    if target == "revise":
        when, who = answers[0]
        reason = "overlaps another donor's program; narrow the scope"
        return [*events, Event(when, who, "concur", ("non_concur", reason))], proposer
    if target == "withdrawn":
        events.append(Event(t + rng.uniform(10, 40), proposer, "withdraw", ("merged",)))
        return events, proposer
    for when, who in answers:
        decision = "concur_with_comments" if rng.random() < 0.3 else "concur"
        comment = "Coordinate delivery with the embassy's security cooperation office."
        said = comment if decision != "concur" else ""
        events.append(Event(when, who, "concur", (decision, said)))
    t = answers[-1][0] + rng.uniform(2, 20) * speed
    if target == "rejected":
        return [*events, Event(t, "coordinator", "reject", ("not funded this cycle",))], proposer
    events.append(Event(t, "coordinator", "approve"))
    needs = engine.notification_for(rules.notification, account=data["account"], amount=amount)
    if target == "approved":
        return events, proposer
    if needs is not None:
        t += rng.uniform(5, 30) * speed
        events.append(Event(t, "coordinator", "notify", ("today",)))
        if target == "notified":
            if rng.random() < 0.4:
                hold = ("SFRC hold pending a briefing",)
                events.append(Event(t + 3, "coordinator", "hold", hold))
            return events, proposer
        t += needs.waiting_days + rng.uniform(0, 5)
        events.append(Event(t, "coordinator", "clear", ("today",)))
        if target == "cleared":
            return events, proposer
    t += rng.uniform(3, 40) * speed
    events.append(Event(t, proposer, "obligate", ("all", "today")))
    return events, proposer


def _run(
    session: Session,
    actors: dict[str, Actor],
    data: dict[str, Any],
    events: list[Event],
    start: datetime,
) -> str:
    code = ""
    for e in sorted(events, key=lambda e: e.at):
        now = start + timedelta(days=e.at)
        service = CycleService(session, actors[e.who], now=now)
        if e.method == "create":
            code = service.create(ProposalCreate.model_validate(data)).id
            continue
        args = [now.date() if a == "today" else a for a in e.args]
        if e.method == "obligate":
            total = service.get(code).requested_total
            args = [total if a == "all" else a for a in args]
        method: Callable[..., Any] = getattr(service, e.method)
        method(code, *args)
    return code


def load(ctx: DemoContext) -> dict[str, Any]:
    """The demo cycle step: calendars, finished cycles and the cycle in progress."""
    rng = random.Random(ctx.seed * 13 + 16)  # noqa: S311 - reproducible demo data, not a secret
    as_of = datetime.combine(ctx.as_of, time(10, 0), UTC)
    current = ctx.as_of.year + (1 if ctx.as_of.month >= 10 else 0)  # the fiscal year of as_of
    counts: dict[str, int] = dict.fromkeys(STAGES, 0)
    with ctx.store.transaction() as session:
        actors = _users(session)
        for fy in (current - 2, current - 1, current):
            CycleService(session, actors["coordinator"], now=as_of).open_calendar(fy)
        n = 0
        # Finished cycles: mostly obligated; the later one a little faster (the trend).
        for fy, speed in ((current - 2, 1.3), (current - 1, 1.0)):
            for _ in range(24):
                n += 1
                target = rng.choices(["obligated", "rejected", "withdrawn"], [18, 3, 3])[0]
                data = _proposal(rng, fy, n)
                events, _ = _plan(rng, data, target, speed)
                start = datetime(fy - 1, 1, 10, 9, tzinfo=UTC) + timedelta(days=rng.uniform(0, 40))
                _run(session, actors, data, events, start)
        # The cycle in progress: every stage, with waits that end today.
        dwell = {"draft": (2, 20), "submitted": (3, 60), "in_review": (5, 90), "revise": (3, 45)}
        plan = {
            "draft": 3, "submitted": 5, "in_review": 7, "revise": 4, "approved": 5,
            "notified": 4, "cleared": 3, "obligated": 6, "rejected": 2, "withdrawn": 2,
        }  # fmt: skip
        for target, k in plan.items():
            for _ in range(k):
                n += 1
                data = _proposal(rng, current, n)
                if target in ("notified", "cleared"):  # these stages need a notified account
                    data["account"] = rng.choice(["FMF", "INCLE", "10USC333"])
                    data["agency"] = PROGRAMS[data["account"]][0]
                events, _ = _plan(rng, data, target, 0.8)
                last = max(e.at for e in events)
                low, high = dwell.get(target, (1, 30))
                wait = rng.uniform(low, high)
                if target == "notified":
                    wait = rng.uniform(1, 14)  # still inside the 15-day waiting period
                _run(session, actors, data, events, as_of - timedelta(days=last + wait))
                counts[target] += 1
    ctx.log(
        f"demo: {n} proposals; the FY{current} cycle in progress has "
        + ", ".join(f"{v} {k}" for k, v in counts.items())
    )
    return {
        "cycle_fiscal_year": current,
        "cycle_proposals": n,  # all three cycles
        "cycle_stages": counts,  # the cycle in progress
    }
