"""The cycle's pages in a real headless Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from ssaplan.core.store import Store
from tests.conftest import PASSWORD, Templates
from tests.cycle import world

pytestmark = pytest.mark.browser


def test_inbox_to_concurrence_to_pipeline(
    templates: Templates, tmp_path: Path, live_server: Any, browser_page: Any
) -> None:
    path = world.build(templates, tmp_path)
    shutil.copy(path, tmp_path / "live.db")
    base = live_server(Store(f"sqlite:///{tmp_path / 'live.db'}"))
    page = browser_page(base, "com-ken", PASSWORD)
    page.click("header nav >> text=Inbox")
    page.wait_for_url("**/inbox")
    assert page.locator("table.inbox tbody tr").count() == 1
    page.click("table.inbox a")
    page.wait_for_url("**/proposals/FY2027-DoD-0002")
    assert "Chief of Mission, Kenya" in page.locator("table.routing").inner_text()
    page.fill("form.comment-form textarea[name=body]", "Who maintains the boats?")
    page.click("form.comment-form button")
    page.wait_for_url("**/proposals/FY2027-DoD-0002")
    assert "Who maintains the boats?" in page.locator("ol.thread").inner_text()
    page.select_option("form.concur select[name=decision]", "concur")
    page.click("form.concur button")
    page.wait_for_url("**/proposals/FY2027-DoD-0002")
    assert page.locator("strong.waiting-on").inner_text() == "the coordinator"
    page.click("header nav >> text=Cycle")
    page.wait_for_url("**/cycle")
    assert "now:" in page.locator("p.phase").inner_text()
    page.goto("/cycle/pipeline")
    charts = page.locator("svg.chart")
    assert charts.count() >= 5 and charts.first.is_visible()
    assert page.locator("table.waiting tbody tr").count() >= 1
