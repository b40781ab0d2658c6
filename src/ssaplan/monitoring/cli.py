"""``ssaplan monitor``, ``ssaplan review ...`` and ``ssaplan surge ...``: thin wrappers over
the monitoring services.

``ssaplan review --json`` prints the open reviews as exactly
``{"reviews": [{"program", "trigger", "recommendation", "reasons": [...]}]}``; a
program has at most one open review per trigger, so ``review decide PROGRAM
[--trigger T]`` names one.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from ssaplan.clikit import CliState, DbOpt, JsonOpt, emit, info, state
from ssaplan.clikit import read_session as _session
from ssaplan.clikit import write_session as _transaction

AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of", help="the day to judge as of, YYYY-MM-DD (default: today)", show_default=False
    ),
]


def _as_of(text: str | None) -> date | None:
    from ssaplan.core.errors import BadRequest

    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise BadRequest(f"--as-of {text!r} is not a date (YYYY-MM-DD)") from exc


def _actor() -> Any:
    from ssaplan.core.permissions import Actor

    return Actor.operator()


# -- ssaplan monitor ------------------------------------------------------------------------
def monitor(
    ctx: typer.Context,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Performance against targets and delivery timelines (with money pace)."""
    from ssaplan.monitoring.service import MonitoringService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        s = MonitoringService(session, _actor(), as_of=_as_of(as_of)).summary()

    def human() -> None:
        p = s.performance
        out = [
            f"as of {s.as_of}: {p.indicators} indicators, {p.rated} rated — {p.on_track} on "
            f"track, {p.at_risk} at risk, {p.off_track} off track "
            f"({p.off_track_two_periods} off track two periods or more)",
            f"  rule: {p.rule}",
        ]
        for i in s.off_track[:10]:
            out.append(
                f"  off track: {i.strategy} {i.code} {i.name} — {i.off_track_streak} periods, "
                f"progress {100 * (i.latest_progress or 0):.0f}%"
            )
        t = s.timelines
        out.append(f"deliveries: {t.deliveries} timed, {t.overall.late} late ({t.rule})")
        for stage in t.overall.stages:
            median = "-" if stage.median_days is None else f"{stage.median_days:.0f}"
            share = "-" if stage.on_time_share is None else f"{100 * stage.on_time_share:.0f}%"
            out.append(
                f"  {stage.stage:<10} median {median:>5} days, on time {share:>4}, "
                f"late {stage.late}"
            )
        for late in t.late[:10]:
            worst = max(late.stages, key=lambda x: x.over_by)
            out.append(
                f"  late: {late.program} '{late.name}': {worst.stage} "
                f"{'pending' if worst.pending else 'took'} {worst.days} days "
                f"(standard {worst.standard})"
            )
        m = s.money
        out.append(
            f"money: planned ${m.total.planned:,}, obligated ${m.total.obligated:,}, "
            f"disbursed ${m.total.disbursed:,}; unliquidated ${m.unliquidated:,}"
        )
        for b in m.expiring[:8]:
            out.append(
                f"  expiring: FY{b.fiscal_year} {b.account} ${b.unobligated:,} unobligated, "
                f"availability ends {b.obligation_ends} ({b.days_left} days)"
            )
        out.append(f"open reviews: {s.open_reviews} (ssaplan review)")
        sys.stdout.write("\n".join(out) + "\n")

    emit(st, s.model_dump(mode="json"), human)


