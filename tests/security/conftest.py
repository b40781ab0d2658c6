"""Fixtures for the security tests: SQLite only (what is tested is the edge, not the back end)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from ssaplan.core.store import Store
from tests.conftest import Templates


@pytest.fixture
def sqlite_store(templates: Templates, tmp_path: Path) -> Iterator[Store]:
    """An initialized, empty SQLite database."""
    path = tmp_path / "empty.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    yield store
    store.dispose()
