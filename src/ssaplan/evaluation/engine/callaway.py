"""Callaway & Sant'Anna (2021) group-time average treatment effects and their aggregations.

Callaway, B. and Sant'Anna, P. H. C. (2021), "Difference-in-Differences with multiple
time periods", *Journal of Econometrics* 225(2), 200-230.

For cohort ``g`` (units first treated in period ``g``) and period ``t``::

    ATT(g, t) = E[Y_t - Y_b | G = g] - E[Y_t - Y_b | C]

with base period ``b = g - 1`` for ``t >= g`` and ``b = t - 1`` for ``t < g`` (the
"varying" base period: pre-period cells are one-period placebo contrasts). The
comparison group ``C`` is the never-treated units (``control="never"``) or the units not
yet treated by period ``max(t, b)``, never-treated included (``control="notyet"``).

With covariates the control term is an outcome regression (Heckman, Ichimura & Todd
1997; the OR estimator of Sant'Anna & Zhao 2020, J. Econometrics 219(1)): regress
``Y_t - Y_b`` on the covariates at the base period among the controls, predict for the
cohort, ``ATT(g,t) = mean over the cohort of (dY - X'beta)``. This needs conditional
parallel trends and a linear outcome model; it was chosen over the doubly robust
estimator because it has no propensity model that can fail to converge on small panels.

Standard errors come from each estimator's influence function (an ``n_units``-vector
per cell: ``ATT_hat - ATT ~ mean(IF)``), which clusters by unit by construction.
Aggregations (section 4 of the paper) weight cells by cohort size and carry the
estimation error of those weights into their influence function:

* ``simple``: all post-treatment cells, weights proportional to cohort size;
* ``dynamic``: per event time ``e = t - g`` (weights by cohort size among the cohorts
  observed at ``e``); overall = mean over ``e >= 0``;
* ``group``: per cohort the mean over its post-treatment periods; overall weights by
  cohort size.

The panel must be balanced on the outcome (and covariates): units with a missing value
in any period are dropped (and counted in the notes), as R ``did`` does by default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.data import NEVER, Panel
from ssaplan.evaluation.engine.results import (
    Coefficient,
    DidResult,
    FloatArray,
    IntArray,
    wald_test,
)
from ssaplan.evaluation.engine.twfe import _require_indicator

CONTROLS = ("never", "notyet")
AGGREGATIONS = ("simple", "dynamic", "group")


@dataclass(frozen=True)
class _Cells:
    """Group-time cells: cohort ``g`` and period ``t`` (positions), ATT and influence."""

    g: IntArray
    t: IntArray
    att: FloatArray
    inf: FloatArray  # (n_units, n_cells)
    used_as_control: np.ndarray  # (n_units,) bool


def estimate_cs(
    panel: Panel,
    *,
    control: str = "never",
    covariates: Sequence[str] = (),
    aggregation: str = "simple",
    alpha: float = 0.05,
) -> DidResult:
    """Callaway-Sant'Anna ATT(g,t), aggregated, with analytic clustered standard errors.

    Parameters
    ----------
    panel : Panel
        Needs a treated indicator. Units treated in the first period have no
        pre-period and are left out (noted); unbalanced units are dropped (noted).
    control : {"never", "notyet"}
        Comparison units: never treated (default), or not yet treated by the later of
        the two periods compared.
    covariates : sequence of str
        Panel covariates for conditional parallel trends (outcome regression on their
        base-period values). Default none (the unconditional estimator).
    aggregation : {"simple", "dynamic", "group"}
        Which aggregation is reported as ``estimate``; all three are in
        ``aggregations``. Default ``simple``.
    alpha : float
        1 - confidence level, default 0.05. Intervals are pointwise normal intervals.

    Returns
    -------
    DidResult
        ``event_study`` is the dynamic aggregation per event time (pre-periods
        included), ``group_time`` the ATT(g,t) table, ``by_group`` the group
        aggregation, ``pretrend`` the Wald test that all pre-treatment ATT(g,t) are
        zero (as R ``did`` reports it).
    """
    _require_indicator(panel, "cs")
    if control not in CONTROLS:
        raise Invalid(
            f"unknown control group {control!r}",
            [Detail(("control",), f"method cs compares with {' or '.join(CONTROLS)} units")],
        )
    if aggregation not in AGGREGATIONS:
        raise Invalid(
            f"unknown aggregation {aggregation!r}",
            [Detail(("aggregation",), f"use one of {', '.join(AGGREGATIONS)}")],
        )
    y, cohort, xs, notes = _balanced(panel, covariates)
    cells = _group_time(y, cohort, xs, control, panel)
    n = y.shape[0]

    def coef(key: object, est: float, inf: FloatArray) -> tuple[Coefficient, FloatArray]:
        se = float(np.sqrt(np.sum(inf**2)) / n)
        return Coefficient.normal(key, est, se, alpha), inf

    share = np.array([np.mean(cohort == g) for g in range(panel.n_periods)])
    post = cells.t >= cells.g

    simple, _ = coef("simple", *_weighted(cells, post, share, cohort))

    event_coefs: list[Coefficient] = []
    event_inf: dict[int, FloatArray] = {}
    rel = cells.t - cells.g
    for e in np.unique(rel):
        c, inf = coef(int(e), *_weighted(cells, rel == e, share, cohort))
        event_coefs.append(c)
        event_inf[int(e)] = inf
    post_e = [e for e in event_inf if e >= 0]
    dyn_inf = np.mean([event_inf[e] for e in post_e], axis=0)
    dyn_est = float(np.mean([c.estimate for c in event_coefs if c.key >= 0]))
    dynamic, _ = coef("dynamic", dyn_est, dyn_inf)

    group_coefs: list[Coefficient] = []
    group_inf = []
    groups = np.unique(cells.g[post])  # a cohort never compared after treatment: none
    for g in groups:
        sel = (cells.g == g) & post
        inf = cells.inf[:, sel].mean(axis=1)
        c, _ = coef(panel.time_label(int(g)), float(cells.att[sel].mean()), inf)
        group_coefs.append(c)
        group_inf.append(inf)
    group_att = np.array([c.estimate for c in group_coefs])
    per_group = _Cells(groups, groups, group_att, np.column_stack(group_inf), cells.used_as_control)
    every = np.ones(groups.size, dtype=bool)
    by_group, _ = coef("group", *_weighted(per_group, every, share, cohort))

    pre_cells = ~post
    pretrend = None
    if pre_cells.any():
        inf = cells.inf[:, pre_cells]
        pretrend = wald_test(cells.att[pre_cells], inf.T @ inf / n**2)
    else:
        notes.append(
            "no pre-trend test: it needs a cohort with at least 2 periods before its "
            "first treated period"
        )

    chosen = {"simple": simple, "dynamic": dynamic, "group": by_group}[aggregation]
    treated_units = int(np.isin(cohort, groups).sum())
    group_time = tuple(
        Coefficient.normal(
            (panel.time_label(int(g)), panel.time_label(int(t))),
            float(a),
            float(np.sqrt(np.sum(cells.inf[:, k] ** 2)) / n),
            alpha,
        )
        for k, (g, t, a) in enumerate(zip(cells.g, cells.t, cells.att, strict=True))
    )
    return DidResult(
        method="cs",
        estimate=chosen.estimate,
        std_error=float(chosen.std_error or 0.0),
        ci_low=float(chosen.ci_low or 0.0),
        ci_high=float(chosen.ci_high or 0.0),
        alpha=alpha,
        n_treated=treated_units,
        n_control=int(cells.used_as_control.sum()),
        n_units=n,
        n_periods=panel.n_periods,
        n_obs=n * panel.n_periods,
        control=control,
        covariates=tuple(covariates),
        aggregation=aggregation,
        pretrend=pretrend,
        event_study=tuple(event_coefs),
        group_time=group_time,
        by_group=tuple(group_coefs),
        aggregations=(("simple", simple), ("dynamic", dynamic), ("group", by_group)),
        notes=tuple(notes),
    )


def _balanced(
    panel: Panel, covariates: Sequence[str]
) -> tuple[FloatArray, IntArray, list[FloatArray], list[str]]:
    """Units complete in every period, minus those treated from the first period."""
    notes: list[str] = []
    xs = [panel.covariate(c) for c in covariates]
    complete = ~np.isnan(panel.y).any(axis=1)
    for x in xs:
        complete &= ~np.isnan(x).any(axis=1)
    if panel.n_periods < 2:
        raise Invalid(
            "too few periods",
            [Detail((panel.time,), "method cs needs at least 2 periods (1 before treatment)")],
        )
    dropped = int((~complete).sum())
    if dropped:
        notes.append(
            f"{dropped} units with a missing outcome or covariate in some period were "
            "dropped (cs needs a balanced panel)"
        )
    always = complete & (panel.cohort == 0)
    if always.any():
        notes.append(
            f"{int(always.sum())} units treated from the first period were dropped (no "
            "pre-period to compare with)"
        )
    keep = complete & (panel.cohort != 0)
    cohort = panel.cohort[keep]
    if not (cohort != NEVER).any():
        if (complete & (panel.cohort == 0)).any():
            raise Invalid(
                "too few pre-periods",
                [
                    Detail(
                        (panel.treated or "treated",),
                        "method cs needs at least 1 period before a cohort's first treated "
                        "period, but every treated unit is treated from the first period: "
                        "add earlier periods",
                    )
                ],
            )
        raise Invalid(
            "no treated units with complete data",
            [
                Detail(
                    (panel.outcome,),
                    "method cs needs treated units observed in every period: fill in or "
                    "drop the periods with missing outcomes",
                )
            ],
        )
    return panel.y[keep], cohort, [x[keep] for x in xs], notes


def _group_time(
    y: FloatArray, cohort: IntArray, xs: list[FloatArray], control: str, panel: Panel
) -> _Cells:
    n, n_t = y.shape
    never = cohort == NEVER
    if control == "never" and not never.any():
        raise Invalid(
            "no never-treated controls",
            [
                Detail(
                    (panel.treated or "treated",),
                    "method cs with control never needs units that are never treated; this "
                    "panel has none: use control notyet (not-yet-treated units) or add "
                    "never-treated units",
                )
            ],
        )
    later = np.where(never, n_t, cohort)  # never-treated: treated "after the end"
    gs, ts, atts, infs = [], [], [], []
    used = np.zeros(n, dtype=bool)
    for g in np.unique(cohort[~never]):
        treated = cohort == g
        for t in range(1, n_t):
            base = g - 1 if t >= g else t - 1
            ctrl = never if control == "never" else (later > max(t, base)) & ~treated
            if not ctrl.any():
                continue
            dy = y[:, t] - y[:, base]
            x = None if not xs else np.column_stack([np.ones(n), *[c[:, base] for c in xs]])
            att, inf = _cell(dy, treated, ctrl, x)
            gs.append(g)
            ts.append(t)
            atts.append(att)
            infs.append(inf)
            used |= ctrl
    if not any(t >= g for g, t in zip(gs, ts, strict=True)):
        raise Invalid(
            "no never-treated or not-yet-treated controls",
            [
                Detail(
                    (panel.treated or "treated",),
                    "method cs needs, for some cohort and period after its treatment, "
                    "units not yet treated: every unit is treated by then; add "
                    "never-treated units",
                )
            ],
        )
    return _Cells(np.array(gs), np.array(ts), np.array(atts), np.column_stack(infs), used)


def _cell(
    dy: FloatArray, treated: np.ndarray, ctrl: np.ndarray, x: FloatArray | None
) -> tuple[float, FloatArray]:
    """ATT of one cell and its influence function over all units (others contribute 0)."""
    d = treated.astype(float)
    c = ctrl.astype(float)
    p_d, p_c = d.mean(), c.mean()
    if x is None:
        m_d = dy[treated].mean()
        m_c = dy[ctrl].mean()
        inf = d * (dy - m_d) / p_d - c * (dy - m_c) / p_c
        return float(m_d - m_c), inf
    n = dy.size
    xc = x[ctrl]
    beta, *_ = np.linalg.lstsq(xc, dy[ctrl], rcond=None)
    resid = dy - x @ beta
    att = float(resid[treated].mean())
    hessian = (xc.T @ xc) / n
    inf_beta = (c * (dy - x @ beta))[:, None] * x @ np.linalg.pinv(hessian)  # (n, k)
    mean_dx = (d[:, None] * x).mean(axis=0)
    inf = (d * (resid - att) - inf_beta @ mean_dx) / p_d
    return att, inf


def _weighted(
    cells: _Cells, keep: np.ndarray, share: FloatArray, cohort: IntArray
) -> tuple[float, FloatArray]:
    """Cohort-size-weighted mean of the kept cells and its influence function.

    The weights ``pg_k / sum(pg)`` are estimated, so the influence function adds
    ``sum_k att_k * IF(w_k)`` with ``IF(pg_k) = 1{G = g_k} - pg_k`` (Callaway &
    Sant'Anna 2021, appendix on aggregation).
    """
    g = cells.g[keep]
    pg = share[g]
    total = pg.sum()
    w = pg / total
    att = cells.att[keep]
    indicator = (cohort[:, None] == g[None, :]).astype(float) - pg[None, :]  # (n, k)
    inf_w = indicator / total - indicator.sum(axis=1, keepdims=True) * (pg / total**2)[None, :]
    inf = cells.inf[:, keep] @ w + inf_w @ att
    return float(w @ att), inf
