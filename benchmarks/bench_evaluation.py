"""Impact evaluation on the reference panels: synthetic control with all placebo fits,
and Callaway-Sant'Anna on mpdta, each beside a naive baseline from the same run.

Synthetic control (California, 39 states, 19 pre-periods): the engine computes one
39 x 39 Gram matrix of pre-period outcomes and solves each fit (California and 38
placebos) by an exact active-set method on slices of it: a handful of KKT systems of
at most ~8 unknowns per fit. The time goes to Python-level numpy calls (~20 per
active-set step), not arithmetic: about 1-2 ms per fit. The baseline is what
general-purpose tools do: ``scipy.optimize.minimize`` (SLSQP, default settings,
numerical gradient) from uniform weights, one fit and then all 39 (not with
``--quick``); it spends its time in finite-difference gradients (39 objective calls
per gradient) and can stop far from the optimum (its RMSPE is reported beside ours:
on California its default tolerance stops at 16 instead of 1.66). ``speedup`` is the
baseline's seconds over the row's, for the same work.

ADH's predictor specification (smoking.csv, 7 predictors, V chosen by nested search)
repeats ~600 exact inner fits per unit, so its placebo run is ~600 times the work of
the outcome-only one; it is timed in full unless ``--quick`` (one fit only).

Outcome-only specifications (not with ``--quick``): can predictors built from the outcome
alone, with ``V`` optimized per fit as ADH do, give California rank 1 of 39 without
ADH's covariates? Each row is one of the specifications Ferman, Pinto & Possebom (2020,
"Cherry picking with synthetic controls", JPAM 39(2)) list as common in applied work,
fitted to california_prop99.csv with all placebos; docs/evaluation.md section 8 reports
the figures and why the default stays outcome-only.

Callaway-Sant'Anna on mpdta (500 counties, 5 years, 12 group-time cells): one
vectorized pass per cell plus the aggregations' influence functions. Baseline: the
same ATT(g,t) as one statsmodels OLS regression per cell (first differences on a
treated dummy, cluster-robust), which gives the same point estimates.

Wall and CPU seconds are both reported: on a shared machine the CPU time is the
steadier figure.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

TITLE = "evaluation: synthetic control placebo runs and Callaway-Sant'Anna (vs naive baselines)"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "evaluation"


def _timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - wall, time.process_time() - cpu, out


def _row(what: str, panel: str, fits: int, wall: float, cpu: float, result: str) -> dict[str, Any]:
    return {
        "what": what,
        "panel": panel,
        "fits": fits,
        "seconds": wall,
        "cpu_seconds": cpu,
        "result": result,
    }


def _naive_fit(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    from scipy.optimize import minimize

    k = a.shape[1]
    r = minimize(
        lambda w: float(np.sum((b - a @ w) ** 2)),
        np.full(k, 1.0 / k),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=[{"type": "eq", "fun": lambda w: float(w.sum() - 1.0)}],
    )
    return np.asarray(r.x)


def _synth_rows(quick: bool) -> list[dict[str, Any]]:
    from ssaplan.evaluation.engine import Panel, synthetic_control

    frame = pd.read_csv(DATA / "california_prop99.csv")
    panel = Panel.from_frame(frame, unit="State", time="Year", outcome="PacksPerCapita")
    synthetic_control(panel, "California", 1989, placebos=False)  # warm imports
    wall, cpu, r = _timed(lambda: synthetic_control(panel, "California", 1989))
    ours = _row(
        "exact active-set, all placebos",
        "prop99",
        1 + len(r.placebos),
        wall,
        cpu,
        f"RMSPE {r.pre_rmspe:.3f}, rank {r.rank}/39, estimate {r.estimate:.2f}",
    )
    pre = panel.times < 1989
    ca = panel.unit_index("California")
    pool = [i for i in range(panel.n_units) if i != ca]

    def one(unit: int, donors: list[int]) -> float:
        w = _naive_fit(panel.y[np.ix_(donors, pre)].T, panel.y[unit, pre])
        gap = panel.y[unit, pre] - w @ panel.y[np.ix_(donors, pre)]
        return float(np.sqrt(np.mean(gap**2)))

    wall1, cpu1, rmspe = _timed(lambda: one(ca, pool))
    single = _row("SLSQP default, one fit", "prop99", 1, wall1, cpu1, f"RMSPE {rmspe:.3f}")
    rows = [ours, single]
    if not quick:
        others = [(j, [i for i in pool if i != j]) for j in pool]
        wall_all, cpu_all, _ = _timed(lambda: [one(ca, pool)] + [one(j, d) for j, d in others])
        rows.append(_row("SLSQP default, all placebos", "prop99", 39, wall_all, cpu_all, ""))
    baseline = rows[-1]
    for row in rows:
        row["per_fit_ms"] = 1000 * row["seconds"] / row["fits"]
        row["speedup"] = None if row is single else baseline["seconds"] / row["seconds"]
    return rows


def _adh_rows(quick: bool) -> list[dict[str, Any]]:
    from ssaplan.evaluation.engine import Panel, synthetic_control

    frame = pd.read_csv(DATA / "smoking.csv")
    covariates = ["lnincome", "age15to24", "retprice", "beer"]
    panel = Panel.from_frame(
        frame, unit="state", time="year", outcome="cigsale", covariates=covariates
    )
    windows = {c: (1980.0, 1988.0) for c in covariates} | {"beer": (1984.0, 1988.0)}

    def run(placebos: bool) -> Any:
        return synthetic_control(
            panel,
            "California",
            1989,
            predictors=covariates,
            windows=windows,
            lags=[1988, 1980, 1975],
            v="optimize",
            placebos=placebos,
        )

    wall, cpu, r = _timed(lambda: run(placebos=not quick))
    weights = ", ".join(f"{u} {w:.3f}" for u, w in r.weights[:3])
    result = f"RMSPE {r.pre_rmspe:.3f}, {weights}" + (f", rank {r.rank}/39" if r.rank else "")
    row = _row(
        "ADH predictors, V optimized" + ("" if quick else ", all placebos"),
        "smoking",
        1 if quick else 39,
        wall,
        cpu,
        result,
    )
    row["per_fit_ms"] = 1000 * wall / row["fits"]
    row["speedup"] = None
    return [row]


def outcome_only_specifications() -> dict[str, dict[str, Any]]:
    """Ferman, Pinto & Possebom's (2020) common predictor sets, built from the outcome only
    (1970-1988 are the pre-periods): keyword arguments of ``synthetic_control``."""
    pre = list(range(1970, 1989))
    return {
        "all pre-period outcomes (V = I, the default)": {},
        "pre-period mean": {"predictors": ["outcome_copy"], "v": None},
        "three lags 1975, 1980, 1988 (ADH's outcome predictors)": {"lags": [1975, 1980, 1988]},
        "odd years": {"lags": [t for t in pre if t % 2]},
        "even years": {"lags": [t for t in pre if t % 2 == 0]},
        "first half (1970-1979)": {"lags": pre[:10]},
        "first three quarters (1970-1983)": {"lags": pre[:14]},
    }


def _outcome_only_rows() -> list[dict[str, Any]]:
    from ssaplan.evaluation.engine import Panel, synthetic_control

    frame = pd.read_csv(DATA / "california_prop99.csv")
    frame["outcome_copy"] = frame["PacksPerCapita"]  # the outcome as a windowed predictor
    panel = Panel.from_frame(
        frame, unit="State", time="Year", outcome="PacksPerCapita", covariates=["outcome_copy"]
    )
    rows = []
    for name, spec in outcome_only_specifications().items():
        options = {"v": "optimize", **spec} if spec else {}
        wall, cpu, r = _timed(lambda o=options: synthetic_control(panel, "California", 1989, **o))
        top = ", ".join(f"{u} {w:.2f}" for u, w in r.weights[:4])
        result = (
            f"rank {r.rank}/39, RMSPE {r.pre_rmspe:.2f}, gap 2000 {r.gap_at(2000):.1f}, "
            f"estimate {r.estimate:.2f}; {top}"
        )
        row = _row(f"outcome-only: {name}", "prop99", 39, wall, cpu, result)
        row["per_fit_ms"] = 1000 * wall / 39
        row["speedup"] = None
        rows.append(row)
    return rows


def _cs_rows() -> list[dict[str, Any]]:
    import statsmodels.api as sm

    from ssaplan.evaluation.engine import Panel, estimate_did

    frame = pd.read_csv(DATA / "mpdta.csv")
    panel = Panel.from_frame(
        frame, unit="countyreal", time="year", outcome="lemp", treated="treated"
    )
    estimate_did(panel, "cs")
    wall, cpu, r = _timed(lambda: estimate_did(panel, "cs"))
    cells = len(r.group_time)
    ours = _row(
        "CS engine (influence functions)",
        "mpdta",
        cells,
        wall,
        cpu,
        f"ATT {r.estimate:.4f} (SE {r.std_error:.4f})",
    )

    def per_cell() -> dict[tuple[int, int], float]:
        wide = frame.pivot(index="countyreal", columns="year", values="lemp")
        first = frame.groupby("countyreal")["first_treat"].first()
        years = list(wide.columns)
        out = {}
        for g in sorted(set(first) - {0}):
            for k, t in enumerate(years[1:], start=1):
                base = years[years.index(g) - 1] if t >= g else years[k - 1]
                keep = (first == g) | (first == 0)
                dy = wide.loc[keep, t] - wide.loc[keep, base]
                x = sm.add_constant((first[keep] == g).astype(float))
                fit = sm.OLS(dy.to_numpy(), x.to_numpy()).fit(cov_type="HC1")
                out[(int(g), int(t))] = float(fit.params[1])
        return out

    wall_b, cpu_b, naive = _timed(per_cell)
    assert np.allclose([naive[c.key] for c in r.group_time], [c.estimate for c in r.group_time]), (
        "the baseline must compute the same ATT(g,t)"
    )
    baseline = _row("statsmodels OLS per cell", "mpdta", cells, wall_b, cpu_b, "same ATT(g,t)")
    for row in (ours, baseline):
        row["per_fit_ms"] = 1000 * row["seconds"] / row["fits"]
        row["speedup"] = baseline["seconds"] / row["seconds"]
    return [ours, baseline]


def run(quick: bool) -> list[dict[str, Any]]:
    if not DATA.exists():
        return [_row(f"skipped: {DATA} not present", "", 0, 0.0, 0.0, "")]
    specifications = [] if quick else _outcome_only_rows()
    return [*_synth_rows(quick), *_adh_rows(quick), *specifications, *_cs_rows()]
