"""Programs read for display with SQLAlchemy Core: rows straight into the public shape.

The list API, the workbench table and the CLI show pages of programs with every child
row (partners, objectives, budget lines, deliveries). Building ORM objects for them
(identity map, collections, attribute instrumentation) cost about half the time of a
list request (see ``benchmarks/bench_portfolio_api.py``); here the child rows are three
Core statements for the whole page (budget lines, deliveries, and one for partners,
regions and objectives), grouped in Python, and validated once into
:class:`ProgramPublic` (pydantic's compiled validator).

The result is the same as :func:`ssaplan.portfolio.fields.to_public` of the loaded
program, field for field and in the same order (``tests/portfolio/test_reading.py``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    Integer,
    any_,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from ssaplan.core.memo import memo
from ssaplan.portfolio.models import (
    BudgetLine,
    Milestone,
    Program,
    ProgramCountry,
    ProgramObjective,
    ProgramRegion,
)
from ssaplan.portfolio.visibility import decode

if TYPE_CHECKING:  # loaded when first used: the list's JSON needs no model
    from ssaplan.portfolio.schemas import ProgramPublic

_P = Program.__table__.c
_PROGRAM_COLUMNS = (
    _P.id,
    _P.code,
    _P.title,
    _P.description,
    _P.agency_id,
    _P.account_id,
    _P.institution_type_id,
    _P.level_id,
    _P.purpose_id,
    _P.dac_code,
    _P.start_date,
    _P.end_date,
    _P.status,
    _P.marking,
    _P.releasable_to,
    _P.source,
    _P.version,
    _P.created_at,
    _P.updated_at,
)


_pc, _pr, _po = ProgramCountry.__table__.c, ProgramRegion.__table__.c, ProgramObjective.__table__.c
_bl, _ms = BudgetLine.__table__.c, Milestone.__table__.c


def _statements(where: Any) -> dict[str, Any]:
    """The child rows of a page, one statement per kind, with ``where(column)`` as the
    condition on the program id."""
    return {
        # Partner countries (kind 0), regions (1) and objectives (2) of the page in one
        # statement: each statement costs SQLAlchemy more than SQLite takes to run it.
        "partners": _partners(where),
        "budget": select(
            _bl.program_id,
            _bl.id,
            _bl.fiscal_year,
            _bl.account_id,
            _bl.planned,
            _bl.obligated,
            _bl.disbursed,
        )
        .where(where(_bl.program_id))
        .order_by(_bl.program_id, _bl.fiscal_year, _bl.id),
        "milestones": select(
            _ms.program_id,
            _ms.id,
            _ms.name,
            _ms.requested_on,
            _ms.approved_on,
            _ms.obligated_on,
            _ms.delivered_on,
        )
        .where(where(_ms.program_id))
        .order_by(_ms.program_id, _ms.id),
        "by_id": select(*_PROGRAM_COLUMNS).where(where(_P.id)),
    }


def _partners(where: Any) -> Any:
    partners = union_all(
        select(
            _pc.program_id, literal_column("0", Integer).label("kind"), _pc.iso3, _pc.share_bp
        ).where(where(_pc.program_id)),
        select(_pr.program_id, literal_column("1", Integer), _pr.region_code, _pr.share_bp).where(
            where(_pr.program_id)
        ),
        select(
            _po.program_id,
            literal_column("2", Integer),
            _po.objective_id,
            cast(null(), Integer),
        ).where(where(_po.program_id)),
    )
    c = partners.selected_columns
    # By program and code only: each kind's rows come in their own order, and SQLite
    # merges the three index walks without sorting (ordering by kind too made it sort).
    return partners.order_by(c.program_id, c.iso3)


def _json_ids(column: Any) -> ColumnElement[bool]:
    return column.in_(
        select(literal_column("value")).select_from(func.json_each(bindparam("ids_json")))
    )


def _array_ids(column: Any) -> ColumnElement[bool]:
    return column == any_(bindparam("ids_array", type_=ARRAY(Integer)))


# Built once per back end (building a statement costs more than SQLite takes to run one
# of these); the page's ids are one parameter whatever their number (see _params).
_BUILT: dict[str, dict[str, Any]] = {}


def _for(session: Session) -> tuple[dict[str, Any], Any]:
    """The statements for the session's back end, and the binder of a page's ids."""
    name = session.get_bind().dialect.name
    if name not in _BUILT:
        _BUILT[name] = _statements(_array_ids if name == "postgresql" else _json_ids)
    if name == "postgresql":
        return _BUILT[name], lambda ids: {"ids_array": list(ids)}
    return _BUILT[name], lambda ids: {"ids_json": json.dumps(list(ids))}


def program_columns() -> tuple[Any, ...]:
    """The columns of ``programs`` that :func:`public_dicts` needs, in a select of a page."""
    return _PROGRAM_COLUMNS


def public_dicts(session: Session, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Program rows (selected with :func:`program_columns`, in display order) as plain
    data of the public shape, with their child rows: three statements whatever the number
    of programs."""
    if not rows:
        return []
    conn = session.connection()
    statements, bind = _for(session)
    wanted = [r[0] for r in rows]
    countries: dict[int, list[str]] = defaultdict(list)
    regions: dict[int, list[str]] = defaultdict(list)
    country_shares: dict[int, dict[str, int]] = defaultdict(dict)
    region_shares: dict[int, dict[str, int]] = defaultdict(dict)
    objectives: dict[int, list[str]] = defaultdict(list)
    # Per program: its money summed and its lines' accounts, gathered as the lines are
    # read (no second pass and no comprehension per program).
    money: dict[int, list[Any]] = {}
    budget: dict[int, list[dict[str, Any]]] = defaultdict(list)
    milestones: dict[int, list[dict[str, Any]]] = defaultdict(list)
    params = bind(wanted)
    for pid, kind, code, share in conn.execute(statements["partners"], params).all():
        if kind == 2:
            objectives[pid].append(code)
            continue
        if kind == 0:
            countries[pid].append(code)
            country_shares[pid][code] = share
        else:
            regions[pid].append(code)
            region_shares[pid][code] = share
    for pid, line_id, fy, account, planned, obligated, disbursed in conn.execute(
        statements["budget"], params
    ).all():
        budget[pid].append(
            {
                "id": line_id,
                "fiscal_year": fy,
                "account": account,
                "planned": planned,
                "obligated": obligated,
                "disbursed": disbursed,
            }
        )
        summed = money.get(pid)
        if summed is None:
            money[pid] = summed = [0, 0, 0, set()]
        summed[0] += planned
        summed[1] += obligated
        summed[2] += disbursed
        if account:
            summed[3].add(account)
    for pid, mid, name, requested, approved, obligated_on, delivered in conn.execute(
        statements["milestones"], params
    ).all():
        milestones[pid].append(
            {
                "id": mid,
                "name": name,
                "requested_on": requested,
                "approved_on": approved,
                "obligated_on": obligated_on,
                "delivered_on": delivered,
            }
        )
    out: list[dict[str, Any]] = []
    # Rows unpacked by position: a Row's attribute access by name costs about a
    # microsecond each, as much as the rest of building the program.
    for (
        pid,
        code,
        title,
        description,
        agency_id,
        account_id,
        institution_type_id,
        level_id,
        purpose_id,
        dac_code,
        start_date,
        end_date,
        status,
        marking,
        releasable_to,
        source,
        version,
        created_at,
        updated_at,
    ) in rows:
        summed = money.get(pid)
        if summed is None:
            planned = obligated = disbursed = 0
            accounts: list[str] = []
        else:
            planned, obligated, disbursed = summed[0], summed[1], summed[2]
            accounts = sorted(summed[3])
        out.append(
            {
                "id": code,
                "title": title,
                "description": description,
                "agency": agency_id,
                "account": account_id,
                "accounts": accounts,
                "countries": countries.get(pid, []),
                "regions": regions.get(pid, []),
                "shares": {**country_shares.get(pid, {}), **region_shares.get(pid, {})},
                "institution_type": institution_type_id,
                "level": level_id,
                "purpose": purpose_id,
                "objectives": objectives.get(pid, []),
                "dac_code": dac_code,
                "start": start_date,
                "end": end_date,
                "status": status,
                "marking": marking,
                "releasable_to": decode(releasable_to) if releasable_to else [],
                "source": source,
                "budget": budget.get(pid, []),
                "totals": {"planned": planned, "obligated": obligated, "disbursed": disbursed},
                "milestones": milestones.get(pid, []),
                "version": version,
                "created_at": created_at,
                "updated_at": updated_at,
            }
        )
    return out


