"""Simulated panels with known effects, for the estimators to recover."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

Effect = Callable[[int, int], float]  # (cohort position, period position) -> effect


def homogeneous(size: float) -> Effect:
    return lambda g, t: size


def growing(per_period: float) -> Effect:
    """Effect ``per_period * (exposure + 1)``: 1x in the first treated period, 2x next..."""
    return lambda g, t: per_period * (t - g + 1)


def staggered(
    rng: np.random.Generator,
    *,
    units: int = 120,
    periods: int = 8,
    cohorts: Sequence[int | None] = (2, 5, None),
    shares: Sequence[float] = (0.4, 0.4, 0.2),
    effect: Effect | None = None,
    noise: float = 1.0,
    trend_gap: float = 0.0,
    covariate_trend: float = 0.0,
) -> tuple[pd.DataFrame, float]:
    """A staggered-adoption panel and its true ATT (the mean effect over treated unit-periods).

    ``cohorts`` are first treated periods (positions; ``None`` = never treated) assigned
    in proportions ``shares``. ``trend_gap`` adds a linear trend to treated units only
    (a parallel-trends violation). ``covariate_trend`` makes the trend depend on a
    time-invariant covariate ``x`` that is higher among treated units (parallel trends
    hold only conditionally on ``x``).
    """
    effect = effect or homogeneous(1.0)
    counts = np.round(np.asarray(shares) * units).astype(int)
    counts[-1] = units - counts[:-1].sum()
    cohort = np.repeat(np.arange(len(cohorts)), counts)
    first = [cohorts[c] for c in cohort]
    treated_unit = np.array([f is not None for f in first])
    x = rng.normal(size=units) + 1.0 * treated_unit
    alpha = rng.normal(scale=2.0, size=units)
    lam = np.cumsum(rng.normal(scale=0.5, size=periods))
    g = np.array([np.inf if f is None else f for f in first])[:, None]  # (units, 1)
    t = np.arange(periods)[None, :]
    d = (t >= g).astype(int)
    tau = np.zeros((units, periods))
    for i, j in zip(*np.nonzero(d), strict=True):
        tau[i, j] = effect(int(g[i, 0]), int(j))
    y = (
        alpha[:, None]
        + lam[None, :]
        + tau
        + trend_gap * t * treated_unit[:, None]
        + covariate_trend * x[:, None] * t
        + rng.normal(scale=noise, size=(units, periods))
    )
    frame = pd.DataFrame(
        {
            "unit": np.repeat([f"u{i:03d}" for i in range(units)], periods),
            "year": np.tile(2000 + np.arange(periods), units),
            "y": y.ravel(),
            "d": d.ravel(),
            "x": np.repeat(x, periods),
        }
    )
    return frame, float(tau[d == 1].mean())
