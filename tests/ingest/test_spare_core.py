"""Whether a large IATI file is read by a second process: decided by what the cores are
doing now, not by the last minute's load average."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ssaplan.ingest import iati


def _ticks(*samples: tuple[int, int] | None) -> Iterator[tuple[int, int] | None]:
    yield from samples


def test_idle_cores_are_counted_from_two_samples(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = _ticks((1_000, 10_000), (1_090, 10_100))
    monkeypatch.setattr(iati, "_cpu_ticks", lambda: next(samples))
    monkeypatch.setattr(iati.os, "cpu_count", lambda: 2)
    assert iati.idle_cores(0) == pytest.approx(1.8)


@pytest.mark.parametrize(
    ("idle_per_100", "spare"),
    [(95, True), (45, True), (30, False), (5, False)],  # of 2 cores: 1.9, 0.9, 0.6, 0.1
)
def test_a_reader_process_needs_most_of_a_core_idle(
    monkeypatch: pytest.MonkeyPatch, idle_per_100: int, spare: bool
) -> None:
    samples = _ticks((0, 0), (idle_per_100, 100))
    monkeypatch.setattr(iati, "_cpu_ticks", lambda: next(samples))
    monkeypatch.setattr(iati.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(iati.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(iati.os, "getloadavg", lambda: (9.0, 9.0, 9.0))  # not consulted
    assert iati.spare_core() is spare


def test_without_the_counters_the_load_average_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iati, "_cpu_ticks", lambda: None)
    monkeypatch.setattr(iati.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(iati.os, "getloadavg", lambda: (0.4, 1.0, 1.0))
    assert iati.spare_core() is True
    monkeypatch.setattr(iati.os, "getloadavg", lambda: (1.5, 1.0, 1.0))
    assert iati.spare_core() is False


def test_one_core_never_starts_a_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(iati.os, "sched_getaffinity", lambda _pid: {0})
    assert iati.spare_core() is False


def test_the_real_counters_are_read_here() -> None:
    """On Linux (these machines) the counters exist and give a share of the cores."""
    idle = iati.idle_cores(0.01)
    assert idle is not None and 0 <= idle <= (iati.os.cpu_count() or 1) + 1e-9
