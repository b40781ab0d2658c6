"""Full assessment of ~200 countries x 60 measures with 10,000 Monte Carlo weight draws:
the vectorized engine against the same method as per-country Python loops
(``ssaplan.assessment.naive``), in the same run and on the same weight draws; plus the
whole service path (database reads included) on SQLite. Target: under 5 s on 2 cores.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

TITLE = "assessment: 200 countries x 60 measures, 10,000 weight draws (vectorized vs naive loop)"
COUNTRIES, MEASURES, CONSTRUCTS = 200, 60, 10


def _framework() -> Any:
    from ssaplan.assessment.framework import parse_framework

    lines = ["measure,construct,direction,measure_weight,construct_weight"]
    for j in range(MEASURES):
        c = j % CONSTRUCTS
        lines.append(f"measure {j:02d},construct {c},{1 if j % 4 else -1},{1 + j % 3},{1 + c % 3}")
    return parse_framework("\n".join(lines), name="bench")


def _values(seed: int = 2013) -> np.ndarray:
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(COUNTRIES, 1))
    values = latent + rng.normal(scale=0.8, size=(COUNTRIES, MEASURES))
    values[rng.random((COUNTRIES, MEASURES)) < 0.2] = np.nan
    return values


def _vectorized(fw: Any, values: np.ndarray, draws: int) -> tuple[float, Any, Any]:
    from ssaplan.assessment import analyses
    from ssaplan.assessment.engine import (
        Panel,
        PropensityScorer,
        WeightSensitivity,
        priority_scores,
    )

    countries = tuple(f"C{i:03d}" for i in range(COUNTRIES))
    started = time.perf_counter()
    panel = Panel(
        countries,
        fw.measures,
        values.copy(),
        np.full(values.shape, 2026, dtype=np.int64),
        np.full(values.shape, "bench", dtype=object),
    )
    result = PropensityScorer(fw).fit(panel).result_
    sensitivity = WeightSensitivity(draws=draws, seed=7).fit(
        result.construct_scores, fw.construct_weights
    )
    rng = np.random.default_rng(1)
    priority = priority_scores(
        rng.integers(1, 5, COUNTRIES).astype(float),
        rng.integers(0, 4, (COUNTRIES, 25)),
        np.ones(25),
    )
    analyses.quadrants(result.propensity, priority)
    analyses.funding_mismatch(result.propensity, priority, rng.uniform(0, 1e8, COUNTRIES))
    return time.perf_counter() - started, result, sensitivity.result_


def _naive(fw: Any, values: np.ndarray, draws: int) -> tuple[float, Any]:
    from ssaplan.assessment.engine import dirichlet_weights
    from ssaplan.assessment.naive import naive_assess

    rows = [[None if np.isnan(v) else float(v) for v in row] for row in values]
    started = time.perf_counter()
    weights = dirichlet_weights(fw.construct_weights, draws=draws, concentration=50.0, seed=7)
    result = naive_assess(fw, rows, weights.tolist())
    return time.perf_counter() - started, result


def _service(fw: Any, values: np.ndarray, draws: int) -> float:
    """The whole run through the service: database reads, panel, scoring, sensitivity."""
    from ssaplan.assessment.indicators.reader import Observation, ParsedFile
    from ssaplan.assessment.indicators.service import IndicatorService
    from ssaplan.assessment.run import Settings
    from ssaplan.assessment.service import AssessmentService
    from ssaplan.bootstrap import initialize
    from ssaplan.core.permissions import Actor
    from ssaplan.core.store import Store
    from ssaplan.reference.catalog import get_catalog

    actor = Actor("bench", "admin")
    iso3 = sorted(c.iso3 for c in get_catalog().countries.values())[:COUNTRIES]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}")
        initialize(store, actor)
        observations = [
            Observation(
                iso3[i], year, fw.measures[j], "bench", float(values[i, j]) + shift, None, 0
            )
            for year, shift in ((2024, -0.1), (2025, 0.0), (2026, 0.05))
            for i in range(COUNTRIES)
            for j in range(MEASURES)
            if not np.isnan(values[i, j])
        ]
        parsed = ParsedFile("bench", "", "generated", "", 0, tuple(observations), 0, (), (), (), ())
        with store.transaction() as session:
            IndicatorService(session, actor).import_files([parsed])
        started = time.perf_counter()
        with store.session() as session:
            AssessmentService(session, actor).run(
                year=2026, framework=fw, settings=Settings(draws=draws)
            )
        elapsed = time.perf_counter() - started
        store.dispose()
    return elapsed


def run(quick: bool) -> list[dict[str, Any]]:
    draws = 1_000 if quick else 10_000
    fw = _framework()
    values = _values()
    _vectorized(fw, values, 100)  # warm imports and caches
    vec_seconds, result, sensitivity = _vectorized(fw, values, draws)
    naive_seconds, naive = _naive(fw, values, draws)
    # The same numbers, or the comparison means nothing.
    assert np.allclose(
        result.propensity, [np.nan if p is None else p for p in naive.propensity], equal_nan=True
    )
    assert sensitivity.rank_p05.tolist() == [r or 0 for r in naive.rank_p05]
    assert sensitivity.rank_p95.tolist() == [r or 0 for r in naive.rank_p95]
    service_seconds = _service(fw, values, draws)
    common = {"countries": COUNTRIES, "measures": MEASURES, "draws": draws}
    return [
        {
            "what": "vectorized engine (numpy)",
            **common,
            "seconds": vec_seconds,
            "speedup_vs_naive": naive_seconds / vec_seconds,
        },
        {
            "what": "naive per-country Python loop",
            **common,
            "seconds": naive_seconds,
            "speedup_vs_naive": 1.0,
        },
        {
            "what": "service run incl. SQLite reads",
            **common,
            "seconds": service_seconds,
            "speedup_vs_naive": naive_seconds / service_seconds,
        },
    ]
