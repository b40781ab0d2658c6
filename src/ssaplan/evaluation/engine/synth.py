"""Synthetic control for one treated unit, with placebo-in-space inference.

Abadie, A. and Gardeazabal, J. (2003), "The economic costs of conflict: a case study of
the Basque Country", *American Economic Review* 93(1); Abadie, A., Diamond, A. and
Hainmueller, J. (2010), "Synthetic control methods for comparative case studies",
*Journal of the American Statistical Association* 105(490) ("ADH").

The synthetic unit is a weighted average of donor units, weights ``w >= 0`` summing to
1, chosen to match the treated unit before treatment::

    w = argmin (x1 - X0 w)' V (x1 - X0 w)

By default ``x1``/``X0`` are the pre-period outcomes themselves and ``V`` the identity
(outcome-only synthetic control, as in Arkhangelsky et al. 2021, "Synthetic
difference-in-differences", *American Economic Review* 111(12)). With ``predictors``
(covariates averaged over a pre-period window) and/or ``lags`` (the outcome in chosen
pre-periods) the fit matches those instead, scaled, with a diagonal ``V`` that is
given, equal, or chosen as ADH do (:mod:`~ssaplan.evaluation.engine.predictors`). The
weights come from an exact active-set solver (:mod:`~ssaplan.evaluation.engine.simplex`).

The gap ``y1_t - sum_j w_j y_jt`` is the estimated effect in period ``t``; ``estimate``
is its mean over the post-treatment periods. Fit: ``pre_rmspe`` = root mean squared gap
before treatment. Inference (ADH section 2.4): refit with each donor as if it were
treated (its donors: the other donors, never the treated unit), rank all units by the
ratio of post- to pre-period RMSPE, ``placebo_p = rank of the treated unit / number of
units``. ``std_error`` is the standard deviation of the placebo estimates (the placebo
variance of Arkhangelsky et al. 2021, Algorithm 4) and the interval is normal around
``estimate``; with few donors prefer ``placebo_p``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.data import NEVER, Panel
from ssaplan.evaluation.engine.predictors import check_v, optimize_v, predictor_matrix
from ssaplan.evaluation.engine.results import FloatArray, critical_value, plain, rounded
from ssaplan.evaluation.engine.simplex import simplex_qp

#: Fewest pre-treatment periods a fit is attempted with. Two is the arithmetic minimum
#: for a fit statistic; ADH stress that a credible fit needs a long pre-period.
MIN_PRE_PERIODS = 2
MIN_DONORS = 2
_WEIGHT_SHOWN = 1e-6


@dataclass(frozen=True)
class Placebo:
    """One unit's fit as if it had been treated: its RMSPEs, ratio and average post gap."""

    unit: Any
    pre_rmspe: float
    post_rmspe: float
    estimate: float
    gaps: FloatArray

    @property
    def ratio(self) -> float:
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else np.inf

    def as_dict(self) -> dict[str, Any]:
        return {
            "unit": plain(self.unit),
            "pre_rmspe": rounded(self.pre_rmspe),
            "post_rmspe": rounded(self.post_rmspe),
            "ratio": rounded(self.ratio),
            "estimate": rounded(self.estimate),
            "gaps": [rounded(g) for g in self.gaps],
        }


