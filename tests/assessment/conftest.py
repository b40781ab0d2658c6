"""Fixtures of the assessment tests: small indicator files, the demo with its
assessment, and a database holding every real indicator file."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ssaplan.assessment.demo import load_demo_assessment
from ssaplan.core.store import Store
from tests.conftest import SHARED, Templates

INDICATORS = SHARED / "data" / "indicators"

# A tiny framework and table whose results are worked out by hand in test_engine.py.
SMALL_FRAMEWORK = """measure,construct,direction,measure_weight,construct_weight
gov,governance,1,2,3
corr,governance,-1,1,3
hdi,capacity,1,1,1
"""
SMALL_TIDY = """iso3,year,measure,value,source
KEN,2020,gov,1,test
TZA,2020,gov,3,test
UGA,2020,gov,5,test
KEN,2020,corr,10,test
TZA,2020,corr,20,test
RWA,2020,corr,30,test
KEN,2020,hdi,0.4,test
UGA,2020,hdi,0.8,test
RWA,2020,hdi,0.6,test
"""


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write(name, text) -> path``: a file in the test's folder."""

    def make(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return make


def _checkpoint(store: Store) -> None:
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.dispose()


@pytest.fixture(scope="session")
def assessed_template(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo world plus the illustrative demo assessment, built once per worker."""
    path = tmp_path_factory.mktemp("assessed") / "assessed.db"
    shutil.copy(templates.sqlite("demo"), path)
    store = Store(f"sqlite:///{path}")
    load_demo_assessment(store, seed=2013)
    _checkpoint(store)
    return path


@pytest.fixture
def assessed(assessed_template: Path, tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite copy of the demo world with its saved demo assessment."""
    path = tmp_path / "assessed.db"
    shutil.copy(assessed_template, path)
    store = Store(f"sqlite:///{path}")
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def real_template(templates: Templates, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database into which every real indicator file was imported."""
    from ssaplan.assessment.indicators.reader import read_indicator_file
    from ssaplan.assessment.indicators.service import IndicatorService
    from tests.conftest import OPERATOR, shared_data

    folder = shared_data("indicators")
    path = tmp_path_factory.mktemp("real") / "real.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    files = [read_indicator_file(p) for p in sorted(folder.rglob("*.csv"))]
    with store.transaction() as session:
        IndicatorService(session, OPERATOR).import_files(files)
    _checkpoint(store)
    return path


@pytest.fixture
def real(real_template: Path, tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite copy holding every real indicator file."""
    path = tmp_path / "real.db"
    shutil.copy(real_template, path)
    store = Store(f"sqlite:///{path}")
    yield store
    store.dispose()
