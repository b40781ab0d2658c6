"""``ssaplan programs ...``: the shared portfolio on the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, open_store, state

app = typer.Typer(help="The shared portfolio of programs.", no_args_is_help=True)


@app.command("list")
def programs_list(
    ctx: typer.Context,
    country: Annotated[str | None, typer.Option(help="partner country (ISO3 or name)")] = None,
    region: Annotated[
        str | None, typer.Option(help="bureau, combatant command, UN region or organization")
    ] = None,
    agency: Annotated[str | None, typer.Option(help="agency (with its bureaus)")] = None,
    account: Annotated[str | None, typer.Option(help="funding account, e.g. FMF")] = None,
    fiscal_year: Annotated[
        int | None, typer.Option("--fiscal-year", "--fy", help="has a budget line in this FY")
    ] = None,
    status: Annotated[str | None, typer.Option(help="pipeline status")] = None,
    objective: Annotated[str | None, typer.Option(help="objective or goal id, e.g. G1.1")] = None,
    q: Annotated[str | None, typer.Option(help="words in id, title or description")] = None,
    sort: Annotated[
        str,
        typer.Option(
            help="id, title, start, end, status, agency, account, planned, ... (- for descending)"
        ),
    ] = "id",
    limit: Annotated[int | None, typer.Option(help="at most this many (default: all)")] = None,
    offset: Annotated[int, typer.Option(help="skip this many")] = 0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List programs of the shared portfolio, filtered."""
    from ssaplan.core.permissions import Actor
    from ssaplan.portfolio.filters import ProgramFilter
    from ssaplan.portfolio.service import PortfolioService

    st = state(ctx, db, as_json)
    flt = ProgramFilter(
        country=country,
        region=region,
        agency=agency,
        account=account,
        fiscal_year=fiscal_year,
        status=status,
        objective=objective,
        q=q,
    )
    with open_store(st).session() as session:
        page = PortfolioService(session, Actor.operator()).list_programs(
            flt, limit=limit, offset=offset, sort=sort
        )

    def human() -> None:
        widths = (28, 52, 14, 10, 12, 12, 16)
        rows = [("id", "title", "agency", "account", "partners", "status", "planned $")]
        rows += [
            (
                p.id,
                p.title,
                p.agency,
                p.account or "",
                ",".join(p.countries + p.regions),
                p.status,
                f"{p.totals.planned:,}",
            )
            for p in page.items
        ]
        for row in rows:
            cells = [_fit(c, w) for c, w in zip(row, widths, strict=True)]
            sys.stdout.write("  ".join(cells[:-1]) + "  " + cells[-1].rjust(widths[-1]) + "\n")
        info(
            f"{len(page.items)} of {page.total} programs; planned ${page.totals.planned:,}, "
            f"obligated ${page.totals.obligated:,}, disbursed ${page.totals.disbursed:,}"
        )

    emit(st, page.model_dump(mode="json"), human)


@app.command("show")
def programs_show(
    ctx: typer.Context,
    program_id: Annotated[str, typer.Argument(metavar="ID", help="program id")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one program with its budget and deliveries."""
    from ssaplan.core.permissions import Actor
    from ssaplan.portfolio.service import PortfolioService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        p = PortfolioService(session, Actor.operator()).get(program_id)

    def human() -> None:
        out = [
            f"{p.id}  {p.title}",
            f"  status {p.status} · {p.agency} · {p.account or 'no account'} · marking {p.marking}",
            f"  partners {', '.join(p.countries + p.regions)} · {p.start} to {p.end}",
            f"  institution {p.institution_type or '-'} · level {p.level or '-'}"
            f" · purpose {p.purpose or '-'}"
            f" · objectives {', '.join(p.objectives) or '-'} · DAC {p.dac_code or '-'}",
        ]
        if p.description:
            out.append(f"  {p.description}")
        out.append("  FY      planned $     obligated $     disbursed $")
        for b in p.budget:
            out.append(f"  {b.fiscal_year}  {b.planned:>13,} {b.obligated:>15,} {b.disbursed:>15,}")
        for m in p.milestones:
            out.append(
                f"  delivery {m.name}: requested {m.requested_on or '-'}, "
                f"approved {m.approved_on or '-'}, "
                f"obligated {m.obligated_on or '-'}, delivered {m.delivered_on or '-'}"
            )
        sys.stdout.write("\n".join(out) + "\n")

    emit(st, p.model_dump(mode="json"), human)


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"
