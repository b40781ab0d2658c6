"""Allocation's step of the demo world: a saved baseline scenario built from the demo
portfolio for FY2027-2029, solved, and a what-if (a 10% cut of FMF in every year)
solved too, so the result, funding map and diff pages have something to show."""

from __future__ import annotations

from typing import Any

from ssaplan.allocation.engine.solve import AllocationOptimizer
from ssaplan.allocation.hooks import stored_hooks
from ssaplan.allocation.portfolio import BuildOptions, build_from_portfolio
from ssaplan.allocation.service import AllocationService, parse
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.reference.catalog import get_catalog

TIME_LIMIT = 5.0  # the demo should load quickly; the result says how close it got
FISCAL_YEARS = (2027, 2028, 2029)


def load(ctx: DemoContext) -> dict[str, Any]:
    """Save the baseline and one what-if, each with its result."""
    actor = Actor("demo-loader", "admin")
    optimizer = AllocationOptimizer(time_limit=TIME_LIMIT)
    settings = {"time_limit": TIME_LIMIT, "gap": optimizer.mip_rel_gap, "robust": 0, "seed": 2013}
    years = tuple(y for y in FISCAL_YEARS if ctx.first_fy <= y <= ctx.last_fy) or FISCAL_YEARS
    with ctx.store.transaction() as session:
        eligible, evidence = stored_hooks(session, actor)
        built = build_from_portfolio(
            session,
            get_catalog(),
            years,
            options=BuildOptions(name=f"Baseline FY{years[0]}-{years[-1]} (demo)"),
            eligible=eligible,
            evidence=evidence,
        )
        if not built.scenario["candidates"]:
            return {"allocation_scenarios": 0}
        service = AllocationService(session, actor)
        ctx.log(
            f"solving the baseline allocation ({len(built.scenario['candidates'])} candidates)..."
        )
        base = service.create_scenario(built.scenario, source="demo")
        base_result = optimizer.solve(parse(base["definition"]).problem)
        base_id = service.save_result(base["id"], base_result, settings=settings)
        account = "FMF" if "FMF" in built.scenario["accounts"] else min(built.scenario["accounts"])
        cut = service.what_if(
            base["id"],
            budget=[{"account": account, "percent": -10.0}],
            name=f"{account} cut by 10% (demo)",
        )
        cut_result = optimizer.solve(parse(cut["definition"]).problem)
        cut_id = service.save_result(cut["id"], cut_result, settings=settings)
    return {
        "allocation_scenarios": 2,
        "allocation_results": [base_id, cut_id],
        "allocation_funded": len(base_result.chosen),
    }
