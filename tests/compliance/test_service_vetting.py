"""Human-rights vetting through the service: units, requests and decisions, expiry,
credible information and remediation, scope, the assisted-units list, bad input."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.compliance.models import ProgramAssistance, SecurityUnit, VettingRequest
from ssaplan.compliance.schemas import (
    AssistanceCreate,
    CredibleCreate,
    CredibleUpdate,
    SettingsUpdate,
    UnitCreate,
    UnitUpdate,
    VettingCreate,
    VettingUpdate,
)
from ssaplan.core.errors import Conflict, Forbidden, Invalid, NotFound
from ssaplan.core.permissions import Actor, Grant
from ssaplan.core.store import Store
from tests.compliance.conftest import TODAY, add_program, verdicts

PLANNER = Actor("pat", "planner", "State")  # State and its bureaus, e.g. State/PM


def unit(service: Any, name: str = "33rd Parachute Regiment", **kw: Any) -> int:
    with service(write=True) as svc:
        return int(
            svc.vetting.create_unit(
                UnitCreate(name=name, country=kw.pop("country", "MLI"), type="armed_forces", **kw)
            ).id
        )


def vet(service: Any, program: str, unit_id: int, status: str = "pending", **kw: Any) -> Any:
    with service(write=True, today=kw.pop("today", TODAY)) as svc:
        return svc.vetting.create_request(
            VettingCreate(unit=unit_id, program=program, status=status, **kw)
        )


def verdict(service: Any, code: str = "MLI-FMF", fy: int = 2026, **kw: Any) -> Any:
    with service(**kw) as svc:
        return verdicts(svc)[(code, fy)]


def count(store: Store, model: Any) -> int:
    with store.session() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_pending_unit_blocks_its_program_and_an_approval_clears_it(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    uid = unit(service)
    request = vet(service, "MLI-FMF", uid, requested=date(2026, 1, 10))
    assert request.status == "pending" and request.validity_days == 365
    blocked = verdict(service)
    assert not blocked.eligible
    (reason,) = blocked.reasons
    assert reason.rule == "leahy" and "vetting pending" in reason.text
    assert reason.citation == "22 U.S.C. 2378d (FAA sec. 620M)"  # FMF is managed by State
    with service(write=True) as svc:
        decided = svc.vetting.update_request(
            request.id,
            VettingUpdate(status="approved", decided=date(2026, 2, 1), version=1),
        )
    assert decided.valid_through == date(2027, 1, 31) and decided.version == 2
    cleared = verdict(service)
    assert cleared.eligible and cleared.reasons[0].effect == "vetted"
    assert "valid through 2027-01-31" in cleared.reasons[0].text


def test_defense_funded_units_are_vetted_under_10_usc_362(store: Store, service: Any) -> None:
    add_program(store, "MLI-333", account="10USC333", agency="DoD")
    vet(service, "MLI-333", unit(service))
    assert verdict(service, "MLI-333").reasons[0].citation == "10 U.S.C. 362"


def test_an_approval_lapses_after_its_validity(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    decided = date(2025, 3, 2)
    vet(service, "MLI-FMF", unit(service), "approved", requested=date(2025, 3, 1), decided=decided)
    last_day = decided + timedelta(days=364)
    assert verdict(service, today=last_day).eligible
    lapsed = verdict(service, today=last_day + timedelta(days=1))
    assert not lapsed.eligible and "lapsed on 2026-03-02 after 365 days" in lapsed.reasons[0].text


def test_validity_is_configurable_by_setting_and_by_request(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    with pytest.raises(Forbidden), service(write=True, actor=PLANNER) as svc:
        svc.vetting.update_settings(SettingsUpdate(validity_days=180))
    with service(write=True) as svc:
        assert svc.vetting.update_settings(SettingsUpdate(validity_days=180)).validity_days == 180
    first = vet(service, "MLI-FMF", unit(service), "approved", decided=date(2025, 10, 1))
    second = vet(
        service,
        "MLI-FMF",
        unit(service, "Second Battalion"),
        "approved",
        decided=date(2025, 10, 1),
        validity_days=730,
    )
    assert (first.validity_days, second.validity_days) == (180, 730)
    assert first.valid_through == date(2026, 3, 29)


def test_expiring_approvals_are_listed_within_the_alert_window(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    soon = vet(service, "MLI-FMF", unit(service), "approved", decided=TODAY - timedelta(days=345))
    vet(service, "MLI-FMF", unit(service, "Fresh Battalion"), "approved", decided=TODAY)
    with service() as svc:
        found = svc.vetting.expiring()
        wider = svc.vetting.expiring(within_days=400)
    assert [(v.id, days) for v, _, days in found] == [(soon.id, 20)]
    assert len(wider) == 2


def test_suspension_and_denial_block_and_a_new_approval_clears(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    request = vet(service, "MLI-FMF", unit(service), "approved", decided=date(2025, 12, 1))
    with service(write=True) as svc:
        svc.vetting.update_request(
            request.id, VettingUpdate(status="suspended", decided=date(2026, 2, 1), version=1)
        )
    assert "vetting suspended" in verdict(service).reasons[0].text
    with service(write=True) as svc:
        svc.vetting.update_request(request.id, VettingUpdate(status="denied", version=2))
        denied = svc.vetting.request(request.id)
    assert denied.decided == TODAY  # a decision recorded without a date is dated today
    assert "vetting denied" in verdict(service).reasons[0].text
    with service(write=True) as svc:
        svc.vetting.update_request(request.id, VettingUpdate(status="approved", version=3))
    assert verdict(service).eligible


@pytest.mark.parametrize(
    ("status", "change", "error", "message"),
    [
        ("approved", {"status": "pending"}, Conflict, "cannot go from approved to pending"),
        ("denied", {"status": "suspended"}, Conflict, "cannot go from denied to suspended"),
        (
            "pending",
            {"status": "approved", "decided": date(2025, 1, 1)},
            Invalid,
            "before the request",
        ),
        ("pending", {"status": "approved", "decided": date(2026, 6, 1)}, Invalid, "in the future"),
        (
            "approved",
            {"status": "suspended", "decided": date(2025, 12, 31)},
            Invalid,
            "before the decision it replaces",
        ),
    ],
)
def test_decisions_follow_the_rules_and_bad_ones_change_nothing(
    store: Store, service: Any, status: str, change: dict[str, Any], error: type, message: str
) -> None:
    add_program(store, "MLI-FMF")
    decided = date(2026, 1, 5) if status != "pending" else None
    request = vet(
        service, "MLI-FMF", unit(service), status, requested=date(2026, 1, 1), decided=decided
    )
    with pytest.raises(error, match=message), service(write=True) as svc:
        svc.vetting.update_request(request.id, VettingUpdate(**change, version=1))
    with service() as svc:
        assert svc.vetting.request(request.id).version == 1


def test_vetting_for_a_unit_or_program_that_does_not_exist_writes_nothing(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    cases = [
        (VettingCreate(unit=999, program="MLI-FMF"), ["body", "unit"], "unit 999 does not exist"),
        (
            VettingCreate(unit=None, program="MLI-FMF"),
            ["body"],
            "give exactly one of unit and individual",
        ),
        (
            VettingCreate(unit=1, individual="A. Person", program="MLI-FMF"),
            ["body"],
            "give exactly one of unit and individual",
        ),
        (
            VettingCreate(individual="A. Person", program="NO-SUCH"),
            ["body", "program"],
            "program 'NO-SUCH' does not exist",
        ),
        (
            VettingCreate(individual="A. Person", program="MLI-FMF", status="approved"),
            ["body", "decided"],
            "a decision needs its date",
        ),
    ]
    for body, loc, message in cases:
        with pytest.raises(Invalid) as caught, service(write=True) as svc:
            svc.vetting.create_request(body)
        assert any(list(d.loc) == loc and message in d.msg for d in caught.value.details), (
            caught.value.details
        )
    assert count(store, VettingRequest) == 0 and count(store, ProgramAssistance) == 0


def test_planners_vet_only_within_their_scope(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")  # State/PM: inside a State planner's scope
    add_program(store, "MLI-333", account="10USC333", agency="DoD")
    uid = unit(service)
    assert vet(service, "MLI-FMF", uid, today=TODAY).status == "pending"
    with service(write=True, actor=PLANNER) as svc:
        svc.vetting.create_request(VettingCreate(unit=uid, program="MLI-FMF"))
        with pytest.raises(Forbidden, match="may not do vetting work for program MLI-333"):
            svc.vetting.create_request(VettingCreate(unit=uid, program="MLI-333"))
    chief = Actor("chief", assignments=(Grant("planner", "country", "MLI"),))
    with service(write=True, actor=chief) as svc:
        assert svc.vetting.create_request(VettingCreate(unit=uid, program="MLI-333")).program
    viewer = Actor("vera", "viewer")
    with pytest.raises(Forbidden), service(write=True, actor=viewer) as svc:
        svc.vetting.create_unit(UnitCreate(name="X", country="MLI", type="police"))


def test_credible_information_bars_a_unit_until_remediation_is_recorded(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    uid = unit(service)
    vet(service, "MLI-FMF", uid, "approved", decided=date(2026, 1, 1))
    assert verdict(service).eligible
    with service(write=True, actor=PLANNER) as svc:  # a planner may record it ...
        info = svc.vetting.create_credible(
            CredibleCreate(unit=uid, reported=date(2026, 2, 1), description="detainee abuse")
        )
    assert info.open
    blocked = verdict(service)
    assert not blocked.eligible and "credible information" in blocked.reasons[0].text
    assert "vetting status: approved" in blocked.reasons[0].text
    with pytest.raises(Forbidden), service(write=True, actor=PLANNER) as svc:  # ... not lift it
        svc.vetting.update_credible(
            info.id,
            CredibleUpdate(remediated_on=date(2026, 2, 20), remediation="tried", version=1),
        )
    with pytest.raises(Invalid, match="say what corrective steps"), service(write=True) as svc:
        svc.vetting.update_credible(
            info.id, CredibleUpdate(remediated_on=date(2026, 2, 20), version=1)
        )
    with service(write=True) as svc:
        remediated = svc.vetting.update_credible(
            info.id,
            CredibleUpdate(
                remediated_on=date(2026, 2, 20),
                remediation="those responsible convicted",
                version=1,
            ),
        )
    assert not remediated.open
    assert verdict(service).eligible
    # Before the remediation day the bar held.
    assert not verdict(service, today=date(2026, 2, 19)).eligible


def test_credible_information_for_a_unit_that_does_not_exist_is_refused(service: Any) -> None:
    with pytest.raises(Invalid, match="unit 42 does not exist"), service(write=True) as svc:
        svc.vetting.create_credible(
            CredibleCreate(unit=42, reported=date(2026, 1, 1), description="x")
        )


def test_units_check_parents_names_and_records(store: Store, service: Any) -> None:
    army = unit(service, "Armed Forces")
    battalion = unit(service, "1st Battalion", parent=army)
    with pytest.raises(Invalid, match="parent unit 99 does not exist"), service(write=True) as svc:
        svc.vetting.create_unit(UnitCreate(name="X", country="MLI", type="armed_forces", parent=99))
    with pytest.raises(Invalid, match="belongs to MLI, not NER"), service(write=True) as svc:
        svc.vetting.create_unit(
            UnitCreate(name="X", country="NER", type="armed_forces", parent=army)
        )
    with pytest.raises(Invalid, match="loops back"), service(write=True) as svc:
        svc.vetting.update_unit(army, UnitUpdate(parent=battalion, version=1))
    with pytest.raises(Conflict, match="already has the name"), service(write=True) as svc:
        svc.vetting.create_unit(
            UnitCreate(name="1st battalion", country="Mali", type="armed_forces", parent=army)
        )
    with (
        pytest.raises(Invalid, match="unknown institution type 'navy-ish'"),
        service(write=True) as svc,
    ):
        svc.vetting.create_unit(UnitCreate(name="Y", country="MLI", type="navy-ish"))
    with service() as svc:
        (child,) = [u for u in svc.vetting.units(country="MLI") if u.id == battalion]
    assert child.parent_name == "Armed Forces" and child.type_name == "Armed forces"
    with pytest.raises(Conflict, match="1 sub-units"), service(write=True) as svc:
        svc.vetting.delete_unit(army)
    with service(write=True) as svc:
        svc.vetting.delete_unit(battalion)
        svc.vetting.delete_unit(army)
    assert count(store, SecurityUnit) == 0


def test_pending_requests_may_be_withdrawn_decided_ones_are_kept(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    uid = unit(service)
    pending = vet(service, "MLI-FMF", uid)
    approved = vet(service, "MLI-FMF", uid, "approved", decided=TODAY)
    with (
        pytest.raises(Conflict, match="decided vetting records are kept"),
        service(write=True) as svc,
    ):
        svc.vetting.delete_request(approved.id)
    with service(write=True) as svc:
        svc.vetting.delete_request(pending.id)
    with pytest.raises(NotFound), service() as svc:
        svc.vetting.request(pending.id)


def test_individuals_are_vetted_and_assistance_can_end(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    with service(write=True) as svc:
        svc.vetting.create_request(VettingCreate(individual="Capt. A. Traoré", program="MLI-FMF"))
    blocked = verdict(service)
    assert "individual Capt. A. Traoré vetting pending" in blocked.reasons[0].text
    with service(write=True) as svc:
        (assisted,) = svc.vetting.assistance("MLI-FMF")
        with pytest.raises(Conflict, match="already assists"):
            svc.vetting.add_assistance("MLI-FMF", AssistanceCreate(individual="Capt. A. Traoré"))
        svc.vetting.remove_assistance(assisted.id)
    assert verdict(service).eligible  # no longer assisted; the request stays on record
    assert count(store, VettingRequest) == 1


def test_the_assisted_units_list_groups_units_by_country_with_their_state(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF", budget=[{"fiscal_year": 2026, "planned": 5}])
    add_program(store, "MLI-OLD", budget=[{"fiscal_year": 2024, "planned": 5}])
    add_program(store, "NER-FMF", countries=["NER"], budget=[{"fiscal_year": 2026, "planned": 5}])
    mali, niger = unit(service), unit(service, "Garde nationale", country="NER")
    vet(service, "MLI-FMF", mali, "approved", decided=TODAY)
    vet(service, "MLI-OLD", unit(service, "Not assisted this year"), "approved", decided=TODAY)
    vet(service, "NER-FMF", niger)
    with service() as svc:
        listed = svc.assisted_units()
        only_niger = svc.assisted_units(country="Niger")
    assert [
        (c.country, [(u.name, u.status, [p.id for p in u.programs]) for u in c.units])
        for c in listed
    ] == [
        ("MLI", [("33rd Parachute Regiment", "approved", ["MLI-FMF"])]),
        ("NER", [("Garde nationale", "pending", ["NER-FMF"])]),
    ]
    assert [c.country for c in only_niger] == ["NER"]


def test_the_vetting_queue(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    add_program(store, "MLI-333", account="10USC333", agency="DoD")
    pending = vet(service, "MLI-333", unit(service))
    vet(service, "MLI-FMF", unit(service, "Denied"), "denied", decided=TODAY)
    with service(actor=PLANNER) as svc:
        queue = svc.vetting_queue()
    assert [v.id for v in queue.pending] == [pending.id]
    assert queue.may_decide == frozenset()  # DoD's program: outside a State planner's scope
    assert [(a.name, a.status) for a in queue.attention] == [("Denied", "denied")]
