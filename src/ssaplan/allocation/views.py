"""Pages of allocation: scenarios, the scenario editor, solves in progress, results with
charts by region, account and year, the funding map, and the diff between two results.

Pages show names (programs' titles, countries, accounts, bureaus) with codes as
secondary text; every write goes through :class:`AllocationService` (forms carry CSRF).
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.allocation import jobs
from ssaplan.allocation.hooks import stored_hooks
from ssaplan.allocation.portfolio import BuildOptions, build_from_portfolio, parse_years
from ssaplan.allocation.scenario import parse_json
from ssaplan.allocation.service import AllocationService
from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import BadRequest, Detail, Invalid
from ssaplan.core.permissions import Actor, can
from ssaplan.portfolio.visibility import audience_of
from ssaplan.reference.catalog import Catalog, get_catalog
from ssaplan.ui import charts
from ssaplan.ui.maps import choropleth
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
WebWriter = Annotated[Actor, Depends(requires("allocation:write"))]
WebRunner = Annotated[Actor, Depends(requires("allocation:run"))]
MAX_FORM_JSON = 20 * 1024 * 1024


def _names(catalog: Catalog) -> dict[str, Any]:
    return {
        "country_name": lambda c: catalog.countries[c].name if c in catalog.countries else c,
        "account_name": lambda a: catalog.accounts[a].name if a in catalog.accounts else a,
        "money": charts.money,
    }


def _ctx(actor: Actor, page: str, **more: Any) -> dict[str, Any]:
    return {
        "page": page,
        "can_write": can(actor, "allocation:write"),
        "can_run": can(actor, "allocation:run"),
        **_names(get_catalog()),
        **more,
    }


@router.get("/allocation", response_class=HTMLResponse)
def index(request: Request, store: StoreDep, actor: WebReader) -> Response:
    """Saved scenarios with their latest result; build one from the portfolio."""
    with store.session() as session:
        scenarios = AllocationService(session, actor).list_scenarios()
    return render(request, "allocation/index.html", _ctx(actor, "index", scenarios=scenarios))


@router.post("/allocation/from-portfolio", dependencies=[FormCsrf])
def from_portfolio(
    request: Request,
    store: StoreDep,
    actor: WebWriter,
    fiscal_years: Annotated[str, Form(max_length=20)],
    reserve_share: Annotated[float, Form(ge=0.0, lt=1.0)] = 0.05,
    marks_percent: Annotated[float, Form(ge=0.0, le=1000.0)] = 100.0,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Build a scenario from the stored portfolio and open it."""
    years = parse_years(fiscal_years)
    with unit_of_work(store) as session:
        eligible, evidence = stored_hooks(session, actor)
        built = build_from_portfolio(
            session,
            get_catalog(),
            years,
            options=BuildOptions(reserve_share, marks_percent, name.strip() or None),
            eligible=eligible,
            evidence=evidence,
            audience=audience_of(actor, get_catalog()),
        )
        if not built.scenario["candidates"]:
            raise BadRequest(built.notes[0])
        out = AllocationService(session, actor).create_scenario(built.scenario, source="portfolio")
    return RedirectResponse(f"/allocation/scenarios/{out['id']}", status_code=303)


@router.get("/allocation/scenarios/new", response_class=HTMLResponse)
def new_page(request: Request, actor: WebWriter) -> Response:
    """A new scenario: name, years, budgets by account and candidates, or a pasted file."""
    catalog = get_catalog()
    return render(
        request,
        "allocation/new.html",
        _ctx(actor, "new", accounts=sorted(catalog.accounts.values(), key=lambda a: a.name)),
    )


def _int(text: str, where: tuple[str | int, ...], problems: list[Detail]) -> int | None:
    text = text.strip().replace(",", "").replace("$", "")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        problems.append(Detail(where, f"{text!r} is not a whole number of dollars"))
        return None


@router.post("/allocation/scenarios/new", dependencies=[FormCsrf])
async def new_submit(request: Request, store: StoreDep, actor: WebWriter) -> Response:
    """Save a new scenario from the form (or from the pasted scenario JSON)."""
    form = await request.form()
    text = str(form.get("json") or "").strip()
    if text:
        if len(text) > MAX_FORM_JSON:
            raise BadRequest("the pasted scenario is larger than 20 MB")
        definition = parse_json(text)
    else:
        definition = _definition_from_form(form)
    with unit_of_work(store) as session:
        out = AllocationService(session, actor).create_scenario(definition, source="form")
    return RedirectResponse(f"/allocation/scenarios/{out['id']}", status_code=303)


