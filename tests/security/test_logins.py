"""Logins are defended (issue 10, item 3): throttling per account and per address,
bounded hashing, failed logins audited, a password policy, deactivation and reset,
demo accounts refused in production."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from ssaplan.app import create_app
from ssaplan.core import audit, logins
from ssaplan.core.errors import Invalid, TooManyRequests
from ssaplan.core.logins import LoginGuard
from ssaplan.core.models import LoginFailure
from ssaplan.core.settings import Settings
from ssaplan.core.store import Store
from ssaplan.core.users import add_user
from tests.conftest import OPERATOR, PASSWORD, make_user, production_settings, run_cli
from tests.security.servers import free_port, serve_two_workers, wait_healthy

PRODUCTION = production_settings()


def _token(client: TestClient, username: str, password: str) -> int:
    return client.post(
        "/api/auth/token", json={"username": username, "password": password}
    ).status_code


def test_an_account_is_throttled_after_five_failures(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store))
    make_user(sqlite_store, "alice", "viewer")
    for _ in range(5):
        assert _token(client, "alice", "wrong-password-1") == 401
    r = client.post("/api/auth/token", json={"username": "alice", "password": PASSWORD})
    assert r.status_code == 429  # even the right password waits out the window
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "too_many_requests"
    with sqlite_store.session() as session:
        failed = [r for r in audit.search(session, entity_id="alice") if r.action == "login_failed"]
    assert len(failed) == 5
    assert "testclient" in failed[0].summary  # the client address is recorded


def test_one_address_is_throttled_across_accounts(sqlite_store: Store) -> None:
    client = TestClient(create_app(sqlite_store, Settings(login_failures_per_address=8)))
    for i in range(8):
        assert _token(client, f"user{i}", "wrong-password-1") == 401
    assert _token(client, "someone-else", "wrong-password-1") == 429


def _guard(store: Store, now: list[float], settings: Settings) -> LoginGuard:
    guard = LoginGuard(settings, store)
    guard._now = lambda: now[0]
    return guard


def _fail(store: Store, guard: LoginGuard, name: str, address: str | None = None) -> None:
    with store.transaction() as session:
        guard.failed(session, name, address)


def _rows(store: Store) -> dict[str, int]:
    with store.session() as session:
        rows = session.execute(
            select(LoginFailure.key, func.count()).group_by(LoginFailure.key)
        ).all()
    return {key: n for key, n in rows}


def test_the_window_passes_and_success_clears_the_count(store: Store) -> None:
    now = [1000.0]
    guard = _guard(store, now, Settings(login_failures_per_account=2, login_window_seconds=60))
    _fail(store, guard, "bob")
    _fail(store, guard, "bob")
    with pytest.raises(TooManyRequests) as info:
        guard.check("bob", None)
    assert info.value.retry_after == 61
    now[0] += 30
    with pytest.raises(TooManyRequests) as info:
        guard.check("BOB ", None)  # the same account however it is typed
    assert info.value.retry_after == 31
    now[0] += 31
    guard.check("bob", None)  # the window passed
    _fail(store, guard, "bob")
    with store.transaction() as session:
        guard.succeeded(session, "bob")
    _fail(store, guard, "bob")
    guard.check("bob", None)  # one failure since the success


def test_the_table_stays_bounded(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [1000.0]
    guard = _guard(
        sqlite_store,
        now,
        Settings(
            login_failures_per_account=3, login_failures_per_address=4, login_window_seconds=60
        ),
    )
    for _ in range(10):
        _fail(sqlite_store, guard, "carol", "10.0.0.1")
    # each key keeps its limit, enough to refuse and to say when to come back
    assert _rows(sqlite_store) == {"account:carol": 3, "address:10.0.0.1": 4}
    with pytest.raises(TooManyRequests):
        guard.check("carol", None)
    now[0] += 61
    _fail(sqlite_store, guard, "dave")
    assert _rows(sqlite_store) == {"account:dave": 1}  # the expired rows went on this write
    monkeypatch.setattr(logins, "MAX_ROWS", 10)
    for i in range(30):
        _fail(sqlite_store, guard, f"user{i}")
    assert sum(_rows(sqlite_store).values()) == 10  # the oldest went first
    assert "account:user29" in _rows(sqlite_store)


def test_hashes_run_a_bounded_number_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logins, "HASH_WAIT_SECONDS", 0.2)
    guard = LoginGuard(Settings(max_concurrent_hashes=2), Store("sqlite://"))
    release = threading.Event()
    held = threading.Barrier(3)

    def hold() -> None:
        with guard.hashing():
            held.wait()
            release.wait(5)

    threads = [threading.Thread(target=hold) for _ in range(2)]
    for t in threads:
        t.start()
    held.wait()
    # a third must wait, then is told to come back
    with pytest.raises(TooManyRequests), guard.hashing():
        pass
    release.set()
    for t in threads:
        t.join()
    with guard.hashing():
        pass


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("aaaaaaaaaa", "different characters"),
        (" " * 10, "different characters"),
        ("dana-the-planner", "user name"),
        ("Password123", "common passwords"),
        ("short", "at least 10"),
    ],
)
def test_weak_passwords_are_refused(sqlite_store: Store, password: str, reason: str) -> None:
    with sqlite_store.transaction() as session, pytest.raises(Invalid) as info:
        add_user(
            session, OPERATOR, username="dana", password=password, role="viewer", agency="State"
        )
    assert any(reason in d.msg for d in info.value.details), info.value.details


def test_demo_accounts_are_refused_in_production_until_reset(
    sqlite_store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite_store.transaction() as session:
        add_user(
            session,
            OPERATOR,
            username="admin",
            password="admin-demo-pass",
            role="admin",
            agency="State",
            demo=True,
        )
    local = TestClient(create_app(sqlite_store))
    assert _token(local, "admin", "admin-demo-pass") == 200  # the demo works locally
    prod = TestClient(create_app(sqlite_store, PRODUCTION))
    r = prod.post("/api/auth/token", json={"username": "admin", "password": "admin-demo-pass"})
    assert r.status_code == 401 and "demo" in r.json()["error"]["message"]
    url = str(sqlite_store.engine.url)
    code, _, err = run_cli(
        capsys, "user", "reset-password", "admin", "--password", "a fresh passphrase", "--db", url
    )
    assert code == 0, err
    assert _token(prod, "admin", "a fresh passphrase") == 200


def test_deactivate_and_reset_password_end_logins(
    sqlite_store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    client = TestClient(create_app(sqlite_store))
    make_user(sqlite_store, "erin", "viewer")
    token = client.post("/api/auth/token", json={"username": "erin", "password": PASSWORD}).json()[
        "token"
    ]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=auth).status_code == 200
    url = str(sqlite_store.engine.url)

    code, _, err = run_cli(
        capsys, "user", "reset-password", "erin", "--password", "aaaaaaaaaa", "--db", url
    )
    assert code == 1 and "different characters" in err  # the policy holds here too
    code, _, err = run_cli(
        capsys, "user", "reset-password", "erin", "--password", "new long passphrase", "--db", url
    )
    assert code == 0, err
    assert client.get("/api/me", headers=auth).status_code == 401  # the old login ended
    assert _token(client, "erin", PASSWORD) == 401
    assert _token(client, "erin", "new long passphrase") == 200

    code, out, err = run_cli(capsys, "user", "deactivate", "erin", "--db", url, "--json")
    assert code == 0, err
    assert '"active": false' in out
    assert _token(client, "erin", "new long passphrase") == 401
    with sqlite_store.session() as session:
        summaries = [r.summary for r in audit.search(session, entity_id="erin")]
    assert "deactivated" in summaries and "password reset" in summaries


# -- one budget for every worker (the counts live in the database) --------------------


def test_two_workers_share_one_account_budget(store: Store) -> None:
    """Two app instances on one database (two workers, or two servers) enforce one budget:
    five failures spread over both lock the account on both."""
    make_user(store, "alice", "viewer")
    other = Store(store.url)  # its own engine and pool, as another process has
    try:
        one, two = TestClient(create_app(store)), TestClient(create_app(other))
        for client in (one, two, one, two, one):
            assert _token(client, "alice", "wrong-password-1") == 401
        assert _token(one, "alice", PASSWORD) == 429
        assert _token(two, "alice", PASSWORD) == 429
    finally:
        other.dispose()


def test_two_workers_share_one_address_budget(store: Store) -> None:
    settings = Settings(login_failures_per_address=4)
    other = Store(store.url)
    try:
        one = TestClient(create_app(store, settings))
        two = TestClient(create_app(other, settings))
        for i, client in enumerate((one, two, one, two)):
            assert _token(client, f"user{i}", "wrong-password-1") == 401
        assert _token(two, "someone-else", "wrong-password-1") == 429
        assert _token(one, "someone-else", "wrong-password-1") == 429
    finally:
        other.dispose()


def test_a_two_worker_server_enforces_one_budget(sqlite_store: Store, tmp_path: Path) -> None:
    """``ssaplan serve --workers 2`` over loopback: whichever worker takes a connection,
    the account is refused after its five failures."""
    import json
    import urllib.error
    import urllib.request

    make_user(sqlite_store, "alice", "viewer")
    port = free_port()
    log = tmp_path / "serve.log"
    server = serve_two_workers(sqlite_store.url, port, log)
    base = f"http://127.0.0.1:{port}"

    def token(password: str) -> int:
        body = json.dumps({"username": "alice", "password": password}).encode()
        req = urllib.request.Request(  # noqa: S310 - loopback
            f"{base}/api/auth/token", body, {"Content-Type": "application/json"}
        )
        try:  # a new connection each time: the kernel hands it to either worker
            with urllib.request.urlopen(req, timeout=30) as r:  # noqa: S310
                return int(r.status)
        except urllib.error.HTTPError as e:
            return e.code

    try:
        wait_healthy(server, port, log)
        answers = [token("wrong-password-1") for _ in range(12)]
        assert answers == [401] * 5 + [429] * 7
        assert token(PASSWORD) == 429
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_concurrent_failures_from_many_workers_are_all_counted(store: Store) -> None:
    """Eight writers (each its own engine, as workers are) record failures at once: no
    deadlock, no 'database is locked', no failure lost."""
    settings = Settings(login_failures_per_account=100, login_failures_per_address=100)
    stores = [Store(store.url) for _ in range(4)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        mine = stores[i % len(stores)]
        guard = LoginGuard(settings, mine)
        try:
            for _ in range(3):
                with mine.transaction() as session:
                    guard.failed(session, "zed", f"10.0.0.{i % 2}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for s in stores:
        s.dispose()
    assert not errors, errors
    assert _rows(store) == {"account:zed": 24, "address:10.0.0.0": 12, "address:10.0.0.1": 12}
