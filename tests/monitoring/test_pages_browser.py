"""Strategy, monitoring, review and surge pages in a real headless Chromium, on the demo world."""

from __future__ import annotations

from typing import Any

import pytest

from ssaplan.core.store import Store
from ssaplan.monitoring.reviews import ReviewService
from ssaplan.portfolio.service import PortfolioService
from tests.strategy.world import ADMIN

pytestmark = pytest.mark.browser


def _decidable_by_the_state_planner(store: Store) -> int:
    with store.session() as session:
        reviews = ReviewService(session, ADMIN).list_reviews(trigger="indicator_off_track").items
        portfolio = PortfolioService(session, ADMIN)
        for r in reviews:
            p = portfolio.get(r.program)
            if p.agency.startswith("State") and p.status != "suspended":
                return r.id
    raise AssertionError("the demo world has no off-track review of a State program")


def test_strategy_dashboard_review_and_surge_pages(
    sqlite_demo: Store, live_server: Any, browser_page: Any
) -> None:
    review_id = _decidable_by_the_state_planner(sqlite_demo)
    base = live_server(sqlite_demo)
    page = browser_page(base, "planner", "planner-demo-pass")

    page.click("header nav >> text=Strategies")
    page.wait_for_url("**/strategies")
    assert page.locator("#strategies tbody tr").count() >= 10
    page.locator("#strategies tbody tr a").first.click()
    page.wait_for_url("**/strategies/*")
    assert page.locator("#funding-chart svg.columns").is_visible()
    trends = page.locator("figure.trend svg.trend")
    assert trends.count() >= 4 and trends.first.is_visible()
    assert "ILLUSTRATIVE" in page.locator("#theory-of-change").inner_text()

    page.click("header nav >> text=Monitoring")
    page.wait_for_url("**/monitoring")
    assert int(page.locator("#kpi-on-track").inner_text()) > 0
    assert page.locator("#off-track-charts svg.trend").count() >= 1
    assert page.locator("#late-deliveries tbody tr").count() >= 3
    assert "On track from 90%" in page.locator("#performance-rule").inner_text()

    page.click("header nav >> text=Reviews")
    page.wait_for_url("**/reviews")
    triggers = set(
        page.locator("#review-queue tbody tr").evaluate_all(
            "rows => rows.map(r => r.dataset.trigger)"
        )
    )
    assert {"indicator_off_track", "delivery_late"} <= triggers
    page.select_option("select[name=trigger]", "crisis_event")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/reviews?*trigger=crisis_event*")
    assert page.locator('#review-queue tbody tr[data-trigger="crisis_event"]').count() >= 1

    page.goto(f"/reviews/{review_id}")
    form = page.locator("#decision-form")
    assert form.is_visible()
    form.locator('input[value="continue"]').check()
    form.locator('textarea[name="rationale"]').fill("The partner's new data shows recovery.")
    form.locator('button[type="submit"]').click()
    page.wait_for_url(f"**/reviews/{review_id}")
    assert "continue" in page.locator("#decision").inner_text()

    page.goto("/surges")
    assert page.locator("#surge-form").is_visible()
    assert page.locator("#reserves tbody tr").count() >= 4
    assert page.locator("#surge-requests tbody tr").count() >= 1
