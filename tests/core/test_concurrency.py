"""Writes that never fail under concurrency: many writers at once, racing creates, logins
at the same moment, and an audit chain that stays one line — on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ssaplan.app import create_app
from ssaplan.core import audit
from ssaplan.core.errors import StaleVersion
from ssaplan.core.models import AuditRecord
from ssaplan.core.store import Store
from ssaplan.portfolio.schemas import ProgramUpdate
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR, PASSWORD, make_user
from tests.factories import program, program_data


def _together(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``n`` threads released at the same moment; results in order."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - the test inspects what each thread got
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return results


def test_many_writers_at_once_all_succeed_and_none_is_lost(store: Store) -> None:
    codes = [f"CONC-{i}" for i in range(6)]
    with store.transaction() as session:
        for code in codes:
            PortfolioService(session, OPERATOR).create(program(id=code))

    def edit(i: int) -> int:
        # Each thread edits every program once, reading the version it updates.
        done = 0
        for code in codes:
            for _attempt in range(50):
                with store.transaction() as session:
                    service = PortfolioService(session, OPERATOR)
                    current = service.get(code)
                    try:
                        service.update(
                            code,
                            ProgramUpdate(
                                description=f"{current.description}|t{i}", version=current.version
                            ),
                        )
                    except StaleVersion:  # someone wrote in between: read again and retry
                        continue
                done += 1
                break
        return done

    results = _together(8, edit)
    assert results == [len(codes)] * 8, results
    with store.session() as session:
        service = PortfolioService(session, OPERATOR)
        for code in codes:
            p = service.get(code)
            assert p.version == 1 + 8
            assert sorted(p.description.split("|")[1:]) == sorted(f"t{i}" for i in range(8))
        assert audit.verify(session).ok


def test_racing_creates_for_one_id_give_one_201_and_409s_never_a_500(store: Store) -> None:
    app = create_app(store)
    make_user(store, "racer", "admin")
    token = (
        TestClient(app)
        .post("/api/auth/token", json={"username": "racer", "password": PASSWORD})
        .json()["token"]
    )
    body = program_data(id="RACE-1")

    def create(_i: int) -> int:
        with TestClient(app) as client:
            r = client.post(
                "/api/programs", json=body, headers={"Authorization": f"Bearer {token}"}
            )
            return r.status_code

    statuses = Counter(_together(6, create))
    assert statuses == Counter({201: 1, 409: 5}), statuses


def test_logins_at_the_same_moment_all_succeed(store: Store) -> None:
    app = create_app(store)
    for i in range(6):
        make_user(store, f"user{i}", "viewer")

    def login(i: int) -> int:
        with TestClient(app) as client:
            r = client.post("/api/auth/token", json={"username": f"user{i}", "password": PASSWORD})
            return r.status_code

    assert _together(6, login) == [200] * 6
    with store.session() as session:
        logins = session.execute(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "login")
        ).scalar_one()
        assert logins == 6 and audit.verify(session).ok


def test_audit_records_join_the_chain_at_commit_and_leave_with_a_rolled_back_savepoint(
    store: Store,
) -> None:
    def count() -> int:
        with store.session() as s:
            return int(s.execute(select(func.count()).select_from(AuditRecord)).scalar_one())

    start = count()
    with store.transaction() as session:
        audit.record(session, audit.Entry("t", "note", "thing", "1"))
        with pytest.raises(RuntimeError), session.begin_nested():
            audit.record(session, audit.Entry("t", "note", "thing", "dropped"))
            raise RuntimeError("undo the savepoint")
        audit.record(session, audit.Entry("t", "note", "thing", "2"))
        assert count() == start  # not yet appended: the head is not locked before commit
    assert count() == start + 2
    with store.session() as session:
        ids = [r.entity_id for r in audit.search(session, entity_type="thing")]
        assert ids == ["2", "1"] and audit.verify(session).ok
    with pytest.raises(RuntimeError), store.transaction() as session:
        audit.record(session, audit.Entry("t", "note", "thing", "3"))
        raise RuntimeError("roll everything back")
    assert count() == start + 2
