"""``ssaplan programs ...``: the shared portfolio on the command line."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, open_store, state
from ssaplan.ui.money import money

app = typer.Typer(help="The shared portfolio of programs.", no_args_is_help=True)
MONEY_W = 16


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
    institution_type: Annotated[
        str | None, typer.Option(help="institution type, e.g. police or 'Armed forces'")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option(help="purpose: engage, build_capacity or enable")
    ] = None,
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
        institution_type=institution_type,
        purpose=purpose,
        q=q,
    )
    with open_store(st).session() as session:
        # The page as the API sends it (plain data in ProgramList's shape, never
        # validated into models again: a list loads no pydantic model, see bench_cli).
        page = json.loads(
            PortfolioService(session, Actor.operator()).list_programs_json(
                flt, limit=limit, offset=offset, sort=sort
            )
        )

    def human() -> None:
        # Money in the one short format, right-aligned; the lines a fiscal-year or
        # account filter counts (the same the list is sorted by).
        account_code = flt.account_code()  # None without an account filter
        label = " ".join(
            x for x in (f"FY{fiscal_year}" if fiscal_year else "", account_code or "") if x
        )
        head = ("id", "title", "agency", "account", "partners", "status")
        widths = (28, 48, 14, 10, 14, 12)
        money_head = tuple(f"{k}{' ' + label if label else ''}" for k in ("planned", "obligated"))
        out = [
            "  ".join(_fit(h, w) for h, w in zip(head, widths, strict=True))
            + "".join(f"  {h:>{MONEY_W}}" for h in money_head)
        ]
        for p in page["items"]:
            lines = [
                b
                for b in p["budget"]
                if (fiscal_year is None or b["fiscal_year"] == fiscal_year)
                and (account is None or b["account"] == account_code)
            ]
            cells = (
                p["id"],
                p["title"],
                p["agency"],
                p["account"] or "",
                ",".join(p["countries"] + p["regions"]),
                p["status"],
            )
            row = "  ".join(_fit(c, w) for c, w in zip(cells, widths, strict=True))
            amounts = (sum(b["planned"] for b in lines), sum(b["obligated"] for b in lines))
            out.append(row + "".join(f"  {money(a):>{MONEY_W}}" for a in amounts))
        sys.stdout.write("\n".join(out) + "\n")
        totals = page["totals"]
        info(
            f"{len(page['items'])} of {page['total']} programs; "
            f"planned {money(totals['planned'])}, obligated {money(totals['obligated'])}, "
            f"disbursed {money(totals['disbursed'])}"
        )

    emit(st, page, human)


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
        out.append(f"  {'FY':<6}{'account':<10}{'planned':>14}{'obligated':>14}{'disbursed':>14}")
        for b in p.budget:
            out.append(
                f"  {b.fiscal_year:<6}{b.account or '':<10}{money(b.planned):>14}"
                f"{money(b.obligated):>14}{money(b.disbursed):>14}"
            )
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
