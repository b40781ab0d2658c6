"""Stable identities: renaming a program keeps every reference; children keep their ids;
an id is never given out twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ssaplan.core.errors import Conflict, Invalid, NotFound
from ssaplan.core.store import Store
from ssaplan.portfolio.models import BudgetLine, Milestone, Program
from ssaplan.portfolio.schemas import BudgetLineIn, MilestoneIn, ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR
from tests.factories import program


def _make(store: Store, code: str = "RENAME-1", **kw: Any) -> Any:
    with store.transaction() as session:
        return PortfolioService(session, OPERATOR).create(
            program(
                id=code,
                milestones=[MilestoneIn(name="Patrol boats"), MilestoneIn(name="Radios")],
                **kw,
            )
        )


def test_a_rename_keeps_budget_deliveries_and_history(store: Store) -> None:
    p = _make(store)
    line_ids = [b.id for b in p.budget]
    delivery_ids = [m.id for m in p.milestones]
    with store.transaction() as session:
        renamed = PortfolioService(session, OPERATOR).update(
            "RENAME-1", ProgramUpdate(id="INL-GHA-BOATS", version=p.version)
        )
    assert renamed.id == "INL-GHA-BOATS" and renamed.version == p.version + 1
    assert [b.id for b in renamed.budget] == line_ids
    assert [m.id for m in renamed.milestones] == delivery_ids
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        with pytest.raises(NotFound):
            service.get("RENAME-1")
        history = service.history("INL-GHA-BOATS")
    assert [r.action for r in history] == ["rename", "create"]
    assert history[0].before["id"] == "RENAME-1" and history[0].after["id"] == "INL-GHA-BOATS"


def test_a_rename_to_a_taken_or_retired_id_is_refused(store: Store) -> None:
    a = _make(store, "A-1")
    _make(store, "B-1")
    gone = _make(store, "GONE-1")
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).delete("GONE-1", gone.version)
    for target in ("B-1", "GONE-1"):
        with store.transaction() as session, pytest.raises(Conflict):
            PortfolioService(session, OPERATOR).update(
                "A-1", ProgramUpdate(id=target, version=a.version)
            )


def test_a_deleted_programs_id_is_never_reused(store: Store) -> None:
    gone = _make(store, "GONE-2")
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).delete("GONE-2", gone.version)
    with store.transaction() as session, pytest.raises(Conflict, match="never reused"):
        PortfolioService(session, OPERATOR).create(program(id="GONE-2"))
    # Assigned ids skip the numbers of deleted programs too.
    with store.transaction() as session:
        first = PortfolioService(session, OPERATOR).create(program(title="First"))
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).delete(first.id, first.version)
    with store.transaction() as session:
        second = PortfolioService(session, OPERATOR).create(program(title="Second"))
    assert second.id != first.id
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        assert [r.action for r in service.history(first.id)] == ["delete", "create"]
        assert [r.action for r in service.history(second.id)] == ["create"]


def test_editing_amounts_and_deliveries_keeps_their_rows(store: Store) -> None:
    p = _make(store)
    with store.transaction() as session:
        q = PortfolioService(session, OPERATOR).update(
            "RENAME-1",
            ProgramUpdate(
                version=p.version,
                budget=[
                    BudgetLineIn(fiscal_year=2026, planned=1_500_000),
                    BudgetLineIn(fiscal_year=2027, planned=2_000_000),
                    BudgetLineIn(fiscal_year=2027, account="IMET", planned=10_000),
                ],
                milestones=[
                    MilestoneIn(id=p.milestones[1].id, name="Radios and spares"),
                    MilestoneIn(name="Patrol boats", requested_on="2026-01-05"),
                    MilestoneIn(name="Night-vision devices"),
                ],
            ),
        )
    by_key = {(b.fiscal_year, b.account): b.id for b in q.budget}
    assert by_key[(2026, "INCLE")] == p.budget[0].id  # amount edited in place
    assert by_key[(2027, "INCLE")] == p.budget[1].id
    assert (2027, "IMET") in by_key
    ids = {m.name: m.id for m in q.milestones}
    assert ids["Radios and spares"] == p.milestones[1].id  # matched by id, renamed
    assert ids["Patrol boats"] == p.milestones[0].id  # matched by name
    assert ids["Night-vision devices"] not in {m.id for m in p.milestones}
    with store.session() as session:
        assert session.execute(select(BudgetLine.id).where(BudgetLine.fiscal_year == 2027)).all()
        assert len(session.execute(select(Milestone)).scalars().all()) == 3


def test_an_unknown_delivery_id_or_a_repeated_year_and_account_is_invalid(store: Store) -> None:
    p = _make(store)
    with store.transaction() as session, pytest.raises(Invalid) as info:
        PortfolioService(session, OPERATOR).update(
            "RENAME-1",
            ProgramUpdate(
                version=p.version,
                budget=[
                    BudgetLineIn(fiscal_year=2026, planned=1),
                    BudgetLineIn(fiscal_year=2026, account="INCLE", planned=2),
                ],
            ),
        )
    assert "FY2026 (INCLE) appears twice" in info.value.details[0].msg
    with store.transaction() as session, pytest.raises(Invalid, match="invalid program") as info:
        PortfolioService(session, OPERATOR).update(
            "RENAME-1",
            ProgramUpdate(version=p.version, milestones=[MilestoneIn(id=999_999, name="x")]),
        )
    assert "no delivery 999999" in info.value.details[0].msg


def test_surrogate_keys_are_never_reused_after_a_delete(store: Store) -> None:
    last = _make(store, "LAST-1")
    with store.session() as session:
        pk = session.execute(select(Program.id).where(Program.code == "LAST-1")).scalar_one()
    with store.transaction() as session:
        PortfolioService(session, OPERATOR).delete("LAST-1", last.version)
    _make(store, "NEXT-1")
    with store.session() as session:
        new_pk = session.execute(select(Program.id).where(Program.code == "NEXT-1")).scalar_one()
    assert new_pk > pk
