"""Robust choices: re-solve over draws of the uncertain values.

Values are estimates (the assessment's Monte Carlo gives distributions). For each
of N draws of every level's value the optimizer is run again; then, per candidate,
the share of draws in which it is funded (solid choices near 1, coin flips near
0.5), the portfolio that is optimal most often, and the portfolio that maximizes
expected value. Because total value is linear in the values, a fixed portfolio's
expected value is its value at the mean values; the portfolio maximizing expected
value is therefore the optimum at the (sample) mean, solved once more.

Draws run in parallel in worker processes (``workers``, default 2; spawned, not
forked, since HiGHS keeps threads) and fall back to one process when a pool cannot
be started.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from ssaplan.allocation.engine.model import AllocationProblem, FloatArray, choice_objective
from ssaplan.allocation.engine.result import round_value
from ssaplan.allocation.engine.solve import AllocationOptimizer

#: ``draw(rng, n) -> array (n, levels)``: n draws of every level's value.
ValueDraws = Callable[[np.random.Generator, int], FloatArray]
#: Fewer draws than this run in this process.
MIN_PARALLEL_DRAWS = 16


def label(share: float) -> str:
    """How solid a funding decision is across draws."""
    if share >= 0.9:
        return "solid"
    if share >= 0.65:
        return "usually"
    if share > 0.35:
        return "coin flip"
    if share >= 0.1:
        return "sometimes"
    return "rarely" if share > 0 else "never"


@dataclass(frozen=True)
class Frequency:
    """How often one candidate is funded across draws, and at which levels."""

    id: str
    funded_share: float
    level_shares: tuple[float, ...]

    @property
    def label(self) -> str:
        return label(self.funded_share)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "funded_share": round(self.funded_share, 4),
            "level_shares": [round(s, 4) for s in self.level_shares],
            "label": self.label,
        }


@dataclass(frozen=True)
class Portfolio:
    """A set of funding decisions: level per candidate (-1 unfunded), with how often
    it was optimal among the draws and its expected value."""

    choice: tuple[int, ...]
    ids: tuple[str, ...]
    optimal_share: float
    expected_value: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "funded": list(self.ids),
            "optimal_share": round(self.optimal_share, 4),
            "expected_value": round_value(self.expected_value),
        }


@dataclass(frozen=True)
class RobustResult:
    """Funding frequencies over ``draws`` re-solves; ``status`` is the baseline's."""

    name: str
    status: str
    draws: int
    frequencies: tuple[Frequency, ...]
    most_frequent: Portfolio | None
    max_expected_value: Portfolio | None
    draw_statuses: tuple[tuple[str, int], ...]
    seconds: float
    workers: int

    def summary(self) -> str:
        if self.status == "infeasible" or self.max_expected_value is None:
            return f"robust allocation {self.name!r}: {self.status}; no draws solved"
        mf, ev = self.most_frequent, self.max_expected_value
        lines = [
            f"robust allocation {self.name!r}: {self.draws} draws in {self.seconds:.1f} s "
            f"({self.workers} worker{'s' if self.workers != 1 else ''})",
            f"  max expected value: {ev.expected_value:,.4g} with {len(ev.ids)} funded "
            f"(optimal in {ev.optimal_share:.0%} of draws)",
        ]
        if mf is not None:
            lines.append(
                f"  most often optimal: {len(mf.ids)} funded, in {mf.optimal_share:.0%} of "
                f"draws, expected value {mf.expected_value:,.4g}"
            )
        shaky = [f for f in self.frequencies if 0.1 <= f.funded_share < 0.9]
        solid = sum(f.funded_share >= 0.9 for f in self.frequencies)
        rare = sum(f.funded_share < 0.1 for f in self.frequencies)
        lines.append(f"  {solid} solid, {len(shaky)} uncertain, {rare} rarely funded")
        for f in sorted(shaky, key=lambda f: abs(f.funded_share - 0.5))[:10]:
            lines.append(f"    {f.id:<12} funded in {f.funded_share:.0%} of draws ({f.label})")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "draws": self.draws,
            "frequencies": [f.as_dict() for f in self.frequencies],
            "most_frequent": None if self.most_frequent is None else self.most_frequent.as_dict(),
            "max_expected_value": (
                None if self.max_expected_value is None else self.max_expected_value.as_dict()
            ),
            "draw_statuses": dict(self.draw_statuses),
            "seconds": round(self.seconds, 3),
            "workers": self.workers,
        }


def _solve_draws(
    problem: AllocationProblem, optimizer: AllocationOptimizer, values: FloatArray
) -> list[tuple[str, tuple[int, ...]]]:
    """Solve one chunk of draws (runs in a worker process)."""
    out = []
    for row in values:
        result = optimizer.solve(problem.with_values(row))
        out.append((result.status, result.choice))
    return out


