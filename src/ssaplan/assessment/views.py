"""Workbench pages of the assessment: ranked table, quadrant, world map, country page,
framework. Pages show a saved assessment (the latest unless ``?id=`` names one);
analysts run new ones from the ranked table, enter judgments on country pages, and
admins set priority tiers there.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.assessment import charts
from ssaplan.assessment.analyses import QUADRANTS
from ssaplan.assessment.framework import framework_from_rows
from ssaplan.assessment.policy import PolicyService
from ssaplan.assessment.run import Settings
from ssaplan.assessment.service import AssessmentService
from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.permissions import Actor, can
from ssaplan.reference.catalog import UnknownCode, get_catalog
from ssaplan.ui.forms import field_errors
from ssaplan.ui.maps import choropleth, frame
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
IdQuery = Annotated[int | None, Query(alias="id", ge=1)]
SORTS = ("rank", "priority", "completeness", "name", "p_top")


def _assessment(service: AssessmentService, assessment_id: int | None) -> dict[str, Any] | None:
    found = assessment_id if assessment_id is not None else service.latest_id()
    return service.get(found) if found is not None else None


def _context(actor: Actor, a: dict[str, Any] | None, page: str) -> dict[str, Any]:
    return {
        "a": a,
        "page": page,
        "id_query": f"?id={a['id']}" if a else "",
        "can_run": can(actor, "analysis:run"),
        "can_manage": can(actor, "assessment:policy"),
        "quadrant_names": QUADRANTS,
        "quadrant_labels": charts.QUADRANT_LABELS,
    }


def _sorted(rows: list[dict[str, Any]], sort: str) -> list[dict[str, Any]]:
    if sort == "name":
        return sorted(rows, key=lambda r: r["name"])
    if sort in ("priority", "completeness", "p_top"):
        return sorted(rows, key=lambda r: (r[sort] is None, -(r[sort] or 0.0), r["iso3"]))
    return rows


@router.get("/assessment", response_class=HTMLResponse)
def assessment_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    assessment_id: IdQuery = None,
    sort: str = "rank",
    region: str = "",
) -> Response:
    """The ranked table of a saved assessment, with regional roll-ups and changes;
    ``region`` (a bureau, command, organization or UN region) narrows the table."""
    catalog = get_catalog()
    members: frozenset[str] | None = None
    if region:
        try:
            region = catalog.resolve("region", region)
        except UnknownCode as exc:
            raise Invalid("invalid filter", [Detail(("query", "region"), str(exc))]) from None
        members = catalog.region_members(region)
    with store.session() as session:
        service = AssessmentService(session, actor)
        a = _assessment(service, assessment_id)
        runs = service.runs(limit=20)
    ctx = _context(actor, a, "table")
    if a is not None:
        sort = sort if sort in SORTS else "rank"
        total = a["countries_assessed"]
        ctx.update(
            rows=[
                {
                    **r,
                    "bar": charts.score_bar(r["propensity"], label="propensity"),
                    "interval": charts.rank_interval(
                        r["rank"], r["rank_p05"], r["rank_p95"], total
                    ),
                }
                for r in _sorted(a["countries"], sort)
                if members is None or r["iso3"] in members
            ],
            sort=sort,
            regions=[r for r in a["analyses"].get("regions", []) if r["scored"]],
            changes=[
                c
                for c in a["analyses"].get("changes", [])
                if members is None or c["iso3"] in members
            ][:10],
            names={c["iso3"]: c["name"] for c in a["countries"]},
        )
    ctx["region"] = region
    ctx["region_options"] = region_options()
    ctx["runs"] = runs
    return render(request, "assessment/index.html", ctx)


@router.post("/assessment/run", dependencies=[FormCsrf])
def run_submit(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("analysis:run"))],
    year: Annotated[str, Form()] = "",
    draws: Annotated[int, Form(ge=0, le=200_000)] = 10_000,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Run the default method under the current default framework and save it."""
    with unit_of_work(store) as session:
        service = AssessmentService(session, actor)
        run = service.run(
            year=int(year) if year.strip().isdigit() else None, settings=Settings(draws=draws)
        )
        assessment_id = service.save(run, note=note)
    return RedirectResponse(f"/assessment?id={assessment_id}", status_code=303)


