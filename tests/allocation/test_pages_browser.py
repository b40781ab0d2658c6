"""The allocation pages in a real headless Chromium: list, solve with progress, result
charts, funding map, the diff."""

from __future__ import annotations

from typing import Any

import pytest

from ssaplan.core.store import Store

pytestmark = pytest.mark.browser


def test_scenarios_result_map_and_diff(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(sqlite_demo)
    page = browser_page(base, "planner", "planner-demo-pass")
    page.click("header nav >> text=Allocation")
    page.wait_for_url("**/allocation")
    rows = page.locator("#scenarios tbody tr")
    assert rows.count() == 2
    page.click("text=Baseline FY2027-2029 (demo)")
    page.wait_for_url("**/allocation/scenarios/*")
    assert page.locator("#candidates tbody tr").count() > 100

    # solve again from the form: the progress page refreshes until the result
    page.fill("#solve input[name=time_limit]", "3")
    page.click("#solve button[type=submit]")
    page.wait_for_url("**/allocation/results/*", timeout=90_000)
    assert page.locator("#kpi-status").inner_text() in ("optimal", "feasible")
    assert page.locator("#by-region svg.bars").is_visible()
    assert page.locator("#by-account svg.bars rect.bar").count() >= 5
    assert page.locator("#by-year svg.columns").is_visible()
    assert page.locator("#funded tbody tr").count() > 100

    page.click("nav.sub >> text=Funding map")
    page.wait_for_url("**/map")
    world = page.locator("#funding-map svg.map")
    assert world.is_visible() and world.locator("path.country").count() >= 170
    kenya = world.locator('path[data-iso3="KEN"]')
    assert "Kenya" in (kenya.locator("title").text_content() or "")

    page.go_back()
    page.wait_for_url("**/allocation/results/*")
    page.select_option("#compare-form select", index=0)
    page.click("#compare-form button")
    page.wait_for_url("**/allocation/compare*")
    assert page.locator("#diff-head").is_visible()