def _rows(form: Any, key: str, limit: int = 1000) -> int:
    """How many rows a form says it has (a hidden field), bounded; 0 if it is not a number."""
    try:
        return max(0, min(int(str(form.get(key) or "0")), limit))
    except ValueError:
        return 0


def _definition_from_form(form: Any) -> dict[str, Any]:
    problems: list[Detail] = []
    try:
        years = list(parse_years(str(form.get("fiscal_years") or "")))
    except BadRequest as exc:
        raise Invalid("invalid scenario", [Detail(("fiscal_years",), str(exc))]) from None
    accounts: dict[str, dict[str, int]] = {}
    for i in range(_rows(form, "account_rows")):
        code = str(form.get(f"account_{i}") or "").strip()
        amount = _int(str(form.get(f"budget_{i}") or ""), ("accounts", i), problems)
        if code and amount is not None:
            accounts[code] = {str(y): amount for y in years}
    candidates = []
    for i in range(_rows(form, "candidate_rows")):
        cid = str(form.get(f"cand_id_{i}") or "").strip()
        if not cid:
            continue
        annual = _int(
            str(form.get(f"cand_annual_{i}") or ""), ("candidates", i, "annual"), problems
        )
        try:
            value = float(str(form.get(f"cand_value_{i}") or "0"))
        except ValueError:
            problems.append(Detail(("candidates", i, "value"), "must be a number"))
            value = 0.0
        candidates.append(
            {
                "id": cid,
                "title": str(form.get(f"cand_title_{i}") or ""),
                "country": str(form.get(f"cand_country_{i}") or "").strip().upper(),
                "account": str(form.get(f"cand_account_{i}") or "").strip(),
                "fiscal_years": years,
                "must_fund": form.get(f"cand_must_{i}") == "on",
                "levels": [{"annual": annual if annual is not None else 0, "value": value}],
            }
        )
    if problems:
        raise Invalid("invalid scenario", problems)
    try:
        reserve = float(str(form.get("reserve_share") or "0"))
    except ValueError:
        raise Invalid(
            "invalid scenario", [Detail(("reserve_share",), "must be a number")]
        ) from None
    return {
        "name": str(form.get("name") or "").strip() or "scenario",
        "description": str(form.get("description") or ""),
        "fiscal_years": years,
        "accounts": accounts,
        "reserve_share": reserve,
        "candidates": candidates,
    }


@router.get("/allocation/scenarios/{scenario_id}", response_class=HTMLResponse)
def scenario_page(
    request: Request, scenario_id: int, store: StoreDep, actor: WebReader
) -> Response:
    """A scenario: budgets, limits, candidates by name; solve it, edit it, try a what-if."""
    with store.session() as session:
        service = AllocationService(session, actor)
        s = service.get_scenario(scenario_id)
        results = service.list_results(scenario_id)
    d = s["definition"]
    return render(
        request,
        "allocation/scenario.html",
        _ctx(
            actor, "scenario", s=s, d=d, results=results, candidates=d.get("candidates", [])[:500]
        ),
    )


@router.get("/allocation/scenarios/{scenario_id}/edit", response_class=HTMLResponse)
def edit_page(request: Request, scenario_id: int, store: StoreDep, actor: WebWriter) -> Response:
    """The scenario editor: name, reserve, budgets by account and year, floors, candidates."""
    with store.session() as session:
        s = AllocationService(session, actor).get_scenario(scenario_id)
    d = s["definition"]
    floors = list(d.get("regional_floors", [])) + [
        {"scheme": "bureau", "region": "", "min_share": ""}
    ]
    return render(request, "allocation/edit.html", _ctx(actor, "edit", s=s, d=d, floors=floors))


