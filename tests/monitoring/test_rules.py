"""The monitoring rules as data: defaults, checks on changes, statements (pure)."""

from __future__ import annotations

import pytest

from ssaplan.monitoring import rules
from ssaplan.monitoring.rules import RuleError, build, check_section, defaults, statement


def test_the_shipped_rules_load_and_every_section_states_its_rule() -> None:
    r = build()
    assert r.performance.on_track_at == 0.9 and r.performance.usable_grades == ("A", "B", "C")
    assert r.standard("FMF").delivery_days == 1095 and r.standard("FMF").approval_days == 150
    assert r.standard("INCLE") == r.delivery
    assert set(r.rules) == set(rules.REVIEW_RULES)
    for section in r.sections:
        assert statement(section, r), section
    assert "off track in its latest 2 rated periods" in statement("indicator_off_track", r)
    assert "recommend suspend" in statement("legal_restriction", r)


def test_changes_are_merged_over_the_defaults() -> None:
    r = build(
        {
            "indicator_off_track": {"periods": 3, "recommendation": "suspend"},
            "delivery.INCLE": {"delivery_days": 400},
            "performance": {"usable_grades": ["A"]},
            "crisis_event": {"enabled": False},
        }
    )
    assert r.param("indicator_off_track", "periods") == 3
    assert r.param("indicator_off_track", "terminate_after") == 4
    assert r.standard("INCLE").delivery_days == 400 and r.standard("INCLE").approval_days == 150
    assert r.performance.usable_grades == ("A",)
    assert not r.enabled("crisis_event") and "(switched off)" in statement("crisis_event", r)
    assert defaults()["indicator_off_track"]["periods"] == 2  # defaults untouched


@pytest.mark.parametrize(
    ("section", "params", "key"),
    [
        ("nonsense", {"x": 1}, "section"),
        ("indicator_off_track", {"periodz": 3}, "periodz"),
        ("indicator_off_track", {"periods": 0}, "periods"),
        ("indicator_off_track", {"periods": 2.5}, "periods"),
        ("indicator_off_track", {"recommendation": "panic"}, "recommendation"),
        ("indicator_off_track", {"enabled": "yes"}, "enabled"),
        ("money_not_moving", {"min_obligated_share": 1.5}, "min_obligated_share"),
        ("performance", {"usable_grades": ["E"]}, "usable_grades"),
        ("performance", {"on_track_at": "high"}, "on_track_at"),
        ("delivery", {"delivery_days": -1}, "delivery_days"),
    ],
)
def test_bad_values_are_refused_with_the_key(section: str, params: dict, key: str) -> None:  # type: ignore[type-arg]
    problems = check_section(section, params)
    assert [k for k, _ in problems] == [key]


def test_a_set_that_contradicts_itself_is_refused() -> None:
    with pytest.raises(RuleError) as err:
        build({"performance": {"at_risk_at": 0.95}})
    assert err.value.problems[0][0] == "performance.at_risk_at"
    assert check_section("delivery.NOPE", {"delivery_days": 1}, accounts={"FMF"})[0][0] == "section"
