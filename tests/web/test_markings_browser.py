"""Markings as a reader sees them, in a real headless Chromium (issue 10, item 8;
docs/markings.md): each marked record's page opens with a full-width banner naming its
marking and the partners it is releasable to, green for UNCLASSIFIED and purple above;
lists badge the marked records, the names in the tooltip; a reader with ceiling U finds
no marked record in a list (only a count of what was withheld) and its page is the 404
page of an id that never existed.

Full-page screenshots go to ``$SSAPLAN_SCREENSHOTS`` when set (to look at), else to the
test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ssaplan.core.store import Store
from ssaplan.evaluation.schemas import EvaluationCreate
from ssaplan.evaluation.service import EvaluationService
from ssaplan.monitoring.surge import SurgeService
from tests.conftest import OPERATOR, PASSWORD, Templates, make_user
from tests.cycle.conftest import COORDINATOR, DOD_PLANNER, create, step
from tests.evaluation.test_registry import completed
from tests.monitoring.test_markings import _request, _surge_world
from tests.strategy.test_markings import clear
from tests.strategy.world import ADMIN, add_program, add_strategy

pytestmark = pytest.mark.browser

CUI = "CONTROLLED UNCLASSIFIED INFORMATION"
SBU = "SENSITIVE BUT UNCLASSIFIED"
UNCLASSIFIED = "UNCLASSIFIED"
NATO_GBR = "United Kingdom, North Atlantic Treaty Organization"  # as stored: GBR, NATO


@dataclass(frozen=True)
class Record:
    """One record of the world: its list page, its own page, its title and marking."""

    kind: str
    title: str
    list_url: str | None  # monitoring's page of a strategy is in no list of its own
    url: str | None  # surge requests have no page of their own
    banner: str  # the banner's text (the marking's name, the partners' names)
    marked: bool  # above U: hidden from the ceiling-U reader


@dataclass(frozen=True)
class World:
    store: Store
    records: list[Record]

    def of(self, kind: str, marked: bool) -> Record:
        return next(r for r in self.records if r.kind == kind and r.marked == marked)


@pytest.fixture
def world(templates: Templates, tmp_path: Path) -> Iterator[World]:
    """SQLite: a U and a CUI REL TO GBR program, a U and a CUI strategy, a U and an SBU
    REL TO NATO, GBR evaluation, a U and a CUI REL TO GBR surge request, a U and an SBU
    proposal; an unrestricted admin (``planner-all``) and an admin with marking ceiling U
    (``reader-u``)."""
    path = tmp_path / "markings.db"
    shutil.copy(templates.sqlite("empty"), path)
    store = Store(f"sqlite:///{path}")
    objective, plan = _surge_world(store)  # P-GHA, the U strategy it serves, a reserve
    with store.transaction() as session:
        add_program(
            session,
            id="P-CUI",
            title="Program [CUI] coast guard",
            marking="CUI",
            releasable_to=["GBR"],
        )
        add_strategy(session, ["P-GHA"], id="GHA-CUI", title="Strategy [CUI] border", marking="CUI")
        evaluations = EvaluationService(session, OPERATOR)
        ev_u = evaluations.create(EvaluationCreate(**completed(title="Evaluation [U] police")))
        ev_sbu = evaluations.create(
            EvaluationCreate(
                **completed(
                    title="Evaluation [SBU] police",
                    marking="SBU",
                    releasable_to=["NATO", "GBR"],
                )
            )
        )
        surges = SurgeService(session, ADMIN)
        surges.request(_request(objective, plan, title="Surge [U] border"))
        surges.request(
            _request(
                objective, plan, title="Surge [CUI] border", marking="CUI", releasable_to=["GBR"]
            )
        )
    step(store, COORDINATOR, 0, "open_calendar", 2027)
    pr_u = create(store, DOD_PLANNER, 1, title="Proposal [U] navy")
    pr_sbu = create(store, DOD_PLANNER, 2, title="Proposal [SBU] navy", marking="SBU")
    make_user(store, "planner-all", "admin")
    make_user(store, "reader-u", "admin")
    clear(store, "reader-u", "U", None)
    records = [
        Record(
            "program",
            "Maritime interdiction training for the coast guard",
            "/",
            "/programs/P-GHA",
            UNCLASSIFIED,
            False,
        ),
        Record(
            "program",
            "Program [CUI] coast guard",
            "/",
            "/programs/P-CUI",
            f"{CUI} · REL TO United Kingdom",
            True,
        ),
        Record(
            "strategy",
            "Ghana border security strategy",
            "/strategies",
            "/strategies/GHA-2025-2029",
            UNCLASSIFIED,
            False,
        ),
        Record(
            "strategy", "Strategy [CUI] border", "/strategies", "/strategies/GHA-CUI", CUI, True
        ),
        Record(
            "performance",
            "Ghana border security strategy",
            None,
            "/monitoring/strategies/GHA-2025-2029",
            UNCLASSIFIED,
            False,
        ),
        Record(
            "performance",
            "Strategy [CUI] border",
            None,
            "/monitoring/strategies/GHA-CUI",
            CUI,
            True,
        ),
        Record(
            "evaluation",
            "Evaluation [U] police",
            "/evaluations",
            f"/evaluations/{ev_u.id}",
            UNCLASSIFIED,
            False,
        ),
        Record(
            "evaluation",
            "Evaluation [SBU] police",
            "/evaluations",
            f"/evaluations/{ev_sbu.id}",
            f"{SBU} · REL TO {NATO_GBR}",
            True,
        ),
        Record("surge", "Surge [U] border", "/surges", None, UNCLASSIFIED, False),
        Record(
            "surge", "Surge [CUI] border", "/surges", None, f"{CUI} · REL TO United Kingdom", True
        ),
        Record(
            "proposal", "Proposal [U] navy", "/cycle", f"/proposals/{pr_u}", UNCLASSIFIED, False
        ),
        Record("proposal", "Proposal [SBU] navy", "/cycle", f"/proposals/{pr_sbu}", SBU, True),
    ]
    yield World(store, records)
    store.dispose()


def shot(page: Any, tmp_path: Path, name: str) -> None:
    folder = Path(os.environ.get("SSAPLAN_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"markings-{name}.png"), full_page=True)


def rgb(css: str) -> tuple[int, int, int]:
    r, g, b = (int(v) for v in re.findall(r"\d+", css)[:3])
    return r, g, b


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """The WCAG 2 contrast ratio of two sRGB colours."""

    def luminance(c: tuple[int, int, int]) -> float:
        lin = [(v / 255) / 12.92 if v <= 10 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def look(page: Any, selector: str) -> dict[str, Any]:
    """What a reader sees of an element: its colours, whether its text fits, and whether
    it is what lies on top at its own centre (not covered by anything)."""
    return page.eval_on_selector(
        selector,
        """e => {
            e.scrollIntoView({block: "center"});  // elementFromPoint sees the viewport only
            const s = getComputedStyle(e), r = e.getBoundingClientRect();
            const top = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
            return {bg: s.backgroundColor, fg: s.color, fontSize: parseFloat(s.fontSize),
                    fits: e.scrollWidth <= e.clientWidth + 1
                          && e.scrollHeight <= e.clientHeight + 1,
                    onTop: top !== null && (top === e || e.contains(top))};
        }""",
    )


LISTS = ["/", "/strategies", "/evaluations", "/surges", "/cycle"]

# True when the badge lies inside its table cell and overlaps none of the cell's other
# elements (the link, the id, the code beside it).
BESIDE = """e => {
    const td = e.closest("td"), r = e.getBoundingClientRect(), c = td.getBoundingClientRect();
    const inside = r.left >= c.left && r.right <= c.right && r.top >= c.top && r.bottom <= c.bottom;
    const clear = [...td.querySelectorAll("*")].filter(o => o !== e && !e.contains(o)).every(o => {
        const b = o.getBoundingClientRect();
        return b.right <= r.left + 0.5 || b.left >= r.right - 0.5
            || b.bottom <= r.top + 0.5 || b.top >= r.bottom - 0.5;
    });
    return inside && clear;
}"""


def check_banner(page: Any, record: Record) -> tuple[int, int, int]:
    """The banner is the page's first thing, full width, readable; its background."""
    banner = page.locator("#marking")
    assert banner.is_visible(), record.url
    assert banner.inner_text().strip() == record.banner, record.url
    box = banner.bounding_box()
    width = page.viewport_size["width"]
    assert box["y"] <= 1 and box["x"] <= 1, (record.url, box)
    assert abs(box["width"] - width) <= 1, (record.url, box, width)
    header = page.locator("header.top").bounding_box()
    assert header["y"] >= box["y"] + box["height"] - 1, (record.url, box, header)
    seen = look(page, "#marking")
    assert seen["fits"] and seen["onTop"], (record.url, seen)
    assert seen["fontSize"] >= 12, (record.url, seen)
    bg, fg = rgb(seen["bg"]), rgb(seen["fg"])
    assert fg == (255, 255, 255), (record.url, seen)
    # WCAG AA for normal-size text (the banner's 12-13px bold is not "large").
    assert contrast(bg, fg) >= 4.5, (record.url, seen, contrast(bg, fg))
    for code in ("NATO", "GBR"):  # the partners' codes are the names' tooltips
        if code in record.banner or (code == "GBR" and "United Kingdom" in record.banner):
            assert banner.locator(f'span[title="{code}"]').count() == 1, (record.url, code)
    return bg


