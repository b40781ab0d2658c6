"""The program form: create and edit every field of a program on the web, budget lines
by account, partner shares and deliveries included.

Every problem is shown next to its field (the form keeps what was typed); an edit based
on a version someone else has since changed is refused with an explanation and a way
to load the current version; a program outside the user's scope says why it is
read-only.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from ssaplan.core.deps import StoreDep, form_csrf, requires, unit_of_work
from ssaplan.core.errors import Conflict, Detail, Forbidden, Invalid, StaleVersion
from ssaplan.core.permissions import Actor
from ssaplan.portfolio.schemas import ProgramCreate, ProgramPublic, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from ssaplan.portfolio.views.common import history_row, options
from ssaplan.ui.forms import field_errors, parse_amount, parse_date, validation_details
from ssaplan.ui.templating import render

router = APIRouter(include_in_schema=False)
Writer = Annotated[Actor, Depends(requires("program:write"))]
BLANK_BUDGET_ROWS = 3
BLANK_DELIVERY_ROWS = 2
MAX_ROWS = 200
MONEY = ("planned", "obligated", "disbursed")
STEPS = ("requested_on", "approved_on", "obligated_on", "delivered_on")
SIMPLE = (
    "id",
    "title",
    "description",
    "agency",
    "account",
    "institution_type",
    "level",
    "purpose",
    "dac_code",
    "start",
    "end",
    "status",
    "marking",
)


def shares_text(shares: dict[str, int]) -> str:
    """Shares as the form shows them: ``KEN 60, UGA 40`` (percent)."""
    return ", ".join(f"{code} {bp / 100:g}" for code, bp in shares.items())


def values_of(p: ProgramPublic) -> dict[str, Any]:
    """A stored program as the form's values (strings and lists of rows)."""
    return {
        "id": p.id,
        "title": p.title,
        "description": p.description,
        "agency": p.agency,
        "account": p.account or "",
        "countries": list(p.countries),
        "regions": list(p.regions),
        "objectives": list(p.objectives),
        "institution_type": p.institution_type or "",
        "level": p.level or "",
        "purpose": p.purpose or "",
        "dac_code": p.dac_code or "",
        "start": p.start.isoformat(),
        "end": p.end.isoformat(),
        "status": p.status,
        "marking": p.marking,
        "releasable_to": "; ".join(p.releasable_to),
        "shares": shares_text(p.shares),
        "shares_was": shares_text(p.shares),
        "budget": [
            {
                "fiscal_year": str(b.fiscal_year),
                "account": b.account or "",
                **{k: f"{getattr(b, k):,}" for k in MONEY},
            }
            for b in p.budget
        ],
        "milestones": [
            {
                "id": str(m.id),
                "name": m.name,
                **{k: getattr(m, k).isoformat() if getattr(m, k) else "" for k in STEPS},
            }
            for m in p.milestones
        ],
        "version": str(p.version),
    }


def _rows(form: FormData, prefix: str, columns: tuple[str, ...]) -> list[dict[str, str]]:
    """The filled-in rows of a repeated group (``budget-3-planned``), removed ones left out."""
    indices = sorted(
        {int(m.group(1)) for k in form if (m := re.match(rf"{prefix}-(\d+)-", k)) is not None}
    )[:MAX_ROWS]
    rows = []
    for i in indices:
        row = {c: str(form.get(f"{prefix}-{i}-{c}") or "").strip() for c in columns}
        if form.get(f"{prefix}-{i}-remove"):
            continue
        if not any(v for c, v in row.items() if c != "account"):
            continue
        rows.append(row)
    return rows


