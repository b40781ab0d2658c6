"""Workbench pages of coordination: the overlap review queue (with mark forms), the gap
report, the donor matrix heat map, a partner's donor picture, burden-sharing charts and
the regional view with its map. Names where people read; codes beside them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ssaplan.coordination.analysis_schemas import MatrixCell
from ssaplan.coordination.donor_analysis import DonorAnalysis
from ssaplan.coordination.gap_analysis import GapAnalysis
from ssaplan.coordination.inputs import partner_name
from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.partner import partner_picture
from ssaplan.coordination.regional import RegionalAnalysis
from ssaplan.coordination.schemas import MarkCreate, MarkUpdate
from ssaplan.core.deps import FormCsrf, StoreDep, requires, unit_of_work
from ssaplan.core.errors import Invalid
from ssaplan.core.permissions import Actor, can
from ssaplan.reference.catalog import get_catalog
from ssaplan.ui.charts import columns, heatmap, money
from ssaplan.ui.maps import choropleth
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
WebReader = Annotated[Actor, Depends(requires("read"))]
PAGE = 25
MARKS = ("confirmed", "complementary", "dismissed")


def _ctx(actor: Actor, page: str, **extra: Any) -> dict[str, Any]:
    return {
        "page": page,
        "can_review": can(actor, "coordination:review"),
        "can_run": can(actor, "coordination:run"),
        **extra,
    }


def _back(target: str) -> str:
    """Where a form sends the browser back to: our own pages only."""
    return target if target.startswith("/coordination") and "//" not in target else "/coordination"


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


# --- overlap review ---------------------------------------------------------------------


@router.get("/coordination", response_class=HTMLResponse)
def overlaps_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    show: Annotated[str, Query(max_length=10)] = "likely",
    mark: Annotated[str, Query(max_length=20)] = "",
    kind: Annotated[str, Query(max_length=20)] = "",
    partner: Annotated[str, Query(max_length=60)] = "",
    owner: Annotated[str, Query(max_length=200)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    """The overlap review queue: pairs of the latest run, reasons, reviewers' marks."""
    likely = {"likely": True, "near": False}.get(show)
    with store.session() as session:
        service = OverlapService(session, actor)
        found = service.pairs(
            likely=likely,
            mark=mark or None,
            kind=kind or None,
            partner=partner or None,
            owner=owner or None,
            limit=PAGE,
            offset=(page - 1) * PAGE,
        )
        reviewable = {(p.a_ref, p.b_ref): service.may_review(p.a_ref, p.b_ref) for p in found.items}
        runs = service.runs(limit=5)
    query = {"show": show, "mark": mark, "kind": kind, "partner": partner, "owner": owner}
    here = "/coordination?" + urlencode({**query, "page": page})
    pages = max(1, -(-found.total // PAGE))
    return render(
        request,
        "coordination/overlaps.html",
        _ctx(
            actor,
            "overlaps",
            found=found,
            run=found.run,
            runs=runs,
            reviewable=reviewable,
            query=query,
            here=here,
            page_no=page,
            pages=pages,
            prev_url="/coordination?" + urlencode({**query, "page": page - 1})
            if page > 1
            else None,
            next_url="/coordination?" + urlencode({**query, "page": page + 1})
            if page < pages
            else None,
            marks=MARKS,
        ),
    )


@router.post("/coordination/run", dependencies=[FormCsrf])
def run_submit(
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("coordination:run"))],
    within_agency: Annotated[str, Form()] = "",
) -> Response:
    """Re-run overlap detection now and show the new run's queue."""
    with unit_of_work(store) as session:
        OverlapService(session, actor).run(within_agency=within_agency == "on")
    return RedirectResponse("/coordination", status_code=303)


@router.post("/coordination/marks", dependencies=[FormCsrf])
def mark_submit(
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("coordination:review"))],
    a: Annotated[str, Form(max_length=250)],
    b: Annotated[str, Form(max_length=250)],
    mark: Annotated[str, Form(max_length=20)],
    note: Annotated[str, Form(max_length=4000)] = "",
    next: Annotated[str, Form(max_length=1000)] = "/coordination",  # noqa: A002 - form field
) -> Response:
    """Mark a pair from the review queue."""
    if mark not in MARKS:
        raise Invalid("choose confirmed, complementary or dismissed")
    with unit_of_work(store) as session:
        OverlapService(session, actor).create_mark(MarkCreate(a=a, b=b, mark=mark, note=note))
    return RedirectResponse(_back(next), status_code=303)


