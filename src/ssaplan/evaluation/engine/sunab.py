"""Sun & Abraham (2021) interaction-weighted event study.

Sun, L. and Abraham, S. (2021), "Estimating dynamic treatment effects in event studies
with heterogeneous treatment effects", *Journal of Econometrics* 225(2), 175-199.

One regression with unit and period effects and a dummy for every treated cohort ``g``
x relative period ``l`` (``l = t - g``), except ``l = -1``, the reference::

    y_it = a_i + l_t + sum_{g, l != -1} delta_{g,l} 1{G_i = g} 1{t - G_i = l} + e_it

The control cohort has no dummies: the never-treated units (``control="never"``), or
the last-treated cohort (``control="last"``, with the never-treated if any, and only
the periods before the last cohort's first treated period). Each ``delta_{g,l}`` is
then a clean DiD of cohort ``g`` against the control cohort between ``g - 1`` and
``g + l``, free of the contamination by other relative periods that a pooled event
study suffers. The event-study coefficient ``nu_l`` averages ``delta_{g,l}`` over the
cohorts observed at ``l``, weighted by their share of observations at ``l`` (the
cohort shares); ``estimate`` averages all post-treatment ``delta_{g,l}`` weighted by
their number of observations (the average effect on treated unit-periods).

Standard errors are cluster-robust by unit (:mod:`~ssaplan.evaluation.engine.ols`); the
cohort shares are treated as known when aggregating (as R ``fixest::aggregate`` does),
which slightly understates uncertainty when shares are estimated from a sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.data import NEVER, Panel
from ssaplan.evaluation.engine.ols import within_ols
from ssaplan.evaluation.engine.results import (
    Coefficient,
    DidResult,
    FloatArray,
    wald_test,
)
from ssaplan.evaluation.engine.twfe import _require_indicator

CONTROLS = ("never", "last")


def estimate_sa(
    panel: Panel,
    *,
    control: str = "never",
    covariates: Sequence[str] = (),
    alpha: float = 0.05,
) -> DidResult:
    """Sun-Abraham cohort x relative-period regression, aggregated by cohort shares.

    Parameters
    ----------
    panel : Panel
        Needs a treated indicator. Unit-periods with a missing outcome (or covariate)
        are left out; units treated from the first period and cohorts not observed in
        the period before treatment are dropped (noted).
    control : {"never", "last"}
        The control cohort: never-treated units (default) or the last-treated cohort.
    covariates : sequence of str
        Panel covariates entered linearly. Default none.
    alpha : float
        1 - confidence level, default 0.05.

    Returns
    -------
    DidResult
        ``event_study`` holds ``nu_l`` per relative period with the reference period
        -1 at 0; ``group_time`` the ``delta_{g,l}`` keyed by (cohort, period);
        ``pretrend`` the Wald test that all ``delta_{g,l}`` with ``l <= -2`` are zero.
    """
    _require_indicator(panel, "sa")
    if control not in CONTROLS:
        raise Invalid(
            f"unknown control cohort {control!r}",
            [Detail(("control",), f"method sa compares with {' or '.join(CONTROLS)} units")],
        )
    notes: list[str] = []
    usable = panel.observed & ~np.isnan(panel.y)
    cov_mats = [panel.covariate(c) for c in covariates]
    for m in cov_mats:
        usable &= ~np.isnan(m)
    cohort = panel.cohort
    always = cohort == 0
    if always.any():
        notes.append(
            f"{int(always.sum())} units treated from the first period were dropped (no pre-period)"
        )
        usable &= ~always[:, None]
    treated_cohorts = np.unique(cohort[(cohort > 0) & usable.any(axis=1)])
    if treated_cohorts.size == 0:
        raise Invalid(
            "too few pre-periods",
            [
                Detail(
                    (panel.treated or "treated",),
                    "method sa needs treated units observed at least 1 period before their "
                    "first treated period (the reference period -1): add earlier periods",
                )
            ],
        )
    never = cohort == NEVER
    if control == "never":
        if not (never & usable.any(axis=1)).any():
            raise Invalid(
                "no never-treated controls",
                [
                    Detail(
                        (panel.treated or "treated",),
                        "method sa with control never needs never-treated units; this "
                        "panel has none: use control last (the last-treated cohort) or "
                        "method cs with control notyet",
                    )
                ],
            )
        is_control = never
    else:
        last = int(treated_cohorts.max())
        if treated_cohorts.size < 2 and not never.any():
            raise Invalid(
                "no not-yet-treated controls",
                [
                    Detail(
                        (panel.treated or "treated",),
                        "method sa with control last needs a second, later-treated cohort "
                        "or never-treated units to compare with",
                    )
                ],
            )
        usable &= np.arange(panel.n_periods)[None, :] < last
        is_control = never | (cohort == last)
        treated_cohorts = treated_cohorts[treated_cohorts != last]
        notes.append(
            f"control cohort: units first treated in {panel.time_label(last)}"
            + (" and never-treated units" if never.any() else "")
            + f"; periods from {panel.time_label(last)} on are left out"
        )
    unit_idx, time_idx = np.nonzero(usable)
    unit_cohort = cohort[unit_idx]
    rel = time_idx - unit_cohort
    keep = is_control[unit_idx] | np.isin(unit_cohort, treated_cohorts)
    for g in treated_cohorts:
        if not ((unit_cohort == g) & (rel == -1) & keep).any():
            keep &= unit_cohort != g
            notes.append(
                f"cohort {panel.time_label(int(g))} was dropped: it is not observed in the "
                "period before its first treated period (the reference)"
            )
    unit_idx, time_idx, unit_cohort, rel = (a[keep] for a in (unit_idx, time_idx, unit_cohort, rel))
    treated_obs = ~is_control[unit_idx]
    cells = sorted(
        {(int(g), int(r)) for g, r in zip(unit_cohort[treated_obs], rel[treated_obs], strict=True)}
        - {(int(g), -1) for g in treated_cohorts}
    )
    if not any(r >= 0 for _, r in cells):
        raise Invalid(
            "no post-treatment observations to compare",
            [
                Detail(
                    (panel.treated or "treated",),
                    "method sa found no treated cohort observed after treatment while the "
                    "control cohort is still untreated",
                )
            ],
        )
    cell_g = np.array([g for g, _ in cells])
    cell_r = np.array([r for _, r in cells])
    interactions = (
        treated_obs[:, None]
        & (unit_cohort[:, None] == cell_g[None, :])
        & (rel[:, None] == cell_r[None, :])
    ).astype(float)
    periods = np.unique(time_idx)
    dummies = (time_idx[:, None] == periods[None, 1:]).astype(float)
    x = np.column_stack([interactions, dummies, *[m[unit_idx, time_idx] for m in cov_mats]])
    fit = within_ols(panel.y[unit_idx, time_idx], x, unit_idx)
    if fit.rank < x.shape[1]:
        raise Invalid(
            "the regressors are collinear",
            [
                Detail(
                    ("covariates",),
                    "the cohort x period dummies, period effects and covariates "
                    f"({', '.join(covariates) or 'none'}) are linearly dependent: drop "
                    "covariates that are constant within units or periods",
                )
            ],
        )
    k = len(cells)
    delta, vdelta = fit.beta[:k], fit.cov[:k, :k]
    counts = interactions.sum(axis=0)

    def combine(key: object, weights: FloatArray) -> Coefficient:
        est = float(weights @ delta)
        return Coefficient.normal(key, est, float(np.sqrt(weights @ vdelta @ weights)), alpha)

    event = []
    for r in sorted({*cell_r.tolist(), -1}):
        if r == -1:
            event.append(Coefficient(-1, 0.0, None, None, None, reference=True))
            continue
        sel = cell_r == r
        event.append(combine(r, np.where(sel, counts, 0.0) / counts[sel].sum()))
    post = cell_r >= 0
    overall = combine("estimate", np.where(post, counts, 0.0) / counts[post].sum())
    by_group = []
    for g in np.unique(cell_g[post]):
        sel = post & (cell_g == g)
        by_group.append(
            combine(panel.time_label(int(g)), np.where(sel, counts, 0.0) / counts[sel].sum())
        )
    group_time = tuple(
        Coefficient.normal(
            (panel.time_label(g), panel.time_label(g + r)),
            float(delta[j]),
            float(np.sqrt(vdelta[j, j])),
            alpha,
        )
        for j, (g, r) in enumerate(cells)
    )
    pre = cell_r <= -2
    pretrend = wald_test(delta[pre], vdelta[np.ix_(pre, pre)])
    if pretrend is None:
        notes.append(
            "no pre-trend test: it needs a cohort observed at least 2 periods before its "
            "first treated period"
        )
    units_in = np.unique(unit_idx)
    return DidResult(
        method="sa",
        estimate=overall.estimate,
        std_error=float(overall.std_error or 0.0),
        ci_low=float(overall.ci_low or 0.0),
        ci_high=float(overall.ci_high or 0.0),
        alpha=alpha,
        n_treated=int((~is_control[units_in]).sum()),
        n_control=int(is_control[units_in].sum()),
        n_units=int(units_in.size),
        n_periods=int(periods.size),
        n_obs=fit.n_obs,
        control=control,
        covariates=tuple(covariates),
        aggregation="cohort-share weighted",
        pretrend=pretrend,
        event_study=tuple(event),
        group_time=group_time,
        by_group=tuple(by_group),
        notes=tuple(notes),
    )
