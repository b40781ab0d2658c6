"""Money by program x fiscal year x account x partner: the one source of every roll-up.

A program's budget lines carry its money by fiscal year and account; its partners
(countries and regions) hold shares in basis points. :func:`partner_money` splits each
line among the partners with largest-remainder rounding (``engine.split_amount``), so
the money over partners adds up to the lines to the dollar, and every roll-up built
from it (the overview by bureau, country pages, region roll-ups, the assessment's
funding measures, exports, allocation and coordination) sums to the portfolio total.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ssaplan.portfolio import engine
from ssaplan.portfolio.engine import Money
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.models import BudgetLine, Program, ProgramCountry, ProgramRegion
from ssaplan.reference.catalog import Catalog


@dataclass(frozen=True)
class PartnerMoney:
    """One partner's share of one budget line.

    ``kind`` is ``country`` (``partner`` an ISO3 code) or ``region`` (a region code: the
    region or regional organization as a whole).
    """

    program: str  # the program's code (its human-readable id)
    program_pk: int
    fiscal_year: int
    account: str | None
    kind: str
    partner: str
    share_bp: int
    money: Money


def partner_money(
    session: Session,
    catalog: Catalog,
    flt: ProgramFilter | None = None,
    *,
    program_ids: Select[tuple[int]] | None = None,
    first_fy: int | None = None,
    last_fy: int | None = None,
) -> list[PartnerMoney]:
    """The money of the matching programs, line by line and partner by partner.

    ``flt`` selects programs (its fiscal-year and account filters also narrow the
    lines); ``program_ids`` may be given instead. ``first_fy``/``last_fy`` bound the
    years. A program without partners keeps its money under the partner ``""``.
    """
    flt = flt or ProgramFilter()
    ids = program_ids if program_ids is not None else flt.program_ids(catalog)
    lines_stmt = select(
        BudgetLine.program_id,
        BudgetLine.fiscal_year,
        BudgetLine.account_id,
        BudgetLine.planned,
        BudgetLine.obligated,
        BudgetLine.disbursed,
    ).where(BudgetLine.program_id.in_(ids), *flt.line_conditions(catalog))
    if first_fy is not None:
        lines_stmt = lines_stmt.where(BudgetLine.fiscal_year >= first_fy)
    if last_fy is not None:
        lines_stmt = lines_stmt.where(BudgetLine.fiscal_year <= last_fy)
    partners: dict[int, list[tuple[str, str, int]]] = defaultdict(list)
    for pid, iso3, bp in session.execute(
        select(ProgramCountry.program_id, ProgramCountry.iso3, ProgramCountry.share_bp)
        .where(ProgramCountry.program_id.in_(ids))
        .order_by(ProgramCountry.program_id, ProgramCountry.iso3)
    ):
        partners[pid].append(("country", iso3, bp))
    for pid, code, bp in session.execute(
        select(ProgramRegion.program_id, ProgramRegion.region_code, ProgramRegion.share_bp)
        .where(ProgramRegion.program_id.in_(ids))
        .order_by(ProgramRegion.program_id, ProgramRegion.region_code)
    ):
        partners[pid].append(("region", code, bp))
    codes = dict(session.execute(select(Program.id, Program.code).where(Program.id.in_(ids))).all())
    out: list[PartnerMoney] = []
    for pid, fy, account, planned, obligated, disbursed in session.execute(lines_stmt):
        shares = partners.get(pid) or [("country", "", engine.FULL_SHARE)]
        bps = [bp for _k, _p, bp in shares]
        parts = zip(
            engine.split_amount(planned, bps),
            engine.split_amount(obligated, bps),
            engine.split_amount(disbursed, bps),
            strict=True,
        )
        for (kind, partner, bp), (p, o, d) in zip(shares, parts, strict=True):
            out.append(
                PartnerMoney(codes[pid], pid, fy, account, kind, partner, bp, Money(p, o, d))
            )
    return out


def bureau_of(catalog: Catalog, kind: str, partner: str) -> str:
    """The regional bureau a partner's money counts under.

    A country counts in its bureau; a region that is a bureau in itself; any other region
    (an organization, a command) in the one bureau of all its members, else as
    ``Multi-regional``.
    """
    if not partner:
        return engine.UNASSIGNED
    if kind == "country":
        return catalog.countries[partner].bureau or engine.UNASSIGNED
    region = catalog.regions.get(partner)
    if region is None:
        return engine.UNASSIGNED
    if region.kind == "bureau":
        return partner
    return engine.home_bureau(catalog.countries[m].bureau for m in region.members)


def by_country(rows: Iterable[PartnerMoney]) -> dict[str, Money]:
    """Money per partner country (regional partners' money is not spread to members)."""
    out: dict[str, Money] = defaultdict(Money)
    for r in rows:
        if r.kind == "country" and r.partner:
            out[r.partner] = out[r.partner] + r.money
    return dict(out)


def rollup_rows(
    rows: Sequence[PartnerMoney],
    catalog: Catalog,
    programs: dict[int, tuple[str, str]],
) -> list[engine.MoneyRow]:
    """Partner rows as roll-up rows grouped by bureau, account, agency and status.

    ``programs`` maps a program's surrogate id to its (agency, status).
    """
    bureaus: dict[tuple[str, str], str] = {}
    out: list[engine.MoneyRow] = []
    for r in rows:
        key = (r.kind, r.partner)
        if key not in bureaus:
            bureaus[key] = bureau_of(catalog, r.kind, r.partner)
        agency, status = programs[r.program_pk]
        out.append(
            engine.MoneyRow(
                r.program,
                r.fiscal_year,
                r.money,
                {
                    "bureau": bureaus[key],
                    "account": r.account or engine.UNASSIGNED,
                    "agency": catalog.top_agency(agency),
                    "status": status,
                    "country": r.partner if r.kind == "country" and r.partner else "",
                },
            )
        )
    return out
