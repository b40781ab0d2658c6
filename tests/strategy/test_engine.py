"""The strategy engine: periods, framework checks, expected values (pure, no database)."""

from __future__ import annotations

import typing
from datetime import date

import pytest

from ssaplan.strategy import engine, models, schemas
from ssaplan.strategy.engine import Period


def test_periods_are_named_after_fiscal_years_and_end_on_the_right_day() -> None:
    assert Period(2027).label == "FY2027" and Period(2027).end() == date(2027, 9, 30)
    assert Period(2027).start() == date(2026, 10, 1)
    q1 = engine.parse_period("fy2027-q1")
    assert (q1.label, q1.end(), q1.fraction) == ("FY2027-Q1", date(2026, 12, 31), 0.25)
    assert engine.parse_period("FY2027-H2").end() == date(2027, 9, 30)
    m1 = engine.parse_period("FY2027-M01")
    assert m1.label == "FY2027-M01" and m1.end() == date(2026, 10, 31)
    assert engine.parse_period("FY2027-M12").end() == date(2027, 9, 30)
    assert [p.label for p in engine.periods("semiannual", 2026, 2027)] == [
        "FY2026-H1",
        "FY2026-H2",
        "FY2027-H1",
        "FY2027-H2",
    ]
    assert engine.sorted_periods(["FY2027", "FY2026-Q4", "FY2026-Q1", "junk"]) == [
        "FY2026-Q1",
        "FY2026-Q4",
        "FY2027",
        "junk",
    ]


@pytest.mark.parametrize("text", ["2027", "FY27", "FY2027-Q5", "FY2027-H3", "FY2027-M13", "Q1"])
def test_malformed_periods_say_what_a_period_looks_like(text: str) -> None:
    with pytest.raises(ValueError, match="FY2027|runs from 1"):
        engine.parse_period(text)


def test_known_periods_follow_the_frequency_and_the_strategy_years() -> None:
    assert engine.known_period("FY2026-Q3", "quarterly", 2025, 2029).label == "FY2026-Q3"
    with pytest.raises(ValueError, match="unknown period FY2026: the indicator is collected "):
        engine.known_period("FY2026", "quarterly", 2025, 2029)
    with pytest.raises(ValueError, match="unknown period FY2031-Q1: the strategy runs FY2025"):
        engine.known_period("FY2031-Q1", "quarterly", 2025, 2029)


def test_targets_need_a_baseline_and_other_framework_checks() -> None:
    def check(**kw: typing.Any) -> dict[tuple[str | int, ...], str]:
        args = {
            "frequency": "annual",
            "baseline_value": 40.0,
            "baseline_period": "FY2024",
            "targets": [(2025, 50.0)],
            "first_fy": 2025,
            "last_fy": 2029,
            **kw,
        }
        return {p.field: p.message for p in engine.check_indicator(**args)}

    assert check() == {}
    assert (
        "targets without a baseline"
        in check(baseline_value=None, baseline_period=None)[("targets",)]
    )
    assert check(baseline_value=None, baseline_period=None, targets=[]) == {}
    assert "give both or neither" in check(baseline_period=None)[("baseline_period",)]
    assert "comes after the first target" in check(baseline_period="FY2026")[("baseline_period",)]
    assert "outside the strategy" in check(targets=[(2031, 1.0)])[("targets", 0, "fiscal_year")]
    assert "two targets" in check(targets=[(2025, 1.0), (2025, 2.0)])[("targets", 1, "fiscal_year")]
    assert "is not a period" in check(baseline_period="last year")[("baseline_period",)]


def test_the_expected_value_follows_the_target_path_within_a_year() -> None:
    baseline = (Period(2024), 40.0)
    targets = {2025: 50.0, 2026: 60.0}
    assert engine.expected_value(Period(2025), baseline, targets) == 50.0
    assert engine.expected_value(Period(2026, 1, 4), baseline, targets) == pytest.approx(52.5)
    assert engine.expected_value(Period(2025, 2, 4), baseline, targets) == pytest.approx(45.0)
    assert engine.expected_value(Period(2026, 4, 4), baseline, targets) == 60.0
    assert engine.expected_value(Period(2027), baseline, targets) is None  # no target: not rated


def test_breakdown_keys_and_equal_splits() -> None:
    assert engine.disaggregation_key({"sex": "female", "region": "North"}) == (
        "region=North;sex=female"
    )
    assert engine.disaggregation_key({}) == ""
    assert engine.split_equally(100, 3) == [34, 33, 33] and sum(engine.split_equally(7, 4)) == 7
    assert engine.split_equally(5, 0) == []


def test_schema_vocabularies_match_the_models() -> None:
    pairs = [
        (schemas.Kind, models.INDICATOR_KINDS),
        (schemas.Direction, models.DIRECTIONS),
        (schemas.Frequency, models.FREQUENCIES),
        (schemas.Quality, models.QUALITY_GRADES),
        (schemas.Confidence, models.CONFIDENCE),
        (schemas.CommitmentKind, models.COMMITMENT_KINDS),
        (schemas.CommitmentStatus, models.COMMITMENT_STATUSES),
        (schemas.StrategyStatus, models.STRATEGY_STATUSES),
    ]
    for literal, values in pairs:
        assert set(typing.get_args(literal)) == set(values)
    assert set(engine.PER_YEAR) == set(models.FREQUENCIES)