@router.post("/coordination/marks/{mark_id}", dependencies=[FormCsrf])
def mark_update_submit(
    mark_id: int,
    store: StoreDep,
    actor: Annotated[Actor, Depends(requires("coordination:review"))],
    version: Annotated[int, Form(ge=1)],
    mark: Annotated[str, Form(max_length=20)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    remove: Annotated[str, Form()] = "",
    next: Annotated[str, Form(max_length=1000)] = "/coordination",  # noqa: A002 - form field
) -> Response:
    """Change (or remove) a mark; a stale version is refused (409)."""
    with unit_of_work(store) as session:
        service = OverlapService(session, actor)
        if remove:
            service.delete_mark(mark_id, version)
        else:
            if mark not in MARKS:
                raise Invalid("choose confirmed, complementary or dismissed")
            service.update_mark(
                mark_id,
                MarkUpdate(mark=mark, note=note, version=version),
            )
    return RedirectResponse(_back(next), status_code=303)


# --- gaps -------------------------------------------------------------------------------


@router.get("/coordination/gaps", response_class=HTMLResponse)
def gaps_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    as_of: Annotated[date | None, Query()] = None,
    months: Annotated[int, Query(ge=1, le=120)] = 12,
) -> Response:
    """What nobody funds: objectives, partners, institutions and purposes."""
    with store.session() as session:
        report = GapAnalysis(session, actor).report(as_of=as_of, months=months)
    global_unfunded = [g for g in report.unfunded_objectives if g.partner is None]
    partner_unfunded: dict[str, list[Any]] = {}
    for g in report.unfunded_objectives:
        if g.partner:
            partner_unfunded.setdefault(g.partner_name or g.partner, []).append(g)
    cells: dict[str, list[Any]] = {}
    for g in report.uncovered_cells:
        cells.setdefault(g.partner or "", []).append(g)
    return render(
        request,
        "coordination/gaps.html",
        _ctx(
            actor,
            "gaps",
            report=report,
            global_unfunded=global_unfunded,
            partner_unfunded=sorted(partner_unfunded.items()),
            cells=sorted(cells.items(), key=lambda kv: (-len(kv[1]), kv[0])),
        ),
    )


# --- donors -----------------------------------------------------------------------------


def _matrix_heat(
    cells: list[MatrixCell],
    donors: list[tuple[str, str]],
    groups: list[tuple[str, str]],
    *,
    key: str,
    title: str,
    links: list[str | None] | None = None,
) -> Any:
    """Donors (rows) x partners or sectors (columns): share of the column's money."""
    totals: dict[str, float] = {}
    amounts: dict[tuple[str, str], float] = {}
    for c in cells:
        g = getattr(c, key)
        totals[g] = totals.get(g, 0.0) + c.usd
        amounts[(c.donor, g)] = amounts.get((c.donor, g), 0.0) + c.usd
    values, labels, tips = [], [], []
    for d, dname in donors:
        row, lab, tip = [], [], []
        for g, gname in groups:
            usd = amounts.get((d, g), 0.0)
            share = usd / totals[g] if totals.get(g) else 0.0
            row.append(share if usd else None)
            lab.append(_pct(share) if usd else "")
            tip.append(
                f"{dname} in {gname}: {money(usd)} ({_pct(share)} of {money(totals.get(g, 0))})"
            )
        values.append(row)
        labels.append(lab)
        tips.append(tip)
    return heatmap(
        [n for _, n in donors],
        [n for _, n in groups],
        values,
        title=title,
        labels=labels,
        tooltips=tips,
        column_links=links,
        domain=(0.0, 1.0),
    )


@router.get("/coordination/donors", response_class=HTMLResponse)
def donors_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    basis: Annotated[str, Query(max_length=20)] = "disbursed",
    vocabulary: Annotated[str, Query(max_length=10)] = "dac3",
) -> Response:
    """Donor x partner heat map (shares), fragmentation, comparative advantage, leads."""
    with store.session() as session:
        overview = DonorAnalysis(session, actor).overview(basis=basis, vocabulary=vocabulary)
    partners = [(p.partner, p.name) for p in overview.partners[:30]]
    donors = [(d.donor, d.name) for d in overview.donors]
    heat = _matrix_heat(
        overview.cells,
        donors,
        partners,
        key="partner",
        title="Each donor's share of the partner's money",
        links=[f"/coordination/partners/{code}" for code, _ in partners],
    )
    sectors = [(s.sector, s.name) for s in overview.sectors]
    rca: dict[tuple[str, str], float] = {
        (r.donor, r.sector): r.rca for r in overview.comparative_advantage
    }
    rca_heat = heatmap(
        [n for _, n in donors],
        [n for _, n in sectors],
        [[rca.get((d, s)) for s, _ in sectors] for d, _ in donors],
        title="Revealed comparative advantage (Balassa): above 1, the donor specialises",
        labels=[
            [f"{rca[(d, s)]:.1f}" if (d, s) in rca else "" for s, _ in sectors] for d, _ in donors
        ],
        tooltips=[
            [
                f"{dn} in {sn}: RCA {rca[(d, s)]:.2f}"
                if (d, s) in rca
                else f"{dn}: nothing in {sn}"
                for s, sn in sectors
            ]
            for d, dn in donors
        ],
        domain=(0.0, 3.0),
    )
    return render(
        request,
        "coordination/donors.html",
        _ctx(
            actor,
            "donors",
            o=overview,
            note=overview.note,
            heat=heat,
            rca_heat=rca_heat,
            basis=basis,
            vocabulary=vocabulary,
        ),
    )


