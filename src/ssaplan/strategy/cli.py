"""``ssaplan strategies ...`` and ``ssaplan import measurements``: thin wrappers over the
strategy services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, state
from ssaplan.clikit import read_session as _session
from ssaplan.clikit import write_session as _transaction

app = typer.Typer(help="Country and regional sector strategies.", no_args_is_help=True)


@app.command("list")
def strategies_list(
    ctx: typer.Context,
    country: Annotated[
        str | None, typer.Option(help="partner country (also regional ones)")
    ] = None,
    region: Annotated[str | None, typer.Option(help="region or bureau")] = None,
    agency: Annotated[str | None, typer.Option(help="owning agency")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List strategies with their objectives, indicators and programs."""
    from ssaplan.core.permissions import Actor
    from ssaplan.strategy.service import StrategyService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        page = StrategyService(session, Actor.operator()).list_strategies(
            country=country, region=region, agency=agency, limit=None
        )

    def human() -> None:
        for s in page.items:
            sys.stdout.write(
                f"{s.id:<22} FY{s.first_fy}-FY{s.last_fy}  {s.status:<7} {s.marking:<4} "
                f"{s.agency:<10} "
                f"{s.objectives} objectives, {s.indicators} indicators, {s.programs} programs"
                f"  {s.title}\n"
            )
        info(f"{page.total} strategies")
        hidden = page.withheld.above_ceiling + page.withheld.not_releasable
        if hidden:
            info(f"{hidden} strategies withheld (marking or releasability)")

    emit(st, page.model_dump(mode="json"), human)


@app.command("show")
def strategies_show(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(metavar="ID", help="strategy id")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a strategy's results framework and its funding by year."""
    from ssaplan.core.permissions import Actor
    from ssaplan.strategy.service import StrategyService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        s = StrategyService(session, Actor.operator()).get(code)

    def human() -> None:
        out = [
            f"{s.id}  {s.title}",
            f"  {s.kind} strategy for {s.partner_name} · {s.agency} · FY{s.first_fy}-FY{s.last_fy}"
            f" · {s.status}",
            f"  marking {s.marking}"
            + (f", releasable to {', '.join(s.releasable_to)}" if s.releasable_to else ""),
        ]
        if s.theory_of_change:
            out.append(f"  theory of change: {s.theory_of_change}")
        for o in s.objectives:
            out.append(f"  objective {o.code} ({o.goal_objective}): {o.title}")
            for i in o.indicators:
                base = (
                    f"{i.baseline_value:g} in {i.baseline_period}"
                    if i.baseline_value is not None
                    else "no baseline"
                )
                targets = ", ".join(f"FY{t.fiscal_year} {t.value:g}" for t in i.targets)
                out.append(
                    f"    {i.code} [{i.kind}] {i.name} ({i.unit}, {i.frequency}): {base}; "
                    f"targets {targets or '-'}"
                )
            if o.sustainment:
                p = o.sustainment
                out.append(
                    f"    sustainment: ${p.life_cycle_cost:,} life-cycle, partner takes over "
                    f"{p.transition_on} ({p.paid_by})"
                )
            out.append(f"    programs: {', '.join(o.programs) or '-'}")
        out.append("  FY      planned $     obligated $     disbursed $   partner share $")
        for f in s.funding:
            out.append(
                f"  {f.fiscal_year}  {f.planned:>13,} {f.obligated:>15,} {f.disbursed:>15,}"
                f" {f.partner_cost_share:>17,}"
            )
        sys.stdout.write("\n".join(out) + "\n")

    emit(st, s.model_dump(mode="json"), human)


@app.command("add")
def strategies_add(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE.json",
            help="a strategy as the API takes it (POST /api/strategies), framework included",
        ),
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a strategy (and its whole results framework) from a JSON file, all or nothing."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.core.permissions import Actor
    from ssaplan.strategy.schemas import StrategyCreate
    from ssaplan.strategy.service import StrategyService

    st = state(ctx, db, as_json)
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadRequest(f"cannot read {file}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{file} line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    body = StrategyCreate.model_validate(data)
    with _transaction(st) as session:
        s = StrategyService(session, Actor.operator()).create(body)
    emit(
        st,
        s.model_dump(mode="json"),
        lambda: info(
            f"added strategy {s.id} with {len(s.objectives)} objectives and "
            f"{sum(len(o.indicators) for o in s.objectives)} indicators"
        ),
    )


def import_measurements(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            metavar="FILE.csv...",
            help="columns strategy, indicator, period, value, quality, confidence "
            "(and optionally disaggregation, source, note, collected_on)",
        ),
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Import measurements of strategy indicators; nothing is written if any cell is wrong."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.core.permissions import Actor
    from ssaplan.strategy.measurements import MeasurementService

    st = state(ctx, db, as_json)
    contents = []
    for path in files:
        try:
            contents.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise BadRequest(f"cannot read {path}: {exc.strerror or exc}") from exc
    with _transaction(st) as session:
        service = MeasurementService(session, Actor.operator())
        reports = [service.import_csv(data, name) for name, data in contents]
    data = {"files": [r.model_dump() for r in reports]}

    def human() -> None:
        for r in reports:
            info(
                f"{r.file}: {r.rows} rows, {r.created} new, {r.updated} updated, "
                f"{r.unchanged} unchanged"
            )

    emit(st, data, human)
