"""The coordination pages in a real headless Chromium: run, review and mark a pair, then
the donor heat map, a partner's picture, the gap report and the regional map."""

from __future__ import annotations

from typing import Any

import pytest

from ssaplan.core.store import Store
from tests.conftest import PASSWORD, make_user
from tests.coordination.conftest import World

pytestmark = pytest.mark.browser


def test_review_a_pair_then_read_the_donor_picture_and_the_map(
    sqlite_world: tuple[Store, World], live_server: Any, browser_page: Any
) -> None:
    store, world = sqlite_world
    make_user(store, "planner", "planner", "State")
    page = browser_page(live_server(store), "planner", PASSWORD)
    page.click("header nav >> text=Coordination")
    page.wait_for_url("**/coordination")
    assert page.locator("#no-run").is_visible()
    page.click("#run-form button[type=submit]")
    page.wait_for_selector("#run-info")
    pair = page.locator(f'article.pair[data-a="{world.som_a}"][data-b="{world.som_b}"]')
    assert pair.is_visible()
    assert "same partner: Somalia" in pair.locator("ul.reasons").inner_text()
    assert pair.locator(".badge.b-likely").is_visible()

    pair.locator("select[name=mark]").select_option("complementary")
    pair.locator("input[name=note]").fill("DoD trains boarding teams, INL the law")
    pair.locator("button[type=submit]").click()
    page.wait_for_load_state()
    marked = page.locator(f'article.pair[data-a="{world.som_a}"][data-b="{world.som_b}"]')
    assert marked.locator(".badge.m-complementary").is_visible()
    assert "DoD trains boarding teams" in marked.inner_text()

    page.click("nav.sub >> text=Donor matrix")
    page.wait_for_url("**/coordination/donors*")
    heat = page.locator("#donor-heatmap svg.heatmap")
    assert heat.is_visible() and heat.locator("g.cell:not(.empty)").count() >= 4
    box = heat.bounding_box()
    assert box is not None and box["width"] > 300
    page.click("#fragmentation >> text=Somalia")
    page.wait_for_url("**/coordination/partners/SOM*")
    assert page.locator("h1").inner_text().startswith("Somalia")
    assert page.locator("#partner-share svg").is_visible()
    leads = page.locator("#leads tbody tr")
    assert leads.count() == 2 and "United Kingdom (illustrative)" in leads.first.inner_text()

    page.click("nav.sub >> text=Gaps")
    page.wait_for_url("**/coordination/gaps*")
    assert int(page.locator("#kpi-unfunded").inner_text()) >= 3

    page.click("nav.sub >> text=Regions")
    page.wait_for_url("**/coordination/regions*")
    world_map = page.locator("#region-map svg.map")
    assert world_map.is_visible() and world_map.locator("path.country").count() >= 170
    kenya = world_map.locator('path[data-iso3="KEN"]')
    assert "Kenya:" in (kenya.locator("title").text_content() or "")
    assert page.locator("#cross-border tbody tr").count() == 1
