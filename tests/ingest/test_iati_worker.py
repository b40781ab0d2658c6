"""Large IATI files are parsed and read in a second process while the first writes:
the same records, problems, errors and progress as in one process, and nothing
written when that process dies or the writer fails mid-file."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ssaplan.coordination import service as coordination
from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from ssaplan.ingest import iati
from ssaplan.ingest.currency import UsdConverter
from ssaplan.ingest.iati import IatiFile
from ssaplan.ingest.iati_activity import ActivityRecord
from ssaplan.reference.catalog import get_catalog
from tests.conftest import shared_data
from tests.ingest.conftest import (
    activity,
    db_state,
    dfid_copies,
    iati_file,
    import_iati,
    stored_rows,
    transaction,
    xml_counts,
)

Write = Callable[[str, str | bytes], Path]


@pytest.fixture(autouse=True)
def idle_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tests check the worker, not the load of the machine they run on."""
    monkeypatch.setattr(iati, "spare_core", lambda: True)


@pytest.fixture
def in_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read every file in the second process, however small."""
    monkeypatch.setattr(iati, "WORKER_MIN_BYTES", 0)


@pytest.fixture
def workers(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every reader process started, to check none is left behind."""
    started: list[Any] = []
    real_start = iati._Worker.start.__func__  # type: ignore[attr-defined]

    def start(cls: Any, *args: Any) -> Any:
        worker = real_start(cls, *args)
        started.append(worker)
        return worker

    monkeypatch.setattr(iati._Worker, "start", classmethod(start))
    return started


def results(path: Path) -> list[Any]:
    """Everything a file reads as: records and problems as plain values, or the error."""
    reader = IatiFile(path, catalog=get_catalog(), converter=UsdConverter())
    out: list[Any] = []
    try:
        for r in reader.activities():
            if isinstance(r, ActivityRecord):
                rows = tuple([tuple(row) for row in rows] for rows in r.child_rows)
                out.append((r.identifier, r.line, r.activity_row, rows, r.budget_count, r.warnings))
            else:
                out.append((r.identifier, r.line, r.details))
    except Invalid as exc:
        out.append((exc.message, exc.details))
    return [*out, reader.info.version, reader.info.version_note]


