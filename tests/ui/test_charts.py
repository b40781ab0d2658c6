"""Chart labels fit the room the chart leaves them: a long name is cut with an ellipsis
before it runs off the chart's left edge (the full name stays in the tooltip)."""

from __future__ import annotations

import re

from ssaplan.strategy.charts import trend
from ssaplan.ui.charts import bars, heatmap

LONG = "Bureau of Western Hemisphere Affairs"


def _label_texts(svg: str) -> list[str]:
    return re.findall(r'<text class="label[^"]*"[^>]*>(?:<title>[^<]*</title>)?([^<]+)', svg)


def test_bar_labels_fit_left_of_the_bars() -> None:
    svg = str(bars([("WHA", 5.0), ("AF", 3.0)], title="t", labels=[LONG, "Africa"]))
    shown = _label_texts(svg)
    assert shown[1] == "Africa"
    # 190 units of label room at 11 px: at most 27 characters of a sans-serif.
    assert shown[0].endswith("…") and len(shown[0]) <= 27
    assert f"<title>{LONG} (WHA): $5</title>" in svg


def test_heatmap_row_labels_fit() -> None:
    svg = str(heatmap([LONG], ["FY2025"], [[1.0]], title="t"))
    rows = re.findall(r'<text class="label row"[^>]*>([^<]+)', svg)
    assert rows and rows[0].endswith("…") and len(rows[0]) * 6.6 <= 200 - 6  # its 200 units of room


def test_trend_axis_has_round_ticks_around_the_values() -> None:
    svg = str(trend(["FY2025", "FY2026"], [51.47, 60.2], [55.0, 73.63], title="t"))
    ticks = re.findall(r'<text class="axis" x="[\d.]+" y="[\d.]+" text-anchor="end">([^<]+)', svg)
    assert ticks == ["50", "60", "70", "80"]
