"""The workbench in a real headless Chromium: log in and see the overview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from ssaplan.core.store import Store
from ssaplan.portfolio.models import BudgetLine

pytestmark = pytest.mark.browser


def test_login_then_overview_shows_portfolio_totals(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "viewer", "viewer-demo-pass")
    assert page.url.rstrip("/") == base
    assert page.locator("h1").inner_text() == "Portfolio overview"
    with sqlite_demo.session() as session:
        planned = session.execute(select(func.sum(BudgetLine.planned))).scalar_one()
    shown = page.locator("#kpi-planned").get_attribute("data-dollars")
    assert int(shown or 0) == planned
    assert page.locator("svg.chart").count() >= 4
    assert page.locator("table.programs tbody tr").count() == 50


def test_wrong_password_stays_on_login(sqlite_demo: Store, live_server: Any, chromium: Any) -> None:
    base = live_server(sqlite_demo)
    context = chromium.new_context(base_url=base)
    try:
        page = context.new_page()
        page.goto("/")
        assert "/login" in page.url
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", "not-the-password")
        page.click("button[type=submit]")
        assert page.locator("[role=alert]").inner_text() == "Wrong username or password."
    finally:
        context.close()


def test_country_and_program_pages_from_the_overview(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "viewer", "viewer-demo-pass")
    first = page.locator("table.programs tbody tr").first
    program_id = first.locator("td a").first.inner_text()
    first.locator("td a").first.click()
    page.wait_for_url(f"**/programs/{program_id}")
    assert program_id in page.locator("code").first.inner_text()
    assert page.locator("table.budget tbody tr").count() >= 1
    assert "create" in page.locator("table.history").inner_text()
    page.locator(".crumbs a").nth(1).click()
    page.wait_for_url("**/countries/*")
    assert page.locator("dl.facts").is_visible()


def test_a_planners_day(sqlite_demo: Store, live_server: Any, browser_page: Any) -> None:
    """Log in, filter, create a program, edit it, move it along the pipeline with a
    reason, meet a stale edit, export the filtered list."""
    base = live_server(sqlite_demo)
    page = browser_page(base, "planner", "planner-demo-pass")
    # Filter: Kenya, FY2028, with names in the selects.
    page.select_option("#filters select[name=country]", "KEN")
    page.select_option("#filters select[name=fiscal_year]", "2028")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**/?*country=KEN*")
    assert "Planned FY2028" in page.locator("table.programs thead").inner_text()
    before = int(page.locator("#kpi-programs").inner_text().replace(",", ""))

    # Create a program.
    page.click("text=New program")
    page.wait_for_url("**/programs/new")
    page.fill("input[name=title]", "Maritime police training, Kenya")
    page.select_option("select[name=account]", "INCLE")
    page.select_option("select[name=countries]", ["KEN"])
    page.select_option("select[name=institution_type]", "police")
    page.fill("input[name=start]", "2027-10-01")
    page.fill("input[name=end]", "2029-09-30")
    page.fill("input[name=budget-0-fiscal_year]", "2028")
    page.fill("input[name=budget-0-planned]", "2.5M")
    page.fill("input[name=delivery-0-name]", "Training package")
    page.click("#save")
    page.wait_for_url("**/programs/*?saved=created")
    assert page.locator("#saved").inner_text() == "Program created."
    program_url = page.url.split("?")[0]
    assert "$2.5M" in page.locator("table.budget").inner_text()

    # Edit it.
    page.click("#edit-link")
    page.fill("input[name=title]", "Maritime police training, Kenya (revised)")
    page.click("#save")
    page.wait_for_url("**saved=v2")
    assert page.locator("h1").inner_text() == "Maritime police training, Kenya (revised)"

    # Along the pipeline: nothing pre-selected; stopping needs a reason.
    assert page.locator("#status-form select[name=status]").input_value() == ""
    page.select_option("#status-form select[name=status]", "approved")
    page.click("#status-form button")
    page.wait_for_url("**saved=status")
    assert page.locator("#status").inner_text() == "approved"
    page.select_option("#status-form select[name=status]", "suspended")
    page.click("#status-form button")
    assert "say why" in page.locator(".field-error[data-field=reason]").inner_text()
    page.select_option("#status-form select[name=status]", "suspended")
    page.fill("#status-form input[name=reason]", "Partner unit under review")
    page.click("#status-form button")
    page.wait_for_url("**saved=status")
    assert page.locator("#status").inner_text() == "suspended"
    assert "Partner unit under review" in page.locator("table.history").inner_text()

    # A stale edit: two forms opened on the same version; the second save is refused.
    other = page.context.new_page()
    other.goto(program_url + "/edit")
    page.goto(program_url + "/edit")
    page.fill("textarea[name=description]", "First writer wins.")
    page.click("#save")
    page.wait_for_url("**saved=v*")
    other.fill("textarea[name=description]", "Second writer loses.")
    other.click("#save")
    assert "someone else changed this program" in other.locator("#form-message").inner_text()
    assert "You edited version 4" in other.locator("#stale").inner_text()
    other.click("#reload")
    other.wait_for_url("**/edit")
    assert other.locator("textarea[name=description]").input_value() == "First writer wins."
    other.close()

    # Export exactly the filtered list.
    page.goto(f"{base}/?country=KEN&fiscal_year=2028")
    assert int(page.locator("#kpi-programs").inner_text().replace(",", "")) == before + 1
    with page.expect_download() as download:
        page.click("#exports a:text('CSV')")
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = text.strip().splitlines()[1:]
    assert any("Maritime police training, Kenya (revised)" in r for r in rows)
    assert len({r.split(",", 1)[0] for r in rows}) == before + 1


def test_the_admin_pages(sqlite_demo: Store, live_server: Any, browser_page: Any) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "admin", "admin-demo-pass")
    page.click("header nav >> text=Admin")
    page.click("main >> text=Users and roles")
    page.fill("#add-user input[name=username]", "kenya-viewer")
    page.fill("#add-user input[name=full_name]", "Embassy Nairobi")
    page.fill("#add-user input[name=password]", "Embassy Nairobi reads 2026")
    page.select_option("#add-user select[name=agency]", "State")
    page.click("#add-user button")
    page.wait_for_url("**/admin/users/kenya-viewer?saved=1")
    page.select_option("select[name=role-0-role]", "planner")
    page.select_option("select[name=role-0-scope_kind]", "country")
    page.select_option("select[name=role-0-scope_country]", "KEN")
    page.click("#roles-form button")
    page.wait_for_url("**saved=roles")
    assert page.locator("select[name=role-0-scope_country]").input_value() == "KEN"
    page.click("#active-form button")
    page.wait_for_url("**saved=active")
    assert "deactivated" in page.locator("#user-status").inner_text()
    page.click("nav.sub >> text=Audit trail")
    page.click("#verify-form button")
    assert "Intact" in page.locator("#verification").inner_text()
    page.fill("#audit-search input[name=entity_id]", "kenya-viewer")
    page.click("#audit-search button")
    assert page.locator("#audit tbody tr").count() >= 3  # created, roles, deactivated
    page.click("nav.sub >> text=Reference data")
    page.click("#kinds >> text=accounts")
    assert "Foreign Military Financing" in page.locator("#reference-table").inner_text()
    page.click("nav.sub >> text=Assessment framework")
    assert page.locator("#framework-form").is_visible()


def test_narrow_screens_keep_header_and_tables_usable(
    sqlite_demo: Store, live_server: Any, chromium: Any
) -> None:
    base = live_server(sqlite_demo)
    context = chromium.new_context(base_url=base, viewport={"width": 400, "height": 800})
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", "viewer")
        page.fill("input[name=password]", "viewer-demo-pass")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        # Nothing but the tables' own scroll boxes is wider than the screen.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 400, width
        assert page.locator("header.top nav a").first.is_visible()
        box = page.locator("svg.chart").first.bounding_box()
        assert box is not None and box["width"] <= 400
    finally:
        context.close()


def test_no_workbench_page_is_wider_than_a_laptop_screen(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    """Every page of the navigation fits 1280 px: a table wider than the screen hides its
    last columns (the assessment's Quadrant, monitoring's delivery medians were cut off)."""
    base = live_server(sqlite_demo)
    page = browser_page(base, "admin", "admin-demo-pass")
    page.set_viewport_size({"width": 1280, "height": 900})
    links = page.eval_on_selector_all("nav a[href^='/']", "els => els.map(e => e.pathname)")
    assert len(links) >= 10
    wide = {}
    for path in dict.fromkeys(links):
        page.goto(base + path)
        scroll, client = page.evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        if scroll > client:
            wide[path] = scroll
    assert wide == {}
