"""Synthetic control: the simplex solver is exact; a planted effect and weights come back."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize

from ssaplan.evaluation.engine import Panel, simplex_least_squares, simplex_qp, synthetic_control


def _slsqp_best(a: np.ndarray, b: np.ndarray, rng: np.random.Generator, starts: int = 2) -> float:
    k = a.shape[1]
    best = np.inf
    for s in range(starts):
        w0 = np.ones(k) / k if s == 0 else rng.dirichlet(np.ones(k))
        r = minimize(
            lambda w: float(np.sum((b - a @ w) ** 2)),
            w0,
            jac=lambda w: -2 * a.T @ (b - a @ w),
            method="SLSQP",
            bounds=[(0, 1)] * k,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
            options={"ftol": 1e-14, "maxiter": 500},
        )
        w = np.clip(r.x, 0, None)
        best = min(best, float(np.sum((b - a @ (w / w.sum())) ** 2)))
    return best


def test_simplex_least_squares_is_optimal_and_feasible() -> None:
    rng = np.random.default_rng(0)
    for trial in range(30):
        small = trial < 3  # also checked against SLSQP, which is slow
        n, k = (8, 10) if small else (int(rng.integers(3, 25)), int(rng.integers(2, 30)))
        a = rng.normal(size=(n, k)) * 50
        b = a @ rng.dirichlet(np.ones(k)) if trial % 3 == 0 else rng.normal(size=n) * 50
        w = simplex_least_squares(a, b)
        assert w.min() >= 0 and abs(w.sum() - 1) < 1e-12
        if small:  # the KKT check below proves optimality; SLSQP is a second opinion
            f = float(np.sum((b - a @ w) ** 2))
            assert f <= _slsqp_best(a, b, rng) + 1e-7 * max(1.0, float(b @ b))
        # KKT: the gradient is equal on the support and no smaller off it (to within
        # the solver's 1e-10 ridge on a problem of this scale).
        g = a.T @ (a @ w - b)
        on = w > 1e-9
        level = g[on].mean()
        tol = 1e-8 * float(np.mean(np.sum(a**2, axis=0)))
        assert np.allclose(g[on], level, atol=tol)
        assert (g[~on] >= level - tol).all()


def test_simplex_warm_start_gives_the_same_answer() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(10, 20)), rng.normal(size=10)
    cold = simplex_qp(a.T @ a, a.T @ b)
    for start in (cold, np.ones(20) / 20, rng.dirichlet(np.ones(20))):
        warm = simplex_qp(a.T @ a, a.T @ b, start=start)
        assert np.allclose(warm, cold, atol=1e-8)
    assert simplex_qp(np.ones((1, 1)), np.ones(1)).tolist() == [1.0]


def _factor_panel(
    rng: np.random.Generator, effect: float = -10.0, noise: float = 0.3
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Donors share two latent trends and each has its own random walk; the treated unit
    is 0.6 A + 0.4 B (so no other mix of donors tracks it), then an effect from 2010."""
    periods = np.arange(1990, 2020)
    f1 = np.cumsum(rng.normal(1.0, 1.0, periods.size))
    f2 = np.cumsum(rng.normal(-0.5, 1.0, periods.size))
    names = ["A", "B", "C", "D", "E", "F", *(f"X{i}" for i in range(10))]
    paths = {
        name: rng.uniform(20, 80)
        + rng.normal(1, 0.5) * f1
        + rng.normal(1, 0.5) * f2
        + np.cumsum(rng.normal(0, 3.0, periods.size))
        for name in names
    }
    truth = {"A": 0.6, "B": 0.4}
    treated = 0.6 * paths["A"] + 0.4 * paths["B"] + effect * (periods >= 2010)
    rows = [("T", p, v) for p, v in zip(periods, treated, strict=True)]
    for name, path in paths.items():
        rows += [(name, p, v + rng.normal(scale=noise)) for p, v in zip(periods, path, strict=True)]
    return pd.DataFrame(rows, columns=["unit", "year", "y"]), truth


