"""Money by program x fiscal year x account x partner adds up to the dollar, everywhere."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.portfolio.engine import FULL_SHARE, Money, equal_shares, split_amount
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.models import BudgetLine
from ssaplan.portfolio.schemas import BudgetLineIn, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR
from tests.factories import program


@given(st.integers(min_value=1, max_value=400))
def test_equal_shares_sum_to_the_whole_and_differ_by_at_most_one(n: int) -> None:
    shares = equal_shares(n)
    assert sum(shares) == FULL_SHARE and len(shares) == n
    assert max(shares) - min(shares) <= 1


@given(
    st.integers(min_value=0, max_value=50_000_000_000),
    st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=40),
)
def test_a_split_adds_up_and_each_part_is_within_a_dollar_of_its_share(
    amount: int, shares: list[int]
) -> None:
    parts = split_amount(amount, shares)
    assert sum(parts) == amount and len(parts) == len(shares)
    total = sum(shares)
    if total:
        for part, share in zip(parts, shares, strict=True):
            assert abs(part - amount * share / total) < 1
            assert part >= 0


def _seed(store: Store) -> None:
    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        service.create(
            program(
                id="MULTI-1",
                countries=["KEN", "UGA", "TZA"],
                account="FMF",
                budget=[
                    BudgetLineIn(fiscal_year=2026, planned=1_000_001, obligated=333_333),
                    BudgetLineIn(fiscal_year=2026, account="IMET", planned=77_777),
                    BudgetLineIn(fiscal_year=2027, planned=5),
                ],
            )
        )
        service.create(
            program(
                id="SPLIT-2",
                countries=["NGA", "IND"],
                regions=["ECOWAS"],
                shares={"NGA": 5000, "IND": 2500, "ECOWAS": 2500},
                budget=[BudgetLineIn(fiscal_year=2026, planned=999_999, disbursed=10)],
            )
        )
        service.create(program(id="ONE-3", countries=["GHA"]))


def test_partner_money_adds_up_to_the_lines_by_year_and_account(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        rows = service.partner_money()
        lines = session.execute(
            select(BudgetLine.fiscal_year, BudgetLine.account_id, BudgetLine.planned)
        ).all()
    by_line: dict[tuple[int, str | None], int] = defaultdict(int)
    for r in rows:
        by_line[(r.fiscal_year, r.account)] += r.money.planned
    expected: dict[tuple[int, str | None], int] = defaultdict(int)
    for fy, account, planned in lines:
        expected[(fy, account)] += planned
    assert by_line == expected
    multi = {
        r.partner: r.money.planned
        for r in rows
        if r.program == "MULTI-1" and r.fiscal_year == 2026 and r.account == "FMF"
    }
    # Equal shares are 3334/3333/3333 basis points; the odd dollar goes to the largest
    # remainder (Kenya's).
    assert multi == {"KEN": 333_401, "TZA": 333_300, "UGA": 333_300}
    split = {r.partner: r.money.planned for r in rows if r.program == "SPLIT-2"}
    assert split == {"NGA": 499_999, "IND": 250_000, "ECOWAS": 250_000}


def test_every_rollup_dimension_sums_to_the_total(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        rollup = service.rollup(ProgramFilter())
        db_total = session.execute(select(func.sum(BudgetLine.planned))).scalar_one()
        countries = service.countries()
        fy = service.rollup(ProgramFilter(fiscal_year=2026))
        fmf = service.rollup(ProgramFilter(account="FMF"))
    assert rollup.total.planned == db_total
    for dim, groups in rollup.by.items():
        assert sum(m.planned for m in groups.values()) == db_total, dim
    # Nigeria in AF, India in SCA, ECOWAS (all members in AF) in AF: split, not counted twice.
    assert rollup.by["bureau"]["SCA"].planned == 250_000
    assert rollup.by["account"]["IMET"].planned == 77_777
    regional = 250_000  # ECOWAS's share: counted for the region, not for any one country
    assert sum(c["planned"] for c in countries) + regional == db_total
    assert fy.total.planned == 1_000_001 + 77_777 + 999_999 + 1_000_000
    assert fmf.total.planned == 1_000_001 + 5  # only FMF's lines count


def test_a_country_page_counts_its_share_of_shared_programs(store: Store) -> None:
    _seed(store)
    with store.session() as session:
        ken = PortfolioService(session, OPERATOR).country("KEN")
    assert ken["portfolio"]["total"]["planned"] == 333_401 + 25_931 + 2  # shares of 3 lines
    assert ken["shared_programs"] == 1


def test_shares_must_name_every_partner_and_sum_to_10000(store: Store) -> None:
    with store.transaction() as session, pytest.raises(Invalid) as info:
        PortfolioService(session, OPERATOR).create(
            program(id="BAD-1", countries=["KEN", "UGA"], shares={"KEN": 6000, "TZA": 4000})
        )
    messages = " ".join(d.msg for d in info.value.details)
    assert "missing UGA" in messages and "TZA is not a partner" in messages
    with store.transaction() as session, pytest.raises(Invalid, match="nothing was saved") as info:
        PortfolioService(session, OPERATOR).create(
            program(id="BAD-2", countries=["KEN", "UGA"], shares={"KEN": 6000, "UGA": 3000})
        )
    assert "sum to 10000" in info.value.details[0].msg


def test_changing_partners_resets_default_shares_and_keeps_explicit_ones(store: Store) -> None:
    with store.transaction() as session:
        service = PortfolioService(session, OPERATOR)
        p = service.create(
            program(id="SH-1", countries=["KEN", "UGA"], shares={"KEN": 9000, "UGA": 1000})
        )
        p = service.update("SH-1", ProgramUpdate(title="Renamed title", version=p.version))
        assert p.shares == {"KEN": 9000, "UGA": 1000}
        p = service.update(
            "SH-1", ProgramUpdate(countries=["KEN", "UGA", "TZA"], version=p.version)
        )
        assert p.shares == {"KEN": 3334, "TZA": 3333, "UGA": 3333}


def test_the_demo_world_adds_up_to_the_dollar(demo_store: Store) -> None:
    with demo_store.session() as session:
        service = PortfolioService(session, OPERATOR)
        db = session.execute(
            select(
                func.sum(BudgetLine.planned),
                func.sum(BudgetLine.obligated),
                func.sum(BudgetLine.disbursed),
            )
        ).one()
        rows = service.partner_money()
        rollup = service.rollup(ProgramFilter())
        by_year = dict(
            session.execute(
                select(BudgetLine.fiscal_year, func.sum(BudgetLine.planned)).group_by(
                    BudgetLine.fiscal_year
                )
            ).all()
        )
    total = Money()
    year: Counter[int] = Counter()
    for r in rows:
        total = total + r.money
        year[r.fiscal_year] += r.money.planned
    assert (total.planned, total.obligated, total.disbursed) == tuple(int(v) for v in db)
    assert dict(year) == {fy: int(v) for fy, v in by_year.items()}
    for dim, groups in rollup.by.items():
        assert sum(m.planned for m in groups.values()) == int(db[0]), dim
