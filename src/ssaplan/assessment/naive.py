"""The default method written as plain per-country Python loops.

Slow on purpose: it states the method the way the documentation does, one country
and one measure at a time, so the vectorized engine can be checked against it (tests)
and timed against it (benchmarks/bench_assessment.py). Not used by the application.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from ssaplan.assessment.framework import Framework


@dataclass(frozen=True)
class NaiveResult:
    """Plain lists, one entry per country (None where undefined)."""

    propensity: list[float | None]
    completeness: list[float]
    constructs: list[list[float | None]]
    rank: list[int | None]
    rank_p05: list[int | None]
    rank_p95: list[int | None]
    p_top: list[float | None]


def naive_assess(
    framework: Framework,
    values: Sequence[Sequence[float | None]],
    weight_draws: Sequence[Sequence[float]],
    *,
    top_tier: float = 0.2,
) -> NaiveResult:
    """Score every country, then rank them under every drawn weight vector.

    ``values[i][j]`` is country i's raw value of the framework's j-th measure (None if
    missing); ``weight_draws`` are construct weight vectors (each summing to 1).
    """
    rows = framework.rows
    n = len(values)
    # 1. min-max per measure over the countries that have a value.
    normalized: list[list[float | None]] = [[None] * len(rows) for _ in range(n)]
    for j, row in enumerate(rows):
        present = [values[i][j] for i in range(n) if values[i][j] is not None]
        if not present:
            continue
        lo, hi = min(present), max(present)  # type: ignore[type-var]
        for i in range(n):
            v = values[i][j]
            if v is None:
                continue
            if hi == lo:
                x = 0.5
            else:
                x = (v - lo) / (hi - lo)  # type: ignore[operator]
                if row.direction < 0:
                    x = 1.0 - x
            normalized[i][j] = x
    # 2. construct scores: weighted mean of available measures.
    constructs: list[list[float | None]] = []
    for i in range(n):
        scores: list[float | None] = []
        for name in framework.constructs:
            num = den = 0.0
            for j, row in enumerate(rows):
                value = normalized[i][j]
                if row.construct == name and value is not None and row.measure_weight > 0:
                    num += row.measure_weight * value
                    den += row.measure_weight
            scores.append(num / den if den > 0 else None)
        constructs.append(scores)
    # 3. propensity and completeness with the set weights.
    total = sum(framework.construct_weights)

    def propensity_of(scores: list[float | None], weights: Sequence[float]) -> float | None:
        num = den = 0.0
        for s, w in zip(scores, weights, strict=True):
            if s is not None and w > 0:
                num += w * s
                den += w
        return 100.0 * num / den if den > 0 else None

    propensity = [propensity_of(constructs[i], framework.construct_weights) for i in range(n)]
    completeness = [
        sum(
            w
            for s, w in zip(constructs[i], framework.construct_weights, strict=True)
            if s is not None
        )
        / total
        for i in range(n)
    ]
    rank = _ranks(propensity)
    # 4. ranks under each drawn weight vector, one draw at a time.
    scored = [i for i in range(n) if propensity[i] is not None]
    top_n = max(1, math.ceil(top_tier * len(scored))) if scored else 0
    seen: dict[int, list[int]] = {i: [] for i in scored}
    for weights in weight_draws:
        draw = {i: propensity_of(constructs[i], weights) for i in scored}
        order = sorted(scored, key=lambda i: -_or_lowest(draw[i]))
        for position, i in enumerate(order, start=1):
            seen[i].append(position)
    p05: list[int | None] = [None] * n
    p95: list[int | None] = [None] * n
    p_top: list[float | None] = [None] * n
    for i in scored:
        ranks = sorted(seen[i])
        if not ranks:
            continue
        p05[i] = ranks[max(0, math.ceil(0.05 * len(ranks)) - 1)]
        p95[i] = ranks[max(0, math.ceil(0.95 * len(ranks)) - 1)]
        p_top[i] = sum(1 for r in ranks if r <= top_n) / len(ranks)
    return NaiveResult(propensity, completeness, constructs, rank, p05, p95, p_top)


def _or_lowest(value: float | None) -> float:
    return -math.inf if value is None else value


def _ranks(scores: list[float | None]) -> list[int | None]:
    out: list[int | None] = []
    for s in scores:
        if s is None:
            out.append(None)
        else:
            out.append(1 + sum(1 for t in scores if t is not None and t > s))
    return out