def test_synthetic_control_recovers_a_planted_effect_and_its_weights() -> None:
    frame, truth = _factor_panel(np.random.default_rng(2))
    panel = Panel.from_frame(frame, unit="unit", time="year", outcome="y")
    r = synthetic_control(panel, "T", 2010)
    weights = dict(r.weights)
    for unit, w in truth.items():
        assert abs(weights[unit] - w) < 0.1, (unit, weights)
    assert abs(r.estimate - (-10.0)) < 1.0
    assert all(abs(r.gap_at(t) + 10) < 2 for t in range(2010, 2020))
    assert r.pre_rmspe < 0.6
    # A -10 effect against 0.3 noise: no placebo comes close, rank 1 of 17.
    assert r.rank == 1 and r.placebo_p == pytest.approx(1 / 17)
    # The placebo SE (Arkhangelsky et al. 2021, Algorithm 4) is the spread of the
    # placebo estimates; donors with their own random walks fit each other poorly.
    assert r.std_error == pytest.approx(float(np.std([p.estimate for p in r.placebos])))
    assert (r.n_treated, r.n_control, r.n_pre, r.n_post) == (1, 16, 20, 10)


def test_without_an_effect_the_treated_unit_is_not_extreme() -> None:
    frame, _ = _factor_panel(np.random.default_rng(3), effect=0.0, noise=1.0)
    panel = Panel.from_frame(frame, unit="unit", time="year", outcome="y")
    r = synthetic_control(panel, "T", 2010)
    assert r.placebo_p is not None and r.placebo_p > 1 / 17
    assert abs(r.estimate) < 2


def test_synth_result_json_and_text() -> None:
    frame, _ = _factor_panel(np.random.default_rng(4))
    r = synthetic_control(Panel.from_frame(frame, unit="unit", time="year", outcome="y"), "T", 2010)
    d = r.as_dict()
    json.dumps(d, allow_nan=False)
    for key in (
        "estimate",
        "std_error",
        "ci_low",
        "ci_high",
        "n_treated",
        "n_control",
        "placebo_p",
        "pre_rmspe",
    ):
        assert key in d
    assert d["gaps"][0].keys() == {"time", "treated", "synthetic", "gap"}
    assert d["gaps"][0]["time"] == 1990 and isinstance(d["gaps"][0]["time"], int)
    assert abs(sum(w["weight"] for w in d["weights"]) - 1) < 1e-4
    assert len(d["placebos"]) == 16 and len(d["placebos"][0]["gaps"]) == 30
    assert "synthetic control for T from 2010" in r.summary()
    no_placebos = synthetic_control(
        Panel.from_frame(frame, unit="unit", time="year", outcome="y"),
        "T",
        2010,
        placebos=False,
    )
    assert no_placebos.placebo_p is None and no_placebos.as_dict()["std_error"] is None


def test_predictors_with_given_v_and_donor_pool() -> None:
    rng = np.random.default_rng(5)
    frame, _ = _factor_panel(rng)
    frame["z"] = rng.normal(size=len(frame))
    panel = Panel.from_frame(frame, unit="unit", time="year", outcome="y", covariates=["z"])
    r = synthetic_control(
        panel,
        "T",
        2010,
        donors=["A", "B", "C", "D"],
        predictors=["z"],
        lags=[1995, 2000, 2005, 2009],
        v=[0.01, 1, 1, 1, 1],
    )
    assert r.n_control == 4 and {u for u, _ in r.weights} <= {"A", "B", "C", "D"}
    assert r.predictors == ("z", "y@1995", "y@2000", "y@2005", "y@2009")
    assert abs(r.estimate + 10) < 2
    optimized = synthetic_control(
        panel,
        "T",
        2010,
        donors=["A", "B", "C", "D"],
        predictors=["z"],
        lags=[1995, 2000, 2005, 2009],
        v="optimize",
        placebos=False,
    )
    assert optimized.pre_rmspe <= r.pre_rmspe + 1e-9  # V chosen to minimize exactly this
