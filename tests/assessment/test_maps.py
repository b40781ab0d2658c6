"""The offline world map: TopoJSON decoding, projection, colour bins, tooltips, links."""

from __future__ import annotations

import re

import pytest

from ssaplan.ui.maps import (
    NO_DATA,
    PALETTE,
    bin_of,
    choropleth,
    decode_arcs,
    equal_earth,
    frame,
    ring_points,
)


def test_decoding_quantized_delta_arcs() -> None:
    topo = {
        "transform": {"scale": [0.5, 2.0], "translate": [10, -5]},
        "arcs": [[[0, 0], [2, 1], [-1, 3]], [[1, 4], [1, 0]]],
    }
    arcs = decode_arcs(topo)
    assert arcs == [[(10, -5), (11, -3), (10.5, 3)], [(10.5, 3), (11, 3)]]
    # ~1 is arc 1 reversed; shared points are not repeated.
    assert ring_points([0, 1], arcs) == [(10, -5), (11, -3), (10.5, 3), (11, 3)]
    assert ring_points([~1], arcs) == [(11, 3), (10.5, 3)]


def test_equal_earth_is_symmetric_and_bounded() -> None:
    assert equal_earth(0, 0) == (0, 0)
    x, y = equal_earth(180, 0)
    assert x == pytest.approx(2.7066, abs=1e-3) and y == 0
    assert equal_earth(-30, -40) == pytest.approx(tuple(-v for v in equal_earth(30, 40)))
    assert equal_earth(0, 90)[1] == pytest.approx(1.3173, abs=1e-3)


def test_every_partner_shape_is_there_and_cached() -> None:
    f = frame()
    assert frame() is f  # decoded once per process
    iso = {s.iso3 for s in f.shapes}
    assert {"USA", "FRA", "KEN", "RUS", "FJI", "XKX", "BRA", "IDN"} <= iso
    assert "ATA" not in iso  # Antarctica is left out
    russia = next(s for s in f.shapes if s.iso3 == "RUS")
    # Chukotka crosses the antimeridian: drawn on both sides, then clipped.
    assert russia.path.count("M") > 10


def test_bins_and_colours() -> None:
    assert [bin_of(v, (0, 100), 5) for v in (0, 19.9, 20, 55, 99.9, 100, 150, -3)] == [
        0,
        0,
        1,
        2,
        4,
        4,
        4,
        0,
    ]
    svg = str(
        choropleth(
            {"KEN": 10.0, "FRA": 95.0, "ZZZ": 50.0, "USA": None},
            title="Propensity <test>",
            label="propensity",
            link=lambda c: f"/assessment/countries/{c}",
        )
    )
    assert svg.startswith("<svg") and "Propensity &lt;test&gt;" in svg
    ken = re.search(r'<a href="/assessment/countries/KEN"><path [^>]*fill="([^"]+)"', svg)
    fra = re.search(r'<a href="/assessment/countries/FRA"><path [^>]*fill="([^"]+)"', svg)
    assert ken and ken.group(1) == PALETTE[0] and fra and fra.group(1) == PALETTE[4]
    assert "<title>Kenya: propensity 10.0</title>" in svg
    assert re.search(rf'fill="{NO_DATA}" data-iso3="USA"><title>United States: no data', svg)
    assert 'href="/assessment/countries/USA"' not in svg  # no data, no link
    assert "ZZZ" not in svg  # codes without a shape are ignored
    assert "no data</text>" in svg and "80–100" in svg  # the legend
