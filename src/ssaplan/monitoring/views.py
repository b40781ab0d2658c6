"""Workbench pages of monitoring: the dashboard, a strategy's performance, the review queue
with its decision form, and crisis surges (reserve, requests, the request form)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select

from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Detail, Invalid, NotFound
from ssaplan.core.permissions import Actor, can, restrict
from ssaplan.monitoring import engine
from ssaplan.monitoring.reviews import RESUMABLE, ReviewService
from ssaplan.monitoring.rules import RECOMMENDATIONS, REVIEW_RULES
from ssaplan.monitoring.schemas import DecisionIn, SurgeCreate, SurgeDecision
from ssaplan.monitoring.service import MonitoringService
from ssaplan.monitoring.surge import SurgeService
from ssaplan.portfolio.engine import fiscal_year
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.visibility import view_of
from ssaplan.reference.catalog import get_catalog
from ssaplan.strategy import charts as strategy_charts
from ssaplan.strategy.engine import periods as period_list
from ssaplan.strategy.models import Strategy
from ssaplan.strategy.service import StrategyService
from ssaplan.ui.charts import bars, columns
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]


def _invalid(exc: ValidationError, where: str = "form") -> Invalid:
    return Invalid(
        "the form is not valid; nothing was saved",
        [Detail((where, *e["loc"]), e["msg"]) for e in exc.errors(include_url=False)],
    )


def names() -> dict[str, Any]:
    """Lookups the templates use to show names first and codes as secondary text."""
    catalog = get_catalog()

    def account_name(code: str | None) -> str:
        ref = catalog.accounts.get(code or "")
        return ref.name if ref else (code or "—")

    def agency_name(code: str | None) -> str:
        ref = catalog.agencies.get(code or "")
        return ref.name if ref else (code or "—")

    def country_name(code: str | None) -> str:
        ref = catalog.countries.get(code or "")
        return ref.name if ref else (code or "—")

    return {"account_name": account_name, "agency_name": agency_name, "country_name": country_name}


def rated_chart(r: engine.IndicatorRating, first_fy: int, last_fy: int) -> Any:
    """An indicator's trend against its target path, each point marked by its status."""
    s = r.series
    periods = period_list(s.frequency, first_fy, last_fy)
    by_period = {p.period: p for p in r.periods}
    labels = [p.label for p in periods]
    return strategy_charts.trend(
        labels,
        [by_period[x].measured if x in by_period else None for x in labels],
        [
            by_period[x].expected if x in by_period else _expected(s, p)
            for x, p in zip(labels, periods, strict=True)
        ],
        status=[by_period[x].status if x in by_period else None for x in labels],
        title=f"{s.strategy} {s.code} {s.name}",
        unit=s.unit,
        baseline=s.baseline[1] if s.baseline else None,
    )


def _expected(s: Any, p: Any) -> float | None:
    from ssaplan.strategy.engine import expected_value

    return expected_value(p, s.baseline, s.targets)


