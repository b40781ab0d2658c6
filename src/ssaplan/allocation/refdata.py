"""Reference data a scenario is checked against: account and country codes, regions."""

from __future__ import annotations

from typing import Any


def reference_inputs() -> dict[str, Any]:
    """Known codes and a region mapping from the reference catalog."""
    from ssaplan.reference.catalog import get_catalog

    catalog = get_catalog()
    countries = catalog.countries
    un_codes = {
        r.name: r.code for r in catalog.regions.values() if r.kind in ("un_region", "un_subregion")
    }

    def regions(scheme: str, country: str) -> str | tuple[str, ...] | None:
        c = countries.get(country)
        if c is None:
            return None
        if scheme == "bureau":
            return c.bureau
        if scheme == "combatant_command":
            return c.combatant_command
        if scheme in ("un_region", "un_subregion"):
            name = c.un_region if scheme == "un_region" else c.un_subregion
            return tuple(x for x in (un_codes.get(name or ""), name) if x)  # code or name
        if scheme == "organization":
            return tuple(c.organizations)
        return None

    return {
        "known_accounts": frozenset(catalog.accounts),
        "known_countries": frozenset(countries),
        "regions": regions,
    }
