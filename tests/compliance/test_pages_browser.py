"""The compliance pages in a real headless Chromium on the demo world."""

from __future__ import annotations

from typing import Any

import pytest

from ssaplan.core.store import Store

pytestmark = pytest.mark.browser


def test_restrictions_map_timeline_and_a_country(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "viewer", "viewer-demo-pass")
    page.click("header nav >> text=Compliance")
    page.wait_for_url("**/compliance")
    assert page.locator("h1").inner_text().startswith("Statutory restrictions")
    assert page.locator("#counsel").is_visible()
    # Every drawn country is on the map; restricted ones carry their restrictions.
    assert page.locator("#restriction-map path.country").count() > 150
    iran = page.locator('#restriction-map path[data-iso3="IRN"] title')
    assert "State Sponsor of Terrorism" in (iran.text_content() or "")
    assert page.locator("#restriction-timeline rect.span").count() >= 8
    assert page.locator("#restriction-timeline rect.waiver").count() >= 2
    assert int(page.locator("#kpi-ineligible a").inner_text()) > 0
    page.locator("table.restrictions a", has_text="Iran").first.click()
    page.wait_for_url("**/compliance/countries/IRN")
    assert page.locator("h1").inner_text().startswith("Iran")
    assert page.locator("#country-timeline svg").is_visible()


def test_vetting_queue_eligibility_panel_units_and_rules(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "planner", "planner-demo-pass")
    page.goto("/compliance/vetting")
    assert page.locator("table.pending tbody tr").count() == 1
    assert page.locator("table.expiring tbody tr").count() == 1
    assert page.locator("table.attention tbody tr").count() == 4
    page.locator("table.attention tbody tr a").first.click()
    page.wait_for_url("**/compliance/programs/**")
    assert page.locator("#eligibility .badge.b-ineligible").count() >= 1
    assert "U.S.C." in page.locator("#eligibility").inner_text()  # the Leahy law cited
    page.click("nav.sub >> text=Assisted units")
    page.wait_for_url("**/compliance/units")
    assert page.locator("table.assisted tbody tr").count() == 8
    page.click("nav.sub >> text=Rules")
    page.wait_for_url("**/compliance/rules")
    assert page.locator("section.rule").count() == 4
    assert page.locator("details.edit").count() == 0  # planners read the rules, admins edit
    page.click("nav.sub >> text=Eligibility")
    page.wait_for_url("**/compliance/eligibility")
    assert page.locator("table.eligibility tbody tr").count() >= 5


def test_an_admin_records_a_decision_in_the_browser(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "admin", "admin-demo-pass")
    page.goto("/compliance/vetting")
    row = page.locator("table.pending tbody tr").first
    row.locator("select[name=status]").select_option("approved")
    row.locator("button[type=submit]").click()
    page.wait_for_url("**/compliance/vetting*")
    assert "No request is waiting." in page.locator("table.pending").inner_text()
