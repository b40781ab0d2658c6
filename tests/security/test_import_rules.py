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


def test_an_old_export_does_not_revert_a_newer_edit_without_force(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from ssaplan.core import audit
    from ssaplan.core.errors import StaleVersion
    from ssaplan.portfolio.schemas import ProgramUpdate
    from tests.conftest import run_cli

    with sqlite_store.transaction() as session:
        pid = PortfolioService(session, OPERATOR).create(program()).id
    path = tmp_path / "programs.csv"
    with sqlite_store.session() as session, path.open("w", encoding="utf-8", newline="") as fh:
        ExportService(session, OPERATOR).csv(fh)  # exported at version 1
    with sqlite_store.transaction() as session:  # someone edits it: version 2
        PortfolioService(session, OPERATOR).update(
            pid, ProgramUpdate(title="Edited after the export", version=1)
        )

    with sqlite_store.transaction() as session, pytest.raises(StaleVersion) as info:
        IngestService(session, OPERATOR).import_programs(path)
    assert info.value.status == 409
    assert "version 1, the program is at version 2" in info.value.details[0].msg
    with sqlite_store.session() as session:
        assert PortfolioService(session, OPERATOR).get(pid).title == "Edited after the export"

    url = str(sqlite_store.engine.url)
    code, _, err = run_cli(capsys, "import", "programs", str(path), "--db", url)
    assert code == 1 and "--force" in err
    code, _, err = run_cli(capsys, "import", "programs", str(path), "--force", "--db", url)
    assert code == 0, err
    with sqlite_store.session() as session:
        assert PortfolioService(session, OPERATOR).get(pid).title != "Edited after the export"
        forced = [r.summary for r in audit.search(session, entity_id=pid) if "--force" in r.summary]
    assert forced and "exported at version 1" in forced[0] and "overwrote version 2" in forced[0]
