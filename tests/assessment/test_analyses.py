"""Quadrants, funding mismatch, regional roll-ups, year-over-year drivers, breakdown."""

from __future__ import annotations

import numpy as np
import pytest

from ssaplan.assessment.analyses import (
    breakdown,
    funding_mismatch,
    quadrants,
    regional_rollups,
    year_over_year,
)
from ssaplan.assessment.engine import PropensityScorer
from ssaplan.assessment.framework import parse_framework
from tests.assessment.conftest import SMALL_FRAMEWORK
from tests.assessment.test_engine import hand_panel, panel

NAN = float("nan")


def test_quadrants_split_at_the_medians() -> None:
    prop = np.array([80.0, 20, 70, 10, NAN])
    prio = np.array([90.0, 80, 10, 5, 50])
    q = quadrants(prop, prio)
    assert q.propensity_cut == 45 and q.priority_cut == 45
    assert q.labels == ("sustain", "shape_conditions", "opportunity", "reconsider", None)
    assert q.counts() == {"sustain": 1, "shape_conditions": 1, "opportunity": 1, "reconsider": 1}
    assert quadrants(prop, np.full(5, NAN)).labels == (None,) * 5


def test_funding_mismatch_flags_both_kinds() -> None:
    prop = np.array([20.0, 90, 80, 30, 60])
    prio = np.array([50.0, 90, 70, 10, NAN])
    money = np.array([1000.0, 0, 10, 500, 300])
    m = funding_mismatch(prop, prio, money)
    # funded: 1000, 10, 500, 300 -> 75th percentile 625, median 400; median propensity 60
    assert m.high_cost_cut == pytest.approx(625) and m.low_funding_cut == pytest.approx(400)
    assert m.high_cost_low_propensity == (0,)
    # priority median over scored countries with priority: 60; 1 and 2 qualify, both underfunded.
    assert m.underfunded_priority == (1, 2)
    assert np.nansum(m.merit_share) == pytest.approx(1)
    assert np.nansum(m.funding_share) == pytest.approx(1)
    assert np.isnan(m.gap[4])


def test_regional_rollups_average_the_scored_members() -> None:
    out = regional_rollups(
        ["A", "B", "C"],
        np.array([10.0, 30, NAN]),
        np.array([NAN, 50, 70]),
        np.array([False, True, True]),
        np.array([1.0, 2, 3]),
        {
            "R": ("Region", "bureau", frozenset({"A", "B", "C", "Z"})),
            "E": ("Empty", "bureau", frozenset()),
        },
    )
    r, e = out
    assert (r.members, r.scored, r.flagged, r.funding) == (4, 2, 2, 6.0)
    assert r.mean_propensity == 20 and r.mean_priority == 60
    assert e.mean_propensity is None and e.scored == 0


def test_year_over_year_drivers_add_up_to_the_change() -> None:
    fw = parse_framework(SMALL_FRAMEWORK, name="small")
    now = PropensityScorer(fw).fit(hand_panel()).result_
    before_panel = panel(
        ["A", "B", "C", "D"],
        ["gov", "corr", "hdi"],
        [[1, 10, 0.4], [2, 20, NAN], [5, NAN, 0.8], [NAN, 30, 0.6]],
    )
    before = PropensityScorer(fw).fit(before_panel).result_
    changes = {c.iso3: c for c in year_over_year(now, before, top=3)}
    b = changes["B"]
    # B's gov went from 2 to 3 on a 1..5 range: scaled .25 -> .5, weight 2/3 of governance.
    assert b.previous == pytest.approx(100 / 3) and b.current == pytest.approx(50)
    assert sum(d.points for d in b.drivers) == pytest.approx(b.delta)
    assert [(d.measure, d.previous, d.current) for d in b.drivers] == [("gov", 2, 3)]
    assert changes["A"].delta == pytest.approx(0) and changes["A"].drivers == ()


def test_breakdown_explains_the_score_down_to_each_measure() -> None:
    fw = parse_framework(SMALL_FRAMEWORK, name="small")
    r = PropensityScorer(fw).fit(hand_panel()).result_
    b = breakdown(r, "B")
    assert b["propensity"] == pytest.approx(50) and b["completeness"] == pytest.approx(0.75)
    gov, cap = b["constructs"]
    assert gov["share"] == pytest.approx(1.0) and cap["share"] == 0 and cap["score"] is None
    measures = {m["measure"]: m for m in gov["measures"]}
    assert measures["gov"]["value"] == 3 and measures["gov"]["source"] == "test"
    assert measures["gov"]["year"] == 2020 and measures["gov"]["min"] == 1
    assert measures["corr"]["normalized"] == pytest.approx(0.5)
    assert sum(m["contribution"] for k in b["constructs"] for m in k["measures"]) == pytest.approx(
        50
    )
