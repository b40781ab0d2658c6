"""Least squares with unit fixed effects absorbed and standard errors clustered by unit.

The unit effects are removed by subtracting each unit's mean from the outcome and
every regressor (the within transformation; by the Frisch-Waugh-Lovell theorem this
gives the same slopes as unit dummies, for balanced and unbalanced panels alike).
Time effects, when wanted, are ordinary dummy columns of ``x``.

The covariance is the cluster-robust sandwich (Liang & Zeger 1986; Arellano 1987)
with the small-sample factor ``G/(G-1) * (N-1)/(N-K)`` used by Stata's ``xtreg, fe
vce(cluster)``: ``G`` clusters, ``N`` observations, ``K`` regressors not counting the
absorbed unit effects (they are nested in the clusters, so they cost no degree of
freedom at the cluster level; Cameron & Miller 2015, section IIIB).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from ssaplan.evaluation.engine.results import FloatArray, IntArray


@dataclass(frozen=True)
class OlsFit:
    """Slopes ``beta`` (shape ``(k,)``), their covariance ``cov`` (``(k, k)``) and sizes."""

    beta: FloatArray
    cov: FloatArray
    n_obs: int
    n_clusters: int
    rank: int


def demean(values: FloatArray, groups: IntArray, n_groups: int) -> FloatArray:
    """Subtract each group's mean from each column of ``values`` (shape ``(n, k)``)."""
    n = values.shape[0]
    indicator = sparse.csr_matrix((np.ones(n), (np.arange(n), groups)), shape=(n, n_groups))
    counts = np.asarray(indicator.sum(axis=0)).ravel()
    means = (indicator.T @ values) / np.maximum(counts, 1.0)[:, None]
    return np.asarray(values - indicator @ means)


def within_ols(y: FloatArray, x: FloatArray, units: IntArray) -> OlsFit:
    """Regress ``y`` on ``x`` with unit effects absorbed; cluster by unit.

    Parameters
    ----------
    y : ndarray, shape ``(n,)``
    x : ndarray, shape ``(n, k)``
    units : ndarray of int, shape ``(n,)``
        Unit code of each observation, ``0 .. G-1`` (codes without observations are
        allowed and ignored).

    Returns
    -------
    OlsFit
        ``rank < k`` means some regressors are collinear (after absorbing the unit
        effects); the caller decides what that means for its method.
    """
    codes, units = np.unique(units, return_inverse=True)
    g = codes.size
    stacked = demean(np.column_stack([y, x]), units, g)
    yw, xw = stacked[:, 0], stacked[:, 1:]
    n, k = xw.shape
    beta, _, rank, _ = np.linalg.lstsq(xw, yw, rcond=None)
    resid = yw - xw @ beta
    bread = np.linalg.pinv(xw.T @ xw)
    scores = sparse.csr_matrix((np.ones(n), (units, np.arange(n))), shape=(g, n)) @ (
        xw * resid[:, None]
    )
    meat = scores.T @ scores
    factor = (g / (g - 1.0)) * ((n - 1.0) / (n - k)) if g > 1 and n > k else np.nan
    cov = factor * bread @ meat @ bread
    return OlsFit(np.asarray(beta), np.asarray(cov), n, g, int(rank))