@pytest.mark.parametrize(
    "parts",
    [
        ("publishers", "gb-1_dfid_drc__CD.xml"),  # 1.01
        ("publishers", "ocha_haiti__ocha-test-data.xml"),  # anonymous activities, UGX
        ("more-publishers", "gb-gov-1_dfid_albania_v2.01__5e87f792.xml"),  # 2.01
        ("validator-bad", "js-validator-api", "integration-tests__broken-xml.xml"),
        ("validator-bad", "js-validator-api", "integration-tests__iati-act-xml-errors.xml"),
    ],
    ids=lambda p: p[-1],
)
def test_the_worker_reads_exactly_what_this_process_reads(
    parts: tuple[str, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data("iati", *parts)
    here = results(path)
    monkeypatch.setattr(iati, "WORKER_MIN_BYTES", 0)
    assert results(path) == here


def test_a_worker_import_stores_what_an_in_process_import_stores(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data("iati", "publishers", "es-maec_indonesia__MAEC_IATI_INDONESIA.xml")
    monkeypatch.setattr(iati, "WORKER_MIN_BYTES", 0)
    reported: list[int] = []
    first = import_iati(store, [path], progress=reported.append)
    assert sum(reported) == path.stat().st_size  # progress is reported from the worker
    by_worker = stored_rows(store)
    monkeypatch.setattr(iati, "WORKER_MIN_BYTES", 1 << 60)
    second = import_iati(store, [path])  # a re-import replaces every row
    assert second["replaced"] == first["activities"] and first["replaced"] == 0
    assert {k: v for k, v in first.items() if k != "replaced"} == {
        k: v for k, v in second.items() if k != "replaced"
    }
    assert stored_rows(store) == by_worker
    assert len(by_worker["donor_activities"]) == xml_counts(path)[0]


def _killing_receive(after: int) -> Callable[[Any], Any]:
    real = iati._Worker._receive
    calls = {"n": 0}

    def receive(self: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == after:
            self.process.kill()
            self.process.wait()
        return real(self)

    return receive


def test_the_reader_process_dying_mid_file_writes_nothing(
    store: Store, tmp_path: Path, in_worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = dfid_copies(tmp_path / "big.xml", 12)  # 2,460 activities: many batches
    before = db_state(store)
    monkeypatch.setattr(iati._Worker, "_receive", _killing_receive(after=8))
    with pytest.raises(RuntimeError, match="ended before the end of the file"):
        import_iati(store, [path])
    assert db_state(store) == before


def test_a_failed_write_mid_file_writes_nothing_and_stops_the_reader(
    store: Store,
    tmp_path: Path,
    in_worker: None,
    workers: list[Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = dfid_copies(tmp_path / "big.xml", 6)
    real_write = coordination.CoordinationService.replace_activities
    writes = {"n": 0}

    def failing_write(self: Any, *args: Any, **kwargs: Any) -> int:
        writes["n"] += 1
        if writes["n"] == 2:
            raise OSError("disk full")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(coordination.CoordinationService, "replace_activities", failing_write)
    before = db_state(store)
    with pytest.raises(OSError, match="disk full"):
        import_iati(store, [path])
    assert db_state(store) == before
    assert len(workers) == 1 and workers[0].process.poll() is not None  # stopped, reaped


def test_a_file_error_from_the_worker_names_file_and_line(
    store: Store, write: Write, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write("cut.xml", iati_file(activity("XM-1-a"), activity("XM-1-b"))[:-40])
    before = db_state(store)
    with pytest.raises(Invalid, match="truncated") as here:
        import_iati(store, [path])
    monkeypatch.setattr(iati, "WORKER_MIN_BYTES", 0)
    with pytest.raises(Invalid, match="truncated") as there:
        import_iati(store, [path])
    assert there.value.details == here.value.details
    assert there.value.details[0].loc[:2] == ("cut.xml", "line 23")
    assert db_state(store) == before


def _iter(path: Path) -> Iterator[Any]:
    yield from IatiFile(path, catalog=get_catalog(), converter=UsdConverter()).activities()


def test_stopping_early_stops_the_reader(
    tmp_path: Path, in_worker: None, workers: list[Any]
) -> None:
    """A consumer that stops reading (an error while writing) leaves no process behind."""
    records = _iter(dfid_copies(tmp_path / "big.xml", 6))
    next(records)
    records.close()
    assert len(workers) == 1 and workers[0].process.poll() is not None


def test_small_files_are_read_here(tmp_path: Path, workers: list[Any]) -> None:
    path = shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml")
    assert path.stat().st_size < iati.WORKER_MIN_BYTES
    assert sum(1 for _ in _iter(path)) == 205 and workers == []


def test_a_busy_machine_reads_here(
    in_worker: None, workers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(iati, "spare_core", lambda: False)
    path = shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml")
    assert sum(1 for _ in _iter(path)) == 205 and workers == []


def test_a_worker_that_cannot_start_leaves_the_reading_here(
    in_worker: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml")
    here = results(path)
    monkeypatch.setattr(iati.sys, "executable", "/nonexistent/python")
    assert results(path) == here


def test_a_batch_boundary_of_the_worker(store: Store, write: Write, in_worker: None) -> None:
    """The worker sends 100 activities at a time: a full message, and one more."""
    body = transaction("2", "2020-01-01", "10", "EUR")
    path = write("n.xml", iati_file(*(activity(f"XM-8-{i}", body) for i in range(101))))
    summary = import_iati(store, [path])
    assert (summary["activities"], summary["transactions"]) == xml_counts(path)
    assert len(stored_rows(store)["donor_transactions"]) == 101
