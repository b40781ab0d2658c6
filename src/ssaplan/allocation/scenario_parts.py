"""Field-level validation of scenario files, each problem reported with its JSON path.

Used by :mod:`ssaplan.allocation.scenario`; every function adds
:class:`~ssaplan.core.errors.Detail` entries to an :class:`Errors` collector instead of
raising, so one pass reports every problem in a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ssaplan.allocation.engine.model import Candidate, Level, RegionalFloor
from ssaplan.core.errors import Detail

#: ``regions(scheme, country)``: the country's region (or regions) in that scheme.
RegionOf = Callable[[str, str], "str | Collection[str] | None"]
Regions = RegionOf | Mapping[str, Mapping[str, str]]
#: ``eligible(country, account, fiscal_year)``: may money flow there?
Eligible = Callable[[str, str, int], bool]

CODE = re.compile(r"^[A-Z0-9][A-Z0-9_./-]{0,31}$")


@dataclass(frozen=True)
class Limits:
    """Largest scenario accepted; a bigger one is refused naming the limit."""

    candidates: int = 20_000
    levels: int = 10
    fiscal_years: int = 20
    file_bytes: int = 50 * 1024 * 1024
    max_errors: int = 50


class TooMany(Exception):
    pass


class Errors:
    def __init__(self, limit: int) -> None:
        self.items: list[Detail] = []
        self.limit = limit

    def add(self, loc: tuple[str | int, ...], msg: str) -> None:
        self.items.append(Detail(loc, msg))
        if len(self.items) >= self.limit:
            raise TooMany


TOP = {
    "name",
    "fiscal_years",
    "accounts",
    "reserve_share",
    "absorptive_capacity",
    "regional_floors",
    "candidates",
    "restrictions",
    "crisis_draws",
    "regions",
    "description",
}
CANDIDATE = {
    "id",
    "country",
    "account",
    "fiscal_years",
    "must_fund",
    "requires",
    "levels",
    "title",
}
LEVEL = {"annual", "value", "value_sd", "label"}
FLOOR = {"scheme", "region", "min_share"}
RESTRICTION = {"country", "account", "fiscal_years", "reason"}


def check_keys(
    obj: Mapping[str, Any], allowed: set[str], loc: tuple[str | int, ...], e: Errors
) -> None:
    for key in obj:
        if key not in allowed:
            e.add((*loc, key), f"unknown field; expected one of {', '.join(sorted(allowed))}")


def dollars(value: Any, loc: tuple[str | int, ...], e: Errors) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        e.add(loc, "must be a whole number of dollars")
        return None
    if not math.isfinite(value) or value != int(value):
        e.add(loc, "must be a whole number of dollars")
        return None
    if value < 0:
        e.add(loc, "must be >= 0")
        return None
    return int(value)


def number(
    value: Any, loc: tuple[str | int, ...], e: Errors, *, lo: float = 0.0, hi: float = math.inf
) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        e.add(loc, "must be a number")
        return None
    if not lo <= value <= hi:
        e.add(
            loc, f"must be between {lo:g} and {hi:g}" if math.isfinite(hi) else f"must be >= {lo:g}"
        )
        return None
    return float(value)


def check_code(
    value: Any, loc: tuple[str | int, ...], e: Errors, known: Collection[str] | None, kind: str
) -> str | None:
    if not isinstance(value, str) or not value:
        e.add(loc, f"must be a {kind} code")
        return None
    if known is not None:
        if value not in known:
            e.add(loc, f"unknown {kind} {value!r}")
            return None
    elif not CODE.match(value):
        e.add(loc, f"{value!r} is not a {kind} code (uppercase letters, digits, - _ . /)")
        return None
    return value


def years_table(
    obj: Any, loc: tuple[str | int, ...], e: Errors, years: set[int], *, complete: bool
) -> dict[int, int] | None:
    if not isinstance(obj, dict):
        e.add(loc, 'must be an object of fiscal year -> dollars, e.g. {"2027": 1000000}')
        return None
    out: dict[int, int] = {}
    for key, value in obj.items():
        try:
            year = int(key)
        except ValueError:
            e.add((*loc, key), "must be a fiscal year such as 2027")
            continue
        if year not in years:
            e.add((*loc, key), f"fiscal year {year} is outside the scenario's fiscal_years")
            continue
        amount = dollars(value, (*loc, key), e)
        if amount is not None:
            out[year] = amount
    if complete:
        for year in sorted(years - set(out)):
            if str(year) not in obj:
                e.add(loc, f"missing FY{year}")
    return out


def region_resolver(
    regions: Regions | None, data: Mapping[str, Any], e: Errors
) -> Callable[[str, str], frozenset[str]] | None:
    table = regions
    if table is None:
        table = data.get("regions")
        if table is not None and not (
            isinstance(table, dict)
            and all(
                isinstance(v, dict) and all(isinstance(r, str) for r in v.values())
                for v in table.values()
            )
        ):
            e.add(("regions",), 'must be {"scheme": {"COUNTRY": "REGION"}}')
            return None
    if table is None:
        return None
    if callable(table):
        fn = table

        def resolve(scheme: str, country: str) -> frozenset[str]:
            got = fn(scheme, country)
            if got is None:
                return frozenset()
            return frozenset([got]) if isinstance(got, str) else frozenset(got)

        return resolve
    mapping = table

    def lookup(scheme: str, country: str) -> frozenset[str]:
        region = mapping.get(scheme, {}).get(country)
        return frozenset() if region is None else frozenset([region])

    lookup.schemes = set(mapping)  # type: ignore[attr-defined]
    return lookup


def candidates_of(
    data: Mapping[str, Any],
    e: Errors,
    accounts: Mapping[str, Any],
    known_countries: Collection[str] | None,
    years: set[int],
    limits: Limits,
) -> list[Candidate] | None:
    raw = data.get("candidates", [])
    if not isinstance(raw, list):
        e.add(("candidates",), "must be a list of candidates")
        return None
    if len(raw) > limits.candidates:
        e.add(("candidates",), f"{len(raw):,} candidates; the limit is {limits.candidates:,}")
        return None
    ids: dict[str, int] = {}
    for n, c in enumerate(raw):
        if isinstance(c, dict) and isinstance(c.get("id"), str):
            if c["id"] in ids:
                e.add(
                    ("candidates", n, "id"),
                    f"duplicate id {c['id']!r} (also candidates.{ids[c['id']]})",
                )
            else:
                ids[c["id"]] = n
    out: list[Candidate] = []
    for n, c in enumerate(raw):
        loc: tuple[str | int, ...] = ("candidates", n)
        if not isinstance(c, dict):
            e.add(loc, "must be an object")
            continue
        check_keys(c, CANDIDATE, loc, e)
        for key in ("id", "country", "account", "fiscal_years", "levels"):
            if key not in c:
                e.add((*loc, key), "missing")
        cid = c.get("id")
        if "id" in c and (not isinstance(cid, str) or not cid.strip() or len(cid) > 64):
            e.add((*loc, "id"), "must be a non-empty string of at most 64 characters")
        country = (
            check_code(c["country"], (*loc, "country"), e, known_countries, "country")
            if "country" in c
            else None
        )
        account = c.get("account")
        if "account" in c and account not in accounts:
            e.add(
                (*loc, "account"),
                f"unknown account {account!r}: not among the scenario's accounts "
                f"({', '.join(accounts) or 'none'})",
            )
        fys = c.get("fiscal_years", [])
        cand_years: list[int] = []
        if "fiscal_years" in c and (not isinstance(fys, list) or not fys):
            e.add((*loc, "fiscal_years"), "must be a non-empty list of fiscal years")
        elif isinstance(fys, list):
            for t, y in enumerate(fys):
                if isinstance(y, bool) or not isinstance(y, int):
                    e.add((*loc, "fiscal_years", t), "must be a fiscal year such as 2027")
                elif y not in years:
                    e.add(
                        (*loc, "fiscal_years", t), f"FY{y} is outside the scenario's fiscal_years"
                    )
                elif y in cand_years:
                    e.add((*loc, "fiscal_years", t), f"FY{y} is listed twice")
                else:
                    cand_years.append(y)
        must = c.get("must_fund", False)
        if not isinstance(must, bool):
            e.add((*loc, "must_fund"), "must be true or false")
        requires = c.get("requires", [])
        reqs: list[str] = []
        if not isinstance(requires, list):
            e.add((*loc, "requires"), "must be a list of candidate ids")
        else:
            for r_n, r in enumerate(requires):
                if not isinstance(r, str) or r not in ids:
                    e.add((*loc, "requires", r_n), f"unknown candidate {r!r}")
                elif r == cid:
                    e.add((*loc, "requires", r_n), "a candidate cannot require itself")
                elif r not in reqs:
                    reqs.append(r)
        levels = levels_of(c.get("levels"), (*loc, "levels"), e, limits) if "levels" in c else None
        if (
            isinstance(cid, str)
            and country is not None
            and account in accounts
            and cand_years
            and levels
            and isinstance(must, bool)
        ):
            out.append(
                Candidate(
                    cid,
                    country,
                    str(account),
                    tuple(sorted(cand_years)),
                    tuple(levels),
                    must,
                    tuple(reqs),
                )
            )
    cycles(raw, ids, e)
    return out


def levels_of(
    raw: Any, loc: tuple[str | int, ...], e: Errors, limits: Limits
) -> list[Level] | None:
    if not isinstance(raw, list) or not raw:
        e.add(loc, "must be a non-empty list of levels")
        return None
    if len(raw) > limits.levels:
        e.add(loc, f"{len(raw)} levels; the limit is {limits.levels}")
        return None
    out: list[Level] = []
    for n, lv in enumerate(raw):
        where = (*loc, n)
        if not isinstance(lv, dict):
            e.add(where, "must be an object with annual and value")
            continue
        check_keys(lv, LEVEL, where, e)
        for key in ("annual", "value"):
            if key not in lv:
                e.add((*where, key), "missing")
        annual = dollars(lv["annual"], (*where, "annual"), e) if "annual" in lv else None
        value = number(lv["value"], (*where, "value"), e) if "value" in lv else None
        sd = number(lv.get("value_sd", 0.0), (*where, "value_sd"), e)
        if annual is not None and value is not None and sd is not None:
            out.append(Level(annual, value, sd))
    return out if len(out) == len(raw) else None


def cycles(raw: list[Any], ids: Mapping[str, int], e: Errors) -> None:
    """Name every dependency cycle once (C1 -> C2 -> C1)."""
    graph: dict[str, list[str]] = {}
    for c in raw:
        if (
            isinstance(c, dict)
            and isinstance(c.get("id"), str)
            and isinstance(c.get("requires"), list)
        ):
            graph[c["id"]] = [
                r for r in c["requires"] if isinstance(r, str) and r in ids and r != c["id"]
            ]
    state: dict[str, int] = {}
    reported: set[frozenset[str]] = set()
    for root in graph:
        if state.get(root):
            continue
        stack: list[tuple[str, Iterable[str]]] = [(root, iter(graph.get(root, [])))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(iter(children), None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
                continue
            if state.get(child) == 1:
                cycle = path[path.index(child) :] + [child]
                key = frozenset(cycle)
                if key not in reported:
                    reported.add(key)
                    e.add(
                        ("candidates", ids[cycle[0]], "requires"),
                        "dependency cycle: " + " -> ".join(cycle),
                    )
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(graph.get(child, []))))


def restrictions_of(
    data: Mapping[str, Any],
    e: Errors,
    known_countries: Collection[str] | None,
    known_accounts: Collection[str] | None,
    accounts: Mapping[str, Any],
    years: list[int],
) -> set[tuple[str, str, int]]:
    raw = data.get("restrictions", [])
    out: set[tuple[str, str, int]] = set()
    if not isinstance(raw, list):
        e.add(("restrictions",), "must be a list of {country, account, fiscal_years}")
        return out
    for n, r in enumerate(raw):
        loc: tuple[str | int, ...] = ("restrictions", n)
        if not isinstance(r, dict):
            e.add(loc, "must be an object with country and optional account, fiscal_years")
            continue
        check_keys(r, RESTRICTION, loc, e)
        if "country" not in r:
            e.add((*loc, "country"), "missing")
            continue
        country = check_code(r["country"], (*loc, "country"), e, known_countries, "country")
        account = r.get("account")
        if account is not None and account not in accounts:
            e.add(
                (*loc, "account"), f"unknown account {account!r}: not among the scenario's accounts"
            )
            continue
        fys = r.get("fiscal_years", years)
        if not isinstance(fys, list) or any(y not in years for y in fys):
            e.add((*loc, "fiscal_years"), "must be a list of the scenario's fiscal years")
            continue
        if country is None:
            continue
        for a in [account] if account else list(accounts):
            for y in fys:
                out.add((country, a, y))
    return out


def floors_of(
    data: Mapping[str, Any],
    e: Errors,
    regions: Regions | None,
    candidates: list[Candidate] | None,
    capacity: Mapping[str, Any],
) -> list[RegionalFloor]:
    raw = data.get("regional_floors", [])
    out: list[RegionalFloor] = []
    if not isinstance(raw, list):
        e.add(("regional_floors",), "must be a list of {scheme, region, min_share}")
        return out
    resolve = region_resolver(regions, data, e) if raw else None
    countries = sorted({c.country for c in candidates or []} | set(capacity))
    seen: set[tuple[str, str]] = set()
    totals: dict[str, float] = {}
    for n, f in enumerate(raw):
        loc: tuple[str | int, ...] = ("regional_floors", n)
        if not isinstance(f, dict):
            e.add(loc, "must be an object with scheme, region, min_share")
            continue
        check_keys(f, FLOOR, loc, e)
        missing = [key for key in ("scheme", "region", "min_share") if key not in f]
        for key in missing:
            e.add((*loc, key), "missing")
        if missing:
            continue
        scheme, region = f["scheme"], f["region"]
        if not isinstance(scheme, str) or not scheme:
            e.add((*loc, "scheme"), "must be a region scheme such as bureau")
            continue
        if not isinstance(region, str) or not region:
            e.add((*loc, "region"), "must be a region code such as AF")
            continue
        share = number(f["min_share"], (*loc, "min_share"), e, hi=1.0)
        if share is None:
            continue
        if (scheme, region) in seen:
            e.add(loc, f"a second floor for {region} ({scheme})")
            continue
        seen.add((scheme, region))
        totals[scheme] = totals.get(scheme, 0.0) + share
        if totals[scheme] > 1 + 1e-9:
            e.add(
                (*loc, "min_share"),
                f"the {scheme} floors add up to {totals[scheme]:.0%}, more than 100%",
            )
        if resolve is None:
            e.add(
                (*loc, "scheme"),
                f'no region mapping for scheme {scheme!r}: give "regions" in the file or pass one',
            )
            continue
        schemes = getattr(resolve, "schemes", None)
        if schemes is not None and scheme not in schemes:
            e.add((*loc, "scheme"), f'no region mapping for scheme {scheme!r} in "regions"')
            continue
        members = frozenset(c for c in countries if region in resolve(scheme, c))
        if share > 0 and not members:
            # a floor nobody can meet but by funding nothing is a typo, not a plan
            e.add(
                (*loc, "region"),
                f"no country of the scenario is in {region!r} under scheme {scheme!r}",
            )
            continue
        out.append(RegionalFloor(scheme, region, share, members))
    return out
