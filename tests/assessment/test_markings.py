"""Markings in assessment: a run's funding figures and portfolio measures come from the
programs the runner may see, and a saved run computed over programs a reader may not
see is unknown to that reader, like a missing id (issue 10, item 8; docs/markings.md)."""

from __future__ import annotations

from datetime import date

import pytest

from ssaplan.assessment.framework import PORTFOLIO_MEASURES, parse_framework
from ssaplan.assessment.run import Settings
from ssaplan.assessment.service import AssessmentService
from ssaplan.core.errors import NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import BudgetLineIn, ProgramCreate
from ssaplan.portfolio.service import PortfolioService
from tests.assessment.conftest import SMALL_FRAMEWORK
from tests.assessment.test_service import Write, load
from tests.conftest import OPERATOR

# title -> (marking, releasable_to, FY2020 planned dollars in Kenya)
WORLD = {
    "Open": ("U", [], 1_000),
    "Controlled": ("CUI", [], 10_000),
    "Allied": ("SBU", ["NATO"], 100_000),
}
READERS = {
    "usg": Actor("usg", "analyst", "USAID"),
    "ceiling-u": Actor("low", "analyst", "USAID", ceiling="U"),
    "gbr": Actor("gbr", "analyst", "USAID", audience="GBR"),
}
SEEN = {"usg": set(WORLD), "ceiling-u": {"Open"}, "gbr": {"Open", "Allied"}}
FW = parse_framework(
    SMALL_FRAMEWORK + "".join(f"{m},past,1,1,1\n" for m in PORTFOLIO_MEASURES), name="p"
)


def build(store: Store, write: Write) -> None:
    load(store, write)
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).upsert_many(
            [
                ProgramCreate(
                    title=title,
                    agency="State",
                    countries=["KEN"],
                    start=date(2018, 10, 1),
                    end=date(2020, 9, 30),
                    status="implementing",
                    marking=marking,
                    releasable_to=rel,
                    budget=[BudgetLineIn(fiscal_year=2020, planned=amount, obligated=amount // 2)],
                )
                for title, (marking, rel, amount) in WORLD.items()
            ],
            source="test",
        )


def test_a_runs_funding_counts_only_the_runners_programs(store: Store, write: Write) -> None:
    build(store, write)
    for name, actor in READERS.items():
        with store.session() as session:
            run = AssessmentService(session, actor).run(
                framework=FW, year=2020, settings=Settings(draws=0)
            )
        ken = run.inputs.countries.index("KEN")
        assert run.inputs.funding[ken] == sum(WORLD[t][2] for t in SEEN[name]), name


def test_a_saved_run_is_readable_only_by_who_sees_its_programs(store: Store, write: Write) -> None:
    build(store, write)
    saved = {}
    for name, actor in READERS.items():
        with store.transaction() as session:
            svc = AssessmentService(session, actor)
            saved[name] = svc.save(
                svc.run(framework=FW, year=2020, settings=Settings(draws=0)), note=name
            )
    # Who may read whose run: a run computed over a program the reader may not see
    # would show them its dollars.
    may_read = {
        "usg": {"usg", "ceiling-u", "gbr"},
        "ceiling-u": {"ceiling-u"},
        "gbr": {"ceiling-u", "gbr"},
    }
    with store.session() as session:
        for name, actor in READERS.items():
            svc = AssessmentService(session, actor)
            readable = {r["note"] for r in svc.runs()}
            assert readable == may_read[name], name
            assert svc.count_runs() == len(may_read[name])
            assert svc.latest_id() == max(saved[n] for n in may_read[name])
            for other, pk in saved.items():
                if other in may_read[name]:
                    got = svc.get(pk)
                    ken = next(c for c in got["countries"] if c["iso3"] == "KEN")
                    assert ken["funding"] == sum(WORLD[t][2] for t in SEEN[other])
                    continue
                with pytest.raises(NotFound) as err:
                    svc.get(pk)
                assert err.value.message == f"no assessment {pk}"
