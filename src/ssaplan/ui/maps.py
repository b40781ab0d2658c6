"""A world map drawn on the server as inline SVG: no JavaScript, no CDN, works offline.

Country shapes come from ``static/maps/countries-110m.json`` (the ``world-atlas`` npm
package: Natural Earth 1:110m boundaries as TopoJSON, ids ISO 3166-1 numeric; see
``static/maps/LICENSE-world-atlas.md``). The TopoJSON arcs are decoded here (quantized,
delta-encoded), projected with the Equal Earth projection (Šavrič, Patterson and
Jenny, 2018: an equal-area pseudo-cylindrical projection, so large countries do not
look more important than they are) and cached as SVG paths. Rings that cross the
antimeridian (Russia, Fiji) are drawn on both sides and clipped to the map's outline.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ssaplan.reference.catalog import get_catalog

MAP_PATH = Path(__file__).parent / "static" / "maps" / "countries-110m.json"
# Shapes the file leaves without an ISO numeric id, mapped by their name.
NAMED_SHAPES = {"Kosovo": "XKX"}
SKIPPED_IDS = frozenset(
    {"010"}
)  # Antarctica: no partner there, and it would take a third of the map
WIDTH = 960
NO_DATA = "#e4e4e4"
# Sequential blues, light (low) to dark (high); readable in greyscale as well.
PALETTE = ("#dce9f5", "#a9c8e4", "#6fa3cf", "#3575b1", "#0b4a86")

# Equal Earth coefficients (Šavrič, Patterson and Jenny 2018).
_A1, _A2, _A3, _A4 = 1.340264, -0.081106, 0.000893, 0.003796
_M = math.sqrt(3) / 2


def equal_earth(lon: float, lat: float) -> tuple[float, float]:
    """Project degrees of longitude and latitude; x is about -2.71..2.71, y -1.32..1.32."""
    lam, phi = math.radians(lon), math.radians(lat)
    theta = math.asin(_M * math.sin(phi))
    t2 = theta * theta
    t6 = t2 * t2 * t2
    x = lam * math.cos(theta) / (_M * (_A1 + 3 * _A2 * t2 + t6 * (7 * _A3 + 9 * _A4 * t2)))
    y = theta * (_A1 + _A2 * t2 + t6 * (_A3 + _A4 * t2))
    return x, y


def decode_arcs(topology: Mapping[str, Any]) -> list[list[tuple[float, float]]]:
    """The arcs of a quantized TopoJSON topology as lists of (longitude, latitude).

    Quantized arcs store each position as the difference from the previous one, in
    integer steps; ``transform`` gives the scale and translation back to degrees.
    """
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(p[0]), float(p[1])) for p in arc])
            continue
        (kx, ky), (dx, dy) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for p in arc:
            x += p[0]
            y += p[1]
            points.append((x * kx + dx, y * ky + dy))
        arcs.append(points)
    return arcs


def ring_points(
    indices: Sequence[int], arcs: Sequence[Sequence[tuple[float, float]]]
) -> list[tuple[float, float]]:
    """Stitch a ring from arc indices; a negative index ``~i`` means arc i reversed."""
    points: list[tuple[float, float]] = []
    for index in indices:
        arc = list(arcs[~index])[::-1] if index < 0 else list(arcs[index])
        points.extend(arc[1:] if points else arc)
    return points


def _unwrap(ring: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Make longitudes continuous (no jump of more than 180 degrees between points)."""
    out = [ring[0]]
    offset = 0.0
    for (lon0, _), (lon1, lat1) in zip(ring, ring[1:], strict=False):
        step = lon1 - lon0
        if step > 180:
            offset -= 360
        elif step < -180:
            offset += 360
        out.append((lon1 + offset, lat1))
    return out


@dataclass(frozen=True)
class Shape:
    """One country's outline as an SVG path, with its ISO3 code where known."""

    iso3: str | None
    name: str
    path: str


@dataclass(frozen=True)
class Frame:
    """The projected map: its size, the outline path (for clipping) and the shapes."""

    width: int
    height: int
    top: float
    outline: str
    shapes: tuple[Shape, ...]


def _xy(lon: float, lat: float, scale: float, width: int) -> tuple[float, float]:
    x, y = equal_earth(lon, lat)
    return width / 2 + x * scale, -y * scale


