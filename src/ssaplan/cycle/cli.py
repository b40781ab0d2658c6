"""``ssaplan proposals ...`` and ``ssaplan inbox``: the planning cycle on the command line.

Steps act as a named user (``--as USER``), with that user's roles: a refused step exits
1 with the reason on stderr and changes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, open_store, state
from ssaplan.core.errors import BadRequest

if TYPE_CHECKING:
    from ssaplan.core.permissions import Actor
    from ssaplan.cycle.schemas import ProposalPublic
    from ssaplan.cycle.service import CycleService
    from ssaplan.portfolio.schemas import Withheld

app = typer.Typer(
    help="The interagency planning cycle: proposals, concurrence, notification, pipeline.",
    no_args_is_help=True,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="proposal id, e.g. FY2027-DoD-0003")]
AsOpt = Annotated[str, typer.Option("--as", help="act as this user (their roles apply)")]
AsOptional = Annotated[
    str | None, typer.Option("--as", help="read as this user (default: the local operator)")
]
MAX_FILE = 1_000_000  # bytes: a proposal file is a few kilobytes


def _actor(session: Any, username: str | None) -> Actor:
    from ssaplan.core.errors import Forbidden
    from ssaplan.core.permissions import Actor
    from ssaplan.core.users import actor_for, get_user

    if username is None:
        return Actor.operator()
    user = get_user(session, username.strip().lower())
    if not user.active:
        raise Forbidden(f"user {username!r} is deactivated")
    return actor_for(user)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        if path.stat().st_size > MAX_FILE:
            raise BadRequest(f"{path}: larger than {MAX_FILE:,} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadRequest(f"cannot read {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"{path} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadRequest(f"{path}: must hold one JSON object")
    return data


def _step(
    ctx: typer.Context,
    db: str | None,
    as_json: bool,
    username: str,
    act: Callable[[CycleService], ProposalPublic],
) -> None:
    """Run one step as ``username`` in one transaction and print the proposal after it."""
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    with open_store(st).transaction() as session:
        p = act(CycleService(session, _actor(session, username)))
    emit(st, p.model_dump(mode="json"), lambda: _line(p))


def _withheld_note(w: Withheld) -> None:
    """Say on stderr how many proposals were left out for the reader (never which)."""
    if w.above_ceiling or w.not_releasable:
        info(
            f"{w.above_ceiling + w.not_releasable} proposal(s) withheld from you: "
            f"{w.above_ceiling} marked above your marking ceiling, {w.not_releasable} not "
            "releasable to your audience"
        )


def _line(p: ProposalPublic) -> None:
    waits = f" · waiting on {', '.join(p.waiting_on)}" if p.waiting_on else ""
    sys.stdout.write(f"{p.id}: {p.stage}{waits}\n")


@app.command("list")
def proposals_list(
    ctx: typer.Context,
    stage: Annotated[str | None, typer.Option(help="only proposals in this stage")] = None,
    fiscal_year: Annotated[int | None, typer.Option("--fy", help="only this cycle")] = None,
    as_user: AsOptional = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List proposals with their stage, days in it and whom they wait on."""
    from ssaplan.cycle.models import STAGES
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    if stage is not None and stage not in STAGES:
        raise BadRequest(f"unknown stage {stage!r}: one of {', '.join(STAGES)}")
    with open_store(st).session() as session:
        service = CycleService(session, _actor(session, as_user))
        page = service.list_proposals(stage=stage, fiscal_year=fiscal_year)

    def human() -> None:
        for p in page.proposals:
            sys.stdout.write(
                f"{p.id:<20} {p.stage:<10} {p.days_in_stage:>5}d  {p.marking:<4} {p.agency:<10} "
                f"{p.country}  {p.title[:50]:<50}  {', '.join(p.waiting_on)}\n"
            )
        info(f"{len(page.proposals)} proposals")
        _withheld_note(page.withheld)

    emit(st, page.model_dump(mode="json"), human)


