"""The workbench in a real headless Chromium: log in and see the overview."""

from __future__ import annotations

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