def _path(rings: list[list[tuple[float, float]]], scale: float, width: int) -> str:
    parts = []
    for ring in rings:
        if len(ring) < 3:
            continue
        ring = _unwrap(ring)
        lons = [p[0] for p in ring]
        copies = [0.0]
        if max(lons) > 180:
            copies.append(-360.0)
        if min(lons) < -180:
            copies.append(360.0)
        for shift in copies:
            pts = [_xy(lon + shift, lat, scale, width) for lon, lat in ring]
            parts.append("M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in pts) + "Z")
    return "".join(parts)


@lru_cache(maxsize=2)
def frame(width: int = WIDTH, map_path: Path = MAP_PATH) -> Frame:
    """Decode, project and cache the world's shapes (done once per process)."""
    topology = json.loads(map_path.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    x_max, _ = equal_earth(180, 0)
    scale = width / (2 * x_max)
    numeric = {c.numeric: c.iso3 for c in get_catalog().countries.values() if c.numeric}
    shapes = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        gid = geometry.get("id")
        name = str(geometry.get("properties", {}).get("name", ""))
        if gid in SKIPPED_IDS:
            continue
        if geometry["type"] == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry["type"] == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        rings = [ring_points(ring, arcs) for polygon in polygons for ring in polygon]
        iso3 = numeric.get(gid) if gid else NAMED_SHAPES.get(name)
        shapes.append(Shape(iso3, name, _path(rings, scale, width)))
    top = _xy(0, 84, scale, width)[1] - 4
    bottom = _xy(0, -58, scale, width)[1] + 4
    edge = [_xy(180, lat, scale, width) for lat in range(-90, 91, 5)]
    edge += [_xy(-180, lat, scale, width) for lat in range(90, -91, -5)]
    outline = "M" + "L".join(f"{x:.1f},{y:.1f}" for x, y in edge) + "Z"
    return Frame(width, round(bottom - top), top, outline, tuple(shapes))


def bin_of(value: float, domain: tuple[float, float], bins: int) -> int:
    """The colour bin (0 .. bins-1) of a value on equal-width bins over ``domain``."""
    low, high = domain
    if high <= low:
        return 0
    position = (value - low) / (high - low)
    return min(bins - 1, max(0, int(position * bins)))


def choropleth(
    values: Mapping[str, float | None],
    *,
    title: str,
    label: str,
    domain: tuple[float, float] = (0.0, 100.0),
    link: Callable[[str], str] | None = None,
    tooltips: Mapping[str, str] | None = None,
    palette: Sequence[str] = PALETTE,
    clip_id: str = "world-clip",
    counts: bool = False,
) -> Markup:
    """A world map coloured by ``values`` (ISO3 -> value; None or absent: no data).

    Every country carries a ``<title>`` tooltip; those with a value link to
    ``link(iso3)``. Values are binned in equal-width bins over ``domain``; with
    ``counts`` (whole numbers, one bin each) the legend reads 0, 1, 2, ... "4 or more"
    instead of ranges such as "0–1".
    """
    f = frame()
    bins = len(palette)
    out = [
        f'<svg class="chart map" viewBox="0 {f.top:.1f} {f.width} {f.height + 36}" width="100%" '
        f'role="img" aria-label="{escape(title)}"><title>{escape(title)}</title>'
        f'<defs><clipPath id="{escape(clip_id)}"><path d="{f.outline}"/></clipPath></defs>'
        f'<path class="sphere" d="{f.outline}" fill="#fcfdfe" stroke="#c8d3de"/>'
        f'<g clip-path="url(#{escape(clip_id)})" stroke="#ffffff" stroke-width="0.5">'
    ]
    catalog = get_catalog()
    for shape in f.shapes:
        value = values.get(shape.iso3) if shape.iso3 else None
        ref = catalog.countries.get(shape.iso3) if shape.iso3 else None
        name = ref.name if ref is not None else shape.name
        if value is None or not math.isfinite(value):
            tip = f"{name}: no data"
            out.append(
                f'<path class="country nodata" d="{shape.path}" fill="{NO_DATA}"'
                f"{_data(shape.iso3)}><title>{escape(tip)}</title></path>"
            )
            continue
        tip = (tooltips or {}).get(shape.iso3 or "", f"{name}: {label} {value:.1f}")
        color = palette[bin_of(value, domain, bins)]
        element = (
            f'<path class="country" d="{shape.path}" fill="{color}"{_data(shape.iso3)}>'
            f"<title>{escape(tip)}</title></path>"
        )
        if link is not None and shape.iso3:
            element = f'<a href="{escape(link(shape.iso3))}">{element}</a>'
        out.append(element)
    out.append("</g>")
    out.append(_legend(f, label, domain, palette, counts=counts))
    out.append("</svg>")
    # Every dynamic piece above went through html.escape; the rest is our own markup.
    return Markup("".join(out))  # noqa: S704


def _data(iso3: str | None) -> str:
    return f' data-iso3="{escape(iso3)}"' if iso3 else ""


def _legend(
    f: Frame,
    label: str,
    domain: tuple[float, float],
    palette: Sequence[str],
    *,
    counts: bool = False,
) -> str:
    low, high = domain
    step = (high - low) / len(palette)
    last = len(palette) - 1
    y = f.top + f.height + 8
    parts = [f'<g class="legend"><text x="8" y="{y + 11:.1f}">{escape(label)}</text>']
    x = 8 + 7 * len(label) + 12
    for i, color in enumerate(palette):
        a, b = low + i * step, low + (i + 1) * step
        if counts and step == 1:
            text = f"{a:.0f} or more" if i == last else f"{a:.0f}"
        else:
            text = f"{a:.0f}–{b:.0f}"
        parts.append(
            f'<rect x="{x}" y="{y:.1f}" width="14" height="14" fill="{color}" stroke="#889"/>'
            f'<text x="{x + 18}" y="{y + 11:.1f}">{text}</text>'
        )
        x += 18 + 60
    parts.append(
        f'<rect x="{x}" y="{y:.1f}" width="14" height="14" fill="{NO_DATA}" stroke="#889"/>'
        f'<text x="{x + 18}" y="{y + 11:.1f}">no data</text></g>'
    )
    return "".join(parts)
