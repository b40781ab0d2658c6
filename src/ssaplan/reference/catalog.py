"""The reference catalog: the policy's taxonomy and the world, read from ``data/``.

Files are read once, validated as a whole (ids unique, every cross-reference
resolves) and kept as immutable objects. Anything that takes a code from a user
(CLI, API, importers) calls :meth:`Catalog.resolve`, which accepts the stable id or
the display name or a listed alias, case-insensitively, and answers with the id.
See ``data/SOURCES.md`` for where each file's facts come from.
"""

from __future__ import annotations

import csv
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import pycountry

DATA_DIR = Path(__file__).parent / "data"

TermKind = Literal["institution_type", "level", "purpose"]
Kind = Literal[
    "institution_type",
    "level",
    "purpose",
    "country",
    "region",
    "agency",
    "account",
    "objective",
    "dac_code",
    "marking",
]
REGION_KINDS = ("bureau", "combatant_command", "un_region", "un_subregion", "organization")
BUREAUS = ("AF", "EAP", "EUR", "NEA", "SCA", "WHA")
COUNTRY_STATUSES = ("sovereign", "territory", "other")
# Kosovo: a user-assigned code (ISO 3166-1 reserves XA-XZ) that the EU and World Bank use.
USER_ASSIGNED_COUNTRIES = {"XKX"}


class ReferenceDataError(Exception):
    """The shipped reference files are inconsistent; lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        head = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"reference data is invalid: {head}{more}")


class UnknownCode(ValueError):
    """A code or name that is not in the catalog; the message suggests close matches."""

    def __init__(self, kind: str, value: str, suggestions: Iterable[str] = ()) -> None:
        self.kind = kind
        self.value = value
        self.suggestions = tuple(suggestions)
        hint = f"; did you mean {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind.replace('_', ' ')} {value!r}{hint}")


_UNSEEN = object()
_MAX_MISSES = 50_000  # remembered pycountry answers at most (the catalog lives per process)


@dataclass(frozen=True)
class Term:
    """An entry of a small controlled vocabulary (institution type, level, purpose)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class CountryRef:
    iso3: str
    iso2: str
    numeric: str
    name: str
    official_name: str
    bureau: str | None
    combatant_command: str | None
    un_region: str | None
    un_subregion: str | None
    status: str
    sovereign_iso3: str | None
    organizations: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegionRef:
    code: str
    name: str
    kind: str
    description: str = ""
    source_url: str = ""
    members: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class AgencyRef:
    id: str
    name: str
    parent: str | None
    kind: str
    description: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class AccountRef:
    id: str
    name: str
    agency: str
    authority: str
    availability_years: int
    title: str = ""
    description: str = ""
    source_url: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class ObjectiveRef:
    id: str
    goal: str | None
    name: str
    policy_text: str = ""


@dataclass(frozen=True)
class DacRef:
    code: str
    name: str
    category: str
    category_name: str
    active: bool


@dataclass(frozen=True)
class MarkingRef:
    """A handling marking. ``rank`` orders markings (U < SBU < CUI): a reader cleared up
    to a marking may read every marking of that rank or below. ``releasable`` says
    whether records under it may be published (IATI, the public)."""

    id: str
    name: str
    releasable: bool
    description: str = ""
    rank: int = 0


def _rank(text: str, position: int, problems: list[str]) -> int:
    """A marking's rank from markings.csv (its position in the file when the column is
    empty, so an older file keeps its order)."""
    if text in ("", None):
        return position * 10
    if not text.lstrip("-").isdigit():
        problems.append(f"markings.csv: rank {text!r} is not a whole number")
        return position * 10
    return int(text)


