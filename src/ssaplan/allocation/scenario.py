"""Scenario files: parse and validate a scenario JSON into an allocation problem.

A scenario (docs/allocation.md has the full format)::

    {"name": "...", "fiscal_years": [2027, 2028],
     "accounts": {"FMF": {"2027": 100000000, "2028": 90000000}},
     "reserve_share": 0.05,
     "absorptive_capacity": {"KEN": {"2027": 30000000, "2028": 30000000}},
     "regional_floors": [{"scheme": "bureau", "region": "AF", "min_share": 0.15}],
     "candidates": [{"id": "C1", "country": "KEN", "account": "FMF",
       "fiscal_years": [2027, 2028], "must_fund": false, "requires": [],
       "levels": [{"annual": 5000000, "value": 12.5}]}]}

Optional fields: ``restrictions`` (``[{"country", "account"?, "fiscal_years"?}]``,
no money there), ``crisis_draws`` (``{"FMF": {"2028": 20000000}}``), ``regions``
(``{"bureau": {"KEN": "AF"}}``, when the caller passes no region mapping) and a
level's ``value_sd`` (for the robust mode).

Every problem is reported with its JSON path (``candidates.3.levels.0.annual: must
be >= 0``) through :class:`ssaplan.core.errors.Invalid`; nothing is returned unless
the whole file is valid. Reference data lives elsewhere: the caller passes the known
account and country codes and a region mapping; without them any uppercase code
is accepted and regions come from the file.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ssaplan.allocation.engine.model import AllocationProblem
from ssaplan.allocation.scenario_parts import (
    TOP,
    Eligible,
    Errors,
    Limits,
    Regions,
    TooMany,
    candidates_of,
    check_code,
    check_keys,
    floors_of,
    number,
    restrictions_of,
    years_table,
)
from ssaplan.core.errors import BadRequest, Detail, Invalid

__all__ = ["Eligible", "Limits", "Regions", "Scenario", "load_scenario", "parse_scenario"]


@dataclass(frozen=True)
class Scenario:
    """A validated scenario: the problem the optimizer solves, plus its history of
    what-ifs (``changes``, in the order applied)."""

    name: str
    problem: AllocationProblem
    changes: tuple[str, ...] = ()

    def with_problem(self, problem: AllocationProblem, change: str) -> Scenario:
        name = f"{self.name}; {change}"
        return Scenario(name, replace(problem, name=name), (*self.changes, change))

    def as_dict(self) -> dict[str, Any]:
        """The scenario in the file format (a saved what-if reads back the same)."""
        p = self.problem
        regions: dict[str, dict[str, str]] = {}
        for f in p.floors:
            for country in sorted(f.countries):
                regions.setdefault(f.scheme, {})[country] = f.region
        out: dict[str, Any] = {
            "name": self.name,
            "fiscal_years": list(p.fiscal_years),
            "accounts": {a: {str(y): int(v) for y, v in b.items()} for a, b in p.budgets.items()},
            "reserve_share": p.reserve_share,
            "absorptive_capacity": {
                c: {str(y): int(v) for y, v in b.items()} for c, b in p.absorptive_capacity.items()
            },
            "regional_floors": [
                {"scheme": f.scheme, "region": f.region, "min_share": f.min_share} for f in p.floors
            ],
            "candidates": [
                {
                    "id": c.id,
                    "country": c.country,
                    "account": c.account,
                    "fiscal_years": list(c.fiscal_years),
                    "must_fund": c.must_fund,
                    "requires": list(c.requires),
                    "levels": [
                        {"annual": lv.annual, "value": lv.value}
                        | ({"value_sd": lv.value_sd} if lv.value_sd else {})
                        for lv in c.levels
                    ],
                }
                for c in p.candidates
            ],
        }
        if p.blocked:
            out["restrictions"] = [
                {"country": c, "account": a, "fiscal_years": [y]} for c, a, y in sorted(p.blocked)
            ]
        if p.crisis_draws:
            out["crisis_draws"] = {
                a: {str(y): int(v) for y, v in b.items()} for a, b in p.crisis_draws.items()
            }
        if regions:
            out["regions"] = regions
        return out


def load_scenario(path: str | Path, **kwargs: Any) -> Scenario:
    """Read and parse a scenario file; ``kwargs`` as :func:`parse_scenario`."""
    limits: Limits = kwargs.get("limits") or Limits()
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > limits.file_bytes:
            raise BadRequest(
                f"{p.name} is {size / 2**20:.1f} MB; scenario files are limited to "
                f"{limits.file_bytes / 2**20:.0f} MB"
            )
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise BadRequest(f"cannot read scenario {p}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise BadRequest(f"{p.name}: the scenario file is not UTF-8 text") from exc
    return parse_scenario(text, **kwargs)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def parse_json(text: str, limits: Limits | None = None) -> Any:
    """JSON text to Python, refusing NaN/Infinity, duplicate keys and oversize input."""
    limits = limits or Limits()
    if len(text) > limits.file_bytes:
        raise BadRequest(f"scenario is larger than the {limits.file_bytes / 2**20:.0f} MB limit")
    duplicates: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    try:
        data = json.loads(text, object_pairs_hook=pairs, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise Invalid(
            "the scenario is not valid JSON",
            [Detail((f"line {exc.lineno}", f"column {exc.colno}"), exc.msg)],
        ) from exc
    except ValueError as exc:
        raise Invalid("the scenario is not valid JSON", [Detail((), str(exc))]) from exc
    if duplicates:
        raise Invalid(
            "the scenario is not valid JSON",
            [Detail((), f"duplicate key {k!r} in an object") for k in duplicates[:10]],
        )
    return data


def parse_scenario(
    source: str | bytes | Mapping[str, Any],
    *,
    known_accounts: Collection[str] | None = None,
    known_countries: Collection[str] | None = None,
    regions: Regions | None = None,
    eligible: Eligible | None = None,
    limits: Limits | None = None,
) -> Scenario:
    """Validate a scenario (JSON text or an already-decoded dict).

    Parameters
    ----------
    source : str, bytes or mapping
    known_accounts, known_countries : collection of str, optional
        Codes reference data knows; default: any uppercase code.
    regions : callable or mapping, optional
        ``regions(scheme, country) -> region | regions | None`` or
        ``{scheme: {country: region}}``; resolves each floor's member countries.
        Default: the file's ``regions`` field.
    eligible : callable, optional
        ``eligible(country, account, fiscal_year) -> bool``; where it says False, no
        money may flow (added to the file's ``restrictions``).
    limits : Limits, optional

    Raises
    ------
    Invalid
        With one :class:`~ssaplan.core.errors.Detail` (JSON path, reason) per problem.
    """
    limits = limits or Limits()
    if isinstance(source, bytes):
        source = source.decode("utf-8-sig")
    data = parse_json(source, limits) if isinstance(source, str) else source
    errors = Errors(limits.max_errors)
    try:
        scenario = _parse(data, errors, known_accounts, known_countries, regions, eligible, limits)
    except TooMany:
        scenario = None
    if errors.items or scenario is None:
        more = " (first problems only)" if len(errors.items) >= limits.max_errors else ""
        raise Invalid(f"invalid scenario{more}", errors.items)
    return scenario


def _parse(
    data: Any,
    e: Errors,
    known_accounts: Collection[str] | None,
    known_countries: Collection[str] | None,
    regions: Regions | None,
    eligible: Eligible | None,
    limits: Limits,
) -> Scenario | None:
    if not isinstance(data, dict):
        e.add((), "a scenario must be a JSON object")
        return None
    check_keys(data, TOP, (), e)
    for key in ("fiscal_years", "accounts", "candidates"):
        if key not in data:
            e.add((key,), "missing")
    name = data.get("name", "scenario")
    if not isinstance(name, str) or not name.strip():
        e.add(("name",), "must be a non-empty string")
        name = "scenario"
    # fiscal years
    raw_years = data.get("fiscal_years", [])
    years: list[int] = []
    if not isinstance(raw_years, list) or not raw_years:
        if "fiscal_years" in data:
            e.add(("fiscal_years",), "must be a non-empty list of fiscal years")
    elif len(raw_years) > limits.fiscal_years:
        e.add(
            ("fiscal_years",), f"{len(raw_years)} fiscal years; the limit is {limits.fiscal_years}"
        )
    else:
        for t, y in enumerate(raw_years):
            if isinstance(y, bool) or not isinstance(y, int) or not 1900 <= y <= 2200:
                e.add(("fiscal_years", t), "must be a fiscal year such as 2027")
            elif y in years:
                e.add(("fiscal_years", t), f"FY{y} is listed twice")
            else:
                years.append(y)
    year_set = set(years)
    # accounts
    budgets: dict[str, dict[int, int]] = {}
    raw_accounts = data.get("accounts", {})
    if not isinstance(raw_accounts, dict) or (not raw_accounts and "accounts" in data):
        e.add(("accounts",), 'must be a non-empty object of account -> {"fiscal year": dollars}')
        raw_accounts = {}
    for code, table in raw_accounts.items():
        if check_code(code, ("accounts", code), e, known_accounts, "account") is None:
            continue
        parsed = years_table(table, ("accounts", code), e, year_set, complete=True)
        if parsed is not None:
            budgets[code] = parsed
    reserve = number(data.get("reserve_share", 0.0), ("reserve_share",), e, hi=1.0) or 0.0
    # absorptive capacity
    capacity: dict[str, dict[int, int]] = {}
    raw_capacity = data.get("absorptive_capacity", {})
    if not isinstance(raw_capacity, dict):
        e.add(("absorptive_capacity",), 'must be an object of country -> {"fiscal year": dollars}')
        raw_capacity = {}
    for code, table in raw_capacity.items():
        if check_code(code, ("absorptive_capacity", code), e, known_countries, "country") is None:
            continue
        parsed = years_table(table, ("absorptive_capacity", code), e, year_set, complete=False)
        if parsed is not None:
            capacity[code] = parsed
    # crisis draws
    draws: dict[str, dict[int, int]] = {}
    raw_draws = data.get("crisis_draws", {})
    if not isinstance(raw_draws, dict):
        e.add(("crisis_draws",), 'must be an object of account -> {"fiscal year": dollars}')
        raw_draws = {}
    for code, table in raw_draws.items():
        if code not in raw_accounts:
            e.add(
                ("crisis_draws", code),
                f"unknown account {code!r}: not among the scenario's accounts",
            )
            continue
        parsed = years_table(table, ("crisis_draws", code), e, year_set, complete=False)
        if parsed:
            draws[code] = parsed
    candidates = candidates_of(data, e, raw_accounts, known_countries, year_set, limits)
    blocked = restrictions_of(data, e, known_countries, known_accounts, raw_accounts, years)
    floors = floors_of(data, e, regions, candidates, capacity)
    if e.items:
        return None
    assert candidates is not None  # noqa: S101  (no errors means every candidate parsed)
    if eligible is not None:
        for c in candidates:
            for y in c.fiscal_years:
                if not eligible(c.country, c.account, y):
                    blocked.add((c.country, c.account, y))
    problem = AllocationProblem(
        fiscal_years=tuple(sorted(years)),
        budgets=budgets,
        candidates=tuple(candidates),
        reserve_share=reserve,
        absorptive_capacity=capacity,
        floors=tuple(floors),
        blocked=frozenset(blocked),
        crisis_draws=draws,
        name=name,
    )
    return Scenario(name=name, problem=problem)