def public_programs(session: Session, ids: Sequence[int]) -> list[ProgramPublic]:
    """The programs of surrogate ``ids``, in that order (ids not found left out)."""
    if not ids:
        return []
    statements, bind = _for(session)
    found = {r[0]: r for r in session.connection().execute(statements["by_id"], bind(ids)).all()}
    rows = [found[i] for i in ids if i in found]
    from ssaplan.portfolio.schemas import ProgramPublic

    return [ProgramPublic.model_validate(d) for d in public_dicts(session, rows)]


# -- totals of a list, kept per process until the next write (core/memo.py) ---------
def cached_totals(session: Session, stmt: Any) -> tuple[int, ...]:
    """The one row of ``stmt`` (an aggregate over programs) as integers, kept while no
    write has happened since it was computed. The key is SQLAlchemy's own cache key of the
    statement (its structure, cheaper than compiling it) plus its bound values: the filter
    and any visibility clause in it."""
    shape = stmt._generate_cache_key()
    values = tuple(
        tuple(v) if isinstance(v, list | set | frozenset) else v
        for v in (b.effective_value for b in shape.bindparams)
    )
    return memo(
        session,
        ("portfolio.totals", shape.key, values),
        lambda: tuple(int(v) for v in session.connection().execute(stmt).one()),
    )
