"""``ssaplan allocate``: run a scenario file through the optimizer (a thin wrapper).

Reference data (known account and country codes, regions by scheme) comes from the
shipped reference files, not the database; the scenario never touches ``--db``.
Building scenarios from the stored portfolio (``--from-portfolio``) comes later.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, progress, state
from ssaplan.core.errors import BadRequest


def reference_inputs() -> dict[str, Any]:
    """Known codes and a region mapping from the reference catalog."""
    from ssaplan.reference.catalog import get_catalog

    catalog = get_catalog()
    countries = catalog.countries
    un_codes = {
        r.name: r.code for r in catalog.regions.values() if r.kind in ("un_region", "un_subregion")
    }

    def regions(scheme: str, country: str) -> str | tuple[str, ...] | None:
        c = countries.get(country)
        if c is None:
            return None
        if scheme == "bureau":
            return c.bureau
        if scheme == "combatant_command":
            return c.combatant_command
        if scheme in ("un_region", "un_subregion"):
            name = c.un_region if scheme == "un_region" else c.un_subregion
            return tuple(x for x in (un_codes.get(name or ""), name) if x)  # code or name
        if scheme == "organization":
            return tuple(c.organizations)
        return None

    return {
        "known_accounts": frozenset(catalog.accounts),
        "known_countries": frozenset(countries),
        "regions": regions,
    }


def allocate(
    ctx: typer.Context,
    scenario: Annotated[
        Path,
        typer.Option(
            "--scenario",
            metavar="FILE.json",
            help="scenario file (format: docs/allocation.md)",
            show_default=False,
        ),
    ],
    time_limit: Annotated[
        float, typer.Option("--time-limit", min=0.1, help="seconds for each solve")
    ] = 30.0,
    gap: Annotated[
        float,
        typer.Option(min=0.0, max=1.0, help="stop when proven within this share of the optimum"),
    ] = 0.001,
    robust: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="N",
            help="also re-solve over N draws of the values (levels' value_sd)",
        ),
    ] = 0,
    seed: Annotated[int, typer.Option(help="seed of the robust draws")] = 2013,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Optimize a scenario file: which programs to fund, and at which level."""
    from ssaplan.allocation.engine.robust import RobustAllocator
    from ssaplan.allocation.engine.solve import AllocationOptimizer
    from ssaplan.allocation.scenario import load_scenario

    st = state(ctx, db, as_json)
    if not scenario.exists():
        raise BadRequest(f"no scenario file {scenario}")
    parsed = load_scenario(scenario, **reference_inputs())
    problem = parsed.problem
    info(
        f"solving {parsed.name!r}: {len(problem.candidates):,} candidates, "
        f"{len(problem.budgets)} accounts, {len(problem.fiscal_years)} fiscal years "
        f"(time limit {time_limit:g} s)"
    )
    optimizer = AllocationOptimizer(time_limit=time_limit, mip_rel_gap=gap)
    result = optimizer.solve(problem)
    data = result.as_dict()
    robust_result = None
    if robust and result.status in ("optimal", "feasible"):
        allocator = RobustAllocator(
            draws=robust,
            seed=seed,
            optimizer=optimizer.with_params(time_limit=min(time_limit, 10.0)),
        )
        with progress(f"re-solving over {robust} value draws", total=robust) as advance:
            robust_result = allocator.solve(problem, progress=advance)
        data["robust"] = robust_result.as_dict()

    def human() -> None:
        lines: list[Callable[[], str]] = [result.summary]
        if robust_result is not None:
            lines.append(robust_result.summary)
        sys.stdout.write("\n".join(f() for f in lines) + "\n")

    emit(st, data, human)