def test_each_record_page_opens_with_a_full_width_banner_naming_its_marking(
    world: World, live_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page(live_server(world.store), "planner-all", PASSWORD)
    colours: dict[bool, set[tuple[int, int, int]]] = {True: set(), False: set()}
    for record in world.records:
        if record.url is None:
            continue
        response = page.goto(record.url)
        assert response is not None and response.status == 200, record.url
        shot(page, tmp_path, f"{record.kind}-{'marked' if record.marked else 'u'}")
        colours[record.marked].add(check_banner(page, record))
    # One green for UNCLASSIFIED, one purple for SBU and CUI alike.
    assert len(colours[False]) == 1 and len(colours[True]) == 1, colours
    (green,), (purple,) = colours[False], colours[True]
    assert green[1] > green[0] and green[1] > green[2], green
    assert purple[2] > purple[1] and purple[0] > purple[1], purple
    # On a phone the longest banner wraps inside the page instead of running off it.
    page.set_viewport_size({"width": 360, "height": 740})
    record = world.of("evaluation", marked=True)
    page.goto(record.url or "")
    shot(page, tmp_path, "evaluation-marked-phone")
    check_banner(page, record)
    assert page.locator("#marking").bounding_box()["height"] > 20  # two lines


def test_lists_badge_only_the_marked_records_with_the_names_as_tooltip(
    world: World, live_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page(live_server(world.store), "planner-all", PASSWORD)
    for list_url in LISTS:
        page.goto(list_url)
        shot(
            page,
            tmp_path,
            "list" + (list_url.replace("/", "-") if list_url != "/" else "-overview"),
        )
        assert page.locator(".note#withheld, #surges-withheld").count() == 0, list_url
        for record in (r for r in world.records if r.list_url == list_url):
            row = page.locator("tbody tr", has_text=record.title)
            assert row.count() == 1, (list_url, record.title)
            badge = row.locator("span.mark")
            if not record.marked:
                assert badge.count() == 0, (list_url, record.title)
                continue
            assert badge.count() == 1 and badge.is_visible(), (list_url, record.title)
            assert badge.get_attribute("title") == record.banner, (list_url, record.title)
            code = badge.inner_text()
            assert code.split()[0] in ("SBU", "CUI"), code
            if "REL TO" in record.banner:
                assert "REL TO" in code, code
            seen = look(page, f"tr:has-text('{record.title}') span.mark")
            assert seen["onTop"], (list_url, seen)
            assert contrast(rgb(seen["bg"]), rgb(seen["fg"])) >= 4.5, (list_url, seen)
            # Next to the record: in the cell of its title or its link, on nothing else there.
            cell = badge.locator("xpath=ancestor::td[1]")
            link = cell.locator(f'a[href="{record.url}"]').count() if record.url else 0
            assert link or record.title in cell.inner_text(), (list_url, record.title)
            assert page.eval_on_selector(f"tr:has-text('{record.title}') span.mark", BESIDE), (
                list_url,
                record.title,
            )


def test_a_reader_with_ceiling_u_finds_no_marked_record_only_how_many_were_withheld(
    world: World, live_server: Any, browser_page: Any, tmp_path: Path
) -> None:
    page = browser_page(live_server(world.store), "reader-u", PASSWORD)
    withheld = {
        "/": "1 program matching the filter is withheld from you",
        "/strategies": "1 strategy matching the filter is withheld from you",
        "/evaluations": "1 evaluation(s) matching the filter are withheld from you",
        "/surges": "1 request(s) withheld from you",
        "/cycle": "1 proposal(s) withheld from you",
    }
    for list_url in LISTS:
        page.goto(list_url)
        name = list_url.replace("/", "-") if list_url != "/" else "-overview"
        shot(page, tmp_path, "ceiling-u-list" + name)
        body = page.locator("main").inner_text()
        assert withheld[list_url] in body, (list_url, body)
        assert page.locator("span.mark").count() == 0, list_url
        for record in (r for r in world.records if r.list_url == list_url):
            rows = page.locator("tbody tr", has_text=record.title).count()
            assert rows == (0 if record.marked else 1), (list_url, record.title)
    for record in world.records:
        if record.url is None:
            continue
        response = page.goto(record.url)
        assert response is not None
        if not record.marked:
            assert response.status == 200 and page.locator("#marking").is_visible()
            continue
        assert response.status == 404, record.url
        assert page.locator("#marking").count() == 0, record.url
        shown = page.locator("main").inner_text()
        assert record.title not in shown and record.title not in page.title(), record.url
        shot(page, tmp_path, f"ceiling-u-404-{record.kind}")
        # The same page as for an id that never existed (with that id in its words).
        hidden_id = record.url.rsplit("/", 1)[1]
        missing_id = re.sub(r"\d(?=\D*$)", "9", hidden_id) if hidden_id[-1].isdigit() else "NOPE"
        missing = page.goto(record.url.replace(hidden_id, missing_id))
        assert missing is not None and missing.status == 404, missing_id
        assert page.locator("main").inner_text() == shown.replace(hidden_id, missing_id)
