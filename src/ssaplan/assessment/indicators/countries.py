"""Matching the country names and codes of public data files to ISO 3166.

Order of look-up: a known alias of the code, the code itself, a known alias of the
name, the name itself (both through the reference catalog, which knows ISO 3166 via
pycountry). Aliases live in ``data/country_aliases.csv``: source spellings such as
"Congo, Dem. Rep." or "Korea, Rep.", former codes such as the World Bank's ``ZAR``,
and names that are not countries (former states, aggregates). A name that still does
not match is *unmatched*: importers list it, never drop it silently.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from ssaplan.reference.catalog import Catalog, UnknownCode, get_catalog

ALIASES_PATH = Path(__file__).resolve().parents[1] / "data" / "country_aliases.csv"

MatchKind = Literal["country", "former", "aggregate", "unmatched"]

# Words that mark a row as a group of countries rather than one (World Bank and UNDP
# aggregates such as "Sub-Saharan Africa", "IDA total", "Upper middle income").
_AGGREGATE = re.compile(
    r"\b(countries|income|ida|ibrd|world|total|excluding|region|oecd|small states|"
    r"dividend|developing|euro area|sub-saharan|& )\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Match:
    """What a name/code pair is: a country (``iso3`` set) or why it is not one."""

    kind: MatchKind
    iso3: str | None = None
    note: str = ""


def _norm(text: str) -> str:
    return " ".join(text.casefold().split())


@dataclass(frozen=True)
class Alias:
    name: str
    iso3: str | None
    kind: str
    note: str


def load_aliases(path: Path = ALIASES_PATH) -> dict[str, Alias]:
    """The alias table, keyed by normalized name or code."""
    out: dict[str, Alias] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            alias = Alias(
                row["name"].strip(), row["iso3"].strip() or None, row["kind"].strip(), row["note"]
            )
            out[_norm(alias.name)] = alias
    return out


class CountryMatcher:
    """Turns (name, code) pairs from data files into ISO3 codes, with answers cached."""

    def __init__(self, catalog: Catalog | None = None, aliases: dict[str, Alias] | None = None):
        self.catalog = catalog or get_catalog()
        self.aliases = aliases if aliases is not None else load_aliases()
        self._cache: dict[tuple[str, str], Match] = {}

    def match(self, name: str, code: str | None = None) -> Match:
        key = (name.strip(), (code or "").strip())
        found = self._cache.get(key)
        if found is None:
            found = self._match(*key)
            self._cache[key] = found
        return found

    def _alias(self, text: str) -> Match | None:
        alias = self.aliases.get(_norm(text))
        if alias is None:
            return None
        if alias.iso3:
            if alias.iso3 in self.catalog.countries:
                return Match("country", alias.iso3, alias.note)
            return Match("unmatched", None, f"alias points to unknown code {alias.iso3}")
        kind: MatchKind = "former" if alias.kind == "former" else "aggregate"
        return Match(kind, None, alias.note or alias.kind)

    def _resolve(self, text: str) -> str | None:
        try:
            return self.catalog.resolve("country", text)
        except UnknownCode:
            return None

    def _match(self, name: str, code: str) -> Match:
        # A former state or an aggregate is named as such even when the source gives it
        # a current country's code (Freedom House files "USSR" under RUS).
        if name:
            named = self._alias(name)
            if named is not None and named.kind != "country":
                return named
        if code:
            found = self._alias(code)
            if found is not None:
                return found
            iso3 = self._resolve(code) if len(code) == 3 else None
            if iso3:
                return Match("country", iso3)
        if name:
            found = self._alias(name)
            if found is not None:
                return found
            iso3 = self._resolve(name)
            if iso3:
                return Match("country", iso3)
            if _AGGREGATE.search(name):
                return Match("aggregate", None, "looks like a group of countries")
        elif code:
            return Match("unmatched", None, f"unknown code {code!r}")
        if not name and not code:
            return Match("unmatched", None, "no country name or code")
        return Match("unmatched", None, self._suggest(name))

    def _suggest(self, name: str) -> str:
        try:
            self.catalog.resolve("country", name)
        except UnknownCode as exc:
            if exc.suggestions:
                return f"no ISO 3166 match; close: {', '.join(exc.suggestions)}"
        return "no ISO 3166 match"


@lru_cache(maxsize=1)
def default_matcher() -> CountryMatcher:
    return CountryMatcher()
