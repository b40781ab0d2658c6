"""Minimum detectable effects: textbook values and the design trade-offs they imply."""

from __future__ import annotations

import json

import pytest
from scipy import stats

from ssaplan.core.errors import Invalid
from ssaplan.evaluation.engine import minimum_detectable_effect


def test_large_sample_multiplier_is_2_8() -> None:
    # Bloom (1995): 1.96 + 0.84 = 2.80 SEs for a two-sided 5% test with 80% power.
    r = minimum_detectable_effect(
        n_treated=50, n_control=50, sd=1.0, pre_periods=0, distribution="normal"
    )
    assert r.multiplier == pytest.approx(2.8016, abs=1e-4)
    assert r.std_error == pytest.approx(0.2)  # sqrt(1/50 + 1/50)
    assert r.mde == pytest.approx(0.5603, abs=1e-4) and r.df is None


def test_did_variance_matches_the_formula() -> None:
    r = minimum_detectable_effect(
        n_treated=20, n_control=40, sd=2.0, icc=0.5, pre_periods=3, post_periods=3
    )
    design = (1 + 2 * 0.5) / 3 * 2 - 2 * 0.5  # McKenzie (2012), m = r = 3, rho = .5
    se = 2.0 * ((1 / 20 + 1 / 40) * design) ** 0.5
    multiplier = stats.t.ppf(0.975, 58) + stats.t.ppf(0.8, 58)
    assert r.std_error == pytest.approx(se)
    assert r.mde == pytest.approx(multiplier * se)
    assert r.mde_sd == pytest.approx(r.mde / 2.0)


def test_design_trade_offs() -> None:
    def mde(**kw: float) -> float:
        base = {"n_treated": 10, "n_control": 10, "sd": 1.0, "icc": 0.6}
        return minimum_detectable_effect(**{**base, **kw}).mde  # type: ignore[arg-type]

    assert mde(n_treated=40, n_control=40) < mde()  # more units
    assert mde(pre_periods=4, post_periods=4) < mde()  # more periods, correlated outcome
    assert mde(icc=0.9) < mde(icc=0.1)  # DiD differences out persistent unit levels
    assert mde(power=0.9) > mde() and mde(alpha=0.01) > mde()
    assert mde(pre_periods=0, icc=0.0) < mde(pre_periods=1, icc=0.0)  # a noisy baseline costs


def test_bad_design_and_json() -> None:
    with pytest.raises(Invalid) as e:
        minimum_detectable_effect(n_treated=0, n_control=1, sd=0, icc=1.0, post_periods=0)
    assert len(e.value.details) == 4
    d = minimum_detectable_effect(n_treated=5, n_control=5, sd=3.0).as_dict()
    json.dumps(d, allow_nan=False)
    assert d["method"] == "mde" and d["df"] == 8
