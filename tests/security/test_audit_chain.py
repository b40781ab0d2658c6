"""The audit chain cannot be quietly rewritten (issue 10, item 7): keyed with a key
outside the database, and checked against checkpoints kept outside it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from ssaplan.core import audit
from ssaplan.core.models import AuditHead, AuditRecord
from ssaplan.core.settings import get_settings
from ssaplan.core.store import Store
from tests.conftest import run_cli


@pytest.fixture
def keyed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    key_file = tmp_path / "audit.key"
    key_file.write_text("a-key-kept-outside-the-database\n")
    monkeypatch.setenv("SSAPLAN_AUDIT_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    yield key_file
    monkeypatch.undo()
    get_settings.cache_clear()


def _write(store: Store, n: int, who: str = "pat") -> None:
    with store.transaction() as session:
        audit.record_many(
            session,
            [audit.Entry(who, "update", "program", f"P{i}", summary=f"edit {i}") for i in range(n)],
        )


def _rewrite_from(store: Store, first_id: int, key: bytes | None = None) -> None:
    """What an attacker with write access does: change a record, recompute the rest."""
    with store.transaction() as session:
        rows = session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars().all()
        prev = audit.GENESIS
        for r in rows:
            if r.id == first_id:
                r.summary = "nothing to see here"
            if r.id >= first_id:
                e = audit.Entry(
                    r.actor,
                    r.action,
                    r.entity_type,
                    r.entity_id,
                    r.before,
                    r.after,
                    r.summary,
                    r.entity_ref,
                )
                r.prev_hash = prev
                r.hash = audit._digest(prev, r.at, e, key)
            prev = r.hash
        head = session.get(AuditHead, 1)
        assert head is not None
        head.last_hash = prev


def _cut_tail(store: Store, keep: int) -> None:
    with store.transaction() as session:
        rows = session.execute(select(AuditRecord).order_by(AuditRecord.id)).scalars().all()
        last = rows[keep - 1]
        session.execute(delete(AuditRecord).where(AuditRecord.id > last.id))
        head = session.get(AuditHead, 1)
        assert head is not None
        head.last_hash, head.count = last.hash, keep


def _verify(capsys: pytest.CaptureFixture[str], store: Store, *extra: str) -> tuple[int, dict]:
    code, out, _err = run_cli(
        capsys, "audit", "verify", "--db", str(store.engine.url), "--json", *extra
    )
    return code, json.loads(out.splitlines()[0])  # on failure the error envelope follows


def test_a_cut_tail_passes_verify_but_not_the_checkpoint(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(sqlite_store, 10)
    points = tmp_path / "checkpoints.jsonl"
    code, _, err = run_cli(
        capsys, "audit", "checkpoint", str(points), "--db", str(sqlite_store.engine.url)
    )
    assert code == 0, err
    with sqlite_store.session() as session:
        total = session.execute(select(AuditRecord)).scalars().all()
    _cut_tail(sqlite_store, len(total) - 3)
    code, data = _verify(capsys, sqlite_store)
    assert code == 0 and data["ok"]  # alone, the database cannot tell (the README says so)
    code, data = _verify(capsys, sqlite_store, "--against", str(points))
    assert code == 1 and not data["ok"]
    assert "the tail was cut" in data["reason"]


def test_a_recomputed_chain_passes_verify_but_not_the_checkpoint(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(sqlite_store, 10)
    points = tmp_path / "checkpoints.jsonl"
    run_cli(capsys, "audit", "checkpoint", str(points), "--db", str(sqlite_store.engine.url))
    _write(sqlite_store, 2)  # later work: the checkpoint still holds
    assert _verify(capsys, sqlite_store, "--against", str(points))[0] == 0
    with sqlite_store.session() as session:
        victim = (
            session.execute(select(AuditRecord.id).order_by(AuditRecord.id)).scalars().all()[-8]
        )
    _rewrite_from(sqlite_store, victim)
    assert _verify(capsys, sqlite_store)[1]["ok"]
    code, data = _verify(capsys, sqlite_store, "--against", str(points))
    assert code == 1 and "rewritten" in data["reason"]


def test_with_a_key_a_forged_chain_fails_verify(
    sqlite_store: Store, keyed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(sqlite_store, 10)
    code, data = _verify(capsys, sqlite_store)
    assert code == 0 and data["keyed"] == 10  # the reference data's records predate the key
    with sqlite_store.session() as session:
        victim = (
            session.execute(select(AuditRecord.id).order_by(AuditRecord.id)).scalars().all()[-5]
        )
    _rewrite_from(sqlite_store, victim)  # recomputed without the key
    code, data = _verify(capsys, sqlite_store)
    assert code == 1 and data["first_bad_id"] == victim
    _rewrite_from(sqlite_store, victim, key=b"a guessed key")
    code, data = _verify(capsys, sqlite_store)
    assert code == 1 and "wrong key" in data["reason"]


def test_an_edited_checkpoint_file_is_detected(
    sqlite_store: Store, keyed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(sqlite_store, 4)
    points = tmp_path / "checkpoints.jsonl"
    run_cli(capsys, "audit", "checkpoint", str(points), "--db", str(sqlite_store.engine.url))
    point = json.loads(points.read_text())
    point["records"] -= 1
    points.write_text(json.dumps(point) + "\n")
    code, data = _verify(capsys, sqlite_store, "--against", str(points))
    assert code == 1 and "edited" in data["reason"]