@dataclass(frozen=True)
class SynthResult:
    """A synthetic-control estimate for one treated unit.

    ``times`` (shape ``(n_periods,)``), ``treated_path``, ``synthetic_path`` and ``gaps``
    (same shape, outcome units) are the series for a plot; ``weights`` the donors with
    positive weight, largest first; ``placebos`` every donor's placebo fit.
    """

    treated_unit: Any
    start: Any
    estimate: float
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    alpha: float
    pre_rmspe: float
    post_rmspe: float
    placebo_p: float | None
    rank: int | None
    n_treated: int
    n_control: int
    n_pre: int
    n_post: int
    weights: tuple[tuple[Any, float], ...]
    times: FloatArray
    treated_path: FloatArray
    synthetic_path: FloatArray
    predictors: tuple[str, ...] = ()
    placebos: tuple[Placebo, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def gaps(self) -> FloatArray:
        return np.asarray(self.treated_path - self.synthetic_path)

    @property
    def rmspe_ratio(self) -> float:
        return self.post_rmspe / self.pre_rmspe if self.pre_rmspe > 0 else np.inf

    def gap_at(self, time: float) -> float:
        return float(self.gaps[int(np.flatnonzero(self.times == time)[0])])

    def as_dict(self) -> dict[str, Any]:
        return {
            "method": "synth",
            "treated_unit": plain(self.treated_unit),
            "start": plain(self.start),
            "estimate": rounded(self.estimate),
            "std_error": rounded(self.std_error),
            "ci_low": rounded(self.ci_low),
            "ci_high": rounded(self.ci_high),
            "alpha": self.alpha,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "n_pre": self.n_pre,
            "n_post": self.n_post,
            "pre_rmspe": rounded(self.pre_rmspe),
            "post_rmspe": rounded(self.post_rmspe),
            "rmspe_ratio": rounded(self.rmspe_ratio),
            "placebo_p": rounded(self.placebo_p),
            "rank": self.rank,
            "predictors": list(self.predictors),
            "weights": [{"unit": plain(u), "weight": rounded(w)} for u, w in self.weights],
            "gaps": [
                {
                    "time": plain(float(t)),
                    "treated": rounded(a),
                    "synthetic": rounded(s),
                    "gap": rounded(a - s),
                }
                for t, a, s in zip(self.times, self.treated_path, self.synthetic_path, strict=True)
            ],
            "placebos": [p.as_dict() for p in self.placebos],
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        level = round(100 * (1 - self.alpha))

        def f(x: float | None) -> str:
            r = rounded(x, 4)
            return "n/a" if r is None else f"{r:g}"

        lines = [
            f"synthetic control for {plain(self.treated_unit)} from {plain(self.start)}",
            f"  average post-period gap {f(self.estimate)} (placebo SE {f(self.std_error)}), "
            f"{level}% CI [{f(self.ci_low)}, {f(self.ci_high)}]",
            f"  pre-period RMSPE {f(self.pre_rmspe)}, post {f(self.post_rmspe)}, "
            f"ratio {f(self.rmspe_ratio)}",
        ]
        if self.placebo_p is not None:
            lines.append(
                f"  placebo-in-space: rank {self.rank} of {len(self.placebos) + 1}, "
                f"p = {f(self.placebo_p)}"
            )
        lines.append(f"  {self.n_control} donors, {self.n_pre} pre- and {self.n_post} post-periods")
        lines.append("  weights: " + ", ".join(f"{plain(u)} {w:.3f}" for u, w in self.weights))
        lines.append("  time      treated  synthetic      gap")
        for t, a, s in zip(self.times, self.treated_path, self.synthetic_path, strict=True):
            lines.append(f"  {plain(float(t))!s:<8}{a:>9.2f}{s:>11.2f}{a - s:>9.2f}")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


#: The named choices of ``V`` besides explicit weights.
V_CHOICES = ("optimize", "equal")


def synthetic_control(
    panel: Panel,
    treated_unit: Any,
    start: float,
    *,
    donors: Sequence[Any] | None = None,
    predictors: Sequence[str] = (),
    windows: Mapping[str, tuple[float, float]] | None = None,
    lags: Sequence[float] = (),
    v: Sequence[float] | str | None = None,
    placebos: bool = True,
    alpha: float = 0.05,
) -> SynthResult:
    """Fit a synthetic control for ``treated_unit`` treated from period ``start``.

    Parameters
    ----------
    panel : Panel
        Outcome per unit and period; a treated indicator is not needed (units it marks
        as treated are kept out of the donor pool).
    treated_unit : label
        The treated unit, as the unit column writes it.
    start : float
        First treated period; periods before it are the pre-period (at least
        :data:`MIN_PRE_PERIODS`), it and later ones the post-period (at least 1).
    donors : sequence of labels, optional
        The donor pool; default every other unit observed in all periods.
    predictors : sequence of str
        Panel covariates to match on, each averaged over its window. Default none.
    windows : mapping of str to (first, last), optional
        Averaging window (inclusive) per predictor; default the whole pre-period.
    lags : sequence of float
        Pre-periods whose outcome is matched on as a predictor. Default none; when
        neither predictors nor lags are given every pre-period outcome is matched with
        equal weight (outcome-only synthetic control, the default).
    v : sequence of float, "optimize", "equal" or None
        Diagonal of ``V``, one non-negative weight per predictor (covariates first,
        then lags); ``"optimize"`` chooses it as ADH do, separately for every placebo
        fit (slower: about a second per fit); ``"equal"`` weighs every predictor alike.
        Default (None): ``"optimize"`` when predictors or lags are given (as ADH 2010
        and the Synth packages do: that is the specification whose published result,
        California rank 1 of 39, the tests reproduce), nothing to weigh otherwise.
    placebos : bool
        Run the placebo-in-space fits (default True); without them ``placebo_p``,
        ``std_error`` and the interval are ``None``.
    alpha : float
        1 - confidence level of the interval, default 0.05.
    """
    treated = panel.unit_index(treated_unit)
    pre = panel.times < start
    post = ~pre
    if pre.sum() < MIN_PRE_PERIODS or post.sum() < 1:
        raise Invalid(
            "too few pre-periods" if pre.sum() < MIN_PRE_PERIODS else "no post-periods",
            [
                Detail(
                    ("start",),
                    f"synthetic control needs at least {MIN_PRE_PERIODS} periods before the "
                    f"start and 1 from it on; with start {plain(start)} the panel has "
                    f"{int(pre.sum())} before and {int(post.sum())} from it "
                    f"(periods {plain(float(panel.times[0]))}-"
                    f"{plain(float(panel.times[-1]))}): choose another start or add periods",
                )
            ],
        )
    y = panel.y
    if np.isnan(y[treated]).any():
        missing = [plain(float(t)) for t in panel.times[np.isnan(y[treated])]]
        raise Invalid(
            "the treated unit has missing outcomes",
            [
                Detail(
                    (panel.outcome, str(plain(panel.units[treated]))),
                    f"synthetic control needs the treated unit's outcome in every period; "
                    f"missing in {', '.join(map(str, missing[:5]))}",
                )
            ],
        )
    notes: list[str] = []
    pool = _donor_pool(panel, treated, donors, notes)
    names: tuple[str, ...] = ()
    if isinstance(v, str) and v not in V_CHOICES:
        raise Invalid(
            "bad V weights",
            [Detail(("v",), f"give weights, {' or '.join(map(repr, V_CHOICES))}, not {v!r}")],
        )
    if (predictors or lags) and v is None:
        v = "optimize"  # ADH's choice of V (see the docstring and docs/evaluation.md)
    optimize = v == "optimize"
    if predictors or lags:
        x, names = predictor_matrix(
            panel, pre, np.append(pool, treated), predictors, windows or {}, lags
        )
        given = [1.0] * x.shape[1] if v is None or isinstance(v, str) else v
        weights_v = None if optimize else check_v(given, x.shape[1])
    elif v is not None:
        raise Invalid(
            "V weights without predictors",
            [Detail(("v",), "V weighs predictors: give predictors or lags, or leave V out")],
        )
    else:
        x, weights_v = y[:, pre], None

    def features(unit: int, others: np.ndarray) -> FloatArray:
        if optimize:
            return x * np.sqrt(optimize_v(x, y[:, pre], unit, others))
        return x if weights_v is None else x * np.sqrt(weights_v)

    shared = None if optimize else features(treated, pool)
    gram = shared @ shared.T if shared is not None else None  # (n_units, n_units)

    def fit(unit: int, others: np.ndarray) -> tuple[FloatArray, FloatArray]:
        if gram is not None:
            w = simplex_qp(gram[np.ix_(others, others)], gram[others, unit])
        else:
            f = features(unit, others)
            w = simplex_qp(f[others] @ f[others].T, f[others] @ f[unit])
        return w, y[unit] - w @ y[others]

    w, gaps = fit(treated, pool)
    weights = tuple(
        (panel.units[j], float(wj))
        for wj, j in sorted(zip(w, pool, strict=True), key=lambda p: -p[0])
        if wj > _WEIGHT_SHOWN
    )
    pre_rmspe = float(np.sqrt(np.mean(gaps[pre] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gaps[post] ** 2)))
    estimate = float(gaps[post].mean())
    placebo_fits: list[Placebo] = []
    placebo_p = se = low = high = None
    rank = None
    if placebos:
        for j in pool:
            _, g = fit(int(j), pool[pool != j])
            placebo_fits.append(
                Placebo(
                    panel.units[j],
                    float(np.sqrt(np.mean(g[pre] ** 2))),
                    float(np.sqrt(np.mean(g[post] ** 2))),
                    float(g[post].mean()),
                    g,
                )
            )
        ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else np.inf
        rank = 1 + sum(p.ratio >= ratio for p in placebo_fits)
        placebo_p = rank / (len(placebo_fits) + 1)
        se = float(np.std([p.estimate for p in placebo_fits]))
        z = critical_value(alpha)
        low, high = estimate - z * se, estimate + z * se
    return SynthResult(
        treated_unit=panel.units[treated],
        start=plain(float(start)),
        estimate=estimate,
        std_error=se,
        ci_low=low,
        ci_high=high,
        alpha=alpha,
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        placebo_p=placebo_p,
        rank=rank,
        n_treated=1,
        n_control=int(pool.size),
        n_pre=int(pre.sum()),
        n_post=int(post.sum()),
        weights=weights,
        times=panel.times,
        treated_path=y[treated].copy(),
        synthetic_path=y[treated] - gaps,
        predictors=names,
        placebos=tuple(placebo_fits),
        notes=tuple(notes),
    )


def _donor_pool(
    panel: Panel, treated: int, donors: Sequence[Any] | None, notes: list[str]
) -> np.ndarray:
    if donors is None:
        candidates = [i for i in range(panel.n_units) if i != treated]
    else:
        candidates = sorted({panel.unit_index(d, loc="donors") for d in donors} - {treated})
    complete = [i for i in candidates if not np.isnan(panel.y[i]).any()]
    if len(complete) < len(candidates):
        notes.append(
            f"{len(candidates) - len(complete)} donors with missing outcomes were left out "
            "(a donor must be observed in every period)"
        )
    clean = [i for i in complete if panel.cohort[i] == NEVER]
    if len(clean) < len(complete):
        notes.append(
            f"{len(complete) - len(clean)} donors marked as treated were left out of the pool"
        )
    if len(clean) < MIN_DONORS:
        raise Invalid(
            "no never-treated controls",
            [
                Detail(
                    ("donors",),
                    f"synthetic control needs at least {MIN_DONORS} untreated donor units "
                    f"observed in every period; {len(clean)} qualify: add comparison units "
                    "or fill their missing periods",
                )
            ],
        )
    return np.array(clean, dtype=np.int64)
