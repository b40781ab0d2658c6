"""Public facts about partner countries, read from ``data/``: population, World Bank
income group and fragility, landlocked or not, Freedom House status, the legal
restrictions that keep the United States from assisting some of them, and their
designations (major non-NATO ally, ...).

The illustrative demo world is generated from these facts so that its structure is
believable (no assistance to state sponsors of terrorism, fragile states scoring low on
governance, big programs for priority partners). Each file's sources and limits are in
``data/SOURCES.md``. Files are read once and validated against the catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from ssaplan.reference.catalog import DATA_DIR, Catalog, ReferenceDataError, _rows, get_catalog

INCOME_GROUPS = {
    "L": "Low income",
    "LM": "Lower-middle income",
    "UM": "Upper-middle income",
    "H": "High income",
}
FRAGILITY = {
    "conflict": "Conflict (World Bank FCS list)",
    "fragility": "Institutional and social fragility (World Bank FCS list)",
}
FREEDOM = {"F": "Free", "PF": "Partly free", "NF": "Not free"}
RESTRICTIONS = {
    "state_sponsor_of_terrorism": "State sponsor of terrorism",
    "arms_embargo": "Arms embargo (ITAR 126.1 policy of denial)",
    "no_partner_government": "No government to partner with",
    "coup_restriction": "Coup restriction (SFOPS section 7008)",
}
# Restrictions under which the United States gives no security assistance at all; a
# coup restriction bars assistance to the government but not to civil society.
NO_SECURITY_ASSISTANCE = frozenset(
    {"state_sponsor_of_terrorism", "arms_embargo", "no_partner_government"}
)
DESIGNATIONS = {"major_non_nato_ally": "Major non-NATO ally"}


@dataclass(frozen=True)
class CountryFacts:
    """What the public record says about a partner country (see ``SOURCES.md``)."""

    iso3: str
    population: int  # persons, rounded to thousands
    income_group: str | None  # L, LM, UM, H; None where the World Bank does not classify
    fcs: str | None  # "conflict", "fragility" or None (World Bank FCS list)
    landlocked: bool
    freedom: str | None  # F, PF, NF (Freedom House); None where not rated


@dataclass(frozen=True)
class Restriction:
    """A legal or policy bar on assisting a country, with where it comes from."""

    iso3: str
    restriction: str
    since: int
    note: str
    source_url: str


@dataclass(frozen=True)
class Designation:
    """A formal status a partner holds with the United States (e.g. major non-NATO ally)."""

    iso3: str
    designation: str
    since: int
    note: str
    source_url: str


@dataclass(frozen=True)
class Facts:
    """Every fact file, validated."""

    countries: Mapping[str, CountryFacts]
    restrictions: Mapping[str, tuple[Restriction, ...]]
    designations: Mapping[str, tuple[Designation, ...]]

    def restricted(self, iso3: str) -> frozenset[str]:
        """The kinds of restriction on ``iso3`` (empty when none)."""
        return frozenset(r.restriction for r in self.restrictions.get(iso3, ()))

    def no_security_assistance(self, iso3: str) -> bool:
        """Whether the United States gives ``iso3`` no security assistance at all."""
        return bool(self.restricted(iso3) & NO_SECURITY_ASSISTANCE)

    def designated(self, iso3: str) -> frozenset[str]:
        return frozenset(d.designation for d in self.designations.get(iso3, ()))


def load_facts(data_dir: Path = DATA_DIR, catalog: Catalog | None = None) -> Facts:
    """Read and check ``country_facts.csv``, ``assistance_restrictions.csv`` and
    ``partner_designations.csv``; raises :class:`ReferenceDataError` listing every problem."""
    catalog = catalog or get_catalog()
    problems: list[str] = []

    def known(iso3: str, where: str) -> None:
        if iso3 not in catalog.countries:
            problems.append(f"{where}: {iso3!r} is not a country of countries.csv")

    countries: dict[str, CountryFacts] = {}
    fname = "country_facts.csv"
    for r in _rows(data_dir / fname, ("iso3", "population_k", "landlocked"), problems):
        where = f"{fname} line {r['_line']}"
        known(r["iso3"], where)
        if r["iso3"] in countries:
            problems.append(f"{where}: {r['iso3']} appears twice")
        try:
            population = int(r["population_k"]) * 1000
        except ValueError:
            problems.append(f"{where}: population_k {r['population_k']!r} is not a number")
            population = 0
        for col, allowed in (
            ("income_group", INCOME_GROUPS),
            ("fcs", FRAGILITY),
            ("freedom", FREEDOM),
        ):
            if r.get(col) and r[col] not in allowed:
                problems.append(f"{where}: {col} {r[col]!r} not in {sorted(allowed)}")
        if r["landlocked"] not in ("true", "false"):
            problems.append(f"{where}: landlocked must be true or false")
        countries[r["iso3"]] = CountryFacts(
            iso3=r["iso3"],
            population=population,
            income_group=r.get("income_group") or None,
            fcs=r.get("fcs") or None,
            landlocked=r["landlocked"] == "true",
            freedom=r.get("freedom") or None,
        )

    def listed(name: str, column: str, allowed: Mapping[str, str]) -> list[dict[str, str]]:
        rows = _rows(data_dir / name, ("iso3", column, "since", "source_url"), problems)
        for r in rows:
            where = f"{name} line {r['_line']}"
            known(r["iso3"], where)
            if r[column] not in allowed:
                problems.append(f"{where}: {column} {r[column]!r} not in {sorted(allowed)}")
            if not r["since"].isdigit():
                problems.append(f"{where}: since {r['since']!r} is not a year")
        return rows

    restrictions: dict[str, list[Restriction]] = {}
    for r in listed("assistance_restrictions.csv", "restriction", RESTRICTIONS):
        restrictions.setdefault(r["iso3"], []).append(
            Restriction(
                r["iso3"],
                r["restriction"],
                int(r["since"] or 0),
                r.get("note", ""),
                r["source_url"],
            )
        )
    designations: dict[str, list[Designation]] = {}
    for r in listed("partner_designations.csv", "designation", DESIGNATIONS):
        designations.setdefault(r["iso3"], []).append(
            Designation(
                r["iso3"],
                r["designation"],
                int(r["since"] or 0),
                r.get("note", ""),
                r["source_url"],
            )
        )
    if problems:
        raise ReferenceDataError(problems)
    return Facts(
        countries=MappingProxyType(countries),
        restrictions=MappingProxyType({k: tuple(v) for k, v in restrictions.items()}),
        designations=MappingProxyType({k: tuple(v) for k, v in designations.items()}),
    )


@lru_cache(maxsize=1)
def get_facts() -> Facts:
    """The shipped facts, loaded and validated once per process."""
    return load_facts()
