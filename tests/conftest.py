"""Shared fixtures: a fresh database per test on SQLite and PostgreSQL, users, clients.

Every test that takes ``store`` runs twice, once per back end. Each gets its own
database, copied from a template that was migrated and loaded with reference data
once per worker, so tests never see each other's writes. PostgreSQL comes from
``SSAPLAN_TEST_PG`` (set by ``make test``); without it those runs skip, except in CI.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Passwords in tests guard nothing: Argon2id at its lowest cost (one pass over 1 MiB instead
# of three over 64 MiB) saves ~0.4 s of CPU per user made and per login. Set before any
# hash is made, and inherited by the servers and CLI processes tests start.
# tests/core/test_auth.py checks the production cost and its floor.
os.environ.setdefault("SSAPLAN_ARGON2_TIME_COST", "1")
os.environ.setdefault("SSAPLAN_ARGON2_MEMORY_KIB", "1024")

from sqlalchemy import create_engine, text  # noqa: E402

from ssaplan import domains
from ssaplan.bootstrap import initialize
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store, normalize_url
from ssaplan.core.users import add_user

# The house is assembled once per test process, as the app and the CLI do at start-up.
domains.install()
domains.import_models()

PG_ADMIN = os.environ.get("SSAPLAN_TEST_PG")
IN_CI = os.environ.get("CI") == "true"
SHARED = Path(__file__).resolve().parents[2] / "shared"
PASSWORD = "test-password-123"


def shared_data(*parts: str) -> Path:
    """A file from ../shared/data: skip when absent, fail in CI where it must exist."""
    path = SHARED.joinpath("data", *parts)
    if not path.exists():
        if IN_CI:
            pytest.fail(f"{path} is missing; CI always has ../shared")
        pytest.skip(f"{path} not present")
    return path


def _pg_url(dbname: str) -> str:
    assert PG_ADMIN
    return normalize_url(PG_ADMIN).rsplit("/", 1)[0] + "/" + dbname


def _pg_admin_exec(sql: str) -> None:
    engine = create_engine(normalize_url(PG_ADMIN or ""), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


class Templates:
    """Initialized databases to copy from, built lazily once per worker."""

    def __init__(self, tmp: Path, worker: str) -> None:
        self.tmp = tmp
        self.worker = worker
        self.built: dict[str, str] = {}

    def sqlite(self, kind: str) -> Path:
        path = self.tmp / f"template-{kind}.db"
        if f"sqlite:{kind}" not in self.built:
            store = Store(f"sqlite:///{path}")
            _build(store, kind)
            with store.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            store.dispose()
            self.built[f"sqlite:{kind}"] = str(path)
        return path

    def postgres(self, kind: str) -> str:
        name = f"tmpl_{kind}_{self.worker}_{os.getpid()}"  # unique per process on a shared server
        if f"pg:{kind}" not in self.built:
            _pg_admin_exec(f'DROP DATABASE IF EXISTS "{name}"')
            _pg_admin_exec(f'CREATE DATABASE "{name}"')
            store = Store(_pg_url(name))
            _build(store, kind)
            store.dispose()
            self.built[f"pg:{kind}"] = name
        return name


def _build(store: Store, kind: str) -> None:
    initialize(store)
    if kind == "demo":
        from ssaplan.demo import load_demo

        load_demo(store, seed=2013)


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Templates]:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    t = Templates(tmp_path_factory.mktemp("templates"), worker)
    yield t
    if PG_ADMIN:
        for key, name in t.built.items():
            if key.startswith("pg:"):
                _pg_admin_exec(f'DROP DATABASE IF EXISTS "{name}"')


def _fresh_store(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path, kind: str
) -> Iterator[Store]:
    backend = request.param
    if backend == "sqlite":
        path = tmp_path / f"{kind}.db"
        shutil.copy(templates.sqlite(kind), path)
        store = Store(f"sqlite:///{path}")
        yield store
        store.dispose()
        return
    if not PG_ADMIN:
        if IN_CI:
            pytest.fail("SSAPLAN_TEST_PG is not set; CI must test PostgreSQL")
        pytest.skip("no PostgreSQL (run `make test`, which starts one)")
    template = templates.postgres(kind)
    name = f"t_{uuid.uuid4().hex[:12]}"
    _pg_admin_exec(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    store = Store(_pg_url(name))
    try:
        yield store
    finally:
        store.dispose()
        _pg_admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, templates: Templates, tmp_path: Path) -> Iterator[Store]:
    """An initialized, empty database (reference data loaded, no programs), both back ends."""
    yield from _fresh_store(request, templates, tmp_path, "empty")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """A database with no schema at all (for migration tests), both back ends."""
    if request.param == "sqlite":
        store = Store(f"sqlite:///{tmp_path / 'blank.db'}")
        yield store
        store.dispose()
        return
    if not PG_ADMIN:
        if IN_CI:
            pytest.fail("SSAPLAN_TEST_PG is not set; CI must test PostgreSQL")
        pytest.skip("no PostgreSQL (run `make test`, which starts one)")
    name = f"b_{uuid.uuid4().hex[:12]}"
    _pg_admin_exec(f'CREATE DATABASE "{name}"')
    store = Store(_pg_url(name))
    try:
        yield store
    finally:
        store.dispose()
        _pg_admin_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def demo_store(
    request: pytest.FixtureRequest, templates: Templates, tmp_path: Path
) -> Iterator[Store]:
    """A database holding the demo world (seed 2013), both back ends."""
    yield from _fresh_store(request, templates, tmp_path, "demo")


@pytest.fixture
def sqlite_demo(templates: Templates, tmp_path: Path) -> Iterator[Store]:
    """The demo world on SQLite only (for tests of interfaces, not of the back end)."""
    path = tmp_path / "demo.db"
    shutil.copy(templates.sqlite("demo"), path)
    store = Store(f"sqlite:///{path}")
    yield store
    store.dispose()


OPERATOR = Actor("test-operator", "admin")


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run ``ssaplan ARGS`` in process: (exit code, stdout, stderr)."""
    from ssaplan.cli import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def web_login(client: Any, username: str, password: str) -> None:
    """Log a test client in through the login form, as a browser does."""
    import re

    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_token": token.group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