def parse_form(
    form: FormData, *, creating: bool
) -> tuple[dict[str, Any], dict[str, Any], list[Detail]]:
    """The typed values (to show again) and the data for the service, with the problems
    found in reading them (amounts, dates, shares)."""
    typed: dict[str, Any] = {k: str(form.get(k) or "").strip() for k in SIMPLE}
    typed["description"] = str(form.get("description") or "")
    for many in ("countries", "regions", "objectives"):
        typed[many] = [str(v) for v in form.getlist(many) if str(v).strip()]
    typed["releasable_to"] = str(form.get("releasable_to") or "").strip()
    typed["shares"] = str(form.get("shares") or "").strip()
    typed["shares_was"] = str(form.get("shares_was") or "").strip()
    typed["version"] = str(form.get("version") or "")
    typed["budget"] = _rows(form, "budget", ("fiscal_year", "account", *MONEY))
    typed["milestones"] = _rows(form, "delivery", ("id", "name", *STEPS))
    problems: list[Detail] = []
    data: dict[str, Any] = {}
    for k in SIMPLE:
        if k in ("start", "end"):
            continue
        if k == "status" and not creating:
            continue
        value = typed[k]
        if k in ("id",) and not value:
            continue
        data[k] = value if value else (None if k not in ("title", "description") else value)
    for k in ("start", "end"):
        try:
            data[k] = parse_date(typed[k])
        except ValueError as exc:
            problems.append(Detail((k,), str(exc)))
        if data.get(k) is None and not any(d.loc == (k,) for d in problems):
            problems.append(Detail((k,), "is required"))
    for many in ("countries", "regions", "objectives"):
        data[many] = typed[many]
    if "releasable_to" in form:  # partners and organizations, separated by ; or ,
        data["releasable_to"] = [
            c.strip() for c in re.split(r"[,;\s]+", typed["releasable_to"]) if c.strip()
        ]
    if typed["shares"] and not (
        typed["shares"] == typed["shares_was"] and not creating and _partners_changed(form, typed)
    ):
        try:
            data["shares"] = _parse_shares(typed["shares"])
        except ValueError as exc:
            problems.append(Detail(("shares",), str(exc)))
    budget = []
    for i, row in enumerate(typed["budget"]):
        line: dict[str, Any] = {"account": row["account"] or None}
        fy = row["fiscal_year"].upper().removeprefix("FY")
        if not fy.isdigit():
            problems.append(Detail(("budget", i, "fiscal_year"), "give the fiscal year, e.g. 2027"))
        else:
            line["fiscal_year"] = int(fy)
        for k in MONEY:
            try:
                line[k] = parse_amount(row[k]) or 0
            except ValueError as exc:
                problems.append(Detail(("budget", i, k), str(exc)))
        budget.append(line)
    data["budget"] = budget
    milestones = []
    for i, row in enumerate(typed["milestones"]):
        item: dict[str, Any] = {"name": row["name"]}
        if row["id"].isdigit():
            item["id"] = int(row["id"])
        if not row["name"]:
            problems.append(Detail(("milestones", i, "name"), "name the delivery"))
        for k in STEPS:
            try:
                item[k] = parse_date(row[k])
            except ValueError as exc:
                problems.append(Detail(("milestones", i, k), str(exc)))
        milestones.append(item)
    data["milestones"] = milestones
    if not creating:
        data["version"] = int(typed["version"]) if typed["version"].isdigit() else 0
    return typed, data, problems


def _partners_changed(form: FormData, typed: dict[str, Any]) -> bool:
    was = set(str(form.get("partners_was") or "").split())
    return was != set(typed["countries"]) | set(typed["regions"])


def _parse_shares(text: str) -> dict[str, int]:
    """``KEN 60, UGA 40`` or ``Kenya: 60%; Uganda: 40%`` as basis points by partner."""
    out: dict[str, int] = {}
    for part in re.split(r"[,;\n]+", text):
        part = part.strip()
        if not part:
            continue
        m = re.match(r"^(.+?)[\s:=]+([0-9]+(?:\.[0-9]+)?)\s*%?$", part)
        if m is None:
            raise ValueError(f"{part!r}: write a partner and its percent, e.g. KEN 60")
        out[m.group(1).strip()] = round(float(m.group(2)) * 100)
    return out


def _form_page(
    request: Request,
    *,
    values: dict[str, Any],
    creating: bool,
    errors: dict[str, str] | None = None,
    message: str = "",
    stale: dict[str, Any] | None = None,
    history: list[dict[str, Any]] | None = None,
    status: int = 200,
    target: str = "",
) -> Response:
    blank_budget = {"fiscal_year": "", "account": "", **{k: "" for k in MONEY}}
    blank_delivery = {"id": "", "name": "", **{k: "" for k in STEPS}}
    budget = list(values.get("budget", [])) + [dict(blank_budget)] * BLANK_BUDGET_ROWS
    deliveries = list(values.get("milestones", [])) + [dict(blank_delivery)] * BLANK_DELIVERY_ROWS
    partners_was = " ".join(list(values.get("countries", [])) + list(values.get("regions", [])))
    return render(
        request,
        "portfolio/program_form.html",
        {
            "v": values,
            "creating": creating,
            "errors": errors or {},
            "message": message,
            "stale": stale,
            "history": history or [],
            "budget_rows": budget,
            "delivery_rows": deliveries,
            "partners_was": values.get("partners_was", partners_was),
            "options": options(),
            "target": target or values.get("id", ""),
        },
        status=status,
    )


