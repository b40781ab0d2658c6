"""Counting the SQL statements a piece of work sends, to catch N+1 queries.

    with count_statements(store) as statements:
        client.get("/api/programs?limit=50", headers=headers)
    assert len(statements) <= 6, statements

Every statement sent through the store's engine counts (``before_cursor_execute``),
including the login look-up and SQLite's ``BEGIN``: compare counts of the same request
at two sizes, or against a recorded baseline, not against zero.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from ssaplan.core.store import Store


@contextmanager
def count_statements(store: Store) -> Iterator[list[str]]:
    """The statements sent while the block runs, in order (``executemany`` counts once)."""
    statements: list[str] = []

    def before(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        statements.append(statement)

    event.listen(store.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(store.engine, "before_cursor_execute", before)
