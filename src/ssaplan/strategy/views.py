"""Workbench pages of strategies: the list, and a strategy with its results framework,
its indicators' trends against their targets, its funding by year and a form to enter
measurements."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor
from ssaplan.reference.catalog import get_catalog
from ssaplan.strategy import charts, engine
from ssaplan.strategy.measurements import MeasurementService
from ssaplan.strategy.measurements_csv import parse_breakdown
from ssaplan.strategy.schemas import MeasurementIn
from ssaplan.strategy.service import StrategyService
from ssaplan.ui.charts import columns
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]


@router.get("/strategies", response_class=HTMLResponse)
def strategies_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    country: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """Every strategy, with its partner, years and the size of its framework."""
    with store.session() as session:
        page = StrategyService(session, actor).list_strategies(country=country or None, limit=None)
    return render(
        request,
        "strategy/index.html",
        {"page": page, "country": country or "", "agency_name": agency_name},
    )


def agency_name(code: str | None) -> str:
    """An agency's name for pages (its code is shown beside it)."""
    ref = get_catalog().agencies.get(code or "")
    return ref.name if ref else (code or "—")


def trend_rows(series: list[engine.IndicatorSeries], first_fy: int, last_fy: int) -> list[Any]:
    """Each indicator's periods with measured totals and the expected value (target path)."""
    out = []
    for s in series:
        periods = engine.periods(s.frequency, first_fy, last_fy)
        measured = {v.period: v for v in s.values}
        actual = [measured[p].value if p in measured else None for p in periods]
        expected = [engine.expected_value(p, s.baseline, s.targets) for p in periods]
        last = s.values[-1] if s.values else None
        out.append(
            {
                "series": s,
                "latest": last,
                "chart": charts.trend(
                    [p.label for p in periods],
                    actual,
                    expected,
                    title=f"{s.code} {s.name}",
                    unit=s.unit,
                    baseline=s.baseline[1] if s.baseline else None,
                ),
            }
        )
    return out


@router.get("/strategies/{code}", response_class=HTMLResponse)
def strategy_page(request: Request, code: str, store: StoreDep, actor: WebReader) -> Response:
    """A strategy: theory of change, objectives with indicators and trends, sustainment,
    programs, partner commitments, funding by year."""
    with store.session() as session:
        service = StrategyService(session, actor)
        s = service.get(code)
        series = service.indicator_series(strategy=code)
        may_write = service.may_write(code)
        may_measure = service.may_measure(code)
        titles = service.program_titles(p for o in s.objectives for p in o.programs)
    funding_chart = columns(
        [f"FY{f.fiscal_year}" for f in s.funding],
        [
            ("planned", [f.planned for f in s.funding]),
            ("obligated", [f.obligated for f in s.funding]),
            ("disbursed", [f.disbursed for f in s.funding]),
        ],
        title=f"Funding of {s.id} by fiscal year ({s.partner_name}'s share of the programs)",
    )
    trends = {row["series"].indicator_id: row for row in trend_rows(series, s.first_fy, s.last_fy)}
    indicators = [i for o in s.objectives for i in o.indicators]
    return render(
        request,
        "strategy/strategy.html",
        {
            "s": s,
            "funding_chart": funding_chart,
            "trends": trends,
            "indicators": indicators,
            "may_write": may_write,
            "may_measure": may_measure,
            "years": engine.years(s.first_fy, s.last_fy),
            "today": date.today(),
            "program_titles": titles,
            "agency_name": agency_name,
        },
    )


@router.post("/strategies/{code}/measurements", dependencies=[FormCsrf])
def measurement_submit(
    request: Request,
    code: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("measurement:write"))],
    indicator: Annotated[int, Form(ge=1)],
    period: Annotated[str, Form(min_length=4, max_length=16)],
    value: Annotated[str, Form(max_length=40)],
    quality: Annotated[str, Form(max_length=1)],
    confidence: Annotated[str, Form(max_length=8)],
    disaggregation: Annotated[str, Form(max_length=400)] = "",
    source: Annotated[str, Form(max_length=300)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Enter (or replace) one measurement from the strategy page."""
    problems: list[Detail] = []
    try:
        number = float(value.replace(",", ""))
    except ValueError:
        problems.append(Detail(("form", "value"), f"{value!r} is not a number"))
        number = 0.0
    try:
        breakdown = parse_breakdown(disaggregation)
    except ValueError as exc:
        problems.append(Detail(("form", "disaggregation"), str(exc)))
        breakdown = {}
    if problems:
        raise Invalid("the measurement is not valid; nothing was saved", problems)
    try:
        item = MeasurementIn.model_validate(
            {
                "indicator": indicator,
                "period": period,
                "value": number,
                "disaggregation": breakdown,
                "quality": quality.upper(),
                "confidence": confidence.lower(),
                "source": source,
                "note": note,
            }
        )
    except ValidationError as exc:
        raise Invalid(
            "the measurement is not valid; nothing was saved",
            [Detail(("form", *e["loc"]), e["msg"]) for e in exc.errors(include_url=False)],
        ) from exc
    with unit_of_work(store) as session:
        s = StrategyService(session, actor).get(code)  # 404 for a strategy that is not there
        if indicator not in {i.id for o in s.objectives for i in o.indicators}:
            raise Invalid(
                "the measurement is not valid; nothing was saved",
                [Detail(("form", "indicator"), f"indicator {indicator} is not of {code}")],
            )
        MeasurementService(session, actor).save_many([item], locations=[("form",)])
    return RedirectResponse(f"/strategies/{code}#indicator-{indicator}", status_code=303)
