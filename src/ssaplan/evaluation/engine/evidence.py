"""Pooling effect estimates across evaluations, and what the pool means for allocation.

**Pooling** (:func:`pool_effects`): ``k`` estimates ``y_i`` of one kind of program with
standard errors ``s_i``, on a common scale (standardized effects, in standard
deviations of the outcome), are combined by inverse-variance weights:

- fixed (common) effect: ``w_i = 1/s_i^2``, ``y_F = sum(w y)/sum(w)``, SE ``1/sqrt(sum w)``;
- heterogeneity: Cochran's ``Q = sum w (y - y_F)^2`` on ``k-1`` degrees of freedom;
  the between-evaluation variance by the method of moments of DerSimonian & Laird
  (1986, "Meta-analysis in clinical trials", *Controlled Clinical Trials* 7(3)):
  ``tau^2 = max(0, (Q - (k-1)) / (sum w - sum w^2 / sum w))``; and
  ``I^2 = max(0, (Q - (k-1)) / Q)``, the share of the variation among estimates that
  is heterogeneity rather than chance (Higgins & Thompson 2002, "Quantifying
  heterogeneity in a meta-analysis", *Statistics in Medicine* 21(11));
- random effects (the pooled ``estimate``): ``w*_i = 1/(s_i^2 + tau^2)``,
  ``y_R = sum(w* y)/sum(w*)``, SE ``1/sqrt(sum w*)``, normal interval;
- prediction interval for the effect of one more program of the kind (Higgins,
  Thompson & Spiegelhalter 2009, *JRSS A* 172(1)): ``y_R +- t_{k-2} sqrt(tau^2 + SE^2)``,
  for ``k >= 3``.

Checked against metafor's DerSimonian-Laird result on the BCG vaccine trials
(``tests/evaluation/test_evidence.py``).

**Allocation value** (:func:`effectiveness_multiplier`): the allocation model values
money for a kind of program as if it achieved a reference effect
:data:`REFERENCE_EFFECT`; the evidence moves that belief. With a normal prior on the
effect of the next program of the kind, mean :data:`REFERENCE_EFFECT` and SD
:data:`PRIOR_SD`, and the pooled estimate ``y_R`` observed with predictive variance
``v = SE^2 + tau^2`` (the pooled mean's uncertainty plus the spread of true effects
between programs), the posterior mean is::

    m_post = (REFERENCE_EFFECT / PRIOR_SD^2 + y_R / v) / (1 / PRIOR_SD^2 + 1 / v)

and the multiplier is ``clip(m_post / REFERENCE_EFFECT, 0, MAX_MULTIPLIER)``: 1 without
evidence or with evidence of exactly the reference effect, below 1 when evaluations
found less, 0 when they found harm, at most :data:`MAX_MULTIPLIER`; imprecise or
heterogeneous evidence moves it little.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.results import critical_value, rounded

#: The effect (in standard deviations of the outcome) the allocation assumes a kind of
#: program achieves when there is no evidence: a multiplier of 1 means "this much".
REFERENCE_EFFECT = 0.1
#: The spread of that assumption (prior SD, standard deviations of the outcome): how
#: far from the reference a kind's true effect plausibly is before any evaluation.
PRIOR_SD = 0.1
#: The largest multiplier evidence can earn (three times the reference effect's value).
MAX_MULTIPLIER = 3.0


@dataclass(frozen=True)
class PooledEffect:
    """Estimates of one kind of program pooled: fixed and random effects, heterogeneity.

    ``estimate``/``std_error``/``ci_low``/``ci_high`` are the DerSimonian-Laird random
    effects result, in the units of the inputs. ``tau2`` is the between-evaluation
    variance, ``i2`` the share of variation due to heterogeneity (``None`` when
    ``k == 1`` or ``Q == 0``), ``q``/``q_p`` Cochran's test of homogeneity (``None`` for
    ``k == 1``), ``prediction_low``/``prediction_high`` the prediction interval
    (``None`` for ``k < 3``).
    """

    k: int
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    fixed: float
    fixed_se: float
    tau2: float
    q: float | None
    q_p: float | None
    i2: float | None
    prediction_low: float | None
    prediction_high: float | None
    alpha: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "estimate": rounded(self.estimate),
            "std_error": rounded(self.std_error),
            "ci_low": rounded(self.ci_low),
            "ci_high": rounded(self.ci_high),
            "fixed": rounded(self.fixed),
            "fixed_se": rounded(self.fixed_se),
            "tau2": rounded(self.tau2),
            "q": rounded(self.q),
            "q_p": rounded(self.q_p),
            "i2": rounded(self.i2),
            "prediction_low": rounded(self.prediction_low),
            "prediction_high": rounded(self.prediction_high),
            "alpha": self.alpha,
        }


def pool_effects(
    effects: Sequence[float], std_errors: Sequence[float], *, alpha: float = 0.05
) -> PooledEffect:
    """Pool ``k`` independent estimates by inverse-variance weights (DerSimonian-Laird).

    Parameters
    ----------
    effects : sequence of float, length k >= 1
        The estimates, all on one scale (e.g. standardized effects).
    std_errors : sequence of float, length k
        Their standard errors, each positive and finite.
    alpha : float
        1 - confidence level of the interval, default 0.05.

    Raises
    ------
    Invalid
        No estimates, lengths differ, or an estimate or SE is not a finite number
        (SEs must be positive).
    """
    y = np.asarray(effects, dtype=float)
    s = np.asarray(std_errors, dtype=float)
    if y.size == 0:
        raise Invalid(
            "no estimates to pool",
            [Detail(("estimates",), "pooling needs at least one estimate with its SE")],
        )
    if y.shape != s.shape:
        raise Invalid(
            "estimates and standard errors differ in number",
            [Detail(("std_errors",), f"{y.size} estimates but {s.size} standard errors")],
        )
    bad = [
        Detail(("estimates", i), f"estimate {y[i]!r} with SE {s[i]!r}: both must be finite, SE > 0")
        for i in range(y.size)
        if not (math.isfinite(y[i]) and math.isfinite(s[i]) and s[i] > 0)
    ]
    if bad:
        raise Invalid("an estimate cannot be pooled", bad)
    k = int(y.size)
    w = 1.0 / s**2
    fixed = float(np.sum(w * y) / np.sum(w))
    fixed_se = float(1.0 / math.sqrt(float(np.sum(w))))
    q = q_p = i2 = None
    tau2 = 0.0
    if k > 1:
        q = float(np.sum(w * (y - fixed) ** 2))
        c = float(np.sum(w) - np.sum(w**2) / np.sum(w))
        tau2 = max(0.0, (q - (k - 1)) / c) if c > 0 else 0.0
        q_p = float(stats.chi2.sf(q, k - 1))
        i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else None
    w_star = 1.0 / (s**2 + tau2)
    estimate = float(np.sum(w_star * y) / np.sum(w_star))
    se = float(1.0 / math.sqrt(float(np.sum(w_star))))
    z = critical_value(alpha)
    low = high = None
    if k >= 3:
        t = float(stats.t.ppf(1 - alpha / 2, k - 2))
        half = t * math.sqrt(tau2 + se**2)
        low, high = estimate - half, estimate + half
    return PooledEffect(
        k=k,
        estimate=estimate,
        std_error=se,
        ci_low=estimate - z * se,
        ci_high=estimate + z * se,
        fixed=fixed,
        fixed_se=fixed_se,
        tau2=tau2,
        q=q,
        q_p=q_p,
        i2=i2,
        prediction_low=low,
        prediction_high=high,
        alpha=alpha,
    )


def effectiveness_multiplier(
    pooled: float | None,
    std_error: float | None,
    tau2: float = 0.0,
    *,
    reference: float = REFERENCE_EFFECT,
    prior_sd: float = PRIOR_SD,
    cap: float = MAX_MULTIPLIER,
) -> float:
    """The allocation value multiplier of a kind of program given its pooled effect.

    ``pooled`` and ``std_error`` in standardized units (``None``: no evidence, 1.0);
    ``tau2`` the between-evaluation variance. See the module docstring for the formula.
    """
    if pooled is None or std_error is None:
        return 1.0
    v = std_error**2 + tau2
    if v <= 0:
        posterior = pooled
    else:
        prior_precision, data_precision = 1.0 / prior_sd**2, 1.0 / v
        posterior = (reference * prior_precision + pooled * data_precision) / (
            prior_precision + data_precision
        )
    return float(min(max(posterior / reference, 0.0), cap))


def standard_error_from_interval(low: float, high: float, level: float = 0.95) -> float:
    """The SE a normal interval ``[low, high]`` at confidence ``level`` implies."""
    return (high - low) / (2.0 * critical_value(1.0 - level))