@app.command("show")
def proposals_show(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOptional = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one proposal: its fields, routing, comment thread and steps."""
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        p = CycleService(session, _actor(session, as_user)).get(proposal_id)

    def human() -> None:
        out = [
            f"{p.id}  {p.title}",
            f"  {p.stage} for {p.days_in_stage} days · {p.agency} · {p.account} · {p.country_name}"
            f" · FY{p.fiscal_year} · requested ${p.requested_total:,}",
            f"  waiting on: {', '.join(p.waiting_on) or '-'}",
            f"  marking {p.marking}"
            + (f", releasable to {', '.join(p.releasable_to)}" if p.releasable_to else ""),
        ]
        for c in p.concurrences:
            out.append(
                f"  round {c.round} {c.label}: {c.decision or 'pending'}"
                + (f" ({c.decided_by}, {c.decided_at:%Y-%m-%d})" if c.decided_at else "")
                + (f": {c.comment}" if c.comment else "")
            )
        for m in p.comments:
            reply = f" (reply to {m.parent_id})" if m.parent_id else ""
            out.append(f"  comment {m.id}{reply} {m.author} {m.at:%Y-%m-%d}: {m.body}")
        for s in p.steps:
            out.append(f"  {s.at:%Y-%m-%d %H:%M} {s.from_stage or '-'} -> {s.to_stage} {s.actor}")
        sys.stdout.write("\n".join(out) + "\n")

    emit(st, p.model_dump(mode="json"), human)


@app.command("create")
def proposals_create(
    ctx: typer.Context,
    file: Annotated[Path, typer.Option("--file", help="the proposal as a JSON object")],
    as_user: AsOpt,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft a proposal from a JSON file (fields as in the API's ProposalCreate)."""
    from ssaplan.cycle.schemas import ProposalCreate

    body = ProposalCreate.model_validate(_read_json(file))
    _step(ctx, db, as_json, as_user, lambda s: s.create(body))


@app.command("edit")
def proposals_edit(
    ctx: typer.Context,
    proposal_id: IdArg,
    file: Annotated[Path, typer.Option("--file", help="the changes (and version) as JSON")],
    as_user: AsOpt,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a draft or a proposal returned for revision."""
    from ssaplan.cycle.schemas import ProposalUpdate

    body = ProposalUpdate.model_validate(_read_json(file))
    _step(ctx, db, as_json, as_user, lambda s: s.update(proposal_id, body))


@app.command("submit")
def proposals_submit(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit (or resubmit) a proposal: it is routed to every reviewer its rules name."""
    _step(ctx, db, as_json, as_user, lambda s: s.submit(proposal_id))


@app.command("concur")
def proposals_concur(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    decision: Annotated[str, typer.Option(help="concur, concur_with_comments or non_concur")],
    comment: Annotated[str, typer.Option(help="comments, or the reason to non-concur")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give your concurrence, for your agency, country or legal review."""
    if decision not in ("concur", "concur_with_comments", "non_concur"):
        raise BadRequest(
            f"unknown decision {decision!r}: concur, concur_with_comments or non_concur"
        )
    _step(ctx, db, as_json, as_user, lambda s: s.concur(proposal_id, decision, comment))


@app.command("comment")
def proposals_comment(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    body: Annotated[str, typer.Option(help="the comment")],
    reply_to: Annotated[int | None, typer.Option(help="id of the comment answered")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a comment to a proposal's thread."""
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    with open_store(st).transaction() as session:
        m = CycleService(session, _actor(session, as_user)).comment(proposal_id, body, reply_to)
    emit(st, m.model_dump(mode="json"), lambda: info(f"comment {m.id} added to {proposal_id}"))


@app.command("recall")
def proposals_recall(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option(help="why")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take a proposal under review back for revision."""
    _step(ctx, db, as_json, as_user, lambda s: s.recall(proposal_id, reason))


@app.command("withdraw")
def proposals_withdraw(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option(help="why")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw a proposal (the proposer)."""
    _step(ctx, db, as_json, as_user, lambda s: s.withdraw(proposal_id, reason))


@app.command("approve")
def proposals_approve(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a proposal whose every required concurrence is in (coordinators)."""
    _step(ctx, db, as_json, as_user, lambda s: s.approve(proposal_id))


@app.command("reject")
def proposals_reject(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option(help="why (required)")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a proposal (coordinators)."""
    _step(ctx, db, as_json, as_user, lambda s: s.reject(proposal_id, reason))


@app.command("notify")
def proposals_notify(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    on: Annotated[str, typer.Option(help="the day Congress was notified (YYYY-MM-DD)")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the congressional notification of an approved proposal."""
    day = _date(on, "--on")
    _step(ctx, db, as_json, as_user, lambda s: s.notify(proposal_id, day))


@app.command("hold")
def proposals_hold(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    reason: Annotated[str, typer.Option(help="who holds it and why")] = "",
    lift: Annotated[bool, typer.Option("--lift", help="lift the hold instead")] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record (or lift) a congressional hold on a notified proposal."""
    _step(ctx, db, as_json, as_user, lambda s: s.hold(proposal_id, reason, lift=lift))


@app.command("clear")
def proposals_clear(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    on: Annotated[str, typer.Option(help="the day it cleared (YYYY-MM-DD)")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record clearance once the waiting period has passed without a hold."""
    day = _date(on, "--on")
    _step(ctx, db, as_json, as_user, lambda s: s.clear(proposal_id, day))


@app.command("obligate")
def proposals_obligate(
    ctx: typer.Context,
    proposal_id: IdArg,
    as_user: AsOpt,
    amount: Annotated[int, typer.Option(help="dollars obligated")],
    on: Annotated[str, typer.Option(help="the day of the obligation (YYYY-MM-DD)")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record the obligation; refused before any required notification clears."""
    day = _date(on, "--on")
    _step(ctx, db, as_json, as_user, lambda s: s.obligate(proposal_id, amount, day))


@app.command("pipeline")
def proposals_pipeline(
    ctx: typer.Context,
    fiscal_year: Annotated[int | None, typer.Option("--fy", help="only this cycle")] = None,
    by: Annotated[
        list[str] | None, typer.Option(help="also break down by agency, account or region")
    ] = None,
    with_trend: Annotated[
        bool, typer.Option("--trend", help="add the trend across cycles")
    ] = False,
    limit: Annotated[int, typer.Option(help="how many of the longest waits", min=1, max=100)] = 10,
    as_user: AsOptional = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Days proposals spent in each stage (median, 90th percentile) and the longest waits."""
    from ssaplan.cycle.analytics import GROUPS, CycleAnalytics, Group
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    for g in by or ():
        if g not in GROUPS:
            raise BadRequest(f"unknown break-down {g!r}: agency, account or region")
    groups = cast("tuple[Group, ...]", tuple(by or ()))
    with open_store(st).session() as session:
        result = CycleAnalytics(CycleService(session, _actor(session, as_user))).pipeline(
            fiscal_year=fiscal_year,
            by=groups,
            with_trend=with_trend,
            limit=limit,
        )
    data = result.model_dump(mode="json", exclude_none=False)
    for key in ("by", "trend"):
        if data[key] is None:
            del data[key]

    def human() -> None:
        sys.stdout.write("stage          n   median d    p90 d\n")
        for s in result.stages:
            med = "-" if s.median_days is None else f"{s.median_days:.1f}"
            p90 = "-" if s.p90_days is None else f"{s.p90_days:.1f}"
            sys.stdout.write(f"{s.stage:<12} {s.n:>4} {med:>10} {p90:>8}\n")
        sys.stdout.write("waiting longest:\n")
        for w in result.waiting_longest:
            sys.stdout.write(
                f"  {w.id:<20} {w.stage:<10} {w.days:>6.1f}d  {', '.join(w.waiting_on)}\n"
            )
        _withheld_note(result.withheld)

    emit(st, data, human)


@app.command("calendar")
def proposals_calendar(
    ctx: typer.Context,
    fiscal_year: Annotated[
        int | None, typer.Option("--fy", help="the cycle (default: now)")
    ] = None,
    open_fy: Annotated[
        int | None, typer.Option("--open", help="open this fiscal year's calendar (needs --as)")
    ] = None,
    as_user: AsOptional = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The planning calendar of a fiscal year, with the current phase."""
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    if open_fy is not None:
        if as_user is None:
            raise BadRequest("--open needs --as USER (a coordinator)")
        with open_store(st).transaction() as session:
            cal = CycleService(session, _actor(session, as_user)).open_calendar(open_fy)
    else:
        with open_store(st).session() as session:
            cal = CycleService(session, _actor(session, as_user)).calendar(fiscal_year)

    def human() -> None:
        sys.stdout.write(f"FY{cal.fiscal_year} planning calendar\n")
        for p in cal.phases:
            mark = "  <- now" if p.current else ""
            sys.stdout.write(f"  {p.starts_on} to {p.ends_on}  {p.label}{mark}\n")
        for d in cal.obligation_deadlines:
            by_ = d.obligate_by or "no deadline (no-year money)"
            sys.stdout.write(f"  obligate {d.availability_years}-year money by {by_}\n")

    emit(st, cal.model_dump(mode="json"), human)


@app.command("rules")
def proposals_rules(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The concurrence routing and congressional notification rules in force."""
    from ssaplan.cycle.service import rules_public

    st = state(ctx, db, as_json)
    rules = rules_public()

    def human() -> None:
        for r in rules.routing:
            who = ", ".join(x.agency or x.kind for x in r.reviewers)
            accounts = ", ".join(r.accounts) if r.accounts else "any account"
            sys.stdout.write(f"{r.id}: {accounts} from ${r.min_amount:,} {r.when} -> {who}\n")
        for n in rules.notification:
            sys.stdout.write(
                f"{n.id}: {', '.join(n.accounts)} from ${n.min_amount:,}: notify, "
                f"wait {n.waiting_days} days ({n.authority})\n"
            )

    emit(st, rules.model_dump(mode="json"), human)


@app.command("candidates")
def proposals_candidates(
    ctx: typer.Context,
    fiscal_year: Annotated[int | None, typer.Option("--fy", help="only this cycle")] = None,
    as_user: AsOptional = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approved proposals as candidates of an allocation scenario (JSON)."""
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        result = CycleService(session, _actor(session, as_user)).candidates(fiscal_year)
    emit(st, result.model_dump(mode="json"))


def inbox(
    ctx: typer.Context,
    as_user: AsOpt,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What waits on you: concurrences, revisions, reviews, comments, notifications."""
    from ssaplan.cycle.analytics import CycleAnalytics
    from ssaplan.cycle.service import CycleService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        box = CycleAnalytics(CycleService(session, _actor(session, as_user))).inbox()
    data = {
        "items": [
            {"kind": i.kind, "ref": i.ref, "since": i.since.isoformat(), "due": i.due}
            for i in box.items
        ]
    }

    def human() -> None:
        for i in box.items:
            due = f" due {i.due}" if i.due else ""
            sys.stdout.write(
                f"{i.kind:<12} {i.ref:<20} since {i.since:%Y-%m-%d}{due}  {i.detail}\n"
            )
        info(f"{len(box.items)} items")

    emit(st, data, human)
