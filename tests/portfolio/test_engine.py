"""Pure portfolio rules: fiscal years, the pipeline, home bureaus, roll-ups."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ssaplan.portfolio import engine
from ssaplan.portfolio.engine import Money, MoneyRow


@pytest.mark.parametrize(
    ("day", "fy"),
    [(date(2026, 9, 30), 2026), (date(2026, 10, 1), 2027), (date(2027, 1, 15), 2027)],
)
def test_fiscal_year_starts_on_the_first_of_october(day: date, fy: int) -> None:
    assert engine.fiscal_year(day) == fy


def test_pipeline_moves_forward_and_final_states_are_final() -> None:
    assert engine.transition_allowed("proposed", "approved")
    assert engine.transition_allowed("approved", "obligated")  # notification not always needed
    assert engine.transition_allowed("suspended", "implementing")
    assert not engine.transition_allowed("implementing", "proposed")
    assert not engine.transition_allowed("completed", "implementing")
    assert not engine.transition_allowed("terminated", "approved")
    assert engine.transition_allowed("completed", "completed")


def test_home_bureau() -> None:
    assert engine.home_bureau(["AF", "AF", None]) == "AF"
    assert engine.home_bureau(["AF", "NEA"]) == engine.MULTI_REGIONAL
    assert engine.home_bureau([None]) == engine.UNASSIGNED


def test_rollup_by_hand() -> None:
    rows = [
        MoneyRow("A", 2025, Money(100, 50, 10), {"bureau": "AF", "account": "FMF"}),
        MoneyRow("A", 2026, Money(200, 0, 0), {"bureau": "AF", "account": "FMF"}),
        MoneyRow("B", 2025, Money(30, 30, 30), {"bureau": "EUR", "account": "IMET"}),
    ]
    r = engine.rollup(rows, ["bureau", "account"])
    assert r.total == Money(330, 80, 40)
    assert r.programs == 2
    assert r.by["fiscal_year"]["2025"] == Money(130, 80, 40)
    assert list(r.by["bureau"]) == ["AF", "EUR"]  # largest first
    assert r.by["account"]["IMET"] == Money(30, 30, 30)


amounts = st.integers(min_value=0, max_value=10**10)


@given(
    st.lists(
        st.tuples(
            st.sampled_from("ABCDE"),
            st.integers(2025, 2029),
            amounts,
            amounts,
            st.sampled_from(["AF", "EUR", "NEA"]),
        ),
        max_size=40,
    )
)
def test_every_dimension_sums_to_the_total(data: list[tuple[str, int, int, int, str]]) -> None:
    rows = [MoneyRow(p, fy, Money(a, b, 0), {"bureau": bu}) for p, fy, a, b, bu in data]
    r = engine.rollup(rows, ["bureau"])
    for groups in r.by.values():
        total = Money()
        for m in groups.values():
            total = total + m
        assert total == r.total