@pytest.fixture
def api(store: Store) -> Any:
    """An API client on a fresh database (both back ends) that logs users in on demand."""
    from tests.apibase import Api  # imported here: apibase itself imports this module

    return Api(store)


def production_settings(**overrides: Any) -> Any:
    """Settings of a production deployment, at the lowest hashing cost production allows
    (this module lowers it below that for speed, and production refuses such a cost)."""
    from ssaplan.core.settings import PRODUCTION_ARGON2_MEMORY_KIB, Settings

    values: dict[str, Any] = {
        "environment": "production",
        "secret_key": "k" * 40,
        "cookie_secure": True,
        "argon2_time_cost": 2,
        "argon2_memory_kib": PRODUCTION_ARGON2_MEMORY_KIB,
    }
    return Settings(**(values | overrides))


def make_user(store: Store, username: str, role: str, agency: str = "State") -> dict[str, Any]:
    with store.transaction() as session:
        add_user(session, OPERATOR, username=username, password=PASSWORD, role=role, agency=agency)
    return {"username": username, "password": PASSWORD}


# -- live server and browser ----------------------------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]


@pytest.fixture
def live_server() -> Iterator[Any]:
    """A callable: ``live_server(store) -> base_url``; a real uvicorn server in a thread."""
    import socket
    import threading
    import time

    import uvicorn

    from ssaplan.app import create_app

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(store: Store) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        config = uvicorn.Config(
            create_app(store), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is missing; .ci/run installs Debian's chromium")
        pytest.skip("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium: Any) -> Iterator[Any]:
    """A callable: ``browser_page(base_url, username, password) -> Page``, logged in."""
    contexts: list[Any] = []

    def open_page(base_url: str, username: str, password: str) -> Any:
        context = chromium.new_context(base_url=base_url)
        contexts.append(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        return page

    yield open_page
    for context in contexts:
        context.close()
