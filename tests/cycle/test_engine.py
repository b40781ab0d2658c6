"""The pure parts: routing, notification, the calendar and the statistics, by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ssaplan.cycle import engine
from ssaplan.cycle.rules import RuleFileError, load_rules, parse_routing, shipped_rules
from ssaplan.reference.catalog import get_catalog

RULES = shipped_rules()
R = RULES.routing


def keys(routed: list[engine.Routed]) -> list[str]:
    return [r.reviewer.key() for r in routed]


def test_section_333_needs_state_and_defense_and_the_chief_of_mission() -> None:
    routed = engine.route(
        RULES.routing, account="10USC333", amount=8_000_000, country="KEN", flagged=False
    )
    assert keys(routed) == ["State", "DoD", "COM:KEN"]
    assert routed[0].rules == ("sec333-joint",)


def test_legal_review_only_where_a_restriction_or_vetting_flag_exists() -> None:
    flagged = engine.route(
        RULES.routing, account="10USC333", amount=8_000_000, country="KEN", flagged=True
    )
    assert keys(flagged) == ["State", "DoD", "COM:KEN", "legal"]


def test_amount_thresholds_add_reviewers() -> None:
    small = engine.route(
        RULES.routing, account="INCLE", amount=4_999_999, country="GHA", flagged=False
    )
    assert keys(small) == ["COM:GHA"]
    mid = engine.route(
        RULES.routing, account="INCLE", amount=5_000_000, country="GHA", flagged=False
    )
    assert keys(mid) == ["DOJ", "COM:GHA"]
    big = engine.route(
        RULES.routing, account="FMF", amount=25_000_000, country="JOR", flagged=False
    )
    assert keys(big) == ["State", "DoD", "State/F", "COM:JOR"]
    # A reviewer asked by two rules concurs once, naming both rules.
    assert big[0].rules == ("title22-dod",)


def test_notification_rules() -> None:
    rule = engine.notification_for(RULES.notification, account="FMF", amount=1)
    assert rule is not None and rule.waiting_days == 15
    assert engine.notification_for(RULES.notification, account="10USC332", amount=999_999) is None
    assert engine.notification_for(RULES.notification, account="TREAS-OTA", amount=10**9) is None
    # Notified 1 March with 15 days: money may be obligated from 16 March.
    assert engine.clears_on(date(2027, 3, 1), 15) == date(2027, 3, 16)


def test_calendar_and_current_phase() -> None:
    phases = engine.build_calendar(2027, RULES.calendar)
    by = {p.phase: p for p in phases}
    assert by["call_for_proposals"].starts_on == date(2026, 1, 1)
    assert by["call_for_proposals"].ends_on == date(2026, 2, 28)
    assert by["interagency_review"].ends_on == date(2026, 5, 31)
    assert by["obligation"].starts_on == date(2026, 10, 1)
    assert by["obligation"].ends_on == date(2027, 9, 30)
    assert engine.current_phase(phases, date(2026, 4, 15)) == by["interagency_review"]
    # Notification (Aug-Dec) and obligation (Oct-Sep) overlap: the later one is current.
    assert engine.current_phase(phases, date(2026, 8, 15)) == by["notification"]
    assert engine.current_phase(phases, date(2026, 11, 1)) == by["obligation"]
    assert engine.current_phase(phases, date(2025, 12, 31)) is None


def test_obligation_deadline_by_period_of_availability() -> None:
    assert engine.obligation_deadline(2027, 1) == date(2027, 9, 30)
    assert engine.obligation_deadline(2027, 2) == date(2028, 9, 30)
    assert engine.obligation_deadline(2027, 0) is None


def test_percentile_matches_hand_computation() -> None:
    # 1, 2, 3, 4, 10: median 3; p90 at rank 0.9*4 = 3.6 -> 4 + 0.6*(10-4) = 7.6
    assert engine.median([10, 1, 3, 2, 4]) == 3
    assert engine.percentile([10, 1, 3, 2, 4], 90) == pytest.approx(7.6)
    # Even count: median halfway between 2 and 3.
    assert engine.median([1, 2, 3, 4]) == 2.5
    assert engine.percentile([5], 90) == 5
    assert engine.percentile([], 50) is None


def test_stage_stats_count_open_stays_up_to_now() -> None:
    t0 = datetime(2027, 1, 1, tzinfo=UTC)
    d = lambda n: t0 + timedelta(days=n)  # noqa: E731
    spells = (
        engine.spells_of("A", [("draft", d(0)), ("submitted", d(2)), ("obligated", d(12))])
        + engine.spells_of("B", [("draft", d(0)), ("submitted", d(4))])
        + engine.spells_of("C", [("draft", d(0)), ("submitted", d(1)), ("rejected", d(7))])
    )
    now = d(20)
    stats = {
        s.stage: s
        for s in engine.stage_stats(
            spells, ("draft", "submitted", "obligated", "rejected"), ("obligated", "rejected"), now
        )
    }
    # draft: 2, 4, 1 days -> median 2, p90 = 2 + 0.8*(4-2) = 3.6
    assert (stats["draft"].n, stats["draft"].median_days, stats["draft"].p90_days) == (3, 2, 3.6)
    # submitted: A 10, B still there 16 (to now), C 6 -> median 10, p90 = 10 + 0.8*6 = 14.8
    assert (stats["submitted"].median_days, stats["submitted"].p90_days) == (10, 14.8)
    assert (stats["obligated"].n, stats["obligated"].median_days) == (1, None)
    waits = engine.waiting_longest(
        [s for s in spells if s.end is None and s.stage not in ("obligated", "rejected")],
        lambda code: ["DoD"],
        now,
    )
    assert [(w.proposal, w.stage, w.days) for w in waits] == [("B", "submitted", 16.0)]


def test_trend_by_cycle() -> None:
    t = datetime(2026, 1, 1, tzinfo=UTC)
    d = lambda n: t + timedelta(days=n)  # noqa: E731
    rows = engine.trend(
        [
            (2026, d(0), d(30), d(90)),
            (2026, d(0), d(50), None),
            (2027, d(0), d(20), d(40)),
            (2027, d(10), None, None),
        ]
    )
    assert [(r.fiscal_year, r.proposals, r.obligated) for r in rows] == [(2026, 2, 1), (2027, 2, 1)]
    assert rows[0].median_submit_to_approve == 40 and rows[0].median_submit_to_obligate == 90
    assert rows[1].median_submit_to_approve == 20 and rows[1].median_submit_to_obligate == 40


def test_a_rule_file_with_an_unknown_account_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "routing.json"
    bad.write_text(
        '{"rules": [{"id": "x", "accounts": ["NOPE"], "reviewers": [{"kind": "agency", '
        '"agency": "Mars"}]}]}'
    )
    with pytest.raises(RuleFileError) as exc:
        parse_routing(bad, get_catalog())
    assert "unknown account 'NOPE'" in str(exc.value) and "unknown agency 'Mars'" in str(exc.value)


def test_shipped_rules_load() -> None:
    rules = load_rules()
    assert {r.id for r in rules.routing} >= {"sec333-joint", "chief-of-mission", "legal-review"}
    assert rules.review_days == 21