@router.get("/assessment/quadrant", response_class=HTMLResponse)
def quadrant_page(
    request: Request, store: StoreDep, actor: WebReader, assessment_id: IdQuery = None
) -> Response:
    """Priority x propensity, and where funding does not follow them."""
    with store.session() as session:
        a = _assessment(AssessmentService(session, actor), assessment_id)
    ctx = _context(actor, a, "quadrant")
    if a is not None:
        q = a["analyses"]["quadrants"]
        ctx["chart"] = charts.scatter(
            a["countries"],
            propensity_cut=q["propensity_cut"],
            priority_cut=q["priority_cut"],
            title=f"Priority and propensity, {a['year']}",
        )
        ctx["quadrants"] = q
        ctx["mismatch"] = a["analyses"]["mismatch"]
        ctx["names"] = {c["iso3"]: c["name"] for c in a["countries"]}
        ctx["unprioritized"] = sum(1 for c in a["countries"] if c["priority"] is None)
    return render(request, "assessment/quadrant.html", ctx)


@router.get("/assessment/map", response_class=HTMLResponse)
def map_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    assessment_id: IdQuery = None,
    color: str = "propensity",
) -> Response:
    """The world coloured by propensity or priority."""
    color = color if color in ("propensity", "priority") else "propensity"
    with store.session() as session:
        a = _assessment(AssessmentService(session, actor), assessment_id)
    ctx = _context(actor, a, "map")
    ctx["color"] = color
    if a is not None:
        values = {c["iso3"]: c[color] for c in a["countries"]}
        tips = {
            c["iso3"]: (
                f"{c['name']}: propensity {_fmt(c['propensity'])}, priority {_fmt(c['priority'])}"
                f", rank {c['rank'] or '-'}"
            )
            for c in a["countries"]
        }
        suffix = f"?id={a['id']}"
        drawn = {s.iso3 for s in frame().shapes}
        ctx["not_drawn"] = sorted(
            c["name"] for c in a["countries"] if c["iso3"] not in drawn and c[color] is not None
        )
        ctx["map"] = choropleth(
            values,
            title=f"{color.capitalize()} by country, {a['year']}",
            label=color,
            link=lambda iso3: f"/assessment/countries/{iso3}{suffix}",
            tooltips=tips,
        )
    return render(request, "assessment/map.html", ctx)


def region_options() -> list[tuple[str, list[tuple[str, str]]]]:
    """Regions to narrow the ranked table by, grouped by kind, by name."""
    catalog = get_catalog()
    out = []
    for label, kind in (
        ("Regional bureaus", "bureau"),
        ("Combatant commands", "combatant_command"),
        ("Regional organizations", "organization"),
        ("UN regions", "un_region"),
    ):
        pairs = sorted(
            (
                (r.code, f"{r.name} ({r.code})" if r.code != r.name else r.name)
                for r in catalog.regions.values()
                if r.kind == kind
            ),
            key=lambda kv: kv[1],
        )
        out.append((label, pairs))
    return out


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


@router.get("/assessment/countries/{code}", response_class=HTMLResponse)
def country_page(
    request: Request, code: str, store: StoreDep, actor: WebReader, assessment_id: IdQuery = None
) -> Response:
    """One country's score explained down to each measure, its source and year."""
    with store.session() as session:
        service = AssessmentService(session, actor)
        found = assessment_id if assessment_id is not None else service.latest_id()
        a = service.get(found) if found is not None else None
        detail = service.country(found, code) if found is not None else None
        policy = PolicyService(session, actor)
        tier = policy.tiers().get(detail["iso3"]) if detail else None
        tier_version = policy.tier_version(detail["iso3"]) if detail else 0
        judgment_measures = policy.framework().measures_of("judgment")
    ctx = _context(actor, a, "country")
    if detail is not None:
        catalog = get_catalog()
        ctx.update(
            c=detail,
            tier=tier,
            tier_version=tier_version,
            constructs_chart=[
                (k["construct"], charts.score_bar(None if k["score"] is None else 100 * k["score"]))
                for k in detail["constructs"]
            ],
            objectives={o.id: o.name for o in catalog.objectives.values()},
            judgment_measures=judgment_measures,
        )
    return render(request, "assessment/country.html", ctx)


