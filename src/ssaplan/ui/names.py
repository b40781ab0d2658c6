"""Names where people read, codes where machines do: display names of the reference
catalog's codes for pages (countries, regions and bureaus, agencies, accounts,
objectives, ...), with the code kept as secondary text or a tooltip.

Registered as Jinja filters by :mod:`ssaplan.ui.templating`: ``{{ code | name("account") }}``
gives the name, ``{{ code | named("account") }}`` the name with the code as its tooltip,
``{{ "G1.3" | name("objective") }}`` reads "G1.3 Support legitimate self-defense".
"""

from __future__ import annotations

from html import escape
from typing import Any

from markupsafe import Markup

from ssaplan.reference.catalog import Catalog, get_catalog

KIND_TABLES = {
    "country": "countries",
    "region": "regions",
    "bureau": "regions",
    "agency": "agencies",
    "account": "accounts",
    "objective": "objectives",
    "institution_type": "institution_types",
    "level": "levels",
    "purpose": "purposes",
    "dac_code": "dac_codes",
    "marking": "markings",
}


def name(code: Any, kind: str, catalog: Catalog | None = None) -> str:
    """The display name of ``code`` of ``kind``; the code itself when unknown.

    Objectives read with their id first ("G1.3 Support legitimate self-defense"), as the
    goal tree is numbered; ``partner`` takes a country or a region.
    """
    if code in (None, ""):
        return ""
    catalog = catalog or get_catalog()
    key = str(code)
    if kind == "partner":
        return name(key, "country" if key in catalog.countries else "region", catalog)
    table = getattr(catalog, KIND_TABLES[kind])
    item = table.get(key)
    if item is None:
        return key
    text = str(getattr(item, "name", key))
    if kind == "objective":
        return f"{key} {text}"
    return text


def named(code: Any, kind: str) -> Markup:
    """The name with the code as its tooltip (``<span title="FMF">Foreign ...</span>``)."""
    if code in (None, ""):
        return Markup("")
    text = name(code, kind)
    if text == str(code):
        return Markup(f'<span class="code">{escape(str(code))}</span>')  # noqa: S704 - escaped
    return Markup(  # noqa: S704 - both parts escaped
        f'<span title="{escape(str(code))}">{escape(text)}</span>'
    )


def sort_by_name(codes: Any, kind: str) -> list[str]:
    """Codes ordered by their display names (case- and accent-insensitive enough)."""
    return sorted(codes, key=lambda c: name(c, kind).casefold())


def choices(kind: str, catalog: Catalog | None = None) -> list[tuple[str, str]]:
    """(code, "Name (code)") pairs of a kind for a select, by name; agencies list each
    department with its bureaus under it, regions only State's bureaus and the
    organizations (the regions a role can be scoped to are these)."""
    catalog = catalog or get_catalog()
    if kind == "agency":
        out: list[tuple[str, str]] = []
        tops = sorted((a for a in catalog.agencies.values() if not a.parent), key=lambda a: a.name)
        for top in tops:
            out.append((top.id, f"{top.name} ({top.id})"))
            subs = sorted(
                (a for a in catalog.agencies.values() if a.parent == top.id), key=lambda a: a.name
            )
            out += [(a.id, f"— {a.name} ({a.id})") for a in subs]
        return out
    if kind == "region":
        regions = [r for r in catalog.regions.values() if r.kind in ("bureau", "organization")]
        return sorted(
            ((r.code, f"{r.name} ({r.code})") for r in regions), key=lambda kv: kv[1].casefold()
        )
    if kind == "country":
        return sorted(
            ((c.iso3, c.name) for c in catalog.countries.values()), key=lambda kv: kv[1].casefold()
        )
    table = getattr(catalog, KIND_TABLES[kind])
    return sorted(
        ((k, f"{v.name} ({k})") for k, v in table.items()), key=lambda kv: kv[1].casefold()
    )
