"""Minimum detectable effect of a planned difference-in-differences evaluation.

The minimum detectable effect (MDE) is the smallest true effect that a design would
find significant (two-sided level ``alpha``) with probability ``power``
(Bloom 1995, "Minimum detectable effects: a simple way to report the statistical power
of experimental designs", *Evaluation Review* 19(5), 547-556)::

    MDE = (t_{1 - alpha/2, df} + t_{power, df}) * SE

(the far rejection tail is ignored, as usual). With ``n_T`` treated and ``n_C``
control units, each observed ``m`` periods before and ``r`` periods after the start,
an outcome with residual standard deviation ``sigma`` and a correlation ``rho`` between
any two periods of the same unit (the intra-cluster correlation with units as
clusters), the DiD of unit means has::

    SE^2 = sigma^2 (1/n_T + 1/n_C) [ (1 + (r-1) rho)/r + (1 + (m-1) rho)/m - 2 rho ]

(McKenzie 2012, "Beyond baseline and follow-up: the case for more T in experiments",
*J. Development Economics* 99(2), eq. for the difference-in-differences estimator;
derived from Var(post mean - pre mean) of one unit under equicorrelation). With
``m = 0`` (no baseline) it is the post-only comparison of Duflo, Glennerster & Kremer
(2007, "Using randomization in development economics research: a toolkit", in
*Handbook of Development Economics* vol. 4, the clustered-design MDE):
``SE^2 = sigma^2 (1/n_T + 1/n_C) (1 + (r-1) rho)/r``. Degrees of freedom are those of
the unit-level comparison, ``n_T + n_C - 2``; ``distribution="normal"`` uses 1.96 + 0.84
(the large-sample multiplier 2.80 for 5% and 80%).

The formula assumes units are independent, effects are homogeneous and the
correlation is the same for any two periods; serially correlated shocks that decay
(AR(1)) make pre-post differences less noisy than equicorrelation implies for nearby
periods and noisier for distant ones.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.results import rounded


@dataclass(frozen=True)
class MdeResult:
    """The MDE in outcome units and in standard deviations, with the design behind it."""

    mde: float
    mde_sd: float
    std_error: float
    multiplier: float
    df: int | None
    alpha: float
    power: float
    n_treated: int
    n_control: int
    pre_periods: int
    post_periods: int
    sd: float
    icc: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "mde",
            "mde": rounded(self.mde),
            "mde_sd": rounded(self.mde_sd),
            "std_error": rounded(self.std_error),
            "multiplier": rounded(self.multiplier),
            "df": self.df,
            "alpha": self.alpha,
            "power": self.power,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "pre_periods": self.pre_periods,
            "post_periods": self.post_periods,
            "sd": self.sd,
            "icc": self.icc,
        }

    def summary(self) -> str:
        design = (
            f"{self.n_treated} treated and {self.n_control} control units, "
            f"{self.pre_periods} periods before and {self.post_periods} after"
        )
        return "\n".join(
            [
                f"minimum detectable effect {rounded(self.mde, 4):g} "
                f"({rounded(self.mde_sd, 4):g} standard deviations)",
                f"  {design}; outcome SD {self.sd:g}, within-unit correlation {self.icc:g}",
                f"  two-sided alpha {self.alpha:g}, power {self.power:g}: multiplier "
                f"{rounded(self.multiplier, 4):g} x SE {rounded(self.std_error, 4):g}",
            ]
        )


def minimum_detectable_effect(
    *,
    n_treated: int,
    n_control: int,
    sd: float,
    icc: float = 0.0,
    pre_periods: int = 1,
    post_periods: int = 1,
    alpha: float = 0.05,
    power: float = 0.8,
    distribution: str = "t",
) -> MdeResult:
    """MDE of a DiD (or, with ``pre_periods=0``, post-only) comparison of unit means.

    Parameters
    ----------
    n_treated, n_control : int
        Units (e.g. partner countries or districts) in each arm, at least 1 each and
        3 together.
    sd : float
        Residual standard deviation of the outcome, in outcome units (> 0).
    icc : float
        Correlation between two periods of the same unit, in [0, 1). Default 0.
    pre_periods, post_periods : int
        Periods observed before (>= 0) and after (>= 1) the start. Default 1 and 1.
    alpha : float
        Two-sided significance level, default 0.05.
    power : float
        Probability of detecting an effect of the MDE's size, default 0.8.
    distribution : {"t", "normal"}
        Critical values from Student's t with ``n_treated + n_control - 2`` degrees of
        freedom (default) or the normal.
    """
    problems = []
    if n_treated < 1 or n_control < 1 or n_treated + n_control < 3:
        problems.append(
            Detail(("n_treated",), "need at least 1 treated, 1 control and 3 units in all")
        )
    if not sd > 0:
        problems.append(Detail(("sd",), "the residual SD must be positive"))
    if not 0 <= icc < 1:
        problems.append(Detail(("icc",), "the within-unit correlation must be in [0, 1)"))
    if pre_periods < 0 or post_periods < 1:
        problems.append(Detail(("post_periods",), "need pre_periods >= 0 and post_periods >= 1"))
    if not 0 < alpha < 1 or not 0 < power < 1:
        problems.append(Detail(("alpha",), "alpha and power must be in (0, 1)"))
    if distribution not in ("t", "normal"):
        problems.append(Detail(("distribution",), "use t or normal"))
    if problems:
        raise Invalid("the planned design cannot be assessed", problems)
    m, r, rho = pre_periods, post_periods, icc
    design = (1 + (r - 1) * rho) / r
    if m > 0:
        design += (1 + (m - 1) * rho) / m - 2 * rho
    se = sd * math.sqrt((1 / n_treated + 1 / n_control) * design)
    if distribution == "t":
        df: int | None = n_treated + n_control - 2
        multiplier = float(stats.t.ppf(1 - alpha / 2, df) + stats.t.ppf(power, df))
    else:
        df = None
        multiplier = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return MdeResult(
        mde=multiplier * se,
        mde_sd=multiplier * se / sd,
        std_error=se,
        multiplier=multiplier,
        df=df,
        alpha=alpha,
        power=power,
        n_treated=n_treated,
        n_control=n_control,
        pre_periods=pre_periods,
        post_periods=post_periods,
        sd=sd,
        icc=icc,
    )
