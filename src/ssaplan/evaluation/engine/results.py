"""Result objects shared by the difference-in-differences methods, and number hygiene.

Every result is a frozen dataclass with ``summary()`` (text for people) and
``as_dict()`` (JSON-ready: numbers rounded to :data:`SIGNIFICANT` significant digits,
NaN and infinities as ``None``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: Significant digits kept in ``as_dict()``: enough for any table, no float noise.
SIGNIFICANT = 6


def rounded(value: float | None, digits: int = SIGNIFICANT) -> float | None:
    """``value`` to ``digits`` significant digits; ``None`` for missing or infinite.

    >>> rounded(28.000000000000004)
    28.0
    >>> rounded(-0.040046283)
    -0.0400463
    """
    if value is None:
        return None
    x = float(value)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{digits}g}")


def plain(value: Any) -> Any:
    """A time or unit label as JSON wants it: integral floats become ints."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@lru_cache(maxsize=64)
def critical_value(alpha: float) -> float:
    """Two-sided normal critical value, e.g. 1.959964 for ``alpha=0.05``."""
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


@dataclass(frozen=True)
class Coefficient:
    """One estimated effect with its uncertainty.

    ``key`` says what it is: a relative period (event time, in periods since the first
    treated period; -1 is the last period before treatment), a cohort (the time of
    its first treated period) or a ``(cohort, time)`` pair. ``reference`` marks the
    normalized period of an event study (estimate 0 by construction, no error).
    """

    key: Any
    estimate: float
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    reference: bool = False

    @classmethod
    def normal(cls, key: Any, estimate: float, std_error: float, alpha: float) -> Coefficient:
        z = critical_value(alpha)
        return cls(key, estimate, std_error, estimate - z * std_error, estimate + z * std_error)

    def as_dict(self, key_name: str = "key") -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(self.key, tuple):
            out["group"], out["time"] = (plain(k) for k in self.key)
        else:
            out[key_name] = plain(self.key)
        out.update(
            estimate=rounded(self.estimate),
            std_error=rounded(self.std_error),
            ci_low=rounded(self.ci_low),
            ci_high=rounded(self.ci_high),
        )
        if self.reference:
            out["reference"] = True
        return out


@dataclass(frozen=True)
class WaldTest:
    """A joint test that ``df`` coefficients are all zero (chi-squared, ``df`` degrees)."""

    statistic: float
    df: int
    p_value: float


def wald_test(estimates: FloatArray, covariance: FloatArray) -> WaldTest | None:
    """Wald test of ``estimates == 0`` given their covariance; ``None`` when there are none.

    Uses the pseudo-inverse so that a rank-deficient covariance (e.g. coefficients that
    are linear combinations of each other) is tested on its rank, not rejected.
    """
    if estimates.size == 0:
        return None
    rank = int(np.linalg.matrix_rank(covariance))
    if rank == 0:
        return None
    statistic = float(estimates @ np.linalg.pinv(covariance) @ estimates)
    return WaldTest(statistic, rank, float(stats.chi2.sf(statistic, rank)))


@dataclass(frozen=True)
class DidResult:
    """A difference-in-differences estimate of the average effect of treatment on the treated.

    ``estimate`` is in outcome units. For ``twfe`` it is the coefficient on the treated
    indicator; for ``cs`` the aggregation named in ``aggregation`` (default ``simple``:
    the average over all treated unit-periods); for ``sa`` the average over post-treatment
    cohort x period cells weighted by their number of observations. ``event_study`` holds
    the event-time coefficients for a plot (empty for ``twfe``) and ``pretrend`` the
    joint test that all pre-period coefficients are zero (``None`` when there are none).
    ``n_treated`` counts the treated units whose effect enters ``estimate``;
    ``n_control`` the units used as a comparison (for ``cs`` with ``notyet``: in at
    least one cell, so later-treated units count in both).
    """

    method: str
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    alpha: float
    n_treated: int
    n_control: int
    n_units: int
    n_periods: int
    n_obs: int
    control: str | None
    covariates: tuple[str, ...]
    aggregation: str | None
    pretrend: WaldTest | None
    event_study: tuple[Coefficient, ...] = ()
    group_time: tuple[Coefficient, ...] = ()
    by_group: tuple[Coefficient, ...] = ()
    aggregations: tuple[tuple[str, Coefficient], ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def pretrend_p(self) -> float | None:
        return None if self.pretrend is None else self.pretrend.p_value

    def as_dict(self) -> dict[str, Any]:
        pre = self.pretrend
        return {
            "method": self.method,
            "estimate": rounded(self.estimate),
            "std_error": rounded(self.std_error),
            "ci_low": rounded(self.ci_low),
            "ci_high": rounded(self.ci_high),
            "alpha": self.alpha,
            "n_treated": self.n_treated,
            "n_control": self.n_control,
            "n_units": self.n_units,
            "n_periods": self.n_periods,
            "n_obs": self.n_obs,
            "control": self.control,
            "covariates": list(self.covariates),
            "aggregation": self.aggregation,
            "pretrend_p": None if pre is None else rounded(pre.p_value),
            "pretrend_stat": None if pre is None else rounded(pre.statistic),
            "pretrend_df": None if pre is None else pre.df,
            "event_study": [c.as_dict("rel_period") for c in self.event_study],
            "group_time": [c.as_dict() for c in self.group_time],
            "by_group": [c.as_dict("group") for c in self.by_group],
            "aggregations": {name: _overall(c) for name, c in self.aggregations},
            "notes": list(self.notes),
        }

    def summary(self) -> str:
        label = {
            "twfe": "two-way fixed effects DiD",
            "cs": "Callaway-Sant'Anna group-time ATT",
            "sa": "Sun-Abraham interaction-weighted event study",
        }.get(self.method, self.method)
        level = round(100 * (1 - self.alpha))
        lines = [
            f"{label}" + (f" ({self.aggregation} aggregation)" if self.aggregation else ""),
            f"  effect {_fmt(self.estimate)} (SE {_fmt(self.std_error)}), {level}% CI "
            f"[{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]",
            f"  {self.n_treated} treated and {self.n_control} control units, "
            f"{self.n_periods} periods, {self.n_obs} observations"
            + (f"; controls: {self.control}" if self.control else "")
            + (f"; covariates: {', '.join(self.covariates)}" if self.covariates else ""),
        ]
        if self.pretrend is not None:
            lines.append(
                f"  pre-trend test: chi2({self.pretrend.df}) = {_fmt(self.pretrend.statistic)}, "
                f"p = {_fmt(self.pretrend.p_value)}"
            )
        for name, c in self.aggregations:
            lines.append(f"  {name:<8} {_fmt(c.estimate):>10} (SE {_fmt(c.std_error)})")
        if self.event_study:
            lines.append("  event time   estimate   std.err   CI")
            for c in self.event_study:
                if c.reference:
                    lines.append(f"  {plain(c.key):>10}   {'0 (ref)':>8}")
                    continue
                lines.append(
                    f"  {plain(c.key):>10} {_fmt(c.estimate):>10} {_fmt(c.std_error):>9}   "
                    f"[{_fmt(c.ci_low)}, {_fmt(c.ci_high)}]"
                )
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def _overall(c: Coefficient) -> dict[str, Any]:
    d = c.as_dict()
    d.pop("key", None)
    return d


def _fmt(x: float | None) -> str:
    r = rounded(x, 4)
    return "n/a" if r is None else f"{r:g}"
