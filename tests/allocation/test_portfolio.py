"""Scenarios built from the stored world: candidates, marks, capacity, values and hooks."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from sqlalchemy import select

from ssaplan.allocation.portfolio import (
    BuildOptions,
    ProgramFacts,
    build_from_portfolio,
    capacity_of,
    parse_years,
    value_of,
)
from ssaplan.allocation.service import parse
from ssaplan.assessment.models import Assessment, AssessmentCountry
from ssaplan.core.errors import BadRequest, Invalid
from ssaplan.core.store import Store
from ssaplan.portfolio.models import BudgetLine, Program
from ssaplan.reference.catalog import get_catalog
from tests.conftest import run_cli

YEARS = (2027, 2028, 2029)


def test_value_formula_by_hand() -> None:
    # P = 0.5, Q = 0.8, O = 1 + 1.5 / 3 = 1.5, E = 2, D = $32M -> 32^0.8 = 16
    v = value_of(32_000_000, priority=50, propensity=80, relevance=1.5, evidence=2.0)
    assert v == pytest.approx(0.5 * 0.8 * 1.5 * 2.0 * 16.0)
    # no assessment: P = 0.1, Q = 0.5; floors at 10; evidence bounded to 3
    assert value_of(1_000_000, priority=None, propensity=None, relevance=0, evidence=1) == 0.05
    assert value_of(1_000_000, priority=0, propensity=0, relevance=9, evidence=99) == (
        pytest.approx(0.1 * 0.1 * 2 * 3)
    )
    assert capacity_of(10_000_000, 0.0) == 5_000_000
    assert capacity_of(10_000_000, 1.0) == 15_000_000


@pytest.mark.parametrize("text", ["2031-2027", "soon", "", "2027-2060", "1800"])
def test_bad_fiscal_years_are_refused(text: str) -> None:
    with pytest.raises(BadRequest):
        parse_years(text)


def test_fiscal_years_forms() -> None:
    assert parse_years("2027-2031") == (2027, 2028, 2029, 2030, 2031)
    assert parse_years("2029,2027") == (2027, 2029)


def test_the_demo_world_becomes_a_valid_scenario(sqlite_demo: Store) -> None:
    catalog = get_catalog()
    with sqlite_demo.session() as s:
        built = build_from_portfolio(s, catalog, YEARS)
        programs = {p.code: p for p in s.execute(select(Program)).scalars()}
        lines = s.execute(select(BudgetLine).where(BudgetLine.fiscal_year.in_(YEARS))).scalars()
        marks: dict[tuple[str, int], int] = defaultdict(int)
        committed: dict[tuple[str, int], int] = defaultdict(int)
        by_pk = {p.id: p for p in programs.values()}
        for line in lines:
            p = by_pk[line.program_id]
            if p.status in ("suspended", "terminated"):
                continue
            key = (line.account_id or p.account_id or "", line.fiscal_year)
            marks[key] += line.planned
            if p.status in ("notified", "obligated", "implementing"):
                committed[key] += line.planned
        latest = s.execute(select(Assessment.id).order_by(Assessment.id.desc())).scalars().first()
        ken = s.get(AssessmentCountry, (latest, "KEN"))
    d = built.scenario
    assert built.assessment_id == latest and ken is not None
    scenario = parse(d)  # the reference data accepts it as is
    assert len(scenario.problem.candidates) == len(d["candidates"]) > 500
    # candidates: proposed and approved programs only, three decreasing levels, names kept
    for c in d["candidates"]:
        assert programs[c["id"]].status in ("proposed", "approved")
        assert c["title"] == programs[c["id"]].title
        annuals = [lv["annual"] for lv in c["levels"]]
        assert annuals == sorted(annuals, reverse=True) and all(a % 1000 == 0 for a in annuals)
        assert [lv["label"] for lv in c["levels"]][: len(annuals)] == ["full", "75%", "50%"][
            : len(annuals)
        ]
        assert set(c["fiscal_years"]) <= set(YEARS)
    # marks: planned budget lines less commitments, to the dollar
    for account, table in d["accounts"].items():
        for fy, dollars in table.items():
            key = (account, int(fy))
            assert dollars == max(0, marks[key] - committed[key]), key
    # capacity: assessed partners only, from the construct and the peak planned money
    assert "KEN" in d["absorptive_capacity"]
    assert d["reserve_share"] == 0.05
    # values follow the latest assessment: the same program costs the same, is worth more
    # in a partner of higher priority x propensity
    assert all(lv["value"] > 0 for c in d["candidates"] for lv in c["levels"])


def test_options_and_hooks(sqlite_demo: Store) -> None:
    catalog = get_catalog()
    seen: list[ProgramFacts] = []

    def evidence(p: ProgramFacts) -> float:
        seen.append(p)
        return 2.0 if p.account == "FMF" else 1.0

    def eligible(country: str, account: str, fy: int) -> bool:
        return not (country == "KEN" and fy == 2028)

    with sqlite_demo.session() as s:
        plain = build_from_portfolio(s, catalog, YEARS).scenario
        hooked = build_from_portfolio(
            s,
            catalog,
            YEARS,
            options=BuildOptions(reserve_share=0.1, marks_percent=50, name="Half marks"),
            eligible=eligible,
            evidence=evidence,
        ).scenario
        with pytest.raises(Invalid):
            build_from_portfolio(s, catalog, YEARS, options=BuildOptions(reserve_share=1.5))
    assert hooked["name"] == "Half marks" and hooked["reserve_share"] == 0.1
    assert {p.code for p in seen} == {c["id"] for c in plain["candidates"]}
    by_id = {c["id"]: c for c in plain["candidates"]}
    for c in hooked["candidates"]:
        ratio = c["levels"][0]["value"] / by_id[c["id"]]["levels"][0]["value"]
        assert ratio == pytest.approx(2.0 if c["account"] == "FMF" else 1.0, rel=1e-4)
    kenya = [r for r in hooked.get("restrictions", []) if r["country"] == "KEN"]
    assert kenya and all(r["fiscal_years"] == [2028] for r in kenya)
    problem = parse(hooked).problem
    assert ("KEN", kenya[0]["account"], 2028) in problem.blocked
    for account, table in hooked["accounts"].items():
        for fy, dollars in table.items():
            assert dollars <= plain["accounts"][account][fy]


def test_cli_from_portfolio(sqlite_demo: Store, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(sqlite_demo.engine.url)
    code, out, err = run_cli(
        capsys,
        "--db",
        db,
        "allocate",
        "--from-portfolio",
        "--fiscal-years",
        "2027-2029",
        "--time-limit",
        "3",
        "--json",
    )
    assert code == 0, err
    assert out.count("\n") == 1
    data = json.loads(out)
    assert data["name"] == "Portfolio FY2027-2029"
    assert data["status"] in ("optimal", "feasible") and data["chosen"]
    assert data["greedy"]["objective"] <= data["objective"] + 1e-6
    assert "saved" not in data
    code, out, err = run_cli(
        capsys,
        "--db",
        db,
        "allocate",
        "--from-portfolio",
        "--fiscal-years",
        "2027-2029",
        "--time-limit",
        "3",
        "--save",
        "--json",
    )
    assert code == 0, err
    saved = json.loads(out)["saved"]
    from ssaplan.allocation.service import AllocationService
    from ssaplan.core.permissions import Actor

    with sqlite_demo.session() as s:
        got = AllocationService(s, Actor("t", "viewer")).get_result(saved["result_id"])
    assert got["scenario_id"] == saved["scenario_id"] and got["status"] in ("optimal", "feasible")


@pytest.mark.parametrize(
    ("args", "exit_code", "message"),
    [
        (["--from-portfolio"], 2, "--fiscal-years"),
        ([], 2, "--from-portfolio"),
        (["--from-portfolio", "--fiscal-years", "soon"], 1, "2027-2031"),
        (["--from-portfolio", "--fiscal-years", "2040-2041"], 1, "no proposed or approved"),
    ],
)
def test_cli_from_portfolio_bad_usage(
    sqlite_demo: Store,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    exit_code: int,
    message: str,
) -> None:
    db = str(sqlite_demo.engine.url)
    code, out, err = run_cli(capsys, "--db", db, "allocate", *args, "--save")
    assert code == exit_code, err
    assert message in err and out == ""
    from ssaplan.allocation.service import AllocationService
    from ssaplan.core.permissions import Actor

    with sqlite_demo.session() as s:  # the demo's two scenarios, nothing more
        assert len(AllocationService(s, Actor("t", "viewer")).list_scenarios()) == 2
