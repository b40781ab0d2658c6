"""``ssaplan allocate``: run a scenario through the optimizer (a thin wrapper).

A scenario comes from a file (``--scenario FILE.json``; reference data -- known
account and country codes, regions by scheme -- comes from the shipped reference
files and the file never touches ``--db``) or is built from the stored world
(``--from-portfolio --fiscal-years 2027-2031``, reading ``--db``). ``--save`` keeps
the scenario and its result in the database (audited).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from ssaplan.allocation.refdata import reference_inputs
from ssaplan.clikit import DbOpt, JsonOpt, emit, info, progress, state
from ssaplan.core.errors import BadRequest

__all__ = ["allocate", "reference_inputs"]


def allocate(
    ctx: typer.Context,
    scenario: Annotated[
        Path | None,
        typer.Option(
            "--scenario",
            metavar="FILE.json",
            help="scenario file (format: docs/allocation.md)",
            show_default=False,
        ),
    ] = None,
    from_portfolio: Annotated[
        bool,
        typer.Option(
            "--from-portfolio",
            help="build the scenario from the stored programs and assessment (--db)",
        ),
    ] = False,
    fiscal_years: Annotated[
        str | None,
        typer.Option(
            "--fiscal-years",
            metavar="FIRST-LAST",
            help="fiscal years of a scenario built from the portfolio, e.g. 2027-2031",
            show_default=False,
        ),
    ] = None,
    reserve_share: Annotated[
        float,
        typer.Option(
            "--reserve-share", min=0.0, max=0.99, help="--from-portfolio: crisis reserve held back"
        ),
    ] = 0.05,
    marks_percent: Annotated[
        float,
        typer.Option(
            "--marks-percent",
            min=0.0,
            max=1000.0,
            help="--from-portfolio: account marks as a percent of the planned budget lines",
        ),
    ] = 100.0,
    save: Annotated[
        bool, typer.Option("--save", help="keep the scenario and its result in the database")
    ] = False,
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
    if (scenario is None) == (not from_portfolio):
        raise typer.BadParameter(
            "give either --scenario FILE.json or --from-portfolio --fiscal-years FIRST-LAST",
            param_hint="--scenario / --from-portfolio",
        )
    if from_portfolio and fiscal_years is None:
        raise typer.BadParameter("--from-portfolio needs them", param_hint="--fiscal-years")
    definition: dict[str, Any] | None = None
    store = None
    if scenario is not None:
        if not scenario.exists():
            raise BadRequest(f"no scenario file {scenario}")
        parsed = load_scenario(scenario, **reference_inputs())
        source = "file"
        if save:
            from ssaplan.allocation.scenario import parse_json

            definition = parse_json(scenario.read_text(encoding="utf-8-sig"))
    else:
        from ssaplan.allocation.hooks import stored_hooks
        from ssaplan.allocation.portfolio import BuildOptions, build_from_portfolio, parse_years
        from ssaplan.allocation.scenario import parse_scenario
        from ssaplan.clikit import open_store
        from ssaplan.core.permissions import Actor
        from ssaplan.reference.catalog import get_catalog

        years = parse_years(fiscal_years or "")
        store = open_store(st)
        with store.session() as session:
            eligible, evidence = stored_hooks(session, Actor.operator())
            built = build_from_portfolio(
                session,
                get_catalog(),
                years,
                options=BuildOptions(reserve_share=reserve_share, marks_percent=marks_percent),
                eligible=eligible,
                evidence=evidence,
            )
        for note in built.notes:
            info(note)
        for why, n in built.skipped.items():
            info(f"left out: {n:,} {why}")
        if not built.scenario["candidates"]:
            raise BadRequest(built.notes[0])
        definition = built.scenario
        parsed = parse_scenario(definition, **reference_inputs())
        source = "portfolio"
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
    if save:
        from ssaplan.allocation.service import AllocationService
        from ssaplan.clikit import open_store
        from ssaplan.core.permissions import Actor

        store = store or open_store(st)
        with store.transaction() as session:
            service = AllocationService(session, Actor.operator())
            saved = service.create_scenario(
                definition if definition is not None else parsed.as_dict(), source=source
            )
            result_id = service.save_result(
                saved["id"],
                result,
                settings={"time_limit": time_limit, "gap": gap, "robust": robust, "seed": seed},
                robust=data.get("robust"),
            )
        data["saved"] = {"scenario_id": saved["id"], "result_id": result_id}
        info(f"saved as scenario #{saved['id']}, result #{result_id}")

    def human() -> None:
        lines: list[Callable[[], str]] = [result.summary]
        if robust_result is not None:
            lines.append(robust_result.summary)
        sys.stdout.write("\n".join(f() for f in lines) + "\n")

    emit(st, data, human)
