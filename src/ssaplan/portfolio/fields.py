"""A program's fields: resolving what users send into stored values, applying them to a
program, and showing a program back (``to_public``, ``snapshot`` for the audit trail).

Used by the portfolio service for single writes and bulk imports alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from ssaplan.core.audit import jsonable
from ssaplan.core.errors import Detail, Invalid
from ssaplan.portfolio.engine import FULL_SHARE, equal_shares
from ssaplan.portfolio.models import (
    STATUSES,
    BudgetLine,
    Milestone,
    Program,
    ProgramCountry,
    ProgramObjective,
    ProgramRegion,
)
from ssaplan.portfolio.visibility import decode, encode, resolve_codes
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode

if TYPE_CHECKING:  # loaded when first used: a list reads no model (see bench_cli)
    from ssaplan.portfolio.schemas import ProgramFields, ProgramPublic

# Limits on what one program may carry (a bound on every input; see docs/api.md).
MAX_PARTNERS = 250
MAX_BUDGET_LINES = 500
MAX_MILESTONES = 500


def shares_of(p: Program) -> dict[str, int]:
    """Each partner's share of the program's money in basis points, countries first."""
    out = {c.iso3: c.share_bp for c in p.countries}
    out.update({r.region_code: r.share_bp for r in p.regions})
    return out


def _fields(p: Program, with_ids: bool) -> dict[str, Any]:
    """A program's values as plain data; row ids of budget lines and deliveries optional
    (they are not set before the first flush, and the audit trail does not keep them)."""

    def ident(row: Any) -> dict[str, Any]:
        return {"id": row.id} if with_ids else {}

    budget = [
        {
            **ident(b),
            "fiscal_year": b.fiscal_year,
            "account": b.account_id,
            "planned": b.planned,
            "obligated": b.obligated,
            "disbursed": b.disbursed,
        }
        for b in p.budget
    ]
    milestones = [
        {
            **ident(m),
            "name": m.name,
            "requested_on": m.requested_on,
            "approved_on": m.approved_on,
            "obligated_on": m.obligated_on,
            "delivered_on": m.delivered_on,
        }
        for m in p.milestones
    ]
    return {
        "id": p.code,
        "title": p.title,
        "description": p.description,
        "agency": p.agency_id,
        "account": p.account_id,
        "accounts": sorted({b.account_id for b in p.budget if b.account_id}),
        "countries": [c.iso3 for c in p.countries],
        "regions": [r.region_code for r in p.regions],
        "shares": shares_of(p),
        "institution_type": p.institution_type_id,
        "level": p.level_id,
        "purpose": p.purpose_id,
        "objectives": [o.objective_id for o in p.objectives],
        "dac_code": p.dac_code,
        "start": p.start_date,
        "end": p.end_date,
        "status": p.status,
        "marking": p.marking,
        "releasable_to": decode(p.releasable_to),
        "source": p.source,
        "budget": budget,
        "milestones": milestones,
        "version": p.version,
    }


def to_public(p: Program) -> ProgramPublic:
    """A stored program in the shape every interface shows."""
    from ssaplan.portfolio.schemas import BudgetLinePublic, MilestonePublic, ProgramPublic, Totals

    data = _fields(p, with_ids=True)
    data["totals"] = Totals(
        planned=sum(b.planned for b in p.budget),
        obligated=sum(b.obligated for b in p.budget),
        disbursed=sum(b.disbursed for b in p.budget),
    )
    data["budget"] = [BudgetLinePublic(**b) for b in data["budget"]]
    data["milestones"] = [MilestonePublic(**m) for m in data["milestones"]]
    return ProgramPublic(**data, created_at=p.created_at, updated_at=p.updated_at)


def snapshot(p: Program) -> dict[str, Any]:
    """What the audit trail keeps of a program: everything but timestamps and row ids."""
    return cast(dict[str, Any], jsonable(_fields(p, with_ids=False)))


def resolve_fields(
    data: ProgramFields, loc: tuple[str | int, ...], catalog: Catalog
) -> dict[str, Any]:
    """Model field values for the fields set in ``data``, codes resolved in the catalog.

    Collects every problem and raises :class:`Invalid` naming each field under ``loc``.
    Budget lines keep ``account`` ``None`` where they name none (the program's account
    applies; see :func:`apply_fields`).
    """
    from ssaplan.portfolio.schemas import ProgramCreate, ProgramFields

    problems: list[Detail] = []
    out: dict[str, Any] = {}
    # A new (or wholly replaced) program is whole: every field applies, unset ones empty.
    # An update touches only the fields that were sent.
    whole = isinstance(data, ProgramCreate)
    given = set(ProgramFields.model_fields) if whole else data.model_fields_set

    def code(kind: Kind, value: str, where: tuple[str | int, ...]) -> str | None:
        try:
            return catalog.resolve(kind, value)
        except UnknownCode as exc:
            problems.append(Detail(where, str(exc)))
            return None

    def one(field: str, kind: Kind, column: str) -> None:
        if field not in given:
            return
        value = getattr(data, field)
        if value in (None, ""):
            if field == "agency":
                problems.append(Detail((*loc, field), "is required"))
            out[column] = None
            return
        out[column] = code(kind, value, (*loc, field))

    def many(field: str, kind: Kind, limit: int) -> None:
        if field not in given or getattr(data, field) is None:
            return
        values = getattr(data, field)
        if len(values) > limit:
            problems.append(Detail((*loc, field), f"at most {limit} entries (got {len(values)})"))
            return
        codes: list[str] = []
        for i, value in enumerate(values):
            found = code(kind, value, (*loc, field, i))
            if found is not None and found not in codes:
                codes.append(found)
        out[field] = codes

    one("agency", "agency", "agency_id")
    one("account", "account", "account_id")
    one("institution_type", "institution_type", "institution_type_id")
    one("level", "level", "level_id")
    one("purpose", "purpose", "purpose_id")
    one("dac_code", "dac_code", "dac_code")
    one("marking", "marking", "marking")
    many("countries", "country", MAX_PARTNERS)
    many("regions", "region", MAX_PARTNERS)
    many("objectives", "objective", MAX_PARTNERS)
    if "releasable_to" in given and data.releasable_to is not None:
        out["releasable_to"] = encode(
            resolve_codes(data.releasable_to, (*loc, "releasable_to"), catalog, problems)
        )
    for field in ("title", "description", "start", "end", "status", "milestones"):
        if field in given:
            out[field] = getattr(data, field)
    if "shares" in given and data.shares is not None:
        shares: dict[str, int] = {}
        for key, bp in data.shares.items():
            where = (*loc, "shares", key)
            found = _partner_code(catalog, key)
            if found is None:
                problems.append(Detail(where, f"unknown partner {key!r}: use a country or region"))
            elif found in shares:
                problems.append(Detail(where, f"{found} is given twice"))
            else:
                shares[found] = bp
        out["shares"] = shares
    if "budget" in given and data.budget is not None:
        if len(data.budget) > MAX_BUDGET_LINES:
            problems.append(
                Detail((*loc, "budget"), f"at most {MAX_BUDGET_LINES} budget lines per program")
            )
        lines: list[dict[str, Any]] = []
        for i, b in enumerate(data.budget[:MAX_BUDGET_LINES]):
            account = (
                code("account", b.account, (*loc, "budget", i, "account")) if b.account else None
            )
            lines.append(
                {
                    "fiscal_year": b.fiscal_year,
                    "account": account,
                    "planned": b.planned,
                    "obligated": b.obligated,
                    "disbursed": b.disbursed,
                    "loc": (*loc, "budget", i),
                }
            )
        out["budget"] = lines
        # Two lines of one year and account (the program's main one where a line names
        # none) are one too many; checked here so it is reported with everything else.
        main = out.get("account_id") if "account_id" in out else getattr(data, "account", None)
        seen: dict[tuple[int, str | None], int] = {}
        for i, line in enumerate(lines):
            year_account = (line["fiscal_year"], line["account"] or main)
            if year_account in seen:
                which = f" ({line['account']})" if line["account"] else ""
                problems.append(
                    Detail(
                        (*loc, "budget", i, "fiscal_year"),
                        f"FY{year_account[0]}{which} appears twice "
                        f"(also budget line {seen[year_account]})",
                    )
                )
            seen.setdefault(year_account, i)
    if out.get("milestones") is not None and len(out["milestones"]) > MAX_MILESTONES:
        problems.append(
            Detail((*loc, "milestones"), f"at most {MAX_MILESTONES} deliveries per program")
        )
    if "marking" in out and out["marking"] is None:
        out["marking"] = "U"
    if out.get("description") is None and "description" in out:
        out["description"] = ""
    if "status" in out:
        status = str(out["status"]).lower()
        if status not in STATUSES:
            problems.append(Detail((*loc, "status"), f"must be one of {', '.join(STATUSES)}"))
        out["status"] = status
    start, end = out.get("start"), out.get("end")
    if start is not None and end is not None and end < start:
        problems.append(Detail((*loc, "end"), f"end ({end}) is before start ({start})"))
    partner_problem = any(
        d.loc[len(loc) : len(loc) + 1] in (("countries",), ("regions",)) for d in problems
    )
    if whole and not partner_problem and not (out.get("countries") or out.get("regions")):
        problems.append(Detail((*loc, "countries"), "name at least one partner country or region"))
    if problems:
        raise Invalid("invalid program", problems)
    return out


def _partner_code(catalog: Catalog, value: str) -> str | None:
    kinds: tuple[Kind, ...] = ("country", "region")
    for kind in kinds:
        try:
            return catalog.resolve(kind, value)
        except UnknownCode:
            continue
    return None


def apply_fields(p: Program, fields: dict[str, Any], loc: tuple[str | int, ...]) -> None:
    """Set resolved field values on a program, touching child rows only where they change.

    Budget lines and deliveries keep their identity (row id) when edited. Partner shares
    are checked against the program's partners after the change (explicit shares must
    name every partner and sum to 10,000; without them, a change of partners resets the
    shares to equal). Raises :class:`Invalid` naming the field under ``loc``.
    """
    problems: list[Detail] = []
    simple = {
        "title": "title",
        "description": "description",
        "start": "start_date",
        "end": "end_date",
        "status": "status",
        "agency_id": "agency_id",
        "account_id": "account_id",
        "institution_type_id": "institution_type_id",
        "level_id": "level_id",
        "purpose_id": "purpose_id",
        "dac_code": "dac_code",
        "marking": "marking",
        "releasable_to": "releasable_to",
    }
    old_account = p.account_id
    for key, column in simple.items():
        if key in fields:
            setattr(p, column, fields[key])
    partners_changed = False
    if "countries" in fields:
        partners_changed |= _replace(
            p.countries, [ProgramCountry(iso3=c) for c in fields["countries"]], lambda x: x.iso3
        )
    if "regions" in fields:
        partners_changed |= _replace(
            p.regions,
            [ProgramRegion(region_code=c) for c in fields["regions"]],
            lambda x: x.region_code,
        )
    if "objectives" in fields:
        _replace(
            p.objectives,
            [ProgramObjective(objective_id=o) for o in fields["objectives"]],
            lambda x: x.objective_id,
        )
    _apply_shares(p, fields.get("shares"), partners_changed, loc, problems)
    if fields.get("budget") is not None:
        _apply_budget(p, fields["budget"], problems)
    elif "account_id" in fields and fields["account_id"] != old_account:
        # A new main account carries the lines that were on the old one with it (as when
        # a program had a single account), unless that would merge two lines of a year.
        taken = {(b.fiscal_year, b.account_id) for b in p.budget}
        for b in p.budget:
            if b.account_id == old_account and (b.fiscal_year, p.account_id) not in taken:
                b.account_id = p.account_id
    if fields.get("milestones") is not None:
        _apply_milestones(p, fields["milestones"], loc, problems)
    if p.start_date and p.end_date and p.end_date < p.start_date:
        problems.append(
            Detail((*loc, "end"), f"end ({p.end_date}) is before start ({p.start_date})")
        )
    if problems:
        raise Invalid("invalid program", problems)


def _apply_shares(
    p: Program,
    shares: dict[str, int] | None,
    partners_changed: bool,
    loc: tuple[str | int, ...],
    problems: list[Detail],
) -> None:
    rows: list[ProgramCountry | ProgramRegion] = [*p.countries, *p.regions]
    keys = [r.iso3 if isinstance(r, ProgramCountry) else r.region_code for r in rows]
    if shares is None:
        if partners_changed or sum(r.share_bp or 0 for r in rows) != FULL_SHARE:
            for row, bp in zip(rows, equal_shares(len(rows)), strict=True):
                row.share_bp = bp
        return
    missing = [k for k in keys if k not in shares]
    extra = [k for k in shares if k not in keys]
    where = (*loc, "shares")
    if missing:
        problems.append(
            Detail(where, f"give a share for every partner; missing {', '.join(missing)}")
        )
    if extra:
        problems.append(Detail(where, f"{', '.join(extra)} is not a partner of this program"))
    if not missing and not extra and sum(shares.values()) != FULL_SHARE:
        problems.append(
            Detail(
                where, f"shares must sum to {FULL_SHARE} basis points (got {sum(shares.values())})"
            )
        )
    if missing or extra:
        return
    for row, key in zip(rows, keys, strict=True):
        row.share_bp = shares[key]


def _apply_budget(p: Program, lines: list[dict[str, Any]], problems: list[Detail]) -> None:
    """Make the budget equal ``lines``; a line keyed (fiscal year, account) keeps its row."""
    wanted: dict[tuple[int, str | None], dict[str, Any]] = {}
    for line in lines:
        key = (line["fiscal_year"], line["account"] or p.account_id)
        if key in wanted:
            account = key[1] or "no account"
            problems.append(
                Detail(
                    (*line["loc"], "fiscal_year"),
                    f"FY{key[0]} ({account}) appears twice",
                )
            )
            continue
        wanted[key] = line
    current = {(b.fiscal_year, b.account_id): b for b in p.budget}
    for key, row in list(current.items()):
        if key not in wanted:
            p.budget.remove(row)
    for key, line in wanted.items():
        found = current.get(key)
        if found is None:
            p.budget.append(
                BudgetLine(
                    fiscal_year=key[0],
                    account_id=key[1],
                    planned=line["planned"],
                    obligated=line["obligated"],
                    disbursed=line["disbursed"],
                )
            )
        elif (found.planned, found.obligated, found.disbursed) != (
            line["planned"],
            line["obligated"],
            line["disbursed"],
        ):
            found.planned, found.obligated, found.disbursed = (
                line["planned"],
                line["obligated"],
                line["disbursed"],
            )
    p.budget.sort(key=lambda b: (b.fiscal_year, b.account_id or ""))


def _apply_milestones(
    p: Program, items: list[Any], loc: tuple[str | int, ...], problems: list[Detail]
) -> None:
    """Make the deliveries equal ``items``, keeping each matched delivery's row."""
    by_id = {m.id: m for m in p.milestones if m.id is not None}
    unmatched = list(p.milestones)
    keep: list[Milestone] = []
    for i, item in enumerate(items):
        row: Milestone | None = None
        if item.id is not None:
            row = by_id.get(item.id)
            if row is None or row not in unmatched:
                problems.append(
                    Detail((*loc, "milestones", i, "id"), f"no delivery {item.id} on this program")
                )
                continue
        else:
            row = next((m for m in unmatched if m.name == item.name), None)
        values = {
            "name": item.name,
            "requested_on": item.requested_on,
            "approved_on": item.approved_on,
            "obligated_on": item.obligated_on,
            "delivered_on": item.delivered_on,
        }
        if row is None:
            row = Milestone(**values)
        else:
            unmatched.remove(row)
            for key, value in values.items():
                if getattr(row, key) != value:
                    setattr(row, key, value)
        keep.append(row)
    for row in unmatched:
        p.milestones.remove(row)
    for row in keep:
        if row not in p.milestones:
            p.milestones.append(row)
    order = {id(row): i for i, row in enumerate(keep)}
    p.milestones.sort(key=lambda m: order.get(id(m), len(order)))


def _replace(current: list[Any], wanted: Iterable[Any], key: Any) -> bool:
    """Make a child collection equal to ``wanted`` without touching rows that stay.

    Returns whether anything was added or removed.
    """
    wanted_list = list(wanted)
    wanted_keys = [key(w) for w in wanted_list]
    changed = False
    for item in list(current):
        if key(item) not in wanted_keys:
            current.remove(item)
            changed = True
    have = {key(c) for c in current}
    for w in wanted_list:
        if key(w) not in have:
            current.append(w)
            changed = True
    current.sort(key=key)
    return changed