def _norm(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


class Catalog:
    """All reference data, validated; look-ups by id, name or alias."""

    def __init__(
        self,
        *,
        institution_types: Mapping[str, Term],
        levels: Mapping[str, Term],
        purposes: Mapping[str, Term],
        countries: Mapping[str, CountryRef],
        regions: Mapping[str, RegionRef],
        agencies: Mapping[str, AgencyRef],
        accounts: Mapping[str, AccountRef],
        objectives: Mapping[str, ObjectiveRef],
        dac_codes: Mapping[str, DacRef],
        markings: Mapping[str, MarkingRef],
    ) -> None:
        self.institution_types = MappingProxyType(dict(institution_types))
        self.levels = MappingProxyType(dict(levels))
        self.purposes = MappingProxyType(dict(purposes))
        self.countries = MappingProxyType(dict(countries))
        self.regions = MappingProxyType(dict(regions))
        self.agencies = MappingProxyType(dict(agencies))
        self.accounts = MappingProxyType(dict(accounts))
        self.objectives = MappingProxyType(dict(objectives))
        self.dac_codes = MappingProxyType(dict(dac_codes))
        self.markings = MappingProxyType(dict(markings))
        self._index: dict[str, dict[str, str]] = {}
        # Country names pycountry was asked about (its answer, or None): see lookup().
        self._misses: dict[str, object] = {}
        for kind in (
            "institution_type",
            "level",
            "purpose",
            "region",
            "agency",
            "account",
            "objective",
            "dac_code",
            "marking",
        ):
            self._index[kind] = self._build_index(kind)
        self._index["country"] = self._country_index()
        self._un_codes = {
            r.name: r.code for r in self.regions.values() if r.kind in ("un_region", "un_subregion")
        }

    # -- look-ups ---------------------------------------------------------------
    def table(self, kind: Kind) -> Mapping[str, object]:
        return {
            "institution_type": self.institution_types,
            "level": self.levels,
            "purpose": self.purposes,
            "country": self.countries,
            "region": self.regions,
            "agency": self.agencies,
            "account": self.accounts,
            "objective": self.objectives,
            "dac_code": self.dac_codes,
            "marking": self.markings,
        }[kind]

    def lookup(self, kind: Kind, value: str) -> str | None:
        """The stable id for ``value`` (an id, display name or alias, any case), or None.

        Cheap for unknown values too (no suggestions are computed), and remembered: a
        file of 100,000 rows names the same few hundred areas over and over.
        """
        key = _norm(str(value))
        found = self._index[kind].get(key)
        if found is not None or kind != "country":
            return found
        memo = self._misses.get(key, _UNSEEN)
        if memo is _UNSEEN:
            memo = self._pycountry_lookup(str(value))
            if len(self._misses) < _MAX_MISSES:
                self._misses[key] = memo
        return memo if isinstance(memo, str) else None

    def resolve(self, kind: Kind, value: str) -> str:
        """The stable id for ``value`` (an id, display name or alias, any case).

        Raises :class:`UnknownCode` naming close matches when there is none.
        """
        found = self.lookup(kind, value)
        if found is not None:
            return found
        key = _norm(str(value))
        if kind == "dac_code" and key.isdigit() and len(key) == 3:
            raise UnknownCode(kind, value, [f"a 5-digit code of category {key}, e.g. {key}10"])
        # 0.8: close enough for typos ("Nigera", "INCL"), not for look-alikes ("Narnia").
        close = difflib.get_close_matches(key, list(self._index[kind]), n=3, cutoff=0.8)
        suggestions = sorted({self._index[kind][c] for c in close})
        raise UnknownCode(kind, value, suggestions)

    def is_known(self, kind: Kind, value: str) -> bool:
        return self.lookup(kind, value) is not None

    def top_agency(self, agency_id: str) -> str:
        """The top-level agency of an agency, bureau or office (``State/INL`` -> ``State``)."""
        seen: set[str] = set()
        current = self.agencies[agency_id]
        while current.parent and current.id not in seen:
            seen.add(current.id)
            current = self.agencies[current.parent]
        return current.id

    def agency_descendants(self, agency_id: str) -> frozenset[str]:
        """An agency and every bureau and office below it (``State/INL``: INL and its
        offices; ``State``: all of State); empty for an unknown id."""
        if agency_id not in self.agencies:
            return frozenset()
        out = {agency_id}
        grew = True
        while grew:
            grew = False
            for a in self.agencies.values():
                if a.parent in out and a.id not in out:
                    out.add(a.id)
                    grew = True
        return frozenset(out)

    def country_regions(self, iso3: str) -> tuple[str, ...]:
        """Codes of every region the country belongs to, of any kind."""
        c = self.countries[iso3]
        codes = [c.bureau, c.combatant_command]
        codes += [self._un_codes.get(c.un_region or ""), self._un_codes.get(c.un_subregion or "")]
        codes += list(c.organizations)
        return tuple(code for code in codes if code)

    def region_members(self, code: str) -> frozenset[str]:
        return self.regions[code].members

    def objective_goal(self, objective_id: str) -> str:
        o = self.objectives[objective_id]
        return o.goal or o.id

    # -- internals ------------------------------------------------------------
    def _build_index(self, kind: Kind) -> dict[str, str]:
        index: dict[str, str] = {}
        for key, item in self.table(kind).items():
            names = [key, getattr(item, "name", "")]
            names += list(getattr(item, "aliases", ()))
            for name in names:
                if name:
                    index.setdefault(_norm(name), key)
        return index

    def _country_index(self) -> dict[str, str]:
        index: dict[str, str] = {}
        for c in self.countries.values():
            for name in (c.iso3, c.iso2, c.name, c.official_name, c.numeric, *c.aliases):
                if name:
                    index.setdefault(_norm(name), c.iso3)
        return index

    def _pycountry_lookup(self, value: str) -> str | None:
        try:
            hit = pycountry.countries.lookup(value.strip())
        except LookupError:
            return None
        iso3 = str(hit.alpha_3)
        return iso3 if iso3 in self.countries else None


# -- loading ---------------------------------------------------------------------
def _rows(path: Path, required: Iterable[str], problems: list[str]) -> list[dict[str, str]]:
    if not path.exists():
        problems.append(f"{path.name}: file is missing")
        return []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = reader.fieldnames or []
        missing = [c for c in required if c not in header]
        if missing:
            problems.append(f"{path.name}: missing columns {', '.join(missing)}")
            return []
        rows = []
        for lineno, row in enumerate(reader, start=2):
            if None in row or any(v is None for v in row.values()):
                problems.append(f"{path.name} line {lineno}: wrong number of fields")
                continue
            clean = {k: (v or "").strip() for k, v in row.items()}
            for col in required:
                if not clean[col]:
                    problems.append(f"{path.name} line {lineno}: {col} is empty")
            clean["_line"] = str(lineno)
            rows.append(clean)
        return rows


def _unique(rows: list[dict[str, str]], key: str, fname: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for row in rows:
        if row[key] in seen:
            problems.append(f"{fname} line {row['_line']}: duplicate {key} {row[key]!r}")
        seen.add(row[key])


def _aliases(cell: str) -> tuple[str, ...]:
    return tuple(a.strip() for a in cell.split("|") if a.strip())


def _bool(cell: str) -> bool:
    return cell.strip().lower() in ("true", "1", "yes")


def load_catalog(data_dir: Path = DATA_DIR) -> Catalog:
    """Read and validate every reference file in ``data_dir``.

    Raises :class:`ReferenceDataError` listing all problems at once.
    """
    problems: list[str] = []

    def terms(fname: str) -> dict[str, Term]:
        rows = _rows(data_dir / fname, ("id", "name"), problems)
        _unique(rows, "id", fname, problems)
        return {
            r["id"]: Term(
                r["id"], r["name"], _aliases(r.get("aliases", "")), r.get("description", "")
            )
            for r in rows
        }

    institution_types = terms("institution_types.csv")
    levels = terms("levels.csv")
    purposes = terms("purposes.csv")

    region_rows = _rows(data_dir / "regions.csv", ("code", "name", "kind"), problems)
    _unique(region_rows, "code", "regions.csv", problems)
    for r in region_rows:
        if r["kind"] not in REGION_KINDS:
            problems.append(
                f"regions.csv line {r['_line']}: kind {r['kind']!r} not in {REGION_KINDS}"
            )
    un_names = {
        r["name"]: r["code"] for r in region_rows if r["kind"] in ("un_region", "un_subregion")
    }
    kinds_by_code = {r["code"]: r["kind"] for r in region_rows}

    member_rows = _rows(data_dir / "memberships.csv", ("organization", "iso3"), problems)
    orgs_of: dict[str, list[str]] = {}
    for m in member_rows:
        if kinds_by_code.get(m["organization"]) != "organization":
            problems.append(
                f"memberships.csv line {m['_line']}: {m['organization']!r} is not an organization "
                "in regions.csv"
            )
        orgs_of.setdefault(m["iso3"], []).append(m["organization"])

    alias_rows = _rows(data_dir / "country_aliases.csv", ("alias", "iso3"), problems)
    aliases_of: dict[str, list[str]] = {}
    seen_alias: dict[str, str] = {}
    for alias_row in alias_rows:
        key = _norm(alias_row["alias"])
        if seen_alias.get(key, alias_row["iso3"]) != alias_row["iso3"]:
            problems.append(
                f"country_aliases.csv line {alias_row['_line']}: {alias_row['alias']!r} "
                f"already names {seen_alias[key]}"
            )
        seen_alias[key] = alias_row["iso3"]
        aliases_of.setdefault(alias_row["iso3"], []).append(alias_row["alias"])

    country_rows = _rows(data_dir / "countries.csv", ("iso3", "name", "status"), problems)
    _unique(country_rows, "iso3", "countries.csv", problems)
    countries: dict[str, CountryRef] = {}
    for r in country_rows:
        where = f"countries.csv line {r['_line']}"
        iso3 = r["iso3"]
        official = pycountry.countries.get(alpha_3=iso3)
        if official is None and iso3 not in USER_ASSIGNED_COUNTRIES:
            problems.append(f"{where}: {iso3!r} is not an ISO 3166-1 alpha-3 code")
        for col, kind in (("bureau", "bureau"), ("combatant_command", "combatant_command")):
            if r.get(col) and kinds_by_code.get(r[col]) != kind:
                problems.append(f"{where}: {col} {r[col]!r} is not a {kind} in regions.csv")
        for col in ("un_region", "un_subregion"):
            if r.get(col) and r[col] not in un_names:
                problems.append(f"{where}: {col} {r[col]!r} has no row in regions.csv")
        if r["status"] not in COUNTRY_STATUSES:
            problems.append(f"{where}: status {r['status']!r} not in {COUNTRY_STATUSES}")
        countries[iso3] = CountryRef(
            iso3=iso3,
            iso2=str(official.alpha_2) if official else "XK",
            numeric=str(official.numeric) if official else "",
            name=r["name"],
            official_name=str(
                getattr(official, "official_name", "") or getattr(official, "name", "")
            )
            if official
            else r["name"],
            bureau=r.get("bureau") or None,
            combatant_command=r.get("combatant_command") or None,
            un_region=r.get("un_region") or None,
            un_subregion=r.get("un_subregion") or None,
            status=r["status"],
            sovereign_iso3=r.get("sovereign_iso3") or None,
            organizations=tuple(sorted(orgs_of.get(iso3, []))),
            aliases=tuple(aliases_of.get(iso3, [])),
        )
    for iso3 in aliases_of:
        if iso3 not in countries:
            problems.append(f"country_aliases.csv: country {iso3!r} is not in countries.csv")
    for iso3 in orgs_of:
        if iso3 not in countries:
            problems.append(f"memberships.csv: country {iso3!r} is not in countries.csv")
    for c in countries.values():
        if c.sovereign_iso3 and c.sovereign_iso3 not in countries:
            problems.append(f"countries.csv: {c.iso3} sovereign {c.sovereign_iso3!r} is unknown")

    members: dict[str, set[str]] = {r["code"]: set() for r in region_rows}
    for c in countries.values():
        for code in (
            c.bureau,
            c.combatant_command,
            un_names.get(c.un_region or ""),
            un_names.get(c.un_subregion or ""),
            *c.organizations,
        ):
            if code and code in members:
                members[code].add(c.iso3)
    regions = {
        r["code"]: RegionRef(
            r["code"],
            r["name"],
            r["kind"],
            r.get("description", ""),
            r.get("source_url", ""),
            frozenset(members[r["code"]]),
        )
        for r in region_rows
    }

    agency_rows = _rows(data_dir / "agencies.csv", ("id", "name", "kind"), problems)
    _unique(agency_rows, "id", "agencies.csv", problems)
    agencies = {
        r["id"]: AgencyRef(
            r["id"],
            r["name"],
            r.get("parent") or None,
            r["kind"],
            r.get("description", ""),
            _aliases(r.get("aliases", "")),
        )
        for r in agency_rows
    }
    for a in agencies.values():
        if a.parent and a.parent not in agencies:
            problems.append(f"agencies.csv: {a.id} parent {a.parent!r} is unknown")

    account_rows = _rows(data_dir / "accounts.csv", ("id", "name", "agency"), problems)
    _unique(account_rows, "id", "accounts.csv", problems)
    accounts: dict[str, AccountRef] = {}
    for r in account_rows:
        if r["agency"] not in agencies:
            problems.append(f"accounts.csv line {r['_line']}: agency {r['agency']!r} is unknown")
        try:
            years = int(r.get("availability_years") or 1)
        except ValueError:
            problems.append(f"accounts.csv line {r['_line']}: availability_years is not a number")
            years = 1
        accounts[r["id"]] = AccountRef(
            r["id"],
            r["name"],
            r["agency"],
            r.get("authority", ""),
            years,
            r.get("title", ""),
            r.get("description", ""),
            r.get("source_url", ""),
            _aliases(r.get("aliases", "")),
        )

    objective_rows = _rows(data_dir / "objectives.csv", ("id", "name"), problems)
    _unique(objective_rows, "id", "objectives.csv", problems)
    objectives = {
        r["id"]: ObjectiveRef(r["id"], r.get("goal") or None, r["name"], r.get("policy_text", ""))
        for r in objective_rows
    }
    for o in objectives.values():
        if o.goal and o.goal not in objectives:
            problems.append(f"objectives.csv: {o.id} goal {o.goal!r} is unknown")

    dac_rows = _rows(data_dir / "dac_purpose_codes.csv", ("code", "name", "category"), problems)
    _unique(dac_rows, "code", "dac_purpose_codes.csv", problems)
    dac_codes = {
        r["code"]: DacRef(
            r["code"],
            r["name"],
            r["category"],
            r.get("category_name", ""),
            r.get("status", "active") != "withdrawn",
        )
        for r in dac_rows
    }

    marking_rows = _rows(data_dir / "markings.csv", ("id", "name", "releasable"), problems)
    _unique(marking_rows, "id", "markings.csv", problems)
    markings = {
        r["id"]: MarkingRef(
            r["id"],
            r["name"],
            _bool(r["releasable"]),
            r.get("description", ""),
            _rank(r.get("rank", ""), i, problems),
        )
        for i, r in enumerate(marking_rows)
    }

    required: list[tuple[str, Mapping[str, object], str]] = [("U", markings, "markings.csv")]
    required += [(b, regions, "regions.csv") for b in BUREAUS]
    for required_id, table, fname in required:
        if required_id not in table:
            problems.append(f"{fname}: required id {required_id!r} is missing")

    if problems:
        raise ReferenceDataError(problems)
    return Catalog(
        institution_types=institution_types,
        levels=levels,
        purposes=purposes,
        countries=countries,
        regions=regions,
        agencies=agencies,
        accounts=accounts,
        objectives=objectives,
        dac_codes=dac_codes,
        markings=markings,
    )


@lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """The shipped catalog, loaded and validated once per process."""
    return load_catalog()