class RobustAllocator:
    """Re-solve an allocation over draws of its values.

    Parameters
    ----------
    draws : int, default 200
        Used when values are drawn here (not when an array of draws is given).
    seed : int, default 2013
    workers : int, default 2
        Worker processes; 1 runs in this process.
    optimizer : AllocationOptimizer, optional
        Settings for every re-solve (default: 10 s, 0.1% gap); shadow prices and the
        greedy comparison are skipped in the draws.
    """

    def __init__(
        self,
        *,
        draws: int = 200,
        seed: int = 2013,
        workers: int = 2,
        optimizer: AllocationOptimizer | None = None,
    ) -> None:
        self.draws = draws
        self.seed = seed
        self.workers = workers
        self.optimizer = optimizer or AllocationOptimizer(time_limit=10.0)

    def draw_values(
        self, problem: AllocationProblem, values: FloatArray | ValueDraws | None
    ) -> FloatArray:
        """The (draws, levels) array of values: given, from a callable, or normal
        around each level's value with its ``value_sd`` (clipped at 0)."""
        k = problem.compiled
        rng = np.random.default_rng(self.seed)
        if values is None:
            out = rng.normal(k.value, k.value_sd, size=(self.draws, k.n_levels))
            out = np.maximum(out, 0.0)
        elif callable(values):
            out = np.asarray(values(rng, self.draws), dtype=np.float64)
        else:
            out = np.asarray(values, dtype=np.float64)
        if out.ndim != 2 or out.shape[1] != k.n_levels or not np.all(np.isfinite(out)):
            raise ValueError(
                f"value draws must be a finite array of shape (draws, {k.n_levels}); "
                f"got {out.shape}"
            )
        return out

    def solve(
        self,
        problem: AllocationProblem,
        values: FloatArray | ValueDraws | None = None,
        *,
        progress: Callable[[int], None] | None = None,
    ) -> RobustResult:
        """Solve at the mean values, then once per draw; see the module docstring."""
        started = time.perf_counter()
        draws = self.draw_values(problem, values)
        ids = [c.id for c in problem.candidates]
        k = problem.compiled
        base_opt = self.optimizer.with_params(shadow_prices=False, compare_greedy=False)
        mean_problem = problem.with_values(draws.mean(axis=0))
        base = base_opt.solve(mean_problem)
        if base.status in ("infeasible", "unknown"):
            return RobustResult(
                problem.name, base.status, 0, (), None, None, (), time.perf_counter() - started, 1
            )
        outcomes, workers = self._run(problem, base_opt, draws, progress)
        n = len(outcomes)
        counts = np.zeros((k.n, int(np.diff(k.first_col).max())))
        statuses = Counter(status for status, _ in outcomes)
        portfolios = Counter(choice for _, choice in outcomes)
        for _, choice in outcomes:
            for i, level in enumerate(choice):
                if level >= 0:
                    counts[i, level] += 1
        frequencies = tuple(
            Frequency(
                ids[i],
                float(counts[i].sum() / n),
                tuple(
                    float(counts[i, level] / n)
                    for level in range(len(problem.candidates[i].levels))
                ),
            )
            for i in range(k.n)
        )
        mean_k = mean_problem.compiled

        def portfolio(choice: tuple[int, ...]) -> Portfolio:
            arr = np.asarray(choice, dtype=np.int64)
            return Portfolio(
                choice,
                tuple(ids[i] for i in np.flatnonzero(arr >= 0)),
                portfolios.get(choice, 0) / n,
                choice_objective(mean_k, arr),
            )

        top = max(
            portfolios.items(), key=lambda kv: (kv[1], choice_objective(mean_k, np.asarray(kv[0])))
        )[0]
        return RobustResult(
            name=problem.name,
            status=base.status,
            draws=n,
            frequencies=frequencies,
            most_frequent=portfolio(top),
            max_expected_value=portfolio(base.choice),
            draw_statuses=tuple(sorted(statuses.items())),
            seconds=time.perf_counter() - started,
            workers=workers,
        )

    def _run(
        self,
        problem: AllocationProblem,
        optimizer: AllocationOptimizer,
        draws: FloatArray,
        progress: Callable[[int], None] | None,
    ) -> tuple[list[tuple[str, tuple[int, ...]]], int]:
        chunks = [
            c for c in np.array_split(draws, max(1, min(len(draws), 4 * self.workers))) if len(c)
        ]
        # starting worker processes costs a second or two: not worth it for a few draws
        if self.workers > 1 and len(draws) >= MIN_PARALLEL_DRAWS:
            import multiprocessing

            try:
                context = multiprocessing.get_context("spawn")
                with ProcessPoolExecutor(max_workers=self.workers, mp_context=context) as pool:
                    futures = [
                        pool.submit(_solve_draws, problem, optimizer, chunk) for chunk in chunks
                    ]
                    out: list[tuple[str, tuple[int, ...]]] = []
                    for future, chunk in zip(futures, chunks, strict=True):
                        out.extend(future.result())
                        if progress is not None:
                            progress(len(chunk))
                    return out, self.workers
            except (OSError, BrokenProcessPool, NotImplementedError, PermissionError):
                pass  # no processes here (sandbox, frozen app): run the draws in this one
        out = []
        for chunk in chunks:
            out.extend(_solve_draws(problem, optimizer, chunk))
            if progress is not None:
                progress(len(chunk))
        return out, 1
