"""The admin pages: users and their roles per scope, deactivation, the audit trail, the
reference data, and the editable assessment framework."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi.testclient import TestClient

from ssaplan.app import create_app
from ssaplan.core.store import Store
from tests.conftest import web_login

FORM = {"content-type": "application/x-www-form-urlencoded"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_only_admins_see_and_reach_the_admin_pages(sqlite_demo: Store) -> None:
    app = create_app(sqlite_demo)
    planner = TestClient(app)
    web_login(planner, "planner", "planner-demo-pass")
    assert 'href="/admin"' not in planner.get("/").text
    for url in ("/admin", "/admin/users", "/admin/audit", "/admin/reference"):
        assert planner.get(url).status_code == 403, url
    admin = TestClient(app)
    web_login(admin, "admin", "admin-demo-pass")
    assert 'href="/admin"' in admin.get("/").text
    assert "Users and roles" in admin.get("/admin").text


def test_add_a_user_set_roles_per_scope_and_deactivate(sqlite_demo: Store) -> None:
    app = create_app(sqlite_demo)
    admin = TestClient(app)
    web_login(admin, "admin", "admin-demo-pass")
    page = admin.get("/admin/users").text
    token = _csrf(page)
    bad = admin.post(
        "/admin/users",
        data={"csrf": token, "username": "X", "password": "short", "agency": "State"},
    )
    assert bad.status_code == 422
    assert 'data-field="username"' in bad.text and 'data-field="password"' in bad.text
    r = admin.post(
        "/admin/users",
        data={
            "csrf": token,
            "username": "inl-planner",
            "full_name": "INL Planner",
            "password": "Bureau of narcotics 2026",
            "agency": "State/INL",
            "role": "planner",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303
    user = admin.get("/admin/users/inl-planner").text
    assert "planner" in user and 'value="State/INL" selected' in user
    # A planner for INL and a viewer for Kenya.
    fields = [
        ("csrf", token),
        ("version", "1"),
        ("role-0-role", "planner"),
        ("role-0-scope_kind", "agency"),
        ("role-0-scope_agency", "State/INL"),
        ("role-1-role", "analyst"),
        ("role-1-scope_kind", "country"),
        ("role-1-scope_country", "KEN"),
    ]
    r = admin.post(
        "/admin/users/inl-planner/roles",
        content=urlencode(fields),
        headers=FORM,
        follow_redirects=False,
    )
    assert r.status_code == 303
    listing = admin.get("/admin/users").text
    row = listing.split('data-user="inl-planner"', 1)[1].split("</tr>", 1)[0]
    assert "agency State/INL" in row and "country KEN" in row
    stale = admin.post("/admin/users/inl-planner/roles", content=urlencode(fields), headers=FORM)
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    # The new user can log in until deactivated; then every login stops working.
    other = TestClient(app)
    web_login(other, "inl-planner", "Bureau of narcotics 2026")
    assert other.get("/", follow_redirects=False).status_code == 200
    r = admin.post(
        "/admin/users/inl-planner/active",
        data={"csrf": token, "active": "0", "version": "2"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert other.get("/", follow_redirects=False).status_code == 303  # back to /login
    assert "deactivated" in admin.get("/admin/users/inl-planner").text
    me = admin.post("/admin/users/admin/active", data={"csrf": token, "active": "0"})
    assert me.status_code == 422 and "another admin must deactivate" in me.text


def test_audit_trail_search_and_verify(sqlite_demo: Store) -> None:
    admin = TestClient(create_app(sqlite_demo))
    web_login(admin, "admin", "admin-demo-pass")
    page = admin.get("/admin/audit?entity_type=user").text
    rows = re.findall(r"<tr><td class=\"num\">\d+</td>.*?</tr>", page, re.S)
    assert rows and all(">user <" in r or "user <a" in r for r in rows)
    verified = admin.get("/admin/audit?verify=1").text
    assert 'id="verification"' in verified and "Intact:" in verified
    older = re.search(r'before_id=(\d+)" rel="next"', admin.get("/admin/audit").text)
    assert older is not None
    assert admin.get(f"/admin/audit?before_id={older.group(1)}").status_code == 200


def test_reference_data_pages(sqlite_demo: Store) -> None:
    admin = TestClient(create_app(sqlite_demo))
    web_login(admin, "admin", "admin-demo-pass")
    index = admin.get("/admin/reference").text
    for name in ("institution-types", "dac-codes", "accounts", "countries"):
        assert f'href="/admin/reference/{name}"' in index
    accounts = admin.get("/admin/reference/accounts").text
    assert "Foreign Military Financing" in accounts
    guinea = admin.get("/admin/reference/countries?q=guinea-bissau").text
    assert "Guinea-Bissau" in guinea and "Equatorial Guinea" not in guinea
    assert admin.get("/admin/reference/planets").status_code == 404


def test_the_assessment_framework_is_editable_by_admins(sqlite_demo: Store) -> None:
    app = create_app(sqlite_demo)
    analyst = TestClient(app)
    web_login(analyst, "analyst", "analyst-demo-pass")
    assert 'id="framework-form"' not in analyst.get("/assessment/framework").text
    admin = TestClient(app)
    web_login(admin, "admin", "admin-demo-pass")
    page = admin.get("/assessment/framework").text
    form = page.split('id="framework-form"', 1)[1].split("</form>", 1)[0]
    fields: list[tuple[str, str]] = []
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and 'type="checkbox"' not in tag:
            fields.append((name.group(1), value.group(1) if value else ""))
    for name, inner in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.findall(r'<option value="([^"]*)"[^>]*selected', inner)
        fields.append((name, chosen[0] if chosen else "1"))
    # Heavier weight on the first measure; a bad weight first, to see the message.
    bad = [(k, "-3" if k == "row-0-measure_weight" else v) for k, v in fields]
    r = admin.post("/assessment/framework", content=urlencode(bad), headers=FORM)
    assert r.status_code == 422 and 'id="framework-error"' in r.text
    good = [(k, "2" if k == "row-0-measure_weight" else v) for k, v in fields]
    good.append(("description", "more weight on government effectiveness"))
    r = admin.post(
        "/assessment/framework", content=urlencode(good), headers=FORM, follow_redirects=False
    )
    assert r.status_code == 303, r.text[-1500:]
    saved = admin.get(r.headers["location"]).text
    assert 'id="framework-saved"' in saved and "more weight on government effectiveness" in saved
