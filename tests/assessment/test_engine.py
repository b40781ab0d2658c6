"""The default method against values worked out by hand, and the vectorized engine
against the per-country loops of naive.py."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ssaplan.assessment.engine import (
    Panel,
    PropensityScorer,
    WeightSensitivity,
    competition_rank,
    dirichlet_weights,
    latest_in_window,
    minmax_normalize,
    priority_scores,
)
from ssaplan.assessment.framework import Framework, parse_framework
from ssaplan.assessment.naive import naive_assess
from tests.assessment.conftest import SMALL_FRAMEWORK

NAN = float("nan")


def panel(countries: list[str], measures: list[str], rows: list[list[float]]) -> Panel:
    values = np.array(rows, dtype=float)
    n, m = values.shape
    return Panel(
        tuple(countries),
        tuple(measures),
        values,
        np.where(np.isfinite(values), 2020, 0).astype(np.int64),
        np.where(np.isfinite(values), "test", "").astype(object),
    )


@pytest.fixture
def small() -> Framework:
    return parse_framework(SMALL_FRAMEWORK, name="small")


def hand_panel() -> Panel:
    # gov (higher better), corr (lower better), hdi (higher better)
    return panel(
        ["A", "B", "C", "D"],
        ["gov", "corr", "hdi"],
        [
            [1, 10, 0.4],
            [3, 20, NAN],
            [5, NAN, 0.8],
            [NAN, 30, 0.6],
        ],
    )


def test_default_method_matches_hand_computation(small: Framework) -> None:
    r = PropensityScorer(small).fit(hand_panel()).result_
    # gov scaled over 1..5: A 0, B .5, C 1; corr over 10..30 reversed: A 1, B .5, D 0;
    # hdi over .4..8: A 0, C 1, D .5.
    np.testing.assert_allclose(
        r.normalized, [[0, 1, 0], [0.5, 0.5, NAN], [1, NAN, 1], [NAN, 0, 0.5]], equal_nan=True
    )
    # governance = (2 gov + 1 corr) / (weights available); capacity = hdi.
    np.testing.assert_allclose(
        r.construct_scores, [[1 / 3, 0], [0.5, NAN], [1, 1], [0, 0.5]], equal_nan=True
    )
    # propensity = 100 (3 governance + 1 capacity) / (3 + 1), renormalized for B.
    np.testing.assert_allclose(r.propensity, [25, 50, 100, 12.5])
    np.testing.assert_allclose(r.completeness, [1, 0.75, 1, 1])
    assert list(r.rank) == [3, 2, 1, 4]
    assert not r.flagged.any()
    np.testing.assert_allclose(r.contributions.sum(axis=1), r.propensity)
    # A: all 25 points come from corr (governance share 3/4, corr share 1/3, value 1).
    np.testing.assert_allclose(r.contributions[0], [0, 25, 0])


def test_flag_below_threshold_and_the_boundary(small: Framework) -> None:
    r = PropensityScorer(small, flag_below=0.8).fit(hand_panel()).result_
    assert list(r.flagged) == [False, True, False, False]
    # Exactly the threshold is not flagged (0.75 with flag_below 0.75).
    r = PropensityScorer(small, flag_below=0.75).fit(hand_panel()).result_
    assert not r.flagged.any()


def test_a_country_without_any_value_is_undefined_not_nan_ranked(small: Framework) -> None:
    p = panel(["A", "B", "E"], ["gov", "corr", "hdi"], [[1, 10, 0.4], [2, 20, 0.5], [NAN] * 3])
    r = PropensityScorer(small).fit(p).result_
    assert math.isnan(r.propensity[2])
    assert r.rank[2] == 0 and r.completeness[2] == 0 and r.flagged[2]
    assert list(r.rank[:2]) == [2, 1]


def test_one_distinct_value_scores_half(small: Framework) -> None:
    p = panel(["A", "B"], ["gov", "corr", "hdi"], [[2, 5, 0.7], [2, 5, NAN]])
    r = PropensityScorer(small).fit(p).result_
    np.testing.assert_allclose(r.normalized, [[0.5, 0.5, 0.5], [0.5, 0.5, NAN]], equal_nan=True)
    np.testing.assert_allclose(r.propensity, [50, 50])


def test_measures_the_panel_lacks_count_as_missing(small: Framework) -> None:
    p = panel(["A", "B"], ["gov"], [[1], [2]])
    r = PropensityScorer(small).fit(p).result_
    np.testing.assert_allclose(r.propensity, [0, 100])
    np.testing.assert_allclose(r.completeness, [0.75, 0.75])


def test_zero_weight_measures_do_not_count() -> None:
    fw = parse_framework(
        "measure,construct,direction,measure_weight,construct_weight\na,c,1,1,1\nb,c,1,0,1\n",
        name="z",
    )
    p = panel(["A", "B"], ["a", "b"], [[NAN, 1], [NAN, 2]])
    r = PropensityScorer(fw).fit(p).result_
    # b has data but no weight: the construct has nothing to renormalize over.
    assert np.isnan(r.propensity).all() and (r.completeness == 0).all()


def test_minmax_normalize_returns_the_ranges() -> None:
    values = np.array([[1.0, NAN], [3.0, NAN]])
    norm, lo, hi = minmax_normalize(values, [-1, 1])
    np.testing.assert_allclose(norm, [[1, NAN], [0, NAN]], equal_nan=True)
    np.testing.assert_allclose(lo, [1, NAN], equal_nan=True)
    np.testing.assert_allclose(hi, [3, NAN], equal_nan=True)


def test_latest_value_in_the_window() -> None:
    # country 0, measure 0: 2017 (outside), 2019, 2020 -> 2020; measure 1: 2021 only (future).
    # country 1, measure 0: two sources in 2019 -> the preferred one.
    country = np.array([0, 0, 0, 0, 1, 1])
    measure = np.array([0, 0, 0, 1, 0, 0])
    year = np.array([2017, 2019, 2020, 2021, 2019, 2019])
    value = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    preference = np.array([0, 0, 0, 0, 9, 1])
    values, years, picked = latest_in_window(
        country, measure, year, value, shape=(2, 2), assess_year=2020, preference=preference
    )
    np.testing.assert_allclose(values, [[3, NAN], [5, NAN]], equal_nan=True)
    assert years.tolist() == [[2020, 0], [2019, 0]]
    assert picked.tolist() == [[2, -1], [4, -1]]
    values, _, _ = latest_in_window(
        country, measure, year, value, shape=(2, 2), assess_year=2020, window=0
    )
    np.testing.assert_allclose(values, [[3, NAN], [NAN, NAN]], equal_nan=True)


def test_competition_rank_shares_ties() -> None:
    assert competition_rank(np.array([5.0, 7.0, 7.0, NAN, 1.0])).tolist() == [3, 1, 1, 0, 4]


def test_priority_from_tiers_and_relevance() -> None:
    got = priority_scores(
        np.array([1.0, 4.0, NAN, 2.0]),
        np.array([[3, 0], [3, 3], [1, 1], [0, 0]], dtype=float),
        np.array([1.0, 3.0]),
    )
    np.testing.assert_allclose(got, [62.5, 50.0, NAN, 100 / 3], equal_nan=True)
    with pytest.raises(ValueError, match="positive importance"):
        priority_scores(np.array([1.0]), np.zeros((1, 2)), np.zeros(2))


def test_sensitivity_is_seeded_and_collapses_to_the_point_ranks(small: Framework) -> None:
    r = PropensityScorer(small).fit(hand_panel()).result_
    tight = WeightSensitivity(draws=500, concentration=1e9).fit(
        r.construct_scores, small.construct_weights
    )
    assert tight.result_.rank_p05.tolist() == r.rank.tolist()
    assert tight.result_.rank_p95.tolist() == r.rank.tolist()
    assert tight.result_.top_n == 1  # ceil(0.2 * 4)
    np.testing.assert_allclose(tight.result_.p_top, [0, 0, 1, 0])
    a = WeightSensitivity(draws=2000, seed=7).fit(r.construct_scores, small.construct_weights)
    b = WeightSensitivity(draws=2000, seed=7, chunk=333).fit(
        r.construct_scores, small.construct_weights
    )
    assert a.result_.rank_p05.tolist() == b.result_.rank_p05.tolist()
    assert a.result_.rank_p95.tolist() == b.result_.rank_p95.tolist()
    np.testing.assert_array_equal(a.result_.p_top, b.result_.p_top)
    assert "Dirichlet" in a.result_.summary()


def test_sensitivity_with_no_draws_reports_nothing(small: Framework) -> None:
    r = PropensityScorer(small).fit(hand_panel()).result_
    s = WeightSensitivity(draws=0).fit(r.construct_scores, small.construct_weights).result_
    assert s.rank_p05.tolist() == [0, 0, 0, 0] and np.isnan(s.p_top).all()


def test_dirichlet_weights_sum_to_one_and_keep_zero_weights_zero() -> None:
    w = dirichlet_weights([2.0, 0.0, 1.0], draws=1000, concentration=50, seed=1)
    np.testing.assert_allclose(w.sum(axis=1), 1.0)
    assert (w[:, 1] == 0).all()
    np.testing.assert_allclose(w.mean(axis=0), [2 / 3, 0, 1 / 3], atol=0.01)


def _random_case(seed: int, missing: float) -> tuple[Framework, np.ndarray]:
    rng = np.random.default_rng(seed)
    k, m, n = 5, 14, 40
    lines = ["measure,construct,direction,measure_weight,construct_weight"]
    for j in range(m):
        lines.append(f"m{j},c{j % k},{1 if j % 3 else -1},{1 + j % 3},{1 + (j % k) / 2}")
    fw = parse_framework("\n".join(lines), name="random")
    values = rng.normal(size=(n, m))
    values[rng.random((n, m)) < missing] = np.nan
    values[:, 5] = 1.0  # a measure with one distinct value
    return fw, values


@pytest.mark.parametrize(("seed", "missing"), [(1, 0.0), (2, 0.3), (3, 0.7)])
def test_engine_conforms_to_the_naive_loops(seed: int, missing: float) -> None:
    fw, values = _random_case(seed, missing)
    n = values.shape[0]
    p = panel([f"C{i:02d}" for i in range(n)], list(fw.measures), values.tolist())
    r = PropensityScorer(fw).fit(p).result_
    s = (
        WeightSensitivity(draws=600, seed=seed)
        .fit(r.construct_scores, fw.construct_weights)
        .result_
    )
    draws = dirichlet_weights(fw.construct_weights, draws=600, concentration=50, seed=seed)
    naive = naive_assess(
        fw, [[None if math.isnan(v) else v for v in row] for row in values], draws.tolist()
    )

    def arr(xs: list[float | None]) -> np.ndarray:
        return np.array([NAN if x is None else x for x in xs], dtype=float)

    np.testing.assert_allclose(r.propensity, arr(naive.propensity), equal_nan=True)
    np.testing.assert_allclose(r.completeness, naive.completeness)
    np.testing.assert_allclose(
        r.construct_scores, np.array([arr(row) for row in naive.constructs]), equal_nan=True
    )
    assert r.rank.tolist() == [x or 0 for x in naive.rank]
    assert s.rank_p05.tolist() == [x or 0 for x in naive.rank_p05]
    assert s.rank_p95.tolist() == [x or 0 for x in naive.rank_p95]
    np.testing.assert_allclose(s.p_top, arr(naive.p_top), equal_nan=True)


# Values with two decimals: an affine change keeps distinct values distinct (tiny
# floats such as 1e-204 would collapse onto one value after a shift, by rounding).
values_strategy = st.lists(
    st.one_of(st.none(), st.integers(-(10**6), 10**6).map(lambda v: v / 100)),
    min_size=6,
    max_size=6,
)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(values_strategy, min_size=2, max_size=8),
    scale=st.floats(0.01, 1000),
    shift=st.floats(-1000, 1000),
)
def test_properties_bounds_sums_and_affine_invariance(
    rows: list[list[float | None]], scale: float, shift: float
) -> None:
    fw = parse_framework(
        "measure,construct,direction,measure_weight,construct_weight\n"
        "a,x,1,1,2\nb,x,-1,2,2\nc,y,1,1,1\nd,y,1,0.5,1\ne,z,-1,1,0.5\nf,z,1,1,0.5\n",
        name="prop",
    )
    values = np.array([[NAN if v is None else v for v in row] for row in rows])
    names = [f"C{i}" for i in range(len(rows))]
    r = PropensityScorer(fw).fit(panel(names, list(fw.measures), values.tolist())).result_
    ok = np.isfinite(r.propensity)
    assert ((r.propensity[ok] >= -1e-9) & (r.propensity[ok] <= 100 + 1e-9)).all()
    assert ((r.completeness >= 0) & (r.completeness <= 1 + 1e-12)).all()
    np.testing.assert_allclose(r.contributions.sum(axis=1)[ok], r.propensity[ok], atol=1e-7)
    # Min-max scaling ignores units: a positive affine change of a measure changes nothing.
    moved = values.copy()
    moved[:, 0] = values[:, 0] * scale + shift
    again = PropensityScorer(fw).fit(panel(names, list(fw.measures), moved.tolist())).result_
    np.testing.assert_allclose(again.propensity, r.propensity, atol=1e-6, equal_nan=True)
