"""Gap computations on small hand-made records."""

from __future__ import annotations

from datetime import date

import pytest

from ssaplan.coordination.engine.gaps import (
    Coverage,
    Objective,
    PartnerStanding,
    expiring_coverage,
    neglected_partners,
    uncovered_cells,
    unfunded_objectives,
)
from ssaplan.core.errors import Invalid

OBJECTIVES = [
    Objective("O1", "Maritime security", "SOM"),
    Objective("O2", "Justice", "SOM"),
    Objective("O3", "Border control", "KEN"),
    Objective("O4", "Unfunded"),
]
COVERAGE = [
    Coverage(
        "P1",
        objectives=("O1",),
        partners=("SOM",),
        institution_type="border_management",
        purpose="build_capacity",
        end=date(2026, 3, 31),
        usd=1_000_000,
    ),
    Coverage("P2", objectives=("O1",), partners=("SOM",), end=date(2026, 6, 30), usd=500_000),
    Coverage(
        "P3",
        objectives=("O2",),
        partners=("SOM",),
        institution_type="justice",
        end=date(2029, 1, 1),
        usd=2_000_000,
    ),
    Coverage("P4", objectives=("O3",), partners=("KEN",), end=None, usd=300_000),
    Coverage("P5", objectives=("O4",), usd=0),  # no money: covers nothing
    Coverage("D1", source="donor", partners=("KEN",), institution_type="police", usd=9_000_000),
]


def test_unfunded_objectives() -> None:
    gaps = unfunded_objectives(OBJECTIVES, COVERAGE, as_of=date(2025, 12, 31))
    assert [g.subject for g in gaps] == ["O4"]
    assert gaps[0].as_dict()["kind"] == "unfunded_objective"


def test_only_programs_active_in_the_window_serve_an_objective() -> None:
    # O1's programs end in March and June 2026: they serve it in 2025, not in 2027
    assert "O1" not in {
        g.subject for g in unfunded_objectives(OBJECTIVES, COVERAGE, as_of=date(2025, 12, 31))
    }
    later = unfunded_objectives(OBJECTIVES, COVERAGE, as_of=date(2027, 1, 1), months=12)
    assert {g.subject for g in later} == {"O1", "O4"}
    assert later[0].figures["horizon"] == "2028-01-01"
    # a program starting after the window does not serve it either
    future = [Coverage("F", objectives=("X",), start=date(2030, 1, 1), usd=5)]
    assert [
        g.subject for g in unfunded_objectives([Objective("X")], future, as_of=date(2026, 1, 1))
    ] == ["X"]
    assert unfunded_objectives([Objective("X")], future, as_of=date(2029, 6, 1)) == ()


def test_expiring_coverage_within_n_months() -> None:
    gaps = expiring_coverage(OBJECTIVES, COVERAGE, as_of=date(2025, 12, 31), months=6)
    assert [g.subject for g in gaps] == ["O1"]
    assert gaps[0].figures["programs"] == ["P1", "P2"]
    assert gaps[0].figures["last_end"] == "2026-06-30"
    assert gaps[0].figures["successors"] == [] and gaps[0].figures["partner"] == "SOM"
    # a successor that starts after the window does not close the gap; it is named
    successor = Coverage("P9", objectives=("O1",), start=date(2026, 10, 1), usd=1)
    gaps = expiring_coverage(OBJECTIVES, [*COVERAGE, successor], as_of=date(2025, 12, 31), months=6)
    assert [g.subject for g in gaps] == ["O1"]
    assert gaps[0].figures["successors"] == ["P9"]
    assert gaps[0].figures["next_start"] == "2026-10-01"
    # O3's program has no end date: continuing, so never expiring
    assert expiring_coverage(OBJECTIVES, COVERAGE, as_of=date(2025, 12, 31), months=3) == ()
    # month arithmetic clamps to the month's last day
    edge = expiring_coverage(
        [Objective("X")],
        [Coverage("P", objectives=("X",), end=date(2024, 2, 29), usd=1)],
        as_of=date(2023, 11, 30),
        months=3,
    )
    assert edge and edge[0].figures["horizon"] == "2024-02-29"


def test_neglected_partners() -> None:
    standings = [
        PartnerStanding("SOM", 5, 0.9),
        PartnerStanding("KEN", 4, 0.8),
        PartnerStanding("ETH", 5, 0.95),
        PartnerStanding("NGA", 1, 0.2),
        PartnerStanding("GHA", 2, 0.4),
        PartnerStanding("SEN", 3, 0.5),
    ]
    funding = {"SOM": 50e6, "KEN": 40e6, "NGA": 1e6, "GHA": 2e6, "SEN": 3e6}  # ETH: nothing
    gaps = neglected_partners(standings, funding, top_share=0.5, bottom_share=0.34)
    assert [g.subject for g in gaps] == ["ETH"]
    assert gaps[0].figures["usd"] == 0
    assert neglected_partners([], {}) == ()
    with pytest.raises(Invalid):
        neglected_partners(standings, funding, top_share=0)


def test_uncovered_cells() -> None:
    gaps = uncovered_cells(
        ["SOM", "KEN"],
        COVERAGE,
        institution_types=["police", "justice"],
        purposes=["build_capacity", "engage"],
    )
    subjects = {g.subject for g in gaps}
    # D1 (no purpose) covers police x every purpose in KEN; P3 justice x every purpose in SOM
    assert "KEN/police/build_capacity" not in subjects and "KEN/police/engage" not in subjects
    assert "SOM/justice/engage" not in subjects
    assert subjects == {
        "SOM/police/build_capacity",
        "SOM/police/engage",
        "KEN/justice/build_capacity",
        "KEN/justice/engage",
    }