# -- ssaplan review ------------------------------------------------------------------------
review_app = typer.Typer(
    help="Reviews of programs: the open queue (no subcommand), the rules, the annual cycle, "
    "decisions.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def _keep(ctx: typer.Context, db: str | None, as_json: bool) -> CliState:
    """Options given on the group count for its subcommands too."""
    root = ctx.find_root()
    current = root.obj if isinstance(root.obj, CliState) else CliState()
    root.obj = CliState(db=db or current.db, json=as_json or current.json)
    return root.obj


@review_app.callback()
def review_queue(
    ctx: typer.Context,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the open reviews: program, trigger, recommendation and reasons."""
    st = _keep(ctx, db, as_json)
    if ctx.invoked_subcommand is not None:
        return
    from ssaplan.monitoring.reviews import ReviewService

    with _session(st) as session:
        service = ReviewService(session, _actor())
        queue = service.queue()
        ids = {(r.program, r.trigger): r.id for r in service.list_reviews(limit=None).items}

    def human() -> None:
        for r in queue.reviews:
            sys.stdout.write(
                f"#{ids.get((r.program, r.trigger), '?'):<6} {r.program:<28} {r.trigger:<20} "
                f"→ {r.recommendation}\n"
            )
            for reason in r.reasons:
                sys.stdout.write(f"        - {reason}\n")
        info(
            f"{len(queue.reviews)} open reviews; decide one with "
            "`ssaplan review decide PROGRAM --decision D --rationale TEXT`"
        )

    emit(st, queue.model_dump(mode="json"), human)


def _report(st: CliState, report: Any, what: str) -> None:
    emit(
        st,
        report.model_dump(mode="json"),
        lambda: info(
            f"{what} as of {report.as_of}: {report.programs_checked} programs checked, "
            f"{report.opened} reviews opened, {report.refreshed} given new reasons, "
            f"{report.already_open} already open"
        ),
    )


@review_app.command("run")
def review_run(
    ctx: typer.Context, as_of: AsOfOpt = None, db: DbOpt = None, as_json: JsonOpt = False
) -> None:
    """Run every review rule over every program; open an immediate review for each that fires."""
    from ssaplan.monitoring.reviews import ReviewService

    st = state(ctx, db, as_json)
    with _transaction(st) as session:
        report = ReviewService(session, _actor(), as_of=_as_of(as_of)).run_rules()
    _report(st, report, "review rules run")


@review_app.command("annual")
def review_annual(
    ctx: typer.Context,
    fiscal_year: Annotated[
        int, typer.Option("--fiscal-year", "--fy", help="the cycle's fiscal year")
    ],
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open the annual review cycle: one review of every program not completed or terminated."""
    from ssaplan.monitoring.reviews import ReviewService

    st = state(ctx, db, as_json)
    with _transaction(st) as session:
        report = ReviewService(session, _actor(), as_of=_as_of(as_of)).open_annual_cycle(
            fiscal_year
        )
    _report(st, report, f"annual review cycle FY{fiscal_year} opened")


@review_app.command("open")
def review_open(
    ctx: typer.Context,
    program: Annotated[str, typer.Argument(metavar="PROGRAM", help="program id")],
    reason: Annotated[list[str], typer.Option("--reason", help="why (repeat for several)")],
    trigger: Annotated[
        str, typer.Option(help="manual, or a rule: legal_restriction, crisis_event, ...")
    ] = "manual",
    recommend: Annotated[
        str | None,
        typer.Option(
            help="continue, scale_up, restructure, suspend or terminate (default: the rules')"
        ),
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Open an immediate review of a program (or add reasons to its open one)."""
    from ssaplan.monitoring.reviews import ReviewService

    st = state(ctx, db, as_json)
    with _transaction(st) as session:
        r = ReviewService(session, _actor()).open_review(
            program, trigger, reason, recommendation=recommend, source="cli"
        )
    emit(
        st,
        r.model_dump(mode="json"),
        lambda: info(
            f"review #{r.id} of {r.program} ({r.trigger}) is open: recommends {r.recommendation}"
        ),
    )


@review_app.command("show")
def review_show(
    ctx: typer.Context,
    program: Annotated[str, typer.Argument(metavar="PROGRAM", help="program id")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Every review of a program, open and closed, with decisions and what they changed."""
    from ssaplan.monitoring.reviews import ReviewService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        page = ReviewService(session, _actor()).list_reviews(
            status=None, program=program, limit=None
        )

    def human() -> None:
        for r in page.items:
            head = f"#{r.id} {r.trigger} ({r.status}) recommends {r.recommendation}"
            if r.decision:
                head += f"; decided {r.decision} by {r.decided_by}: {r.rationale}"
            sys.stdout.write(head + "\n")
            for reason in r.reasons:
                sys.stdout.write(f"    - {reason}\n")
            if r.changes.status_before != r.changes.status_after:
                sys.stdout.write(
                    f"    status {r.changes.status_before} → {r.changes.status_after}\n"
                )
            for b in r.changes.budget:
                sys.stdout.write(
                    f"    FY{b.fiscal_year} {b.account or ''}: planned ${b.planned_before:,} → "
                    f"${b.planned_after:,}\n"
                )

    emit(st, page.model_dump(mode="json"), human)


def _budget(items: list[str]) -> list[dict[str, Any]]:
    """``FY:AMOUNT`` or ``FY:ACCOUNT:AMOUNT`` (``2028:FMF:5000000``) as budget changes."""
    from ssaplan.core.errors import BadRequest

    out: list[dict[str, Any]] = []
    for item in items:
        parts = item.split(":")
        try:
            if len(parts) == 2:
                out.append({"fiscal_year": int(parts[0]), "planned": int(parts[1])})
            elif len(parts) == 3:
                out.append(
                    {"fiscal_year": int(parts[0]), "account": parts[1], "planned": int(parts[2])}
                )
            else:
                raise ValueError
        except ValueError as exc:
            raise BadRequest(
                f"--budget {item!r}: write FY:AMOUNT or FY:ACCOUNT:AMOUNT, e.g. 2028:FMF:5000000"
            ) from exc
    return out


@review_app.command("decide")
def review_decide(
    ctx: typer.Context,
    program: Annotated[
        str | None, typer.Argument(metavar="PROGRAM", help="program id (or give --id)")
    ] = None,
    decision: Annotated[
        str, typer.Option(help="continue, scale_up, restructure, suspend or terminate")
    ] = "",
    rationale: Annotated[str, typer.Option(help="why (recorded with the decision)")] = "",
    trigger: Annotated[
        str | None, typer.Option(help="which open review, when the program has several")
    ] = None,
    review_id: Annotated[int | None, typer.Option("--id", help="the review's number")] = None,
    budget: Annotated[
        list[str] | None,
        typer.Option(
            help="new planned amount FY:AMOUNT or FY:ACCOUNT:AMOUNT (repeat); scale_up, restructure"
        ),
    ] = None,
    resume_status: Annotated[
        str | None, typer.Option(help="status a suspended program resumes at")
    ] = None,
    as_of: AsOfOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Decide an open review; the decision changes the program's status and budget lines."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.monitoring.reviews import ReviewService
    from ssaplan.monitoring.schemas import DecisionIn

    st = state(ctx, db, as_json)
    if (program is None) == (review_id is None):
        raise BadRequest("name the review: a PROGRAM (with --trigger if it has several) or --id")
    with _transaction(st) as session:
        service = ReviewService(session, _actor(), as_of=_as_of(as_of))
        found = (
            service.get(review_id)
            if review_id is not None
            else service.find_open(program or "", trigger)
        )
        body = DecisionIn.model_validate(
            {
                "decision": decision,
                "rationale": rationale,
                "version": found.version,
                "budget": _budget(budget or []),
                "resume_status": resume_status,
            }
        )
        r = service.decide(found.id, body)

    def human() -> None:
        line = f"review #{r.id} of {r.program}: {r.decision}"
        if r.changes.status_before != r.changes.status_after:
            line += f"; status {r.changes.status_before} → {r.changes.status_after}"
        if r.changes.budget:
            line += f"; {len(r.changes.budget)} budget line(s) changed"
        info(line)

    emit(st, r.model_dump(mode="json"), human)


@review_app.command("rules")
def review_rules(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every monitoring and review rule, stated with the values in force."""
    from ssaplan.monitoring.service import MonitoringService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        items = MonitoringService(session, _actor()).rule_sections()

    def human() -> None:
        for r in items:
            changed = f" (changed by {r.changed_by})" if r.changed_by else ""
            values = ", ".join(f"{k}={v}" for k, v in r.params.items())
            sys.stdout.write(f"[{r.section}]{changed} {values}\n    {r.statement}\n")

    emit(st, {"rules": [r.model_dump(mode="json") for r in items]}, human)


def _value(text: str) -> Any:
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    if "," in text or text in ("A", "B", "C", "D"):
        return [v.strip() for v in text.split(",") if v.strip()]
    return text


@review_app.command("set")
def review_set(
    ctx: typer.Context,
    section: Annotated[str, typer.Argument(help="e.g. indicator_off_track, delivery.FMF")],
    values: Annotated[list[str], typer.Argument(metavar="KEY=VALUE...", help="new values")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change monitoring rule values (stored in the database and audited)."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.monitoring.service import MonitoringService

    st = state(ctx, db, as_json)
    params: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise BadRequest(f"{item!r}: write KEY=VALUE, e.g. periods=3")
        params[key.strip()] = _value(text.strip())
    with _transaction(st) as session:
        r = MonitoringService(session, _actor()).set_rule(section, params)
    emit(st, r.model_dump(mode="json"), lambda: info(f"[{r.section}] {r.statement}"))


@review_app.command("crisis")
def review_crisis(
    ctx: typer.Context,
    country: Annotated[str, typer.Argument(help="partner country (ISO3 or name)")],
    description: Annotated[str, typer.Option(help="what happened")],
    kind: Annotated[
        str, typer.Option(help="coup, armed_conflict, unrest, disaster, attack or other")
    ] = "other",
    severity: Annotated[str, typer.Option(help="moderate or severe")] = "moderate",
    occurred_on: Annotated[
        str | None, typer.Option("--date", help="when, YYYY-MM-DD (default: today)")
    ] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a crisis in a partner country; reviews of the programs there open at once."""
    from ssaplan.monitoring.reviews import ReviewService
    from ssaplan.monitoring.schemas import CrisisIn

    st = state(ctx, db, as_json)
    day = _as_of(occurred_on) or date.today()
    body = CrisisIn.model_validate(
        {
            "country": country,
            "occurred_on": day.isoformat(),
            "kind": kind,
            "severity": severity,
            "description": description,
        }
    )
    with _transaction(st) as session:
        c = ReviewService(session, _actor(), as_of=max(day, date.today())).record_crisis(body)
    emit(
        st,
        c.model_dump(mode="json"),
        lambda: info(f"crisis #{c.id} in {c.country} recorded; {c.reviews_opened} reviews opened"),
    )


# -- ssaplan surge ----------------------------------------------------------------------------
surge_app = typer.Typer(
    help="Crisis surges: the flexible reserve and urgent requests drawn on it.",
    no_args_is_help=True,
)


@surge_app.command("reserves")
def surge_reserves(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List the flexible reserves: amount, drawn by approved surges, available."""
    from ssaplan.monitoring.surge import SurgeService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        items = SurgeService(session, _actor()).reserves()

    def human() -> None:
        for r in items:
            sys.stdout.write(
                f"FY{r.fiscal_year} {r.account:<10} ${r.amount:>15,}  drawn ${r.drawn:>15,}  "
                f"available ${r.available:>15,}\n"
            )

    emit(st, {"reserves": [r.model_dump(mode="json") for r in items]}, human)


@surge_app.command("reserve")
def surge_reserve(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="funding account, e.g. FMF")],
    fiscal_year: Annotated[int, typer.Argument(metavar="FY", help="fiscal year")],
    amount: Annotated[int, typer.Argument(help="whole dollars")],
    note: Annotated[str, typer.Option(help="why this much")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Set the flexible reserve of an account for a fiscal year."""
    from ssaplan.monitoring.schemas import ReserveIn
    from ssaplan.monitoring.surge import SurgeService

    st = state(ctx, db, as_json)
    with _transaction(st) as session:
        service = SurgeService(session, _actor())
        current = [
            r
            for r in service.reserves(fiscal_year=fiscal_year)
            if r.account.lower() == account.lower()
        ]
        body = ReserveIn(amount=amount, note=note, version=current[0].version if current else None)
        r = service.set_reserve(account, fiscal_year, body)
    emit(
        st,
        r.model_dump(mode="json"),
        lambda: info(
            f"FY{r.fiscal_year} {r.account} reserve ${r.amount:,} (${r.available:,} available)"
        ),
    )


@surge_app.command("request")
def surge_request(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(metavar="FILE.json", help="the request as POST /api/surges takes it")
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """File a surge request; refused unless it names its strategy objective and sustainment plan."""
    from ssaplan.core.errors import BadRequest
    from ssaplan.monitoring.schemas import SurgeCreate
    from ssaplan.monitoring.surge import SurgeService

    st = state(ctx, db, as_json)
    try:
        data = json.loads(file.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise BadRequest(f"cannot read {file}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise BadRequest(f"{file} line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    body = SurgeCreate.model_validate(data)
    with _transaction(st) as session:
        s = SurgeService(session, _actor()).request(body)
    emit(st, s.model_dump(mode="json"), lambda: info(f"surge request #{s.id} filed"))


@surge_app.command("list")
def surge_list(ctx: typer.Context, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List surge requests and what became of them."""
    from ssaplan.monitoring.surge import SurgeService

    st = state(ctx, db, as_json)
    with _session(st) as session:
        page = SurgeService(session, _actor()).list_requests()

    def human() -> None:
        for s in page.items:
            serves = (
                f"objective {s.objective} of {s.strategy}"
                if s.objective is not None
                else "an objective you may not see"
            )
            after = (
                s.paid_after_surge_by
                if s.sustainment_plan is not None
                else "a plan you may not see"
            )
            sys.stdout.write(
                f"#{s.id:<4} {s.status:<9} {s.country} FY{s.fiscal_year} {s.account} "
                f"${s.amount:,}  {s.title}  ({serves}; after the surge: {after})"
                f"{' → ' + s.program if s.program else ''}\n"
            )

    emit(st, page.model_dump(mode="json"), human)


def _decide_surge(
    ctx: typer.Context, surge_id: int, note: str, approve: bool, db: str | None, as_json: bool
) -> None:
    from ssaplan.monitoring.schemas import SurgeDecision
    from ssaplan.monitoring.surge import SurgeService

    st = state(ctx, db, as_json)
    with _transaction(st) as session:
        service = SurgeService(session, _actor())
        body = SurgeDecision(note=note, version=service.get(surge_id).version)
        s = service.approve(surge_id, body) if approve else service.refuse(surge_id, body)
    emit(
        st,
        s.model_dump(mode="json"),
        lambda: info(
            f"surge request #{s.id} {s.status}" + (f": program {s.program}" if s.program else "")
        ),
    )


@surge_app.command("approve")
def surge_approve(
    ctx: typer.Context,
    surge_id: Annotated[int, typer.Argument(metavar="ID", help="the request's number")],
    note: Annotated[str, typer.Option(help="a note for the record")] = "",
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a surge: create or extend its program, link it, draw the reserve."""
    _decide_surge(ctx, surge_id, note, True, db, as_json)


@surge_app.command("refuse")
def surge_refuse(
    ctx: typer.Context,
    surge_id: Annotated[int, typer.Argument(metavar="ID", help="the request's number")],
    note: Annotated[str, typer.Option(help="why it is refused")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Refuse a surge request, saying why."""
    _decide_surge(ctx, surge_id, note, False, db, as_json)