@router.post("/allocation/scenarios/{scenario_id}/edit", dependencies=[FormCsrf])
async def edit_submit(
    request: Request, scenario_id: int, store: StoreDep, actor: WebWriter
) -> Response:
    """Save the editor's form as the scenario's next version (all or nothing)."""
    form = await request.form()
    problems: list[Detail] = []
    try:
        version = int(str(form.get("version") or ""))
    except ValueError:
        raise BadRequest("the form has no version: reload the editor") from None
    with unit_of_work(store) as session:
        service = AllocationService(session, actor)
        d = json.loads(json.dumps(service.get_scenario(scenario_id)["definition"]))
        d["name"] = str(form.get("name") or "").strip() or d.get("name", "scenario")
        d["description"] = str(form.get("description") or "")
        try:
            d["reserve_share"] = float(str(form.get("reserve_share") or "0"))
        except ValueError:
            problems.append(Detail(("reserve_share",), "must be a number"))
        for account, table in d.get("accounts", {}).items():
            for fy in list(table):
                got = _int(
                    str(form.get(f"budget_{account}_{fy}") or ""),
                    ("accounts", account, fy),
                    problems,
                )
                if got is not None:
                    table[fy] = got
        floors = []
        for i in range(_rows(form, "floor_rows", 100)):
            region = str(form.get(f"floor_region_{i}") or "").strip()
            share = str(form.get(f"floor_share_{i}") or "").strip()
            if not region:
                continue
            try:
                floors.append(
                    {
                        "scheme": str(form.get(f"floor_scheme_{i}") or "bureau"),
                        "region": region,
                        "min_share": float(share.rstrip("%")) / (100 if share.endswith("%") else 1),
                    }
                )
            except ValueError:
                problems.append(Detail(("regional_floors", i, "min_share"), "must be a number"))
        d["regional_floors"] = floors
        excluded = set(form.getlist("exclude"))
        must = set(form.getlist("must_fund"))
        d["candidates"] = [
            {**c, "must_fund": c["id"] in must}
            for c in d.get("candidates", [])
            if c["id"] not in excluded
        ]
        if problems:
            raise Invalid("invalid scenario", problems)
        service.update_scenario(scenario_id, d, version=version)
    return RedirectResponse(f"/allocation/scenarios/{scenario_id}", status_code=303)


@router.post("/allocation/scenarios/{scenario_id}/solve", dependencies=[FormCsrf])
def solve_submit(
    request: Request,
    scenario_id: int,
    store: StoreDep,
    actor: WebRunner,
    time_limit: Annotated[float, Form(ge=0.1, le=600.0)] = 30.0,
    robust: Annotated[int, Form(ge=0, le=1000)] = 0,
) -> Response:
    """Start a background solve and show its progress."""
    job_id = jobs.submit(
        store,
        actor,
        scenario_id,
        {"time_limit": time_limit, "gap": 1e-3, "robust": robust, "seed": 2013},
    )
    return RedirectResponse(f"/allocation/jobs/{job_id}", status_code=303)


