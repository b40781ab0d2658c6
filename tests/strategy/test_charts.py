"""The indicator trend chart's period labels: readable, never drawn over each other."""

from __future__ import annotations

import re

from ssaplan.strategy.charts import trend

# The axis text is 10 units high; a character of the page's sans-serif is at most
# about 0.6 of that wide, so this is how much of the axis one label covers.
CHAR_W = 6.0


def _labels(svg: str) -> list[tuple[float, str, str]]:
    found = re.findall(
        r'<text class="axis" x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)">([^<]+)</text>', svg
    )
    return [(float(x), anchor, text) for x, anchor, text in found if text.startswith("FY")]


def _extent(x: float, anchor: str, text: str) -> tuple[float, float]:
    w = len(text) * CHAR_W
    if anchor == "end":
        return x - w, x
    if anchor == "start":
        return x, x + w
    return x - w / 2, x + w / 2


def _quarters(years: int) -> list[str]:
    return [f"FY{2025 + y}-Q{q}" for y in range(years) for q in range(1, 5)]


def test_quarterly_labels_do_not_overlap_and_stay_inside_the_chart() -> None:
    for years in (1, 2, 5, 10):
        periods = _quarters(years)
        svg = str(trend(periods, [None] * len(periods), list(range(len(periods))), title="t"))
        labels = _labels(svg)
        spans = sorted(_extent(*label) for label in labels)
        for (_, right), (left, _) in zip(spans, spans[1:], strict=False):
            assert right < left, f"{years} years: labels overlap: {labels}"
        assert spans[0][0] >= 0 and spans[-1][1] <= 560, f"{years} years: {labels}"
        # The first and last periods are always named, so the reader sees the range.
        texts = [t for _, _, t in labels]
        assert texts[0] == periods[0] and texts[-1] == periods[-1]
        # A label each for a short series; a thinned but regular axis for a long one
        # (every k-th period, only the interval to the last one may be longer).
        if len(periods) <= 6:
            assert texts == periods
        steps = [
            periods.index(b) - periods.index(a)
            for a, b in zip(texts[:-2], texts[1:-1], strict=True)
        ]
        assert len(set(steps)) <= 1, f"{years} years: uneven axis {texts}"


def test_annual_labels_are_all_shown() -> None:
    periods = [f"FY{y}" for y in range(2025, 2030)]
    svg = str(trend(periods, [1, 2, None, None, None], [1, 2, 3, 4, 5], title="t"))
    assert [t for _, _, t in _labels(svg)] == periods
