"""Difference-in-differences by two-way fixed effects, clustered by unit.

``y_it = a_i + l_t + beta * D_it + x_it' gamma + e_it``, estimated by least squares with
unit effects absorbed and time dummies; ``beta`` is reported with a cluster-robust
(by unit) standard error (see :mod:`ssaplan.evaluation.engine.ols`).

``beta`` is the average treatment effect on the treated only when the effect is the
same for every cohort and period. With staggered adoption and effects that change
with exposure it is a weighted average of cohort contrasts some of whose weights are
negative, and can have the wrong sign (Goodman-Bacon 2021; de Chaisemartin &
D'Haultfoeuille 2020); use ``cs`` or ``sa`` then.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.data import NEVER, Panel
from ssaplan.evaluation.engine.ols import within_ols
from ssaplan.evaluation.engine.results import DidResult, critical_value


def estimate_twfe(
    panel: Panel, *, covariates: Sequence[str] = (), alpha: float = 0.05
) -> DidResult:
    """Two-way fixed effects DiD of ``panel.y`` on ``panel.d``.

    Parameters
    ----------
    panel : Panel
        Needs a treated indicator. Unit-periods with a missing outcome (or covariate)
        are left out; the panel need not be balanced.
    covariates : sequence of str
        Names of panel covariates entered linearly (time-varying controls). Default none.
    alpha : float
        1 - confidence level of the interval, default 0.05 (a 95% interval).

    Returns
    -------
    DidResult
        ``method="twfe"``; ``pretrend`` is ``None`` and ``event_study`` empty.
    """
    _require_indicator(panel, "twfe")
    usable = panel.observed & ~np.isnan(panel.y)
    cov_mats = [panel.covariate(c) for c in covariates]
    for m in cov_mats:
        usable &= ~np.isnan(m)
    unit_idx, time_idx = np.nonzero(usable)
    d = panel.d[unit_idx, time_idx]
    check_controls_exist(panel, usable, "twfe")
    periods = np.unique(time_idx)
    dummies = (time_idx[:, None] == periods[None, 1:]).astype(float)
    x = np.column_stack([d, dummies, *[m[unit_idx, time_idx] for m in cov_mats]])
    fit = within_ols(panel.y[unit_idx, time_idx], x, unit_idx)
    if fit.rank < x.shape[1]:
        raise Invalid(
            "the regressors are collinear",
            [
                Detail(
                    ("covariates",),
                    "after removing unit and period effects the treated indicator and the "
                    f"covariates ({', '.join(covariates) or 'none'}) are linearly dependent: "
                    "drop covariates that are constant within units or periods",
                )
            ],
        )
    beta, se = float(fit.beta[0]), float(np.sqrt(fit.cov[0, 0]))
    z = critical_value(alpha)
    sample_units = np.unique(unit_idx)
    ever = panel.cohort[sample_units] != NEVER
    return DidResult(
        method="twfe",
        estimate=beta,
        std_error=se,
        ci_low=beta - z * se,
        ci_high=beta + z * se,
        alpha=alpha,
        n_treated=int(ever.sum()),
        n_control=int((~ever).sum()),
        n_units=int(sample_units.size),
        n_periods=int(periods.size),
        n_obs=fit.n_obs,
        control=None,
        covariates=tuple(covariates),
        aggregation=None,
        pretrend=None,
        notes=(
            "two-way fixed effects is biased when effects differ across cohorts or grow "
            "with exposure; compare with method cs or sa",
        ),
    )


def _require_indicator(panel: Panel, method: str) -> None:
    if panel.treated is None:
        raise Invalid(
            "no treated indicator",
            [Detail(("treated",), f"method {method} needs a 0/1 treated column")],
        )


def check_controls_exist(panel: Panel, usable: np.ndarray, method: str) -> None:
    """Refuse a panel where no treated unit has a pre-period or no comparison exists."""
    d = np.where(usable, panel.d, np.nan)
    ever = (d == 1).any(axis=1)
    if not ever.any():
        raise Invalid(
            "no treated unit-periods",
            [
                Detail(
                    (panel.treated or "treated",),
                    f"method {method} needs some unit-periods with treated = 1",
                )
            ],
        )
    switchers = ever & (d == 0).any(axis=1)
    if not switchers.any():
        raise Invalid(
            "too few pre-periods",
            [
                Detail(
                    (panel.treated or "treated",),
                    f"method {method} needs at least 1 observed period before treatment for "
                    "some treated unit, but every treated unit is treated in all its "
                    "periods: add earlier periods",
                )
            ],
        )
    both = ((d == 1).any(axis=0) & (d == 0).any(axis=0)).any()
    if not both:
        raise Invalid(
            "no never-treated or not-yet-treated controls",
            [
                Detail(
                    (panel.treated or "treated",),
                    f"method {method} needs, in some treated period, units that are not "
                    "(yet) treated; here every unit is treated from the same period on: "
                    "add untreated comparison units",
                )
            ],
        )
