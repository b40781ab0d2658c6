"""The calls other domains make: blocked cells and candidate judging for the allocation
optimizer, the programs a restriction change affects for monitoring's immediate reviews."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ssaplan.compliance.engine import ProgramYear, Restriction, Waiver
from ssaplan.compliance.schemas import RestrictionCreate, RestrictionUpdate, WaiverIn
from ssaplan.core.store import Store
from tests.compliance.conftest import add_program


def coup(service: Any, country: str = "MLI", **kw: Any) -> int:
    with service(write=True) as svc:
        change = svc.restrictions.create(
            RestrictionCreate(
                country=country, type="coup", start=date(2021, 5, 24), citation="det", **kw
            )
        )
    assert change.restriction is not None
    return change.restriction.id


def test_blocked_cells_for_the_optimizer(service: Any) -> None:
    coup(service, waivers=[WaiverIn(accounts=["FMF"], start=date(2026, 10, 1))])
    with service() as svc:
        cells = svc.blocked_cells([2026, 2027], accounts=["FMF", "CTPF", "INCLE"])
        every = svc.blocked_cells([2027])
    # FMF is waived from FY2027; CTPF is not covered by the coup rule.
    assert cells == {("MLI", "FMF", 2026), ("MLI", "INCLE", 2026), ("MLI", "INCLE", 2027)}
    assert ("MLI", "FMF", 2027) not in every and ("MLI", "ESF", 2027) in every


def test_candidates_carrying_an_exception_are_judged_not_read_off_the_cells(
    service: Any,
) -> None:
    coup(service)
    with service() as svc:
        assert ("MLI", "DA", 2026) in svc.blocked_cells([2026])
        plain, democracy = svc.judge(
            [
                ProgramYear("candidate-1", 2026, ("MLI",), "DA"),
                ProgramYear("candidate-2", 2026, ("MLI",), "DA", dac_code="15151"),
            ]
        )
    assert not plain.eligible and democracy.eligible


def test_affected_by_names_the_programs_a_change_reaches_from_this_fiscal_year(
    store: Store, service: Any
) -> None:
    add_program(store, "MLI-FMF")
    add_program(store, "MLI-PAST", budget=[{"fiscal_year": 2025, "planned": 1}], start="2024-10-01")
    add_program(store, "MLI-CTPF", account="CTPF", agency="DoD")
    add_program(store, "NER-FMF", countries=["NER"])
    new = Restriction("MLI", "coup", date(2021, 5, 24), None, "det")
    waived = Restriction(
        "MLI",
        "coup",
        date(2021, 5, 24),
        None,
        "det",
        waivers=(Waiver(frozenset({"FMF"}), date(2025, 10, 1)),),
    )
    with service() as svc:
        assert svc.affected_by(None, new) == ("MLI-FMF",)
        assert svc.affected_by(None, new, from_fiscal_year=2025) == ("MLI-FMF", "MLI-PAST")
        assert svc.affected_by(new, waived) == ("MLI-FMF",)
        assert svc.affected_by(new, new) == ()
        assert svc.affected_by(new, None) == ("MLI-FMF",)


def test_restriction_changes_feed_monitoring_from_a_cursor(store: Store, service: Any) -> None:
    add_program(store, "MLI-FMF")
    add_program(store, "NER-FMF", countries=["NER"])
    first = coup(service)
    with service() as svc:
        (created,) = svc.restriction_changes()
    assert created.action == "create" and created.restriction_ref == f"restriction:{first}"
    assert created.before is None and created.after and created.after.country == "MLI"
    assert created.affected_programs == ("MLI-FMF",)
    coup(service, country="NER")
    with service(write=True) as svc:
        svc.restrictions.update(first, RestrictionUpdate(end=date(2025, 6, 30), version=1))
    with service() as svc:
        later = svc.restriction_changes(after_audit_id=created.audit_id)
    assert [(c.action, c.affected_programs) for c in later] == [
        ("create", ("NER-FMF",)),
        ("update", ("MLI-FMF",)),  # ended before FY2026: MLI-FMF is free again
    ]
    assert later[1].before and later[1].after and later[1].after.end == date(2025, 6, 30)


def test_the_eligibility_lookup_answers_the_optimizer_after_the_session_closes(
    service: Any,
) -> None:
    coup(service, waivers=[WaiverIn(accounts=["FMF"], start=date(2026, 10, 1))])
    with service() as svc:
        eligible = svc.eligible_lookup()
        cells = svc.blocked_cells([2025, 2026, 2027], accounts=["FMF", "CTPF", "INCLE", "ESF"])
    # The same answers as the cells, for any year asked, with the session gone.
    for country in ("MLI", "GHA"):
        for account in ("FMF", "CTPF", "INCLE", "ESF"):
            for fy in (2025, 2026, 2027):
                assert eligible(country, account, fy) is ((country, account, fy) not in cells)
    assert not eligible("MLI", "FMF", 2026) and eligible("MLI", "FMF", 2027)
    assert eligible("MLI", "CTPF", 2026) and eligible("GHA", "FMF", 2026)
    assert not eligible("MLI", "FMF", 2021)  # in force from 2021-05-24, FY2021


def test_the_lookup_needs_read_permission(service: Any) -> None:
    from ssaplan.core.errors import Forbidden
    from ssaplan.core.permissions import Actor

    with pytest.raises(Forbidden), service(actor=Actor("nobody")) as svc:
        svc.eligible_lookup()