@router.get("/coordination/partners/{code}", response_class=HTMLResponse)
def partner_page(
    request: Request,
    code: Annotated[str, Path(max_length=60)],
    store: StoreDep,
    actor: WebReader,
    basis: Annotated[str, Query(max_length=20)] = "disbursed",
    vocabulary: Annotated[str, Query(max_length=10)] = "dac3",
) -> Response:
    """One partner: donors x sectors, lead donors, division of labour, our share, gaps."""
    with store.session() as session:
        p = partner_picture(session, actor, code, basis=basis, vocabulary=vocabulary)
    donors = [(d.donor, d.name) for d in p.donors]
    sectors = [(s.sector, s.name) for s in p.sectors]
    heat = _matrix_heat(
        p.cells, donors, sectors, key="sector", title=f"Who funds what in {p.partner.name}"
    )
    years = p.our_share.by_year
    chart = columns(
        [f"FY{y.year}" for y in years],
        [
            ("United States", [y.ours_usd for y in years]),
            ("Other donors", [y.others_usd for y in years]),
        ],
        title=f"Our money and other donors' in {p.partner.name}, by fiscal year",
    )
    gap_kinds: dict[str, list[Any]] = {}
    for g in p.gaps:
        gap_kinds.setdefault(g.kind, []).append(g)
    return render(
        request,
        "coordination/partner.html",
        _ctx(actor, "partner", p=p, note=p.note, heat=heat, chart=chart, gap_kinds=gap_kinds),
    )


# --- burden sharing ---------------------------------------------------------------------


@router.get("/coordination/burden", response_class=HTMLResponse)
def burden_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    by: Annotated[str, Query(max_length=20)] = "region",
    kind: Annotated[str, Query(max_length=20)] = "bureau",
    basis: Annotated[str, Query(max_length=20)] = "disbursed",
) -> Response:
    """Our share against other donors' by partner, region or sector, over time."""
    with store.session() as session:
        b = DonorAnalysis(session, actor).burden(by=by, kind=kind, basis=basis)
    years = sorted({r.year for r in b.rows})
    groups: dict[str, str] = {}
    totals: dict[str, float] = {}
    cells: dict[tuple[str, int], Any] = {}
    for r in b.rows:
        groups[r.group] = r.group_name
        totals[r.group] = totals.get(r.group, 0.0) + r.ours_usd + r.others_usd
        cells[(r.group, r.year)] = r
    order = sorted(groups, key=lambda g: (-totals[g], g))[:40]
    heat = heatmap(
        [groups[g] for g in order],
        [f"FY{y}" for y in years],
        [[cells[(g, y)].our_share if (g, y) in cells else None for y in years] for g in order],
        title="Our share of all donors' money, by group and fiscal year",
        labels=[
            [_pct(cells[(g, y)].our_share) if (g, y) in cells else "" for y in years] for g in order
        ],
        tooltips=[
            [
                f"{groups[g]} FY{y}: ours {money(cells[(g, y)].ours_usd)}, others "
                f"{money(cells[(g, y)].others_usd)}"
                if (g, y) in cells
                else f"{groups[g]} FY{y}: none"
                for y in years
            ]
            for g in order
        ],
        domain=(0.0, 1.0),
        cell=56,
    )
    chart = columns(
        [f"FY{y.year}" for y in b.by_year],
        [
            ("United States", [y.ours_usd for y in b.by_year]),
            ("Other donors", [y.others_usd for y in b.by_year]),
        ],
        title="Our money and other donors', every partner, by fiscal year",
    )
    return render(
        request,
        "coordination/burden.html",
        _ctx(
            actor,
            "burden",
            b=b,
            note=b.note,
            heat=heat,
            chart=chart,
            by=by,
            kind=kind,
            basis=basis,
            order=order,
            groups=groups,
            totals=totals,
        ),
    )


# --- regions ----------------------------------------------------------------------------


@router.get("/coordination/regions", response_class=HTMLResponse)
def regions_page(
    request: Request,
    store: StoreDep,
    actor: WebReader,
    kind: Annotated[str, Query(max_length=20)] = "bureau",
    region: Annotated[str, Query(max_length=60)] = "",
) -> Response:
    """Roll-ups by bureau, command or organization; a region's map, cross-border
    programs and partners linked by shared programs."""
    with store.session() as session:
        view = RegionalAnalysis(session, actor).view(kind=kind, region=region or None)
    catalog = get_catalog()
    top = max(view.countries.values(), default=0) / 1e6
    world = choropleth(
        {c: v / 1e6 for c, v in view.countries.items()},
        title="Planned dollars by partner country"
        + (f", {view.region_name}" if view.region_name else ""),
        label="$M planned",
        domain=(0.0, max(top, 1.0)),
        link=lambda iso3: f"/coordination/partners/{iso3}",
        tooltips={
            c: f"{partner_name(catalog, c)}: {money(v)} planned" for c, v in view.countries.items()
        },
        clip_id="region-clip",
    )
    return render(
        request,
        "coordination/regions.html",
        _ctx(actor, "regions", v=view, world=world, kind=kind, region_codes=set(catalog.regions)),
    )
