"""Difference-in-differences estimators recover known effects from simulated panels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssaplan.evaluation.engine import Panel, estimate_did
from tests.evaluation.simulate import growing, homogeneous, staggered


def panel_of(frame, covariates=()):  # type: ignore[no-untyped-def]
    return Panel.from_frame(
        frame, unit="unit", time="year", outcome="y", treated="d", covariates=covariates
    )


@pytest.mark.parametrize("method", ["twfe", "cs", "sa"])
def test_homogeneous_effect_is_recovered_by_every_method(method: str) -> None:
    frame, truth = staggered(np.random.default_rng(1), effect=homogeneous(2.0), units=300)
    r = estimate_did(panel_of(frame), method)
    assert truth == 2.0
    assert abs(r.estimate - truth) < 3 * r.std_error
    assert abs(r.estimate - truth) < 0.15
    assert r.ci_low < truth < r.ci_high
    assert r.n_treated == 240 and r.n_control == 60


def test_effects_growing_with_exposure_fool_twfe_but_not_cs_or_sa() -> None:
    # Early adopters' growing effects make them a bad "control" for late adopters:
    # TWFE's forbidden comparisons pull its estimate far below the true ATT
    # (Goodman-Bacon 2021). CS and SA use only clean comparisons.
    frame, truth = staggered(
        np.random.default_rng(2), units=400, cohorts=(2, 5, None), effect=growing(1.0)
    )
    panel = panel_of(frame)
    twfe = estimate_did(panel, "twfe")
    cs = estimate_did(panel, "cs")
    sa = estimate_did(panel, "sa")
    assert truth > 2.5
    assert twfe.estimate < truth - 1.0  # off by more than a third of the effect
    assert not twfe.ci_low < truth < twfe.ci_high
    for r in (cs, sa):
        assert abs(r.estimate - truth) < min(3 * r.std_error, 0.1 * truth), r.method
    # The event study recovers the dynamic path 1, 2, 3, ... for post-periods.
    post = {c.key: c.estimate for c in cs.event_study if c.key >= 0}
    for e, est in post.items():
        assert abs(est - (e + 1)) < 0.5, (e, est)
    assert np.isclose(cs.estimate, sa.estimate, atol=1e-8)  # same cells, balanced panel


def test_not_yet_treated_controls_work_without_never_treated_units() -> None:
    frame, _ = staggered(
        np.random.default_rng(3),
        units=300,
        cohorts=(2, 4, 7),
        shares=(0.3, 0.3, 0.4),
        effect=growing(1.0),
    )
    r = estimate_did(panel_of(frame), "cs", control="notyet")
    # Cells with a not-yet-treated comparison: the last cohort (7) is never evaluated
    # post-treatment, so the truth is the mean over cohorts 2 and 4 before period 7.
    cells = [(g, t) for g in (2, 4) for t in range(g, 7)]
    weights = {2: 0.3, 4: 0.3}
    truth = sum(weights[g] * (t - g + 1) for g, t in cells) / sum(weights[g] for g, _ in cells)
    assert abs(r.estimate - truth) < 0.2
    assert r.control == "notyet"
    assert all(c.key[1] < 2007 for c in r.group_time)  # no cell once all are treated
    sa = estimate_did(panel_of(frame), "sa", control="last")
    assert abs(sa.estimate - truth) < 0.25
    assert any("control cohort" in n for n in sa.notes)


def test_covariates_restore_conditional_parallel_trends() -> None:
    frame, truth = staggered(
        np.random.default_rng(4), units=600, effect=homogeneous(1.0), covariate_trend=0.5
    )
    plain = estimate_did(panel_of(frame), "cs")
    adjusted = estimate_did(panel_of(frame, ["x"]), "cs", covariates=["x"])
    assert abs(plain.estimate - truth) > 0.5  # treated units trend up with their higher x
    assert abs(adjusted.estimate - truth) < 3 * adjusted.std_error
    assert adjusted.covariates == ("x",)


def test_pretrend_test_flags_a_planted_violation_and_not_its_absence() -> None:
    rng = np.random.default_rng(5)
    bad, _ = staggered(rng, units=300, trend_gap=0.3)
    good, _ = staggered(rng, units=300)
    for method in ("cs", "sa"):
        assert estimate_did(panel_of(bad), method).pretrend_p < 0.001
        p = estimate_did(panel_of(good), method).pretrend_p
        assert p is not None and p > 0.01


def test_pretrend_test_has_its_nominal_size() -> None:
    rng = np.random.default_rng(6)
    p = [
        estimate_did(
            panel_of(staggered(rng, units=60, periods=6, cohorts=(3, None), shares=(0.5, 0.5))[0]),
            "cs",
        ).pretrend_p
        for _ in range(200)
    ]
    rejected = np.mean(np.array(p) < 0.05)
    assert 0.01 <= rejected <= 0.10, rejected


@pytest.mark.parametrize(
    ("method", "effect"),
    [("cs", growing(0.5)), ("sa", growing(0.5)), ("twfe", homogeneous(0.5))],
)
def test_confidence_intervals_cover_the_truth_about_95_percent_of_the_time(
    method: str, effect: object
) -> None:
    rng = np.random.default_rng(7)
    hits = []
    for _ in range(200):
        frame, truth = staggered(
            rng, units=60, periods=6, cohorts=(2, 4, None), shares=(0.3, 0.3, 0.4), effect=effect
        )  # type: ignore[arg-type]
        r = estimate_did(panel_of(frame), method)
        hits.append(r.ci_low <= truth <= r.ci_high)
    coverage = float(np.mean(hits))
    assert 0.90 <= coverage <= 0.99, coverage


def test_aggregations_and_event_study_output() -> None:
    frame, _ = staggered(np.random.default_rng(8), units=200, effect=growing(1.0))
    panel = panel_of(frame)
    simple = estimate_did(panel, "cs")
    dynamic = estimate_did(panel, "cs", aggregation="dynamic")
    group = estimate_did(panel, "cs", aggregation="group")
    agg = dict(simple.aggregations)
    assert dynamic.estimate == agg["dynamic"].estimate != simple.estimate
    assert group.estimate == agg["group"].estimate
    # Dynamic overall = mean of the post-period event-time effects.
    post = [c.estimate for c in simple.event_study if c.key >= 0]
    assert np.isclose(dynamic.estimate, np.mean(post))
    d = simple.as_dict()
    json.dumps(d, allow_nan=False)
    assert {
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "n_treated",
        "n_control",
        "pretrend_p",
    } <= set(d)
    row = d["event_study"][0]
    assert set(row) == {"rel_period", "estimate", "std_error", "ci_low", "ci_high"}
    assert {"group", "time"} <= set(d["group_time"][0])
    sa = estimate_did(panel, "sa").as_dict()
    reference = [r for r in sa["event_study"] if r.get("reference")]
    assert reference == [
        {
            "rel_period": -1,
            "estimate": 0.0,
            "std_error": None,
            "ci_low": None,
            "ci_high": None,
            "reference": True,
        }
    ]
    assert "effect" in simple.summary() and "event time" in simple.summary()


def test_twfe_reports_no_pretrend_and_a_warning() -> None:
    frame, _ = staggered(np.random.default_rng(9))
    r = estimate_did(panel_of(frame), "twfe")
    assert r.as_dict()["pretrend_p"] is None and r.event_study == ()
    assert "biased" in r.notes[0]


def test_unbalanced_units_are_dropped_by_cs_and_kept_by_twfe() -> None:
    frame, _ = staggered(np.random.default_rng(10), units=100)
    frame.loc[3, "y"] = np.nan
    frame = frame.drop(index=[20])
    panel = panel_of(frame)
    cs = estimate_did(panel, "cs")
    assert cs.n_units == 98 and any("dropped" in n for n in cs.notes)
    twfe = estimate_did(panel, "twfe")
    assert twfe.n_units == 100 and twfe.n_obs == 800 - 2
    sa = estimate_did(panel, "sa")
    assert sa.n_obs == 800 - 2
