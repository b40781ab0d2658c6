"""Robust mode: a clearly dominant candidate is always funded, a coin flip about half the time."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ssaplan.allocation.engine.robust import RobustAllocator, label
from ssaplan.allocation.engine.solve import AllocationOptimizer
from tests.allocation.builders import cand, problem

OPT = AllocationOptimizer(mip_rel_gap=0.0, time_limit=10)


def two_for_one_slot(sd: float = 3.0) -> object:
    # $10M: A ($5M, value 100) always fits; B and C ($5M, value 10 each) compete for
    # the other $5M.
    return problem(
        [
            cand("A", [(5, 100)], sd=1.0),
            cand("B", [(5, 10)], sd=sd),
            cand("C", [(5, 10)], sd=sd),
        ]
    )


def shares(result: object) -> dict[str, float]:
    return {f.id: f.funded_share for f in result.frequencies}  # type: ignore[attr-defined]


def test_frequencies_from_given_draws() -> None:
    p = two_for_one_slot()
    draws = np.array([[100.0, 12.0, 8.0]] * 30 + [[100.0, 8.0, 11.0]] * 10)
    r = RobustAllocator(workers=1, optimizer=OPT).solve(p, draws)  # type: ignore[arg-type]
    assert r.draws == 40 and r.workers == 1
    assert shares(r) == {"A": 1.0, "B": 0.75, "C": 0.25}
    assert r.most_frequent is not None and r.most_frequent.ids == ("A", "B")
    assert r.most_frequent.optimal_share == 0.75
    # mean values: B 11.0, C 8.75; the expected-value portfolio is A + B
    assert r.max_expected_value is not None and r.max_expected_value.ids == ("A", "B")
    assert r.max_expected_value.expected_value == pytest.approx(111.0)
    assert dict(r.draw_statuses) == {"optimal": 40}
    json.dumps(r.as_dict())


def test_coin_flip_and_solid_in_parallel() -> None:
    p = two_for_one_slot()
    r = RobustAllocator(draws=60, seed=7, workers=2, optimizer=OPT).solve(p)  # type: ignore[arg-type]
    s = shares(r)
    assert s["A"] == 1.0
    assert 0.3 < s["B"] < 0.7 and s["B"] + s["C"] == pytest.approx(1.0)
    labels = {f.id: f.label for f in r.frequencies}
    assert labels["A"] == "solid" and labels["B"] == "coin flip"
    assert r.workers in (1, 2)
    assert "coin flip" in r.summary()


def test_draws_from_a_callable() -> None:
    p = two_for_one_slot()

    def draw(rng: np.random.Generator, n: int) -> np.ndarray:
        return np.column_stack([np.full(n, 100.0), np.full(n, 20.0), rng.uniform(0, 1, n)])

    r = RobustAllocator(draws=5, workers=1, optimizer=OPT).solve(p, draw)  # type: ignore[arg-type]
    assert shares(r) == {"A": 1.0, "B": 1.0, "C": 0.0}
    assert {f.id: f.label for f in r.frequencies}["C"] == "never"


def test_bad_draws_and_infeasible_problems() -> None:
    p = two_for_one_slot()
    with pytest.raises(ValueError, match="shape"):
        RobustAllocator(workers=1, optimizer=OPT).solve(p, np.ones((3, 2)))  # type: ignore[arg-type]
    q = problem([cand("A", [(50, 1)], must_fund=True)])
    r = RobustAllocator(draws=3, workers=1, optimizer=OPT).solve(q)
    assert (r.status, r.draws, r.frequencies) == ("infeasible", 0, ())


def test_labels() -> None:
    assert [label(s) for s in (1.0, 0.7, 0.5, 0.2, 0.05, 0.0)] == [
        "solid",
        "usually",
        "coin flip",
        "sometimes",
        "rarely",
        "never",
    ]
