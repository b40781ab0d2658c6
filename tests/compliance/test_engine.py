"""Eligibility under the shipped rules: what each rule blocks, exceptions, waivers, FYs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ssaplan.compliance.engine import (
    Eligibility,
    ProgramYear,
    Restriction,
    Waiver,
    affected_programs,
    blocked_cells,
    evaluate,
    evaluate_all,
    fiscal_year_bounds,
    fiscal_year_of,
    leahy_citation,
    report,
    waiver_gaps,
)
from ssaplan.compliance.rules import Rule, RuleSet
from ssaplan.compliance.vetting import CredibleInformation, Unit, VettingRecord, VettingRegister

AS_OF = date(2025, 3, 1)
FY = 2025  # 2024-10-01 .. 2025-09-30


def restriction(
    rtype: str = "coup",
    country: str = "MLI",
    start: date = date(2024, 1, 1),
    end: date | None = None,
    waivers: tuple[Waiver, ...] = (),
) -> Restriction:
    return Restriction(country, rtype, start, end, f"{rtype} determination", "test", waivers)


def program(account: str = "FMF", fy: int = FY, country: str = "MLI", **kw: Any) -> ProgramYear:
    return ProgramYear("P1", fy, (country,), account, **kw)


def judge(rules: RuleSet, r: Restriction | list[Restriction], py: ProgramYear) -> Eligibility:
    return evaluate(py, r if isinstance(r, list) else [r], rules, as_of=AS_OF)


def effects(result: Eligibility) -> list[tuple[str, str]]:
    return [(r.rule, r.effect) for r in result.reasons]


def test_fiscal_years_run_october_to_september() -> None:
    assert fiscal_year_bounds(2025) == (date(2024, 10, 1), date(2025, 9, 30))
    assert fiscal_year_of(date(2024, 9, 30)) == 2024
    assert fiscal_year_of(date(2024, 10, 1)) == 2025


# -- coup ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "account", ["FMF", "IMET", "PKO", "GPOI", "INCLE", "NADR", "ESF", "DA", "TREAS-OTA", "10USC333"]
)
def test_coup_blocks_assistance_to_the_government(rules: RuleSet, account: str) -> None:
    result = judge(rules, restriction(), program(account))
    assert not result.eligible
    assert effects(result) == [("coup_government", "blocks")]
    assert "Sec. 7008(a)" in result.reasons[0].citation


@pytest.mark.parametrize(
    "account", ["10USC321", "10USC332", "10USC345", "USAI", "CTEF", "DHS-INTL"]
)
def test_coup_does_not_reach_other_title_10_or_dhs_accounts(rules: RuleSet, account: str) -> None:
    result = judge(rules, restriction(), program(account))
    assert result.eligible
    assert effects(result) == [("coup_government", "not_applicable")]
    assert f"does not cover account {account}" in result.reasons[0].text


def test_coup_does_not_reach_non_government_recipients(rules: RuleSet) -> None:
    result = judge(rules, restriction(), program("ESF", recipient="non_government"))
    assert result.eligible
    assert "reaches only government recipients" in result.reasons[0].text


@pytest.mark.parametrize("dac", ["15150", "15151", "15152", "15153"])
def test_coup_excepts_democracy_assistance_by_dac_code(rules: RuleSet, dac: str) -> None:
    result = judge(rules, restriction(), program("ESF", dac_code=dac))
    assert result.eligible
    assert effects(result) == [("coup_government", "excepted")]
    assert f"DAC purpose code {dac}" in result.reasons[0].text
    assert "second proviso" in result.reasons[0].citation


def test_coup_excepts_democracy_assistance_by_flag_but_not_other_codes(rules: RuleSet) -> None:
    flagged = judge(rules, restriction(), program("DA", flags=frozenset({"democracy_assistance"})))
    assert flagged.eligible and "flag democracy_assistance" in flagged.reasons[0].text
    for dac in ("15154", "15160", "15130"):  # executive office, human rights, justice
        assert not judge(rules, restriction(), program("DA", dac_code=dac)).eligible


def test_a_waiver_covering_the_account_lifts_the_coup_rule(rules: RuleSet) -> None:
    waiver = Waiver(frozenset({"FMF"}), date(2024, 6, 1), None, "7008(b) waiver 2024-17")
    result = judge(rules, restriction(waivers=(waiver,)), program("FMF"))
    assert result.eligible
    reason = result.reasons[0]
    assert reason.effect == "waived" and reason.citation == "7008(b) waiver 2024-17"
    assert "waived for every day it is in force" in reason.text
    assert result.as_dict()["reasons"][0]["citation"] == "7008(b) waiver 2024-17"


def test_a_waiver_for_another_account_does_not_help(rules: RuleSet) -> None:
    waiver = Waiver(frozenset({"IMET"}), date(2024, 6, 1))
    result = judge(rules, restriction(waivers=(waiver,)), program("FMF"))
    assert effects(result) == [("coup_government", "blocks")]


def test_a_waiver_covering_part_of_the_fiscal_year_does_not_lift_the_rule(rules: RuleSet) -> None:
    waiver = Waiver(frozenset({"FMF"}), date(2025, 1, 1), date(2025, 9, 30), "W-1")
    result = judge(rules, restriction(waivers=(waiver,)), program("FMF"))
    assert not result.eligible
    assert "leave 2024-10-01 to 2024-12-31 uncovered" in result.reasons[0].text
    # Ending the restriction with the waiver does not close the gap at the start.
    ended = restriction(end=date(2025, 9, 30), waivers=(waiver,))
    assert not judge(rules, ended, program("FMF")).eligible


def test_waivers_cover_the_period_the_restriction_is_in_force_not_the_whole_year(
    rules: RuleSet,
) -> None:
    # In force only from 1 March 2025 within FY2025; a waiver from that day suffices.
    waiver = Waiver(frozenset({"FMF"}), date(2025, 3, 1), None, "W-2")
    late = restriction(start=date(2025, 3, 1), waivers=(waiver,))
    assert judge(rules, late, program("FMF")).eligible
    # Ended on 31 December 2024, waived until then: covered too.
    early_waiver = Waiver(frozenset({"FMF"}), date(2024, 1, 1), date(2024, 12, 31), "W-3")
    early = restriction(end=date(2024, 12, 31), waivers=(early_waiver,))
    assert judge(rules, early, program("FMF")).eligible


def test_adjacent_waivers_together_cover_the_year(rules: RuleSet) -> None:
    first = Waiver(frozenset({"FMF", "IMET"}), date(2024, 10, 1), date(2025, 3, 31), "W-A")
    second = Waiver(frozenset({"FMF"}), date(2025, 4, 1), None, "W-B")
    result = judge(rules, restriction(waivers=(first, second)), program("FMF"))
    assert result.eligible and result.reasons[0].citation == "W-A; W-B"
    # A one-day gap between them is not covered, and is named.
    gapped = Waiver(frozenset({"FMF"}), date(2025, 4, 2), None, "W-C")
    result = judge(rules, restriction(waivers=(first, gapped)), program("FMF"))
    assert not result.eligible and "leave 2025-04-01 uncovered" in result.reasons[0].text


def test_waiver_gaps_by_hand() -> None:
    lo, hi = date(2025, 1, 1), date(2025, 1, 31)
    w1 = Waiver(frozenset({"A"}), date(2024, 12, 1), date(2025, 1, 10))
    w2 = Waiver(frozenset({"A"}), date(2025, 1, 5), date(2025, 1, 20))
    w3 = Waiver(frozenset({"B"}), date(2025, 1, 1))
    used, gaps = waiver_gaps([w2, w1, w3], "A", lo, hi)
    assert used == (w1, w2)
    assert gaps == ((date(2025, 1, 21), date(2025, 1, 31)),)
    assert waiver_gaps([], "A", lo, hi) == ((), ((lo, hi),))


def test_a_waiver_under_a_rule_that_allows_none_is_ignored(rules: RuleSet) -> None:
    strict = Rule(
        "strict",
        "coup",
        "Blocks FMF.",
        "Some act",
        frozenset({"FMF"}),
        "government",
        waivable=False,
    )
    waiver = Waiver(frozenset({"FMF"}), date(2024, 1, 1))
    result = evaluate(program("FMF"), [restriction(waivers=(waiver,))], [strict], as_of=AS_OF)
    assert not result.eligible
    assert "allows no waiver, so it is ignored" in result.reasons[0].text


# -- child soldiers ------------------------------------------------------------------
@pytest.mark.parametrize("account", ["FMF", "IMET", "PKO", "GPOI", "10USC333", "SEC1206"])
def test_cspa_blocks_the_listed_authorities(rules: RuleSet, account: str) -> None:
    result = judge(rules, restriction("child_soldiers"), program(account))
    assert effects(result) == [("child_soldiers_security_assistance", "blocks")]
    assert "2370c-1(a)" in result.reasons[0].citation


@pytest.mark.parametrize("account", ["INCLE", "NADR", "ESF", "DA", "10USC321"])
def test_cspa_leaves_other_accounts_alone(rules: RuleSet, account: str) -> None:
    assert judge(rules, restriction("child_soldiers"), program(account)).eligible


def test_cspa_professionalization_exception_is_for_imet_only(rules: RuleSet) -> None:
    flag = frozenset({"cspa_certified_professionalization"})
    imet = judge(rules, restriction("child_soldiers"), program("IMET", flags=flag))
    assert imet.eligible and imet.reasons[0].effect == "excepted"
    assert imet.reasons[0].citation == "22 U.S.C. 2370c-1(e)"
    assert not judge(rules, restriction("child_soldiers"), program("FMF", flags=flag)).eligible
    # Professionalization without the certification flag is not enough.
    unflagged = program("IMET", flags=frozenset({"military_professionalization"}))
    assert not judge(rules, restriction("child_soldiers"), unflagged).eligible


def test_cspa_presidential_waiver(rules: RuleSet) -> None:
    fy_waiver = Waiver(
        frozenset({"PKO", "IMET"}), date(2024, 10, 1), date(2025, 9, 30), "PD 2025-01"
    )
    listed = restriction(
        "child_soldiers", start=date(2024, 10, 1), end=date(2025, 9, 30), waivers=(fy_waiver,)
    )
    assert judge(rules, listed, program("PKO")).eligible
    assert not judge(rules, listed, program("FMF")).eligible


# -- trafficking tier 3 ------------------------------------------------------------------
@pytest.mark.parametrize(
    "account", ["FMF", "IMET", "PKO", "GPOI", "ESF", "DA", "NADR", "TREAS-OTA"]
)
def test_tier3_blocks_nonhumanitarian_assistance_to_the_government(
    rules: RuleSet, account: str
) -> None:
    result = judge(rules, restriction("trafficking_tier3"), program(account))
    assert effects(result) == [("tier3_nonhumanitarian", "blocks")]


@pytest.mark.parametrize("account", ["INCLE", "10USC333", "USAI"])
def test_tier3_leaves_law_enforcement_and_title_10_alone(rules: RuleSet, account: str) -> None:
    assert judge(rules, restriction("trafficking_tier3"), program(account)).eligible


def test_tier3_exceptions(rules: RuleSet) -> None:
    tier3 = restriction("trafficking_tier3")

    def ok(account: str, *flags: str) -> bool:
        return judge(rules, tier3, program(account, flags=frozenset(flags))).eligible

    assert ok("NADR", "antiterrorism")
    assert not ok("ESF", "antiterrorism")  # only NADR's antiterrorism part
    assert ok("ESF", "counternarcotics") and ok("FMF", "counternarcotics")
    assert not ok("PKO", "counternarcotics")
    assert ok("PKO", "humanitarian") and ok("DA", "trade_related")
    assert judge(rules, tier3, program("ESF", recipient="non_government")).eligible


# -- state sponsors of terrorism ---------------------------------------------------------
@pytest.mark.parametrize("account", ["FMF", "INCLE", "DA", "10USC321", "USAI", "DHS-INTL"])
def test_sst_blocks_every_account_for_every_recipient(rules: RuleSet, account: str) -> None:
    sst = restriction("state_sponsor_of_terrorism", country="IRN", start=date(1984, 1, 19))
    for recipient in ("government", "non_government"):
        result = judge(rules, sst, program(account, country="IRN", recipient=recipient))
        assert effects(result) == [("sst_all_assistance", "blocks")]
        assert "22 U.S.C. 2371" in result.reasons[0].citation


def test_sst_waiver(rules: RuleSet) -> None:
    waiver = Waiver(frozenset({"DA"}), date(2024, 1, 1), None, "620A(d) determination")
    sst = restriction("state_sponsor_of_terrorism", country="SYR", waivers=(waiver,))
    assert judge(rules, sst, program("DA", country="SYR")).eligible
    assert not judge(rules, sst, program("ESF", country="SYR")).eligible


# -- fiscal-year boundaries ------------------------------------------------------------
@pytest.mark.parametrize(
    ("start", "end", "fy", "applies"),
    [
        (date(2025, 9, 30), None, 2025, True),  # in force on the FY's last day
        (date(2025, 10, 1), None, 2025, False),  # starts with the next FY
        (date(2025, 10, 1), None, 2026, True),
        (date(2020, 1, 1), date(2024, 10, 1), 2025, True),  # in force on the FY's first day
        (date(2020, 1, 1), date(2024, 9, 30), 2025, False),  # ended with the previous FY
        (date(2020, 1, 1), None, 2040, True),  # open-ended
        (date(2024, 10, 1), date(2025, 9, 30), 2024, False),
        (date(2024, 10, 1), date(2025, 9, 30), 2026, False),
    ],
)
def test_a_restriction_in_force_on_any_day_of_the_fiscal_year_applies(
    rules: RuleSet, start: date, end: date | None, fy: int, applies: bool
) -> None:
    result = judge(rules, restriction(start=start, end=end), program("FMF", fy=fy))
    assert result.eligible is not applies
    assert bool(result.reasons) is applies


def test_the_reason_names_the_days_in_force(rules: RuleSet) -> None:
    result = judge(rules, restriction(start=date(2025, 9, 30)), program("FMF"))
    assert "is in force 2025-09-30;" in result.reasons[0].text
    assert result.reasons[0].country == "MLI"


# -- several countries, several restrictions, unknown types ------------------------------
def test_a_regional_program_is_blocked_by_any_of_its_countries(rules: RuleSet) -> None:
    py = ProgramYear("R1", FY, ("SEN", "MLI", "GHA"), "FMF")
    result = evaluate(py, [restriction(), restriction(country="NER")], rules, as_of=AS_OF)
    assert not result.eligible
    assert [r.country for r in result.reasons] == ["MLI"]


def test_every_reason_is_kept(rules: RuleSet) -> None:
    py = program("IMET")
    both = [restriction(), restriction("child_soldiers")]
    result = judge(rules, both, py)
    assert sorted(effects(result)) == [
        ("child_soldiers_security_assistance", "blocks"),
        ("coup_government", "blocks"),
    ]
    assert len(result.blocking_reasons) == 2


def test_a_restriction_type_without_rules_is_flagged_not_blocking(rules: RuleSet) -> None:
    result = judge(rules, restriction("arms_embargo"), program("FMF"))
    assert result.eligible
    assert effects(result) == [("arms_embargo", "no_rule")]
    assert "review it by hand" in result.reasons[0].text


# -- vetting ---------------------------------------------------------------------------
UNIT = Unit("U1", "1st Brigade", "MLI", "armed_forces")


def vetted(
    *records: VettingRecord, credible: tuple[CredibleInformation, ...] = ()
) -> VettingRegister:
    return VettingRegister.build([UNIT], records, credible)


def test_an_approved_unit_keeps_the_program_eligible_and_says_so(rules: RuleSet) -> None:
    reg = vetted(VettingRecord("V1", "U1", "P1", "approved", date(2025, 1, 1)))
    result = evaluate(
        program("FMF", country="SEN", units=("U1",)), [], rules, as_of=AS_OF, vetting=reg
    )
    assert result.eligible
    assert effects(result) == [("leahy", "vetted")]
    assert "valid through 2025-12-31" in result.reasons[0].text


@pytest.mark.parametrize(
    ("records", "credible", "needle"),
    [
        ((), (), "no vetting decision"),
        ((VettingRecord("V1", "U1", "P1", "pending", requested=date(2025, 2, 1)),), (), "pending"),
        ((VettingRecord("V1", "U1", "P1", "suspended", date(2025, 2, 1)),), (), "suspended"),
        ((VettingRecord("V1", "U1", "P1", "denied", date(2025, 2, 1)),), (), "denied"),
        ((VettingRecord("V1", "U1", "P1", "approved", date(2024, 1, 1)),), (), "lapsed"),
        (
            (VettingRecord("V1", "U1", "P1", "approved", date(2025, 1, 1)),),
            (CredibleInformation("C1", "U1", date(2025, 2, 1), "abuse"),),
            "credible information",
        ),
        ((VettingRecord("V1", "U1", "P2", "approved", date(2025, 1, 1)),), (), "for program P1"),
    ],
)
def test_a_unit_not_cleared_makes_the_program_ineligible(
    rules: RuleSet,
    records: tuple[VettingRecord, ...],
    credible: tuple[CredibleInformation, ...],
    needle: str,
) -> None:
    py = program("FMF", country="SEN", units=("U1",))
    result = evaluate(py, [], rules, as_of=AS_OF, vetting=vetted(*records, credible=credible))
    assert not result.eligible
    assert effects(result) == [("leahy", "blocks")]
    assert needle in result.reasons[0].text


def test_remediated_credible_information_no_longer_blocks(rules: RuleSet) -> None:
    info = CredibleInformation(
        "C1", "U1", date(2025, 1, 10), "abuse", remediated_on=date(2025, 2, 1)
    )
    reg = vetted(VettingRecord("V1", "U1", "P1", "approved", date(2025, 1, 1)), credible=(info,))
    py = program("FMF", country="SEN", units=("U1",))
    assert evaluate(py, [], rules, as_of=date(2025, 2, 1), vetting=reg).eligible
    assert not evaluate(py, [], rules, as_of=date(2025, 1, 31), vetting=reg).eligible


def test_vetting_records_of_other_programs_count_when_so_configured(rules: RuleSet) -> None:
    reg = vetted(VettingRecord("V1", "U1", "P2", "approved", date(2025, 1, 1)))
    py = program("FMF", country="SEN", units=("U1",))
    assert evaluate(py, [], rules, as_of=AS_OF, vetting=reg, vetting_per_program=False).eligible


def test_individuals_are_vetted_too(rules: RuleSet) -> None:
    person = VettingRecord(
        "V2", "person-1", "P1", "approved", date(2025, 1, 1), subject_kind="individual"
    )
    py = program("IMET", country="SEN", individuals=("person-1", "person-2"))
    result = evaluate(py, [], rules, as_of=AS_OF, vetting=vetted(person))
    assert not result.eligible
    assert "individual person-2" in result.reasons[0].text


def test_the_leahy_citation_follows_the_accounts_agency(rules: RuleSet) -> None:
    py = program("10USC333", country="SEN", units=("U1",))
    agencies = {"10USC333": "DoD/DSCA", "FMF": "State/PM"}
    dod = evaluate(py, [], rules, as_of=AS_OF, account_agencies=agencies)
    assert dod.reasons[0].citation == "10 U.S.C. 362"
    state = evaluate(
        program("FMF", country="SEN", units=("U1",)),
        [],
        rules,
        as_of=AS_OF,
        account_agencies=agencies,
    )
    assert state.reasons[0].citation.startswith("22 U.S.C. 2378d")
    assert leahy_citation(None) == "22 U.S.C. 2378d (FAA sec. 620M); 10 U.S.C. 362"
    assert leahy_citation("DoD") == "10 U.S.C. 362"


def test_restrictions_and_vetting_reasons_together(rules: RuleSet) -> None:
    waiver = Waiver(frozenset({"FMF"}), date(2024, 1, 1), None, "W")
    reg = vetted(VettingRecord("V1", "U1", "P1", "denied", date(2025, 1, 1)))
    result = evaluate(
        program("FMF", units=("U1",)),
        [restriction(waivers=(waiver,))],
        rules,
        as_of=AS_OF,
        vetting=reg,
    )
    assert effects(result) == [("coup_government", "waived"), ("leahy", "blocks")]
    assert not result.eligible


# -- the contract, the optimizer, the review trigger -------------------------------------
def test_report_matches_the_cli_contract(rules: RuleSet) -> None:
    pys = [
        program("FMF", fy=2026),
        program("FMF", fy=2025),
        ProgramYear("P0", 2025, ("SEN",), "DA"),
    ]
    results = evaluate_all(pys, [restriction(end=date(2025, 9, 30))], rules, as_of=AS_OF)
    out = report(results)
    assert list(out) == ["programs"]
    assert [(p["id"], p["fiscal_year"], p["eligible"]) for p in out["programs"]] == [
        ("P0", 2025, True),
        ("P1", 2025, False),
        ("P1", 2026, True),
    ]
    entry = out["programs"][1]
    assert list(entry) == ["id", "fiscal_year", "eligible", "reasons"]
    assert list(entry["reasons"][0]) == ["rule", "citation", "text"]
    assert results[1] == judge(rules, restriction(end=date(2025, 9, 30)), program("FMF"))


def test_blocked_cells_for_the_optimizer(rules: RuleSet, accounts: frozenset[str]) -> None:
    waiver = Waiver(frozenset({"FMF"}), date(2024, 1, 1), None, "W")
    coup = restriction(start=date(2025, 9, 30), waivers=(waiver,))
    sst = restriction("state_sponsor_of_terrorism", country="IRN", start=date(1984, 1, 19))
    cells = blocked_cells([coup, sst], rules, accounts=accounts, fiscal_years=[2025, 2026])
    assert ("MLI", "IMET", 2025) in cells and ("MLI", "IMET", 2026) in cells
    assert ("MLI", "FMF", 2025) not in cells  # waived
    assert ("MLI", "10USC321", 2025) not in cells  # not reached
    assert ("MLI", "IMET", 2024) not in cells  # not asked for
    assert {a for c, a, fy in cells if c == "IRN" and fy == 2026} == set(accounts)
    early = blocked_cells(
        [restriction(start=date(2025, 10, 1))], rules, accounts=["FMF"], fiscal_years=[2025, 2026]
    )
    assert early == {("MLI", "FMF", 2026)}
    ngo = blocked_cells(
        [coup, sst], rules, accounts=["ESF"], fiscal_years=[2026], recipient="non_government"
    )
    assert ngo == {("IRN", "ESF", 2026)}


def test_affected_programs_for_the_review_trigger(rules: RuleSet) -> None:
    pys = [
        ProgramYear("MALI-FMF", 2026, ("MLI",), "FMF"),
        ProgramYear("MALI-USAI", 2026, ("MLI",), "USAI"),  # coup does not reach it
        ProgramYear("MALI-OLD", 2024, ("MLI",), "FMF"),  # before the restriction
        ProgramYear("NIGER-FMF", 2026, ("NER",), "FMF"),
        ProgramYear("SAHEL", 2026, ("NER", "MLI"), "PKO"),
    ]
    coup = restriction(start=date(2025, 10, 1))
    assert affected_programs([], [coup], pys, rules) == ("MALI-FMF", "SAHEL")
    assert affected_programs([coup], [coup], pys, rules) == ()
    assert affected_programs([coup], [], pys, rules) == ("MALI-FMF", "SAHEL")
    waived = restriction(
        start=date(2025, 10, 1), waivers=(Waiver(frozenset({"PKO"}), date(2025, 10, 1)),)
    )
    assert affected_programs([coup], [waived], pys, rules) == ("SAHEL",)
    assert affected_programs([], [coup], pys, rules, from_fiscal_year=2027) == ()
    old_coup = restriction(start=date(2023, 10, 1), end=date(2024, 3, 1))
    assert affected_programs([], [old_coup], pys, rules) == ("MALI-OLD",)