@router.get("/programs/new", response_class=HTMLResponse)
def new_program_form(request: Request, actor: Writer) -> Response:
    """An empty program form (agency: the planner's own)."""
    values: dict[str, Any] = {
        "agency": actor.agency_id or "",
        "status": "proposed",
        "marking": "U",
        "countries": [],
        "regions": [],
        "objectives": [],
    }
    return _form_page(request, values=values, creating=True)


@router.post("/programs/new", response_class=HTMLResponse, dependencies=[Depends(form_csrf)])
async def new_program_submit(request: Request, store: StoreDep, actor: Writer) -> Response:
    """Create the program, or show the form again with every problem next to its field."""
    form = await request.form()
    typed, data, problems = parse_form(form, creating=True)
    try:
        body = ProgramCreate(**data)
    except ValidationError as exc:
        problems += validation_details(exc)
        body = None
    if problems or body is None:
        return _form_page(
            request,
            values=typed,
            creating=True,
            errors=field_errors(problems),
            message="The program was not saved: correct the fields marked below.",
            status=422,
        )
    try:
        with unit_of_work(store) as session:
            created = PortfolioService(session, actor).create(body)
    except (Invalid, Forbidden, Conflict) as exc:
        return _form_page(
            request,
            values=typed,
            creating=True,
            errors=field_errors(exc.details),
            message=f"The program was not saved: {exc.message}.",
            status=exc.status,
        )
    return RedirectResponse(f"/programs/{created.id}?saved=created", status_code=303)


def _load_for_edit(
    store: Any, actor: Actor, program_id: str
) -> tuple[ProgramPublic, list[dict[str, Any]]]:
    with store.session() as session:
        service = PortfolioService(session, actor)
        program = service.get(program_id)
        reason = service.read_only_reason(program)
        history = [history_row(r) for r in service.history(program_id)]
    if reason is not None:
        raise Forbidden(f"{program.id} is read-only for you. {reason}")
    return program, history


@router.get("/programs/{program_id:path}/edit", response_class=HTMLResponse)
def edit_program_form(
    request: Request, program_id: str, store: StoreDep, actor: Writer
) -> Response:
    """The program's form, filled in, with its history beside it."""
    program, history = _load_for_edit(store, actor, program_id)
    return _form_page(
        request, values=values_of(program), creating=False, history=history, target=program.id
    )


@router.post(
    "/programs/{program_id:path}/edit",
    response_class=HTMLResponse,
    dependencies=[Depends(form_csrf)],
)
async def edit_program_submit(
    request: Request, program_id: str, store: StoreDep, actor: Writer
) -> Response:
    """Save the changes, or say what is wrong (next to each field), or explain that
    someone else changed the program since the form was opened."""
    form = await request.form()
    program, history = _load_for_edit(store, actor, program_id)
    typed, data, problems = parse_form(form, creating=False)
    typed["id"] = typed["id"] or program.id
    body = None
    try:
        body = ProgramUpdate(**data)
    except ValidationError as exc:
        problems += validation_details(exc)
    if problems or body is None:
        return _form_page(
            request,
            values=typed,
            creating=False,
            errors=field_errors(problems),
            message="Nothing was saved: correct the fields marked below.",
            history=history,
            target=program.id,
            status=422,
        )
    try:
        with unit_of_work(store) as session:
            saved = PortfolioService(session, actor).update(program_id, body)
    except StaleVersion:
        latest = history[0] if history else None
        return _form_page(
            request,
            values=typed,
            creating=False,
            stale={
                "yours": typed["version"],
                "current": program.version,
                "by": latest["actor"] if latest else "someone",
                "at": latest["at"] if latest else None,
                "changed": latest["changed"] if latest else [],
                "id": program.id,
            },
            message="Nothing was saved: someone else changed this program after you "
            "opened the form.",
            history=history,
            target=program.id,
            status=409,
        )
    except (Invalid, Forbidden, Conflict) as exc:
        return _form_page(
            request,
            values=typed,
            creating=False,
            errors=field_errors(exc.details),
            message=f"Nothing was saved: {exc.message}.",
            history=history,
            target=program.id,
            status=exc.status,
        )
    return RedirectResponse(f"/programs/{saved.id}?saved=v{saved.version}", status_code=303)
