"""Leahy vetting: approval validity, decisions, credible information, the lists."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ssaplan.compliance.inputs import ProgramYear
from ssaplan.compliance.vetting import (
    CredibleInformation,
    Unit,
    VettingRecord,
    VettingRegister,
    assisted_units,
    check_vetting,
    expiring,
    vetting_state,
)
from ssaplan.core.errors import Invalid

BDE = Unit("U1", "1st Brigade", "MLI", "armed_forces")
BN = Unit("U2", "2nd Battalion", "MLI", "armed_forces", parent="U1")
POLICE = Unit("U3", "Police Mobile Unit", "NER", "police")
DECIDED = date(2025, 1, 1)


def approved(
    subject: str = "U1",
    program: str | None = "P1",
    decided: date = DECIDED,
    validity_days: int = 365,
) -> VettingRecord:
    return VettingRecord(
        f"V-{subject}-{decided}", subject, program, "approved", decided, validity_days=validity_days
    )


def register(
    *records: VettingRecord, credible: tuple[CredibleInformation, ...] = ()
) -> VettingRegister:
    return VettingRegister.build([BDE, BN, POLICE], records, credible)


def test_approval_is_valid_through_day_365_and_lapses_on_day_366() -> None:
    reg = register(approved())
    day_365 = DECIDED + timedelta(days=364)
    assert day_365 == date(2025, 12, 31)
    on_365 = vetting_state(reg, "U1", day_365)
    assert on_365.status == "approved" and on_365.cleared
    assert on_365.expires_on == date(2026, 1, 1)
    assert "day 365 of 365" in on_365.text
    on_366 = vetting_state(reg, "U1", day_365 + timedelta(days=1))
    assert on_366.status == "expired" and not on_366.cleared
    assert "lapsed on 2026-01-01 after 365 days" in on_366.text


def test_validity_is_configurable_per_record() -> None:
    reg = register(approved(validity_days=180))
    assert vetting_state(reg, "U1", DECIDED + timedelta(days=179)).cleared
    assert vetting_state(reg, "U1", DECIDED + timedelta(days=180)).status == "expired"


def test_an_approval_counts_only_from_its_decision_day() -> None:
    reg = register(approved())
    assert vetting_state(reg, "U1", DECIDED - timedelta(days=1)).status == "not_vetted"
    assert vetting_state(reg, "U1", DECIDED).cleared


@pytest.mark.parametrize("status", ["suspended", "denied"])
def test_suspended_and_denied_units_are_not_cleared(status: str) -> None:
    reg = register(VettingRecord("V1", "U1", "P1", status, DECIDED))
    state = vetting_state(reg, "U1", date(2025, 3, 1))
    assert state.status == status and not state.cleared
    assert status in state.text


def test_the_latest_decision_governs() -> None:
    suspended_later = VettingRecord("V2", "U1", "P1", "suspended", date(2025, 3, 1))
    reg = register(approved(), suspended_later)
    assert vetting_state(reg, "U1", date(2025, 2, 28)).status == "approved"
    assert vetting_state(reg, "U1", date(2025, 3, 1)).status == "suspended"
    reinstated = approved(decided=date(2025, 6, 1))
    reg = register(approved(), suspended_later, reinstated)
    assert vetting_state(reg, "U1", date(2025, 6, 1)).status == "approved"


def test_pending_requests() -> None:
    pending = VettingRecord("V9", "U1", "P1", "pending", requested=date(2025, 11, 1))
    assert vetting_state(register(pending), "U1", date(2025, 11, 2)).status == "pending"
    # A renewal pending while the approval still runs leaves the unit cleared ...
    reg = register(approved(), pending)
    assert vetting_state(reg, "U1", date(2025, 12, 1)).status == "approved"
    # ... and once the approval has lapsed the unit waits on the renewal.
    state = vetting_state(reg, "U1", date(2026, 1, 5))
    assert state.status == "pending" and not state.cleared
    assert "previous approval lapsed on 2026-01-01" in state.text
    # A request made after a denial is mentioned, but the denial stands.
    denied = VettingRecord("V3", "U1", "P1", "denied", DECIDED)
    assert "pending" in vetting_state(register(denied, pending), "U1", date(2025, 12, 1)).text


def test_records_for_another_program_count_only_when_asked() -> None:
    reg = register(approved(program="P2"))
    assert vetting_state(reg, "U1", date(2025, 3, 1)).cleared
    scoped = vetting_state(reg, "U1", date(2025, 3, 1), program_id="P1")
    assert scoped.status == "not_vetted" and "for program P1" in scoped.text


def test_unknown_units_and_individuals() -> None:
    reg = register()
    assert vetting_state(reg, "U404", DECIDED).status == "unknown_unit"
    person = VettingRecord("V5", "person-7", "P1", "approved", DECIDED, subject_kind="individual")
    state = vetting_state(register(person), "person-7", DECIDED, subject_kind="individual")
    assert state.cleared and "individual person-7" in state.text


def test_credible_information_blocks_until_remediated() -> None:
    info = CredibleInformation(
        "C1", "U1", date(2025, 2, 1), "extrajudicial killing", remediated_on=date(2025, 5, 1)
    )
    reg = register(approved(), credible=(info,))
    before = vetting_state(reg, "U1", date(2025, 1, 31))
    assert before.cleared  # not yet reported
    during = vetting_state(reg, "U1", date(2025, 4, 30))
    assert during.status == "credible_information" and not during.cleared
    assert during.credible_information == (info,)
    assert "extrajudicial killing" in during.text and "vetting status: approved" in during.text
    after = vetting_state(reg, "U1", date(2025, 5, 1))
    assert after.cleared and after.status == "approved"


def test_unremediated_credible_information_blocks_for_good_and_only_its_unit() -> None:
    info = CredibleInformation("C2", "U1", date(2025, 2, 1), "torture")
    reg = register(approved(), approved("U2"), credible=(info,))
    assert vetting_state(reg, "U1", date(2025, 12, 1)).status == "credible_information"
    assert vetting_state(reg, "U2", date(2025, 12, 1)).cleared  # not propagated to sub-units


def test_expiring_lists_approvals_lapsing_within_the_window() -> None:
    soon = approved("U1")  # valid through 2025-12-31
    later = approved("U2", decided=date(2025, 6, 1))  # through 2026-05-31
    lapsed = approved("U3", decided=date(2024, 1, 1))
    reg = register(soon, later, lapsed)
    assert expiring(reg, date(2025, 12, 1), 30) == ()  # 31 days left
    items = expiring(reg, date(2025, 12, 2), 30)
    assert [(e.record.subject_id, e.expires_on, e.days_left) for e in items] == [
        ("U1", date(2026, 1, 1), 30)
    ]
    assert expiring(reg, date(2025, 12, 31), 0) == ()
    assert [e.days_left for e in expiring(reg, date(2025, 12, 31), 1)] == [1]
    assert {e.record.subject_id for e in expiring(reg, date(2025, 12, 2), 365)} == {"U1", "U2"}


def test_a_renewed_approval_hides_the_one_it_replaces() -> None:
    reg = register(approved(), approved(decided=date(2025, 11, 15)))
    assert expiring(reg, date(2025, 12, 15), 30) == ()
    suspended = VettingRecord("V7", "U1", "P1", "suspended", date(2025, 12, 1))
    assert expiring(register(approved(), suspended), date(2025, 12, 15), 30) == ()


def test_assisted_units_per_country() -> None:
    pys = [
        ProgramYear("P1", 2026, ("MLI",), "FMF", units=("U1", "U2")),
        ProgramYear("P2", 2026, ("MLI", "NER"), "PKO", units=("U1", "U3", "U404")),
        ProgramYear("P3", 2025, ("NER",), "PKO", units=("U3",)),
    ]
    reg = register(approved(), VettingRecord("V8", "U3", "P2", "denied", DECIDED))
    listing = assisted_units(pys, reg, date(2025, 12, 1))  # FY2026
    assert list(listing) == ["?", "MLI", "NER"]
    mli = listing["MLI"]
    assert [(a.unit.name, a.program_ids, a.state.status) for a in mli] == [
        ("1st Brigade", ("P1", "P2"), "approved"),
        ("2nd Battalion", ("P1",), "not_vetted"),
    ]
    assert [(a.unit.id, a.state.status) for a in listing["NER"]] == [("U3", "denied")]
    assert listing["?"][0].state.status == "unknown_unit"
    fy2025 = assisted_units(pys, reg, date(2025, 12, 1), fiscal_year=2025)
    assert [a.program_ids for a in fy2025["NER"]] == [("P3",)]


def test_check_vetting_names_every_problem() -> None:
    loop_a = Unit("A", "A", "MLI", "police", parent="B")
    loop_b = Unit("B", "B", "MLI", "police", parent="A")
    orphan = Unit("C", "C", "mali", "navy", parent="Z")
    records = [
        VettingRecord("R1", "U404", "P1", "approved", DECIDED),
        VettingRecord("R1", "A", "P9", "approved", DECIDED, requested=date(2025, 2, 1)),
    ]
    credible = [CredibleInformation("K1", "U405", DECIDED, "x")]
    with pytest.raises(Invalid) as caught:
        check_vetting(
            [loop_a, loop_b, orphan, BDE, BDE],
            records,
            credible,
            known_unit_types={"police", "armed_forces"},
            known_programs={"P1"},
        )
    msgs = [f"{d.loc[1]} {d.loc[2]}: {d.msg}" for d in caught.value.details]
    assert "unit U1: duplicate unit id" in msgs
    assert "unit C: country 'mali' is not an ISO3 code" in msgs
    assert "unit C: unknown unit type 'navy'" in msgs
    assert "unit C: parent unit 'Z' does not exist" in msgs
    assert "unit A: the parent chain loops back to this unit" in msgs
    assert "vetting record R1: vetting for unit 'U404', which does not exist" in msgs
    assert "vetting record R1: duplicate vetting record id" in msgs
    assert "vetting record R1: program 'P9' does not exist" in msgs
    assert "vetting record R1: decided before it was requested" in msgs
    assert "credible information K1: unit 'U405' does not exist" in msgs
    assert "nothing was written" in caught.value.message


def test_check_vetting_accepts_a_clean_register() -> None:
    check_vetting([BDE, BN, POLICE], [approved()], [], known_programs={"P1"})


def test_records_refuse_impossible_values() -> None:
    with pytest.raises(ValueError, match="decision date"):
        VettingRecord("V", "U1", "P1", "approved")
    with pytest.raises(ValueError, match="status"):
        VettingRecord("V", "U1", "P1", "cleared", DECIDED)
    with pytest.raises(ValueError, match="positive"):
        VettingRecord("V", "U1", "P1", "approved", DECIDED, validity_days=0)
    with pytest.raises(ValueError, match="subject_kind"):
        VettingRecord("V", "U1", "P1", "pending", subject_kind="team")
    with pytest.raises(ValueError, match="remediated_on"):
        CredibleInformation("C", "U1", DECIDED, "x", remediated_on=date(2024, 1, 1))