@router.post("/assessment/countries/{code}/judgment", dependencies=[FormCsrf])
def judgment_submit(
    request: Request,
    code: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("analysis:run"))],
    measure: Annotated[str, Form(max_length=200)],
    year: Annotated[int, Form(ge=1900, le=2100)],
    value: Annotated[float, Form()],
    rationale: Annotated[str, Form(max_length=8000)] = "",
) -> Response:
    """Record an assessor judgment from the country page (used by the next run)."""
    with unit_of_work(store) as session:
        saved = PolicyService(session, actor).set_judgment(code, year, measure, value, rationale)
    return RedirectResponse(f"/assessment/countries/{saved['iso3']}#judgments", status_code=303)


@router.post("/assessment/countries/{code}/tier", dependencies=[FormCsrf])
def tier_submit(
    request: Request,
    code: str,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("assessment:policy"))],
    tier: Annotated[str, Form()] = "",
    rationale: Annotated[str, Form(max_length=4000)] = "",
    version: Annotated[int | None, Form(ge=0)] = None,
) -> Response:
    """Set or clear a country's priority tier from its page (admins). The form carries the
    tier's version as the page showed it: if someone changed the tier since, 409."""
    with unit_of_work(store) as session:
        policy = PolicyService(session, actor)
        new = int(tier) if tier.strip().isdigit() else None
        policy.set_tier(code, new, rationale, version=version)
        iso3 = policy.country(code)
    return RedirectResponse(f"/assessment/countries/{iso3}#policy", status_code=303)


@router.get("/assessment/framework", response_class=HTMLResponse)
def framework_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    name: str = "default",
    version: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """A framework's constructs, measures, directions and weights, and its versions."""
    with store.session() as session:
        policy = PolicyService(session, actor)
        fw = policy.framework(name, version)
        versions = policy.frameworks()
    total = sum(fw.construct_weights)
    groups = [
        {
            "construct": c,
            "weight": w,
            "share": w / total if total else 0.0,
            "rows": [r for r in fw.rows if r.construct == c],
        }
        for c, w in zip(fw.constructs, fw.construct_weights, strict=True)
    ]
    ctx = _context(actor, None, "framework")
    ctx.update(
        fw=fw,
        groups=groups,
        versions=versions,
        rows=[
            {
                "measure": r.measure,
                "construct": r.construct,
                "direction": str(r.direction),
                "measure_weight": f"{r.measure_weight:g}",
                "construct_weight": f"{r.construct_weight:g}",
            }
            for r in fw.rows
        ],
        errors={},
        saved=request.query_params.get("saved"),
    )
    return render(request, "assessment/framework.html", ctx)


FRAMEWORK_COLUMNS = ("measure", "construct", "direction", "measure_weight", "construct_weight")


@router.post("/assessment/framework", response_class=HTMLResponse, dependencies=[FormCsrf])
async def framework_submit(
    request: Request,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("assessment:policy"))],
) -> Response:
    """Save the edited rows as the next version of the framework (admins); versions are
    never overwritten, and the next assessment run uses the latest."""
    form = await request.form()
    name = str(form.get("name") or "default").strip()
    description = str(form.get("description") or "").strip()[:2000]
    indices = sorted(
        {int(k.split("-")[1]) for k in form if k.startswith("row-") and k.count("-") >= 2}
    )
    rows = []
    for i in indices[:500]:
        row = {c: str(form.get(f"row-{i}-{c}") or "").strip() for c in FRAMEWORK_COLUMNS}
        # A blank row (its direction select always has a value) is left out.
        if form.get(f"row-{i}-remove") or not any(v for c, v in row.items() if c != "direction"):
            continue
        rows.append(row)
    try:
        fw = framework_from_rows(rows, name=name)
        with unit_of_work(store) as session:
            saved = PolicyService(session, actor).save_framework(fw, description=description)
    except Invalid as exc:
        with store.session() as session:
            policy = PolicyService(session, actor)
            current = policy.framework(name if name else "default")
            versions = policy.frameworks()
        ctx = _context(actor, None, "framework")
        total = sum(current.construct_weights)
        ctx.update(
            fw=current,
            groups=[
                {
                    "construct": c,
                    "weight": w,
                    "share": w / total if total else 0.0,
                    "rows": [r for r in current.rows if r.construct == c],
                }
                for c, w in zip(current.constructs, current.construct_weights, strict=True)
            ],
            versions=versions,
            rows=rows,
            errors=field_errors(exc.details),
            message=exc.message,
            description=description,
            saved=None,
        )
        return render(request, "assessment/framework.html", ctx, status=422)
    return RedirectResponse(
        f"/assessment/framework?name={saved.name}&saved={saved.version}", status_code=303
    )
