"""The evaluation pages in a real headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from ssaplan.core.store import Store
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_registry_event_study_synthetic_control_and_evidence(
    registry: Store, live_server: Any, browser_page: Any
) -> None:
    base = live_server(registry)
    page = browser_page(base, "viewer", PASSWORD)
    page.click("header nav >> text=Evaluation")
    page.wait_for_url("**/evaluations")
    assert page.locator("#registry tbody tr").count() == 3

    page.click("text=Investigations training across districts")
    page.wait_for_url("**/evaluations/EV-00001")
    chart = page.locator("svg.event-study")
    assert chart.is_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300
    points = chart.locator("circle.point")
    assert points.count() >= 5
    assert "period" in (points.first.locator("title").text_content() or "")
    assert page.locator("#recommendations tbody tr").count() == 2

    page.goto("/evaluations/EV-00002")
    synth = page.locator("svg.synth")
    assert synth.is_visible() and synth.locator("polyline").count() == 2

    page.click("nav.sub >> text=Evidence base")
    page.wait_for_url("**/evaluations/evidence")
    assert page.locator("#evidence tbody tr").count() == 2
    assert page.locator("svg.forest path.pooled").count() == 2
    multipliers = [float(t) for t in page.locator("#evidence td.multiplier").all_inner_texts()]
    assert all(0 <= m <= 3 for m in multipliers)
