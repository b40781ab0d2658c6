"""The monitoring engine: ratings, timelines, money pace, findings and recommendations
(pure, no database) — every review rule is exercised here on plain values."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from ssaplan.monitoring import engine
from ssaplan.monitoring.engine import (
    AssessmentChange,
    Crisis,
    Delivery,
    Line,
    ProgramFacts,
    findings,
    rate,
    rate_series,
    recommend,
)
from ssaplan.monitoring.rules import build
from ssaplan.strategy.engine import IndicatorSeries, Observed, Period, parse_period

RULES = build()
PERF = RULES.performance
AS_OF = date(2026, 10, 1)  # FY2027


def series(values: dict[str, float], grade: str = "B", **kw: Any) -> IndicatorSeries:
    """Annual indicator, baseline 40 (FY2024), targets 50..90 for FY2025-FY2029."""
    data: dict[str, Any] = {
        "indicator_id": 1,
        "code": "1.a",
        "name": "Border posts screening",
        "unit": "%",
        "kind": "effectiveness",
        "direction": "increase",
        "frequency": "annual",
        "strategy": "GHA-2025-2029",
        "strategy_title": "Ghana",
        "partner": "GHA",
        "objective_id": 1,
        "objective_code": "1",
        "objective_title": "Border control",
        "baseline": (Period(2024), 40.0),
        "targets": {fy: 40.0 + 10 * (fy - 2024) for fy in range(2025, 2030)},
        "values": tuple(Observed(parse_period(p), v, grade, "medium") for p, v in values.items()),
        "programs": frozenset({7}),
        **kw,
    }
    return IndicatorSeries(**data)


def test_rating_by_progress_against_the_target_path() -> None:
    assert rate(50, 40, 50, "increase", PERF) == ("on_track", 1.0)
    assert rate(48, 40, 50, "increase", PERF)[0] == "at_risk"  # 80%
    assert rate(45, 40, 50, "increase", PERF)[0] == "off_track"  # 50%
    assert rate(35, 40, 50, "increase", PERF)[1] == pytest.approx(-0.5)
    # Falling indicators: both sides negative, same rule.
    assert rate(150, 200, 150, "decrease", PERF) == ("on_track", 1.0)
    assert rate(190, 200, 150, "decrease", PERF)[0] == "off_track"
    # Hold the line (target = baseline): no worse than the target is on track.
    assert rate(40, 40, 40, "increase", PERF) == ("on_track", None)
    assert rate(39, 40, 40, "increase", PERF) == ("off_track", None)
    assert rate(39, 40, 40, "decrease", PERF) == ("on_track", None)
    assert rate(10, 40, None, "increase", PERF) == ("no_target", None)


def test_a_series_knows_how_long_it_has_been_off_track() -> None:
    r = rate_series(series({"FY2025": 50, "FY2026": 45, "FY2027": 52}), PERF)
    assert [p.status for p in r.periods] == ["on_track", "off_track", "off_track"]
    assert r.off_track_streak == 2 and r.status == "off_track"
    assert r.latest_progress == pytest.approx(12 / 30)
    recovered = rate_series(series({"FY2025": 45, "FY2026": 60}), PERF)
    assert recovered.off_track_streak == 0 and recovered.status == "on_track"
    # Grade D data is shown but never rated; periods without targets are not rated.
    poor = rate_series(series({"FY2025": 41, "FY2026": 41}, grade="D"), PERF)
    assert [p.status for p in poor.periods] == ["not_rated", "not_rated"]
    assert poor.status is None and poor.off_track_streak == 0
    late = rate_series(series({"FY2031": 1}, targets={2025: 50.0}), PERF)
    assert late.periods[0].status == "no_target"


def _delivery(**dates: date | None) -> Delivery:
    base: dict[str, Any] = {
        "program": "P-1",
        "program_pk": 7,
        "account": "INCLE",
        "agency": "State",
        "milestone_id": 3,
        "name": "Radios",
        "requested_on": AS_OF - timedelta(days=400),
        "approved_on": None,
        "obligated_on": None,
        "delivered_on": None,
    }
    return Delivery(**{**base, **dates})


def test_delivery_stages_are_timed_against_the_standard() -> None:
    requested = AS_OF - timedelta(days=400)
    on_time = _delivery(approved_on=requested + timedelta(days=30))
    times = engine.stage_times(on_time, RULES, AS_OF)
    # Approved in time; obligation pending 400 days (> 270); delivery not yet due (730).
    assert times == {
        "approval": (30, True, False),
        "obligation": (400, False, True),
        "delivery": (400, False, False),
    }
    late = engine.late_delivery(on_time, RULES, AS_OF)
    assert late is not None and [(s.stage, s.pending, s.over_by) for s in late.stages] == [
        ("obligation", True, 130)
    ]
    skipped = _delivery(obligated_on=requested + timedelta(days=100))  # no approval date
    assert "approval" not in engine.stage_times(skipped, RULES, AS_OF)
    assert engine.stage_times(_delivery(requested_on=None), RULES, AS_OF) == {}
    fms = _delivery(
        account="FMF",
        approved_on=requested + timedelta(days=10),
        obligated_on=requested + timedelta(days=20),
        delivered_on=requested + timedelta(days=900),
    )
    assert engine.late_delivery(fms, RULES, AS_OF) is None  # FMF's standard is 1095 days
    report = engine.timelines([on_time, fms, _delivery(requested_on=None)], RULES, AS_OF)
    assert report.deliveries == 2 and report.undated == 1 and report.overall.late == 1
    assert [g.key for g in report.by_account] == ["INCLE", "FMF"]
    approval = report.overall.stages[0]
    assert approval.done == 2 and approval.median_days == 20 and approval.on_time_share == 1.0
    assert report.overall.stages[0].standard == 150 and report.overall.stages[2].standard is None


def _line(fy: int, planned: int, obligated: int, disbursed: int = 0, **kw: Any) -> Line:
    base: dict[str, Any] = {
        "program": "P-1",
        "program_pk": 7,
        "status": "implementing",
        "agency": "State",
        "fiscal_year": fy,
        "account": "INCLE",
        "planned": planned,
        "obligated": obligated,
        "disbursed": disbursed,
    }
    return Line(**{**base, **kw})


def test_money_by_period_of_availability() -> None:
    assert engine.obligation_ends(2026, 2) == date(2027, 9, 30)
    assert engine.obligation_ends(2027, 1) == date(2027, 9, 30)
    assert engine.obligation_ends(2027, 0) is None  # no-year money never expires
    lines = [
        _line(2026, 1_000, 400, 100),  # INCLE two-year money: ends 30 Sep 2027
        _line(2025, 1_000, 900, 100),  # ended 30 Sep 2026: 100 lapsed, 800 unliquidated
        _line(2027, 500, 0, account="TREAS-OTA"),
        _line(2027, 700, 0, account=None),
    ]
    m = engine.money_pace(lines, {"INCLE": 2, "TREAS-OTA": 0}, RULES, AS_OF)
    assert m.current_fy == 2027 and m.total.planned == 3_200
    assert [(b.account, b.fiscal_year, b.unobligated, b.days_left) for b in m.expiring] == [
        ("INCLE", 2026, 600, 364)
    ]
    assert [(b.fiscal_year, b.unobligated, b.unliquidated) for b in m.expired] == [(2025, 100, 800)]
    assert m.expired[0].cancels_on == date(2031, 9, 30)
    assert m.unliquidated == 300 + 800
    assert {g.key for g in m.by_account} == {"INCLE", "TREAS-OTA", "Unassigned"}
    assert m.by_account[0].obligation_rate == pytest.approx(1300 / 2000)


def facts(**kw: Any) -> ProgramFacts:
    base: dict[str, Any] = {
        "code": "P-1",
        "pk": 7,
        "status": "implementing",
        "countries": frozenset({"GHA"}),
    }
    return ProgramFacts(**{**base, **kw})


def _rules_of(found: list[engine.Finding]) -> dict[str, str]:
    return {f.rule: f.recommendation for f in found}


def test_indicator_off_track_two_periods_and_terminate_after_four() -> None:
    two = rate_series(series({"FY2025": 45, "FY2026": 45}), PERF)
    found = findings(facts(ratings=(two,)), RULES, AS_OF)
    assert _rules_of(found) == {"indicator_off_track": "restructure"}
    assert "off track 2 periods running" in found[0].reasons[0]
    one = rate_series(series({"FY2025": 50, "FY2026": 45}), PERF)
    assert findings(facts(ratings=(one,)), RULES, AS_OF) == []
    four = rate_series(
        series(
            {"FY2025-Q1": 40, "FY2025-Q2": 40, "FY2025-Q3": 40, "FY2025-Q4": 40},
            frequency="quarterly",
        ),
        PERF,
    )
    assert four.off_track_streak == 4
    assert _rules_of(findings(facts(ratings=(four,)), RULES, AS_OF)) == {
        "indicator_off_track": "terminate"
    }


def test_assessment_drop_and_its_severe_form() -> None:
    drop = AssessmentChange("GHA", "Ghana", 2026, 60.0, 48.0)
    found = findings(facts(assessment=(drop,)), RULES, AS_OF)
    assert _rules_of(found) == {"assessment_drop": "restructure"}
    assert "fell 12.0 points (60.0 to 48.0)" in found[0].reasons[0]
    severe = AssessmentChange("GHA", "Ghana", 2026, 70.0, 45.0)
    assert _rules_of(findings(facts(assessment=(severe,)), RULES, AS_OF)) == {
        "assessment_drop": "suspend"
    }
    small = AssessmentChange("GHA", "Ghana", 2026, 60.0, 55.0)
    assert findings(facts(assessment=(small,)), RULES, AS_OF) == []
    elsewhere = AssessmentChange("KEN", "Kenya", 2026, 70.0, 40.0)
    assert findings(facts(assessment=(elsewhere,)), RULES, AS_OF) == []


def test_crisis_event_within_the_window() -> None:
    recent = Crisis("GHA", AS_OF - timedelta(days=10), "unrest", "moderate", "protests")
    assert _rules_of(findings(facts(crises=(recent,)), RULES, AS_OF)) == {
        "crisis_event": "restructure"
    }
    severe = Crisis("GHA", AS_OF - timedelta(days=10), "coup", "severe", "coup d'etat")
    assert _rules_of(findings(facts(crises=(severe,)), RULES, AS_OF)) == {"crisis_event": "suspend"}
    old = Crisis("GHA", AS_OF - timedelta(days=400), "coup", "severe", "long ago")
    assert findings(facts(crises=(old,)), RULES, AS_OF) == []


def test_money_not_moving_obligation_and_disbursement() -> None:
    slow = facts(lines=(_line(2026, 1_000_000, 300_000),))
    found = findings(slow, RULES, AS_OF)
    assert _rules_of(found) == {"money_not_moving": "restructure"}
    assert "300,000 of $1,000,000 planned obligated (30%)" in found[0].reasons[0]
    stuck = facts(lines=(_line(2025, 1_000_000, 1_000_000, 100_000),))
    assert "disbursed (10%) 2 years on" in findings(stuck, RULES, AS_OF)[0].reasons[0]
    current = facts(lines=(_line(2027, 1_000_000, 0),))  # this year's money: not judged yet
    assert findings(current, RULES, AS_OF) == []
    suspended = facts(status="suspended", lines=(_line(2026, 1_000_000, 0),))
    assert findings(suspended, RULES, AS_OF) == []


def test_delivery_late_beyond_the_grace() -> None:
    late = engine.late_delivery(_delivery(approved_on=AS_OF - timedelta(days=380)), RULES, AS_OF)
    assert late is not None
    found = findings(facts(late=(late,)), RULES, AS_OF)
    assert _rules_of(found) == {"delivery_late": "restructure"}
    assert "obligation pending 400 days (standard 270, 130 over)" in found[0].reasons[0]
    barely = engine.late_delivery(
        _delivery(
            requested_on=AS_OF - timedelta(days=300), approved_on=AS_OF - timedelta(days=290)
        ),
        RULES,
        AS_OF,
    )
    assert barely is not None and findings(facts(late=(barely,)), RULES, AS_OF) == []


def test_switched_off_rules_and_finished_programs_find_nothing() -> None:
    crisis = Crisis("GHA", AS_OF, "coup", "severe", "coup")
    off = build({"crisis_event": {"enabled": False}})
    assert findings(facts(crises=(crisis,)), off, AS_OF) == []
    assert findings(facts(status="completed", crises=(crisis,)), RULES, AS_OF) == []


def test_the_recommendation_is_the_most_severe_with_every_reason() -> None:
    found = [
        engine.Finding("delivery_late", "restructure", ("late radios",)),
        engine.Finding("crisis_event", "suspend", ("a coup",)),
    ]
    rec, reasons = recommend(found, facts(), RULES, annual=False)
    assert rec == "suspend" and reasons == ("[crisis event] a coup", "[delivery late] late radios")
    ahead = rate_series(series({"FY2025": 55, "FY2026": 65}), PERF)
    assert recommend([], facts(ratings=(ahead,)), RULES, annual=True)[0] == "scale_up"
    assert recommend([], facts(ratings=(ahead,)), RULES, annual=False)[0] == "continue"
    on_path = rate_series(series({"FY2025": 50, "FY2026": 60}), PERF)
    rec, reasons = recommend([], facts(ratings=(on_path,)), RULES, annual=True)
    assert rec == "continue" and "1 of 1 rated indicators on track" in reasons[0]
    assert "no rated indicators" in recommend([], facts(), RULES, annual=True)[1][0]