@router.get("/monitoring", response_class=HTMLResponse)
def dashboard(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """Performance against targets, delivery timelines and money pace, with the rules."""
    with store.session() as session:
        service = MonitoringService(session, actor)
        summary = service.summary()
        ratings = {r.series.indicator_id: r for r in service.ratings()}
        # Only each strategy's code, title and years: not the whole strategy of
        # list_strategies (its children loaded, a third of this page's time).
        strategies = session.execute(
            select(Strategy.code, Strategy.title, Strategy.first_fy, Strategy.last_fy)
        ).all()
        rules = service.rule_sections()
    spans = {code: (first, last) for code, _title, first, last in strategies}
    off_charts = []
    for i in summary.off_track[:12]:
        r = ratings.get(i.indicator)
        if r is not None and r.series.strategy in spans:
            off_charts.append((i, rated_chart(r, *spans[r.series.strategy])))
    m = summary.money
    charts = {
        "money": columns(
            [f"FY{g.key}" for g in m.by_fiscal_year],
            [
                ("planned", [g.planned for g in m.by_fiscal_year]),
                ("obligated", [g.obligated for g in m.by_fiscal_year]),
                ("disbursed", [g.disbursed for g in m.by_fiscal_year]),
            ],
            title="Planned, obligated and disbursed by fiscal year",
        ),
        "expiring": bars(
            [(f"FY{b.fiscal_year} {b.account}", b.unobligated) for b in m.expiring],
            title="Unobligated money about to expire",
        ),
        "late": bars(
            [(g.key, g.late) for g in summary.timelines.by_account if g.late],
            title="Late deliveries by account (count)",
        ),
    }
    by_strategy: dict[str, dict[str, int]] = {}
    for r in ratings.values():
        row = by_strategy.setdefault(
            r.series.strategy, {"on_track": 0, "at_risk": 0, "off_track": 0, "unrated": 0}
        )
        row[r.status or "unrated"] += 1
    return render(
        request,
        "monitoring/dashboard.html",
        {
            "s": summary,
            "off_charts": off_charts,
            "charts": charts,
            "rules": rules,
            "by_strategy": sorted(by_strategy.items()),
            "strategy_titles": {code: title for code, title, _first, _last in strategies},
            **names(),
        },
    )


@router.get("/monitoring/strategies/{code}", response_class=HTMLResponse)
def strategy_performance(
    request: Request, code: str, store: StoreDep, actor: WebReader
) -> Response:
    """One strategy's indicators rated period by period against their target paths."""
    with store.session() as session:
        strategy = StrategyService(session, actor).get(code)
        service = MonitoringService(session, actor)
        ratings = service.ratings(strategy=code)
        statement = next(r for r in service.rule_sections() if r.section == "performance")
    rows = [{"r": r, "chart": rated_chart(r, strategy.first_fy, strategy.last_fy)} for r in ratings]
    return render(
        request,
        "monitoring/strategy.html",
        {"strategy": strategy, "rows": rows, "rule": statement, **names()},
    )


# -- reviews ------------------------------------------------------------------------------
@router.get("/reviews", response_class=HTMLResponse)
def review_queue(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    status: Annotated[str, Query(pattern="^(open|decided|superseded|all)$")] = "open",
    trigger: Annotated[str, Query(max_length=32)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    """The review queue: open reviews (or decided ones), by program, with recommendations."""
    size = 100
    with store.session() as session:
        listing = ReviewService(session, actor).list_reviews(
            status=None if status == "all" else status,
            trigger=trigger or None,
            limit=size,
            offset=(page - 1) * size,
        )
    return render(
        request,
        "monitoring/reviews.html",
        {
            "listing": listing,
            "status": status,
            "trigger": trigger,
            "triggers": ("annual", "manual", *REVIEW_RULES),
            "page": page,
            "pages": max(1, -(-(listing.total or 0) // size)),
            "can_open": can(actor, "review:open"),
            "current_fy": fiscal_year(date.today()),
            **names(),
        },
    )


@router.get("/reviews/{review_id}", response_class=HTMLResponse)
def review_page(request: Request, review_id: str, store: StoreDep, actor: WebReader) -> Response:
    """A review: its reasons and rule, the program's money, and the decision form."""
    if not review_id.isdigit():
        raise NotFound(f"no review {review_id!r}")
    with store.session() as session:
        service = ReviewService(session, actor)
        review = service.get(int(review_id))
        program = PortfolioService(session, actor).get(review.program)
        others = [
            r
            for r in service.list_reviews(status=None, program=review.program, limit=None).items
            if r.id != review.id
        ]
    catalog = get_catalog()
    countries = set(program.countries)
    for code in program.regions:
        countries |= set(catalog.region_members(code))
    may_decide = review.status == "open" and restrict(actor, "review:decide").allows(
        program.agency, countries
    )
    current = fiscal_year(date.today())
    return render(
        request,
        "monitoring/review.html",
        {
            "r": review,
            "p": program,
            "others": others,
            "may_decide": may_decide,
            "decisions": RECOMMENDATIONS,
            "resumable": RESUMABLE,
            "current_fy": current,
            "editable": [b for b in program.budget if b.fiscal_year >= current],
            **names(),
        },
    )


@router.post("/reviews/{review_id}/decision", dependencies=[FormCsrf])
async def decision_submit(
    request: Request,
    review_id: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("review:decide"))],
) -> Response:
    """Record a decision from the review page (new planned amounts as ``planned:FY:ACCOUNT``)."""
    if not review_id.isdigit():
        raise NotFound(f"no review {review_id!r}")
    form = await request.form()
    budget: list[dict[str, Any]] = []
    problems: list[Detail] = []
    for key, value in form.multi_items():
        if not key.startswith("planned:") or not isinstance(value, str):
            continue
        _, fy, account = key.split(":", 2)
        before = form.get(f"was:{fy}:{account}")
        text = value.replace(",", "").replace("$", "").strip()
        if text == (before or ""):
            continue
        if not text.isdigit() or not fy.isdigit():
            problems.append(Detail(("form", key), f"{value!r} is not a whole number of dollars"))
            continue
        budget.append({"fiscal_year": int(fy), "account": account or None, "planned": int(text)})
    new_fy = str(form.get("new_fy") or "").strip()
    new_planned = str(form.get("new_planned") or "").replace(",", "").strip()
    if new_fy or new_planned:
        if not (new_fy.isdigit() and new_planned.isdigit()):
            problems.append(Detail(("form", "new_planned"), "give a fiscal year and whole dollars"))
        else:
            budget.append(
                {
                    "fiscal_year": int(new_fy),
                    "account": str(form.get("new_account") or "").strip() or None,
                    "planned": int(new_planned),
                }
            )
    if problems:
        raise Invalid("the decision is not valid; nothing changed", problems)
    try:
        body = DecisionIn.model_validate(
            {
                "decision": form.get("decision"),
                "rationale": form.get("rationale") or "",
                "version": form.get("version"),
                "budget": budget,
                "resume_status": form.get("resume_status") or None,
            }
        )
    except ValidationError as exc:
        raise _invalid(exc) from exc
    with unit_of_work(store) as session:
        ReviewService(session, actor).decide(int(review_id), body)
    return RedirectResponse(f"/reviews/{review_id}", status_code=303)


@router.post("/reviews/run", dependencies=[FormCsrf])
def run_submit(
    store: StoreDep, actor: Annotated[Actor, Depends(requires("review:open"))]
) -> Response:
    """Run the review rules now (from the queue page)."""
    with unit_of_work(store) as session:
        ReviewService(session, actor).run_rules()
    return RedirectResponse("/reviews", status_code=303)


@router.post("/reviews/annual", dependencies=[FormCsrf])
def annual_submit(
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("review:open"))],
    fiscal_year_: Annotated[int, Form(alias="fiscal_year", ge=1990, le=2100)],
) -> Response:
    """Open the annual review cycle of a fiscal year (from the queue page)."""
    with unit_of_work(store) as session:
        ReviewService(session, actor).open_annual_cycle(fiscal_year_)
    return RedirectResponse("/reviews?trigger=annual", status_code=303)


# -- surges ---------------------------------------------------------------------------------
@router.get("/surges", response_class=HTMLResponse)
def surges_page(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """The flexible reserve, surge requests, and the form to request one."""
    with store.session() as session:
        service = SurgeService(session, actor)
        reserves = service.reserves()
        requests = service.list_requests()
        strategies = StrategyService(session, actor)
        listing = strategies.list_strategies(limit=None)
        objectives = [
            (s, o)
            for summary in listing.items
            for s in [strategies.get(summary.id)]
            for o in s.objectives
        ]
    catalog = get_catalog()
    ceiling = view_of(actor, catalog).ceiling
    return render(
        request,
        "monitoring/surges.html",
        {
            "reserves": reserves,
            "requests": requests,
            "objectives": objectives,
            "can_request": can(actor, "surge:request"),
            "can_approve": can(actor, "surge:approve"),
            "accounts": sorted(catalog.accounts),
            "countries": sorted(
                ((k, v.name) for k, v in catalog.countries.items()), key=lambda kv: kv[1]
            ),
            "agencies": sorted(
                ((k, v.name) for k, v in catalog.agencies.items()), key=lambda kv: kv[1]
            ),
            "account_names": sorted(
                ((k, v.name) for k, v in catalog.accounts.items()), key=lambda kv: kv[1]
            ),
            "current_fy": fiscal_year(date.today()),
            # The markings the requester may give (none above their own ceiling).
            "markings": [
                (m.id, m.name)
                for m in sorted(catalog.markings.values(), key=lambda m: m.rank)
                if ceiling is None or m.rank <= ceiling
            ],
            **names(),
        },
    )


@router.post("/surges", dependencies=[FormCsrf])
async def surge_submit(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("surge:request"))],
) -> Response:
    """File a surge request from the form; refused with its reasons unless it names its
    strategy objective and sustainment plan."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    data: dict[str, Any] = {
        "title": text("title"),
        "justification": text("justification"),
        "country": text("country"),
        "account": text("account"),
        "fiscal_year": text("fiscal_year") or None,
        "amount": text("amount").replace(",", "") or None,
        "objective": text("objective") or None,
        "sustainment_plan": text("sustainment_plan") or None,
        "program": text("program") or None,
        "marking": text("marking") or None,
        "releasable_to": [c.strip() for c in text("releasable_to").split(",") if c.strip()] or None,
    }
    if text("new_title"):
        data["new_program"] = {
            "title": text("new_title"),
            "agency": text("new_agency"),
            "start": text("new_start") or None,
            "end": text("new_end") or None,
        }
    try:
        body = SurgeCreate.model_validate(data)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    with unit_of_work(store) as session:
        SurgeService(session, actor).request(body)
    return RedirectResponse("/surges", status_code=303)


@router.post("/surges/{surge_id}/{verdict}", dependencies=[FormCsrf])
def surge_decide(
    surge_id: str,
    verdict: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("surge:approve"))],
    version: Annotated[int, Form(ge=1)],
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Approve or refuse a surge request from the surges page."""
    if not surge_id.isdigit() or verdict not in ("approve", "refuse"):
        raise NotFound("no such surge action")
    body = SurgeDecision(note=note, version=version)
    with unit_of_work(store) as session:
        service = SurgeService(session, actor)
        if verdict == "approve":
            service.approve(int(surge_id), body)
        else:
            service.refuse(int(surge_id), body)
    return RedirectResponse("/surges", status_code=303)
