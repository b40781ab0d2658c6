"""Long solves in the background: a job row in the database, a worker thread here.

``submit`` queues a job (one transaction, audited) and hands it to this process's
worker, one solve at a time (HiGHS and the robust pool use the cores; two solves at
once would only slow each other). The worker writes its progress to the job row, so
any app server answers ``GET /api/allocation/jobs/{id}``; the result is saved with
the actor who asked, as one more transaction. A job that fails keeps its error in
the envelope's shape. A process that stops mid-solve leaves its job ``running``:
:func:`recover` marks such jobs failed (for a start-up hook; the house has none yet).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import update

from ssaplan.allocation.models import AllocationJob
from ssaplan.allocation.service import AllocationService, parse
from ssaplan.core.errors import SsaplanError
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store, utcnow

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="allocation")
        return _executor


def _set(store: Store, job_id: int, **values: Any) -> None:
    with store.transaction() as session:
        session.execute(update(AllocationJob).where(AllocationJob.id == job_id).values(**values))


def submit(store: Store, actor: Actor, scenario_id: int, settings: Mapping[str, Any]) -> int:
    """Queue a solve of a saved scenario; returns the job id at once."""
    with store.transaction() as session:
        job_id = AllocationService(session, actor).create_job(scenario_id, settings)
    _pool().submit(run_job, store, actor, job_id)
    return job_id


def run_job(store: Store, actor: Actor, job_id: int) -> int | None:
    """Solve a queued job (in the worker thread, or directly in tests and the CLI)."""
    from ssaplan.allocation.engine.robust import RobustAllocator
    from ssaplan.allocation.engine.solve import AllocationOptimizer

    try:
        with store.session() as session:
            job = AllocationService(session, actor).get_job(job_id)
            scenario = AllocationService(session, actor).get_scenario(job["scenario_id"])
        settings = job["settings"]
        _set(
            store,
            job_id,
            state="running",
            progress=0.05,
            message="reading the scenario",
            started_at=utcnow(),
        )
        problem = parse(scenario["definition"]).problem
        _set(store, job_id, progress=0.1, message=f"solving {len(problem.candidates):,} candidates")
        optimizer = AllocationOptimizer(
            time_limit=float(settings.get("time_limit", 30.0)),
            mip_rel_gap=float(settings.get("gap", 1e-3)),
        )
        result = optimizer.solve(problem)
        robust = None
        draws = int(settings.get("robust", 0))
        if draws and result.status in ("optimal", "feasible"):
            done = [0]

            def advance(n: int = 1) -> None:
                done[0] += n
                _set(
                    store,
                    job_id,
                    progress=round(0.5 + 0.45 * done[0] / draws, 4),
                    message=f"re-solved {done[0]} of {draws} value draws",
                )

            _set(store, job_id, progress=0.5, message=f"re-solving over {draws} value draws")
            allocator = RobustAllocator(
                draws=draws,
                seed=int(settings.get("seed", 2013)),
                optimizer=optimizer.with_params(time_limit=min(optimizer.time_limit, 10.0)),
            )
            robust = allocator.solve(problem, progress=advance).as_dict()
        _set(store, job_id, progress=0.95, message="saving the result")
        with store.transaction() as session:
            result_id = AllocationService(session, actor).save_result(
                scenario["id"], result, settings=settings, robust=robust
            )
        _set(
            store,
            job_id,
            state="done",
            progress=1.0,
            message=f"{result.status}: {len(result.chosen)} funded",
            result_id=result_id,
            finished_at=utcnow(),
        )
        return result_id
    except SsaplanError as exc:
        _set(
            store,
            job_id,
            state="failed",
            message=str(exc),
            error=_envelope(exc),
            finished_at=utcnow(),
        )
    except Exception as exc:  # noqa: BLE001  (a worker must record every failure)
        _set(
            store,
            job_id,
            state="failed",
            message="the solve failed unexpectedly",
            error={"code": "internal", "message": f"{type(exc).__name__}: {exc}"},
            finished_at=utcnow(),
        )
    return None


def _envelope(exc: SsaplanError) -> dict[str, Any]:
    body: dict[str, Any] = exc.as_envelope()["error"]
    return body


def recover(store: Store) -> int:
    """Mark jobs a stopped process left queued or running as failed; returns how many."""
    with store.transaction() as session:
        found = session.execute(
            update(AllocationJob)
            .where(AllocationJob.state.in_(("queued", "running")))
            .values(
                state="failed",
                message="the server stopped before the solve finished",
                finished_at=utcnow(),
            )
        )
        return int(getattr(found, "rowcount", 0) or 0)
