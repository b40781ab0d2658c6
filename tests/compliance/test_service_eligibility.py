"""Eligibility of stored program-years under the shipped rules: each rule, each exception
and each waiver, judged per funding account, through the service on both back ends."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ssaplan.compliance.schemas import ProgramFactsUpdate, RestrictionCreate, WaiverIn
from ssaplan.core.store import Store
from tests.compliance.conftest import add_program, effects, verdicts

FY26 = (date(2025, 10, 1), date(2026, 9, 30))


def restrict(
    service: Any,
    country: str,
    rtype: str,
    start: date = date(2020, 1, 1),
    end: date | None = None,
    waivers: list[WaiverIn] | None = None,
) -> None:
    with service(write=True) as svc:
        svc.restrictions.create(
            RestrictionCreate(
                country=country,
                type=rtype,
                start=start,
                end=end,
                citation=f"{rtype} determination",
                waivers=waivers or [],
            )
        )


def flag(service: Any, code: str, *flags: str, recipient: str | None = None) -> None:
    with service(write=True) as svc:
        current = svc.vetting.facts(code)
        svc.vetting.set_facts(
            code,
            ProgramFactsUpdate(flags=list(flags), recipient=recipient, version=current.version),
        )


def judged(service: Any, code: str, fy: int = 2026) -> Any:
    with service() as svc:
        return verdicts(svc)[(code, fy)]


# -- coup (Sec. 7008) -----------------------------------------------------------------
def test_coup_blocks_government_assistance_from_the_listed_accounts(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    add_program(store, "MLI-CTPF", account="CTPF", agency="DoD")
    restrict(service, "MLI", "coup")
    blocked = judged(service, "MLI-FMF")
    assert not blocked.eligible and ("coup_government", "blocks") in effects(blocked)
    assert blocked.accounts == ("FMF",) and blocked.planned == 1_000_000
    reason = blocked.reasons[0]
    assert "Sec. 7008(a)" in reason.citation and reason.country == "MLI"
    # Counter-terrorism partnership funds are not among the rule's accounts.
    other = judged(service, "MLI-CTPF")
    assert other.eligible and effects(other) == [("coup_government", "not_applicable")]


def test_coup_does_not_reach_non_government_recipients(store: Store, service: Any) -> None:
    add_program(store, "MLI-NGO", account="ESF", agency="USAID")
    restrict(service, "MLI", "coup")
    flag(service, "MLI-NGO", recipient="non_government")
    result = judged(service, "MLI-NGO")
    assert result.eligible and effects(result) == [("coup_government", "not_applicable")]
    assert "non-government recipient" in result.reasons[0].text


@pytest.mark.parametrize("dac", ["15150", "15151", "15152", "15153"])
def test_democracy_assistance_is_excepted_by_its_dac_code(
    store: Store, service: Any, dac: str
) -> None:
    add_program(store, "MLI-DEM", account="ESF", agency="USAID", dac_code=dac)
    restrict(service, "MLI", "coup")
    result = judged(service, "MLI-DEM")
    assert result.eligible and effects(result) == [("coup_government", "excepted")]
    assert f"DAC purpose code {dac}" in result.reasons[0].text


def test_democracy_assistance_is_excepted_by_the_program_flag(store: Store, service: Any) -> None:
    add_program(store, "MLI-DEM", account="DA", agency="USAID")
    restrict(service, "MLI", "coup")
    assert not judged(service, "MLI-DEM").eligible
    flag(service, "MLI-DEM", "democracy_assistance")
    result = judged(service, "MLI-DEM")
    assert result.eligible and "flag democracy_assistance" in result.reasons[0].text


def test_a_waiver_for_every_day_of_the_fiscal_year_lifts_the_coup_rule(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    restrict(
        service,
        "MLI",
        "coup",
        waivers=[WaiverIn(accounts=["FMF"], start=FY26[0], end=FY26[1], citation="PD 2026-01")],
    )
    fy26, fy27 = judged(service, "MLI-FMF", 2026), judged(service, "MLI-FMF", 2027)
    assert fy26.eligible and effects(fy26) == [("coup_government", "waived")]
    assert fy26.reasons[0].citation == "PD 2026-01"
    # The waiver ends with FY2026: FY2027 is blocked.
    assert not fy27.eligible


def test_a_waiver_covering_part_of_the_year_does_not_lift_it(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    restrict(
        service,
        "MLI",
        "coup",
        waivers=[WaiverIn(accounts=["FMF"], start=date(2026, 1, 1), end=FY26[1])],
    )
    result = judged(service, "MLI-FMF")
    assert not result.eligible
    assert "leave 2025-10-01 to 2025-12-31 uncovered" in result.reasons[0].text


def test_a_waiver_for_another_account_does_not_help(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    restrict(
        service,
        "MLI",
        "coup",
        waivers=[WaiverIn(accounts=["IMET"], start=FY26[0], end=FY26[1])],
    )
    assert not judged(service, "MLI-FMF").eligible


# -- the fiscal-year rule --------------------------------------------------------------
def test_a_restriction_applies_to_every_fiscal_year_it_touches(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    # In force from 1 October 2026 only: FY2027, not FY2026.
    restrict(service, "MLI", "coup", start=date(2026, 10, 1))
    assert judged(service, "MLI-FMF", 2026).eligible
    assert not judged(service, "MLI-FMF", 2027).eligible
    # Ending on 1 October 2025 still reaches FY2026 (one day of it).
    add_program(store, "NER-FMF", countries=["NER"])
    restrict(service, "NER", "coup", start=date(2023, 7, 26), end=date(2025, 10, 1))
    assert not judged(service, "NER-FMF", 2026).eligible
    assert judged(service, "NER-FMF", 2027).eligible


# -- child soldiers (CSPA) ------------------------------------------------------------
def test_child_soldiers_listing_blocks_imet_unless_certified(store: Store, service: Any) -> None:
    add_program(store, "SSD-IMET", countries=["SSD"], account="IMET")
    add_program(store, "SSD-INCLE", countries=["SSD"], account="INCLE", agency="State/INL")
    restrict(service, "SSD", "child_soldiers", start=FY26[0], end=FY26[1])
    result = judged(service, "SSD-IMET")
    assert not result.eligible
    assert result.reasons[0].citation.startswith("22 U.S.C. 2370c-1(a)")
    assert judged(service, "SSD-INCLE").eligible
    flag(service, "SSD-IMET", "cspa_certified_professionalization")
    result = judged(service, "SSD-IMET")
    assert result.eligible and effects(result) == [
        ("child_soldiers_security_assistance", "excepted")
    ]
    assert result.reasons[0].citation == "22 U.S.C. 2370c-1(e)"


def test_the_professionalization_exception_does_not_reach_fmf(store: Store, service: Any) -> None:
    add_program(store, "SSD-FMF", countries=["SSD"])
    restrict(service, "SSD", "child_soldiers", start=FY26[0], end=FY26[1])
    flag(service, "SSD-FMF", "cspa_certified_professionalization")
    assert not judged(service, "SSD-FMF").eligible


def test_a_partial_cspa_waiver_lifts_only_its_accounts(store: Store, service: Any) -> None:
    add_program(store, "SSD-PKO", countries=["SSD"], account="PKO")
    add_program(store, "SSD-FMF", countries=["SSD"])
    restrict(
        service,
        "SSD",
        "child_soldiers",
        start=FY26[0],
        end=FY26[1],
        waivers=[WaiverIn(accounts=["PKO"], start=FY26[0], end=FY26[1])],
    )
    assert judged(service, "SSD-PKO").eligible
    assert not judged(service, "SSD-FMF").eligible


# -- trafficking Tier 3 ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("account", "agency", "flags", "eligible"),
    [
        ("ESF", "USAID", (), False),
        ("INCLE", "State/INL", (), True),  # outside the definition: not listed
        ("NADR", "State/ISN", (), False),
        ("NADR", "State/ISN", ("antiterrorism",), True),
        ("ESF", "USAID", ("counternarcotics",), True),
        ("DA", "USAID", ("humanitarian",), True),
        ("FMF", "State/PM", ("trade_related",), True),
        ("NADR", "State/ISN", ("counternarcotics",), False),  # not for NADR
    ],
)
def test_tier3_withholds_nonhumanitarian_assistance_with_its_exceptions(
    store: Store,
    service: Any,
    account: str,
    agency: str,
    flags: tuple[str, ...],
    eligible: bool,
) -> None:
    add_program(store, "ERI-1", countries=["ERI"], account=account, agency=agency)
    restrict(service, "ERI", "trafficking_tier3", start=FY26[0], end=FY26[1])
    if flags:
        flag(service, "ERI-1", *flags)
    result = judged(service, "ERI-1")
    assert result.eligible is eligible, effects(result)


def test_a_tier3_waiver_lifts_it(store: Store, service: Any) -> None:
    add_program(store, "ERI-ESF", countries=["ERI"], account="ESF", agency="USAID")
    restrict(
        service,
        "ERI",
        "trafficking_tier3",
        start=FY26[0],
        end=FY26[1],
        waivers=[WaiverIn(accounts=["ESF"], start=FY26[0])],
    )
    result = judged(service, "ERI-ESF")
    assert result.eligible and effects(result) == [("tier3_nonhumanitarian", "waived")]


# -- State Sponsors of Terrorism -------------------------------------------------------
@pytest.mark.parametrize(
    ("account", "agency"), [("INCLE", "State/INL"), ("10USC333", "DoD"), ("DHS-INTL", "DHS")]
)
def test_sst_blocks_every_account_and_recipient(
    store: Store, service: Any, account: str, agency: str
) -> None:
    add_program(store, "IRN-1", countries=["IRN"], account=account, agency=agency)
    restrict(service, "IRN", "state_sponsor_of_terrorism", start=date(1984, 1, 19))
    flag(service, "IRN-1", "democracy_assistance", recipient="non_government")
    result = judged(service, "IRN-1")
    assert not result.eligible and effects(result) == [("sst_all_assistance", "blocks")]


# -- several accounts, several countries -------------------------------------------------
def test_a_program_year_is_judged_per_account_that_funds_it(store: Store, service: Any) -> None:
    add_program(
        store,
        "ERI-MIX",
        countries=["ERI"],
        account="INCLE",
        agency="State/INL",
        budget=[
            {"fiscal_year": 2026, "account": "INCLE", "planned": 600_000},
            {"fiscal_year": 2026, "account": "ESF", "planned": 400_000},
        ],
    )
    restrict(service, "ERI", "trafficking_tier3", start=FY26[0], end=FY26[1])
    result = judged(service, "ERI-MIX")
    assert result.accounts == ("ESF", "INCLE") and result.planned == 1_000_000
    assert not result.eligible
    assert sorted(effects(result)) == [
        ("tier3_nonhumanitarian", "blocks"),
        ("tier3_nonhumanitarian", "not_applicable"),
    ]


def test_a_regional_program_is_blocked_while_any_partner_is(store: Store, service: Any) -> None:
    add_program(store, "SAHEL", countries=["MLI", "SEN"])
    restrict(service, "MLI", "coup")
    assert not judged(service, "SAHEL").eligible


def test_without_restrictions_or_units_every_program_year_is_eligible(
    store: Store, service: Any
) -> None:
    add_program(store, "GHA-1", countries=["GHA"])
    with service() as svc:
        found = verdicts(svc)
    assert set(found) == {("GHA-1", 2026), ("GHA-1", 2027)}
    assert all(v.eligible and v.reasons == () for v in found.values())


def test_a_restriction_type_without_rules_asks_for_review_but_does_not_block(
    store: Store, service: Any
) -> None:
    from ssaplan.compliance.schemas import RestrictionTypeCreate

    add_program(store, "MLI-FMF")
    with service(write=True) as svc:
        svc.rules.create_type(RestrictionTypeCreate(id="arms_embargo", name="Arms embargo"))
    restrict(service, "MLI", "arms_embargo")
    result = judged(service, "MLI-FMF")
    assert result.eligible and effects(result) == [("arms_embargo", "no_rule")]
