"""Assessment workflows through the database: running, saving, reproducing, policy inputs
and judgments, portfolio-derived measures; the demo and the real indicator files."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from ssaplan.assessment.framework import PORTFOLIO_MEASURES, load_shipped, parse_framework
from ssaplan.assessment.indicators.reader import read_indicator_file
from ssaplan.assessment.indicators.service import IndicatorService
from ssaplan.assessment.models import IndicatorObservation
from ssaplan.assessment.policy import PolicyService
from ssaplan.assessment.run import Settings
from ssaplan.assessment.service import AssessmentService
from ssaplan.core.audit import verify
from ssaplan.core.errors import BadRequest, Forbidden, Invalid, NotFound
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import BudgetLineIn, ProgramCreate
from ssaplan.portfolio.service import PortfolioService
from tests.assessment.conftest import SMALL_FRAMEWORK, SMALL_TIDY
from tests.conftest import OPERATOR, shared_data

Write = Callable[[str, str], Path]
SMALL = parse_framework(SMALL_FRAMEWORK, name="small")
ANALYST = Actor("ana", "analyst", "USAID")
VIEWER = Actor("vic", "viewer", "DOJ")


def load(store: Store, write: Write, text: str = SMALL_TIDY) -> None:
    with store.transaction() as session:
        IndicatorService(session, OPERATOR).import_files(
            [read_indicator_file(write("t.csv", text))]
        )


def by_iso(rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    return {str(r["iso3"]): r for r in rows}


def test_run_through_the_database_matches_the_hand_computation(store: Store, write: Write) -> None:
    load(store, write)
    with store.session() as session:
        run = AssessmentService(session, ANALYST).run(framework=SMALL, settings=Settings(draws=200))
    data = run.as_dict()
    assert data["year"] == 2020 and data["framework"] == "small (file)"
    rows = by_iso(data["countries"])
    assert set(rows) == {"KEN", "TZA", "UGA", "RWA"}  # the hand table's A, B, C, D
    assert [rows[c]["propensity"] for c in ("KEN", "TZA", "UGA", "RWA")] == pytest.approx(
        [25, 50, 100, 12.5]
    )
    assert rows["TZA"]["completeness"] == pytest.approx(0.75)
    assert rows["TZA"]["constructs"] == {"governance": pytest.approx(0.5), "capacity": None}
    assert [r["rank"] for r in data["countries"]] == [1, 2, 3, 4]
    assert all(r["priority"] is None for r in data["countries"])  # no tiers set
    assert any("no priority tiers" in w for w in data["warnings"])


def test_the_window_takes_the_latest_value_and_drops_old_ones(store: Store, write: Write) -> None:
    load(
        store, write, SMALL_TIDY + "KEN,2018,gov,9,test\nKEN,2017,hdi,9,old\nKEN,2021,gov,3,test\n"
    )
    with store.session() as session:
        service = AssessmentService(session, ANALYST)
        run = service.run(year=2020, framework=SMALL, settings=Settings(draws=0))
        inputs = service.gather(SMALL, Settings(), 2021).panel
    assert run.inputs.panel.values[run.countries.index("KEN")].tolist() == [1, 10, 0.4]
    ken = inputs.countries.index("KEN")
    assert inputs.values[ken].tolist() == [3, 10, 0.4] and inputs.years[ken].tolist() == [
        2021,
        2020,
        2020,
    ]


def test_a_measure_no_indicator_feeds_is_a_specific_error(store: Store, write: Write) -> None:
    load(store, write)
    typo = parse_framework(SMALL_FRAMEWORK.replace("hdi,capacity", "hdii,capacity"), name="typo")
    with store.session() as session, pytest.raises(Invalid) as info:
        AssessmentService(session, ANALYST).run(framework=typo)
    (detail,) = info.value.details
    assert detail.loc == ("framework", "hdii") and "did you mean 'hdi'" in detail.msg


def test_nothing_to_assess_and_bad_settings(store: Store) -> None:
    with store.session() as session:
        service = AssessmentService(session, ANALYST)
        with pytest.raises(Invalid, match="have no imported indicator"):
            service.run()
        only_judgment = parse_framework(
            "measure,construct,direction,measure_weight,construct_weight\njudgment: will,w,1,1,1\n",
            name="j",
        )
        with pytest.raises(BadRequest, match="give the year"):
            service.run(framework=only_judgment)
        with pytest.raises(Invalid, match="settings"):
            service.run(framework=only_judgment, year=2020, settings=Settings(draws=-1))


def test_viewers_read_but_do_not_run(store: Store, write: Write) -> None:
    load(store, write)
    with store.session() as session, pytest.raises(Forbidden):
        AssessmentService(session, VIEWER).run(framework=SMALL)


def test_saved_assessment_keeps_everything_and_reproduces(store: Store, write: Write) -> None:
    load(store, write)
    with store.transaction() as session:
        service = AssessmentService(session, ANALYST)
        run = service.run(framework=SMALL, settings=Settings(draws=300, seed=5))
        assessment_id = service.save(run, note="test run")
    with store.session() as session:
        service = AssessmentService(session, VIEWER)
        saved = service.get(assessment_id)
        detail = service.country(assessment_id, "Tanzania")
        with pytest.raises(NotFound, match="no data in assessment"):
            service.country(assessment_id, "FRA")
        with pytest.raises(NotFound, match="unknown country"):
            service.country(assessment_id, "Atlantis")
    assert saved["created_by"] == "ana" and saved["note"] == "test run"
    assert saved["framework_sha256"] == SMALL.sha256 and saved["settings"]["seed"] == 5
    assert by_iso(saved["countries"]) == by_iso(
        [{**r, "name": r["name"]} for r in run.as_dict()["countries"]]
    )
    gov = detail["constructs"][0]["measures"][0]
    assert (gov["measure"], gov["value"], gov["year"], gov["source"]) == ("gov", 3.0, 2020, "test")
    with store.session() as session:
        check = AssessmentService(session, ANALYST).reproduce(assessment_id)
    assert check == {
        "assessment": assessment_id,
        "identical": True,
        "countries": 4,
        "differences": [],
    }
    with store.session() as session:
        assert verify(session).ok


def test_same_inputs_same_numbers(store: Store, write: Write) -> None:
    load(store, write)
    with store.session() as session:
        service = AssessmentService(session, ANALYST)
        a = service.run(framework=SMALL, settings=Settings(draws=500, seed=9)).as_dict()
        b = service.run(framework=SMALL, settings=Settings(draws=500, seed=9)).as_dict()
    assert a == b


def test_judgments_need_a_rationale_and_feed_the_run(store: Store, write: Write) -> None:
    load(store, write)
    fw = parse_framework(SMALL_FRAMEWORK + "judgment: political will,will,1,1,1\n", name="j")
    with store.transaction() as session:
        policy = PolicyService(session, ANALYST)
        with pytest.raises(Invalid) as info:
            policy.set_judgment("KEN", 2020, "political will", 11, "short")
        assert {d.loc[0] for d in info.value.details} == {"measure", "value", "rationale"}
        with pytest.raises(Invalid, match="unknown country"):
            policy.set_judgment("Atlantis", 2020, "judgment: political will", 5, "x" * 20)
        policy.set_judgment(
            "Kenya", 2020, "judgment: political will", 8, "Reform law passed in 2019."
        )
        policy.set_judgment("TZA", 2019, "judgment: political will", 4, "No reform agenda visible.")
    with store.transaction() as session:
        service = AssessmentService(session, ANALYST)
        run = service.run(framework=fw, year=2020, settings=Settings(draws=0))
        assessment_id = service.save(run)
        detail = service.country(assessment_id, "KEN")
    rows = by_iso(run.as_dict()["countries"])
    assert rows["KEN"]["constructs"]["will"] == 1.0 and rows["TZA"]["constructs"]["will"] == 0.0
    assert (
        detail["judgments"]["judgment: political will"]["rationale"] == "Reform law passed in 2019."
    )
    assert detail["judgments"]["judgment: political will"]["assessed_by"] == "ana"


def test_priority_from_policy_inputs(store: Store, write: Write) -> None:
    load(store, write)
    admin = OPERATOR
    with store.transaction() as session:
        policy = PolicyService(session, admin)
        policy.set_tier("KEN", 1, "ally")
        policy.set_tier("TZA", 4)
        policy.set_relevance("KEN", {"G1.1": 3})
        policy.set_relevance("TZA", {"G1.1": 3, "G2.4": 3})
        with pytest.raises(Invalid, match="invalid relevance"):
            policy.set_relevance("KEN", {"G1": 3, "G9.9": 1, "G1.2": 5})
        with pytest.raises(Invalid, match="invalid tier"):
            policy.set_tier("KEN", 7)
        with pytest.raises(Invalid, match="importance"):
            policy.set_importance({o: 0 for o in policy.importance()})
        with pytest.raises(Forbidden):
            PolicyService(session, ANALYST).set_tier("KEN", 2)
    with store.session() as session:
        rows = by_iso(
            AssessmentService(session, ANALYST)
            .run(framework=SMALL, settings=Settings(draws=0))
            .as_dict()["countries"]
        )
    # 25 objectives of equal importance: KEN 100 (0.5 * 1 + 0.5 * 1/25); TZA 100 (0.5 * 2/25).
    assert rows["KEN"]["priority"] == pytest.approx(52)
    assert rows["TZA"]["priority"] == pytest.approx(4)
    assert rows["UGA"]["priority"] is None
    with store.transaction() as session:
        PolicyService(session, admin).set_importance({"G1.1": 24})
    with store.session() as session:
        rows = by_iso(
            AssessmentService(session, ANALYST)
            .run(framework=SMALL, settings=Settings(draws=0))
            .as_dict()["countries"]
        )
    assert rows["KEN"]["priority"] == pytest.approx(50 + 50 * 24 / 48)


def test_frameworks_are_versioned(store: Store) -> None:
    with store.transaction() as session:
        policy = PolicyService(session, OPERATOR)
        assert policy.framework().label == "default@0"
        v1 = policy.save_framework(parse_framework(SMALL_FRAMEWORK, name="default"))
        same = policy.save_framework(parse_framework(SMALL_FRAMEWORK, name="default"))
        v2 = policy.save_framework(
            parse_framework(SMALL_FRAMEWORK.replace("2,3", "1,3"), name="default"), description="x"
        )
        with pytest.raises(Invalid, match="framework name"):
            policy.save_framework(parse_framework(SMALL_FRAMEWORK, name="Bad Name"))
        with pytest.raises(Forbidden):
            PolicyService(session, ANALYST).save_framework(
                parse_framework(SMALL_FRAMEWORK, name="a")
            )
    assert (v1.label, same.label, v2.label) == ("default@1", "default@1", "default@2")
    with store.session() as session:
        policy = PolicyService(session, VIEWER)
        assert policy.framework().label == "default@2"
        assert policy.framework("default", 1).rows == v1.rows
        assert policy.framework("default", 0).sha256 == load_shipped().sha256
        assert [f["label"] for f in policy.frameworks()] == [
            "default@0 (shipped)",
            "default@1",
            "default@2",
        ]
        with pytest.raises(NotFound):
            policy.framework("nope")


def test_portfolio_measures_and_funding_come_from_budget_lines(store: Store, write: Write) -> None:
    load(store, write)
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).upsert_many(
            [
                ProgramCreate(
                    title="Border security",
                    agency="State",
                    countries=["KEN", "TZA"],
                    start=date(2017, 10, 1),
                    end=date(2020, 9, 30),
                    status="implementing",
                    budget=[
                        BudgetLineIn(fiscal_year=2019, planned=1000, obligated=900, disbursed=450),
                        BudgetLineIn(fiscal_year=2020, planned=2000, obligated=1000, disbursed=0),
                    ],
                )
            ],
            source="test",
        )
    fw = parse_framework(
        SMALL_FRAMEWORK + "".join(f"{m},past,1,1,1\n" for m in PORTFOLIO_MEASURES), name="p"
    )
    with store.session() as session:
        run = AssessmentService(session, ANALYST).run(
            framework=fw, year=2020, settings=Settings(draws=0)
        )
    p = run.inputs.panel
    ken = p.countries.index("KEN")
    got = dict(zip(p.measures, p.values[ken].tolist(), strict=True))
    # Split equally between KEN and TZA: 500 + 1000 planned, 450 + 500 obligated.
    assert got["portfolio: consecutive funded years"] == 2
    assert got["portfolio: obligation rate"] == pytest.approx(950 / 1500)
    assert got["portfolio: disbursement rate"] == pytest.approx(225 / 950)
    assert got["portfolio: planned amount variability"] == pytest.approx(250 / 750)
    assert (
        str(p.sources[ken, p.measures.index("portfolio: obligation rate")])
        == "portfolio FY2016-FY2020"
    )
    assert run.inputs.funding[ken] == 1000


def test_the_demo_assessment_covers_every_partner(assessed: Store) -> None:
    from ssaplan.assessment.demo import SOURCE, _partners
    from ssaplan.reference.catalog import get_catalog

    with assessed.session() as session:
        service = AssessmentService(session, VIEWER)
        latest = service.get(service.latest_id() or 0)
        sources = set(session.execute(select(IndicatorObservation.source).distinct()).scalars())
        assert verify(session).ok
    assert sources == {SOURCE}
    assert "ILLUSTRATIVE" in latest["note"] and latest["year"] == 2026
    scored = {c["iso3"] for c in latest["countries"] if c["propensity"] is not None}
    assert scored == set(_partners(get_catalog()))
    assert not any(c["flagged"] for c in latest["countries"])
    # Partners the United States does not assist (state sponsors of terrorism, comprehensive
    # sanctions) get no priority tier in the demo; the others have one.
    tiered = {c["iso3"] for c in latest["countries"] if c["priority"] is not None}
    assert len(tiered) >= 100
    assert not tiered & {"PRK", "IRN", "CUB", "SYR"}
    assert latest["analyses"]["mismatch"]["high_cost_low_propensity"]
    with assessed.session() as session:
        assert AssessmentService(session, ANALYST).reproduce(latest["id"])["identical"]


def test_real_indicator_files_assess_every_country_they_cover(real: Store) -> None:
    shared_data("indicators")
    with real.session() as session:
        run = AssessmentService(session, ANALYST).run(settings=Settings(draws=1000))
        covered = set(
            session.execute(
                select(IndicatorObservation.iso3)
                .where(
                    IndicatorObservation.measure.in_(load_shipped().measures_of("indicator")),
                    IndicatorObservation.year.between(run.year - 2, run.year),
                )
                .distinct()
            ).scalars()
        )
        every = session.execute(
            select(func.count(func.distinct(IndicatorObservation.iso3)))
        ).scalar_one()
    data = run.as_dict()
    scored = {c["iso3"] for c in data["countries"] if c["propensity"] is not None}
    assert data["year"] == 2021  # the latest year whose window covers every source
    assert scored == covered and len(scored) >= 200
    assert every - len(scored) <= 5  # the rest only have values before 2019
    # Without judgments or a portfolio: the indicator constructs carry 60% of the weight,
    # sustainment capacity (0.5 of 10) adds the CPIA budget rating where the CPIA exists.
    best = max(c["completeness"] for c in data["countries"])
    assert best == pytest.approx(0.65)


def test_a_measure_from_several_sources_is_reported(store: Store, write: Write) -> None:
    load(store, write, SMALL_TIDY + "FRA,2020,gov,2,other source\n")
    with store.session() as session:
        run = AssessmentService(session, ANALYST).run(framework=SMALL, settings=Settings(draws=0))
    assert "'gov' mixes sources: other source, test" in run.warnings
