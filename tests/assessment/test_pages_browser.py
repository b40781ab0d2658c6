"""The assessment pages in a real headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from ssaplan.core.store import Store

pytestmark = pytest.mark.browser


def test_ranked_table_quadrant_map_and_country_page(
    assessed: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(assessed)
    page = browser_page(base, "viewer", "viewer-demo-pass")
    page.click("header nav >> text=Assessment")
    page.wait_for_url("**/assessment")
    rows = page.locator("#ranked tbody tr")
    assert rows.count() >= 190
    assert rows.first.locator("td").first.inner_text().strip() == "1"
    assert page.locator("#ranked svg.interval").count() >= 190

    page.click("nav.sub >> text=Priority × propensity")
    page.wait_for_url("**/assessment/quadrant*")
    chart = page.locator("#quadrant-chart svg.scatter")
    # only partners with a priority tier are placed (none for those the U.S. does not assist)
    assert chart.is_visible() and chart.locator("circle").count() >= 100
    assert page.locator("#high-cost tbody tr").count() >= 1

    page.click("nav.sub >> text=World map")
    page.wait_for_url("**/assessment/map*")
    world = page.locator("#world-map svg.map")
    assert world.is_visible()
    assert world.locator("path.country").count() >= 170
    kenya = world.locator('path[data-iso3="KEN"]')
    assert "Kenya: propensity" in (kenya.locator("title").text_content() or "")
    box = world.bounding_box()
    assert box is not None and box["width"] > 600

    kenya.click()
    page.wait_for_url("**/assessment/countries/KEN*")
    assert page.locator("h1").inner_text().startswith("Kenya")
    assert page.locator("#breakdown tr.construct").count() == 10
    assert "demo (illustrative)" in page.locator("#breakdown").inner_text()
    propensity = float(page.locator("#kpi-propensity").inner_text())
    assert 0 <= propensity <= 100
