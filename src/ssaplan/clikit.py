"""What every ssaplan command shares: ``--db`` and ``--json``, output, errors, progress.

The contract (DESIGN.md): every command takes ``--db URL`` (else ``$SSAPLAN_DB``, else
``sqlite:///ssaplan.db``) and ``--json`` (one JSON object on stdout, nothing else
there; progress and logs go to stderr). Exit 0 on success, 1 on a user error with a
one-line message on stderr, 2 on bad usage. Both options work before or after the
command name.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from ssaplan.core.defaults import DEFAULT_DB
from ssaplan.core.errors import BadRequest
from ssaplan.core.store import Store, require_current_schema

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="database URL (default: $SSAPLAN_DB, else sqlite:///ssaplan.db)",
        show_default=False,
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="print one JSON object on stdout instead of text")
]

T = TypeVar("T")


@dataclass
class CliState:
    db: str | None = None
    json: bool = False


def state(ctx: typer.Context, db: str | None = None, as_json: bool = False) -> CliState:
    """Merge the options given on the command with those given before it."""
    root = ctx.find_root().obj if ctx.find_root().obj is not None else CliState()
    return CliState(db=db or root.db, json=as_json or root.json)


def sqlite_path(url: str) -> Path | None:
    """The file of a file-backed SQLite URL, else None."""
    if not url.startswith("sqlite:///"):
        return None
    rest = url[len("sqlite:///") :].split("?")[0]
    return None if rest in ("", ":memory:") else Path(rest)


def db_url(st: CliState) -> str:
    return st.db or os.environ.get("SSAPLAN_DB") or DEFAULT_DB


_OPENED: list[Store] = []


def open_store(st: CliState, *, require_schema: bool = True) -> Store:
    """The command's database (closed by :func:`close_stores` when the command ends)."""
    url = db_url(st)
    if require_schema:
        path = sqlite_path(url)
        if path is not None and not path.exists():
            # Say so without creating an empty file as a side effect.
            raise BadRequest(
                f"database {url!r} does not exist: run `ssaplan --db {url} init` first"
            )
    store = Store(url)
    _OPENED.append(store)
    if require_schema:
        require_current_schema(store)
    return store


@contextmanager
def read_session(st: CliState, *, write: bool = False) -> Iterator[Session]:
    """A read session on the command's database (with ``write``, one write transaction),
    closed (connections returned) at the end."""
    store = open_store(st)
    try:
        with store.transaction() if write else store.session() as session:
            yield session
    finally:
        store.dispose()


def write_session(st: CliState) -> AbstractContextManager[Session]:
    """One write transaction on the command's database, closed at the end."""
    return read_session(st, write=True)


def close_stores() -> None:
    """Close the connections of every store the command opened (a command run in an
    existing process, such as the tests', would otherwise leave them to the garbage
    collector: PostgreSQL connections then close unannounced)."""
    while _OPENED:
        _OPENED.pop().dispose()


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def tidy_numbers(value: Any) -> Any:
    """Floats rounded to 12 significant digits, so binary noise (28.000000000000004)
    never reaches the output; everything else unchanged."""
    if isinstance(value, float):
        return float(f"{value:.12g}") if value == value and abs(value) != float("inf") else value
    if isinstance(value, dict):
        return {k: tidy_numbers(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [tidy_numbers(v) for v in value]
    return value


def emit(st: CliState, data: dict[str, Any], human: Callable[[], None] | None = None) -> None:
    """Print ``data`` as one JSON object (``--json``), else run the human renderer.

    Floats are rounded to 12 significant digits (:func:`tidy_numbers`).
    """
    data = tidy_numbers(data)
    if st.json:
        sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False) + "\n")
    elif human is not None:
        human()
    else:
        sys.stdout.write(json.dumps(data, default=_default, ensure_ascii=False, indent=2) + "\n")


def info(message: str) -> None:
    """A line for people, on stderr, so it never mixes with ``--json`` output."""
    sys.stderr.write(message + "\n")


@contextmanager
def progress(label: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
    """A progress bar on stderr; yields ``advance(n)``. Quiet when stderr is not a terminal."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        info(f"{label}...")

        def quiet(n: int = 1) -> None:
            return None

        yield quiet
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)

        def advance(n: int = 1) -> None:
            bar.advance(task, n)

        yield advance


def track(items: Iterable[T], label: str, total: int | None = None) -> Iterator[T]:
    with progress(label, total) as advance:
        for item in items:
            yield item
            advance(1)
