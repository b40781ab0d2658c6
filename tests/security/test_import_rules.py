"""Imports follow the rules edits follow (issue 10, item 2): the pipeline's transitions."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.core.users import actor_for, get_user
from ssaplan.ingest.exports import ExportService
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.service import PortfolioService
from tests.conftest import OPERATOR, make_user
from tests.factories import program


def _export_with_status(store: Store, path: Path, status: str) -> None:
    with store.session() as session, path.open("w", encoding="utf-8", newline="") as fh:
        ExportService(session, OPERATOR).csv(fh)
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        row["status"] = status
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def test_an_import_cannot_jump_the_pipeline(sqlite_store: Store, tmp_path: Path) -> None:
    make_user(sqlite_store, "pl", "planner", "State")
    with sqlite_store.transaction() as session:
        planner = actor_for(get_user(session, "pl"))
        pid = PortfolioService(session, planner).create(program(status="proposed")).id
    path = tmp_path / "programs.csv"

    _export_with_status(sqlite_store, path, "completed")
    with sqlite_store.transaction() as session, pytest.raises(Invalid) as info:
        IngestService(session, actor_for(get_user(session, "pl"))).import_programs(path)
    assert any(
        d.loc[-1] == "status" and "cannot go from proposed to completed" in d.msg
        for d in info.value.details
    ), info.value.details
    with sqlite_store.session() as session:
        assert PortfolioService(session, OPERATOR).get(pid).status == "proposed"

    _export_with_status(sqlite_store, path, "approved")  # a legal next step goes through
    with sqlite_store.transaction() as session:
        summary = IngestService(session, actor_for(get_user(session, "pl"))).import_programs(path)
    assert summary["updated"] == 1
    with sqlite_store.session() as session:
        assert PortfolioService(session, OPERATOR).get(pid).status == "approved"