@router.post("/allocation/scenarios/{scenario_id}/whatif", dependencies=[FormCsrf])
def whatif_submit(
    request: Request,
    scenario_id: int,
    store: StoreDep,
    actor: WebWriter,
    account: Annotated[str, Form(max_length=32)] = "",
    percent: Annotated[str, Form(max_length=20)] = "",
    restrict_country: Annotated[str, Form(max_length=32)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """A what-if from the scenario page: a budget change and/or a new restriction."""
    budget, restrictions = [], []
    if account.strip() and percent.strip():
        try:
            budget.append({"account": account.strip(), "percent": float(percent)})
        except ValueError:
            raise Invalid("invalid what-if", [Detail(("percent",), "must be a number")]) from None
    if restrict_country.strip():
        restrictions.append({"country": restrict_country.strip().upper()})
    with unit_of_work(store) as session:
        out = AllocationService(session, actor).what_if(
            scenario_id, budget=budget, restrictions=restrictions, name=name.strip() or None
        )
    return RedirectResponse(f"/allocation/scenarios/{out['id']}", status_code=303)


@router.get("/allocation/jobs/{job_id}", response_class=HTMLResponse)
def job_page(request: Request, job_id: int, store: StoreDep, actor: WebReader) -> Response:
    """A solve in progress (the page refreshes itself); when done, a link to the result."""
    with store.session() as session:
        job = AllocationService(session, actor).get_job(job_id)
    if job["state"] == "done" and job["result_id"]:
        return RedirectResponse(f"/allocation/results/{job['result_id']}", status_code=303)
    return render(request, "allocation/job.html", _ctx(actor, "job", job=job))


def _funded_by(
    result: dict[str, Any], definition: dict[str, Any], catalog: Catalog
) -> dict[str, Any]:
    cands = {c["id"]: c for c in definition.get("candidates", [])}
    by_country: dict[str, int] = defaultdict(int)
    by_bureau: dict[str, int] = defaultdict(int)
    rows = []
    for ch in result.get("chosen", []):
        c = cands.get(ch["id"], {})
        years = len(c.get("fiscal_years", [])) or 1
        total = ch["annual"] * years
        country = c.get("country", "")
        by_country[country] += total
        ref = catalog.countries.get(country)
        bureau = ref.bureau if ref is not None and ref.bureau else "unassigned"
        by_bureau[bureau] += total
        rows.append(
            {
                **ch,
                "title": c.get("title") or ch["id"],
                "country": country,
                "account": c.get("account", ""),
                "years": years,
                "total": total,
            }
        )
    return {"by_country": dict(by_country), "by_bureau": dict(by_bureau), "rows": rows}


def _region_name(catalog: Catalog, code: str) -> str:
    r = catalog.regions.get(code)
    return r.name if r is not None else code


@router.get("/allocation/results/{result_id}", response_class=HTMLResponse)
def result_page(request: Request, result_id: int, store: StoreDep, actor: WebReader) -> Response:
    """A result: what is funded, by region, account and year, shadow prices, greedy."""
    catalog = get_catalog()
    with store.session() as session:
        service = AllocationService(session, actor)
        r = service.get_result(result_id)
        others = [x for x in service.list_results() if x["id"] != result_id][:50]
    res, d = r["result"], r["definition"]
    funded = _funded_by(res, d, catalog)
    bureaus = sorted(funded["by_bureau"].items(), key=lambda kv: -kv[1])
    used_by_account: dict[str, int] = defaultdict(int)
    years = [str(y) for y in d.get("fiscal_years", [])]
    used_year = dict.fromkeys(years, 0)
    avail_year = dict.fromkeys(years, 0)
    for account, table in res.get("budgets", {}).items():
        for fy, b in table.items():
            used_by_account[account] += b["used"]
            used_year[fy] = used_year.get(fy, 0) + b["used"]
            avail_year[fy] = avail_year.get(fy, 0) + b["available"]
    accounts = sorted(used_by_account.items(), key=lambda kv: -kv[1])
    ctx = _ctx(
        actor,
        "result",
        r=r,
        res=res,
        rows=sorted(funded["rows"], key=lambda x: -x["total"]),
        region_chart=charts.bars(
            [(_region_name(catalog, b), v) for b, v in bureaus],
            title="Funded, all years, by regional bureau",
        ),
        account_chart=charts.bars(
            [(catalog.accounts[a].name if a in catalog.accounts else a, v) for a, v in accounts],
            title="Budget used, all years, by account",
        ),
        year_chart=charts.columns(
            [f"FY{y}" for y in years],
            [
                ("used", [used_year[y] for y in years]),
                ("available", [avail_year[y] for y in years]),
            ],
            title="Budget used and available by fiscal year",
        ),
        others=others,
    )
    return render(request, "allocation/result.html", ctx)


@router.get("/allocation/results/{result_id}/map", response_class=HTMLResponse)
def map_page(request: Request, result_id: int, store: StoreDep, actor: WebReader) -> Response:
    """The funding map: dollars funded per partner country, all years."""
    catalog = get_catalog()
    with store.session() as session:
        r = AllocationService(session, actor).get_result(result_id)
    funded = _funded_by(r["result"], r["definition"], catalog)
    values = {c: v / 1e6 for c, v in funded["by_country"].items() if c}
    top = max(values.values(), default=0.0)
    names = _names(catalog)["country_name"]
    tips = {c: f"{names(c)}: {charts.money(v * 1e6)} funded" for c, v in values.items()}
    world = choropleth(
        values,
        title=f"Funded by partner, {r['name']}",
        label="$M",
        domain=(0.0, max(top, 1.0)),
        tooltips=tips,
        link=lambda iso3: f"/countries/{iso3}",
    )
    return render(request, "allocation/map.html", _ctx(actor, "map", r=r, map=world, values=values))


@router.get("/allocation/compare", response_class=HTMLResponse)
def compare_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    before: Annotated[int, Query(ge=1)],
    after: Annotated[int, Query(ge=1)],
) -> Response:
    """The diff between two results: what moved, and why."""
    with store.session() as session:
        service = AllocationService(session, actor)
        diff = service.compare(before, after)
        r0, r1 = service.get_result(before), service.get_result(after)
    changed = set(diff["changes"])
    # moves the scenario change explains directly first, then the knock-on effects
    diff["moves"].sort(key=lambda m: (not changed & set(m["reasons"]), m["id"]))
    unproven = [r for r in (r0, r1) if r["status"] != "optimal"]
    cands = {c["id"]: c for c in r1["definition"].get("candidates", [])}
    cands.update(
        {c["id"]: c for c in r0["definition"].get("candidates", []) if c["id"] not in cands}
    )
    return render(
        request,
        "allocation/compare.html",
        _ctx(actor, "compare", diff=diff, r0=r0, r1=r1, cands=cands, unproven=unproven),
    )
