"""The allocation problem as data: candidates, levels, budgets, limits, and its arrays.

A candidate is a program (existing or proposed) that may be funded at one of its
levels. A chosen level costs its ``annual`` amount in each of the candidate's fiscal
years, from the candidate's account, in the candidate's partner country; its
``value`` counts once. :class:`AllocationProblem` holds everything the optimizer
needs, already resolved: budgets by account and fiscal year, the crisis reserve
share, absorptive capacity by partner and year, blocked (country, account, year)
triples, and regional floors with their member countries. Nothing here reads files
or reference data; :mod:`ssaplan.allocation.scenario` builds problems from JSON.

:meth:`AllocationProblem.compiled` turns the problem into flat numpy arrays once
(one column per candidate level) for the solver, the greedy pass and the checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ssaplan.core.errors import Detail, Invalid

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
BoolArray = NDArray[np.bool_]

#: A restriction: no money for this country from this account in this fiscal year.
Blocked = tuple[str, str, int]


@dataclass(frozen=True)
class Level:
    """One way to fund a candidate: ``annual`` dollars in each of its fiscal years for
    ``value`` (expected contribution to objectives, counted once). ``value_sd`` is the
    standard deviation of that value, used only by the robust mode."""

    annual: int
    value: float
    value_sd: float = 0.0


@dataclass(frozen=True)
class Candidate:
    """A program that may be funded at one of its ``levels`` (at most one; exactly one
    when ``must_fund``, e.g. a multi-year commitment), only if every candidate in
    ``requires`` is funded too."""

    id: str
    country: str
    account: str
    fiscal_years: tuple[int, ...]
    levels: tuple[Level, ...]
    must_fund: bool = False
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class RegionalFloor:
    """The region's share of each fiscal year's funded total must be at least
    ``min_share``; ``countries`` are the partners the region's scheme puts in it."""

    scheme: str
    region: str
    min_share: float
    countries: frozenset[str] = frozenset()

    @property
    def label(self) -> str:
        return f"{self.region} ({self.scheme})"


def share_fraction(share: float) -> Fraction:
    """A share as the exact decimal it was written as (0.05 is 1/20, not 0.05000000000000000277)."""
    return Fraction(repr(float(share)))


def net_of_reserve(gross: int, reserve_share: float) -> int:
    """Dollars left for programs after holding back the crisis reserve (rounded down)."""
    return math.floor(Fraction(gross) * (1 - share_fraction(reserve_share)))


@dataclass(frozen=True)
class AllocationProblem:
    """Everything one optimization needs, resolved and in dollars.

    Parameters
    ----------
    fiscal_years : tuple of int
        The scenario's fiscal years; every candidate's years are among them.
    budgets : mapping account -> fiscal year -> int
        Appropriated dollars by account and year, before the reserve.
    candidates : tuple of Candidate
        Ids unique; accounts among ``budgets``.
    reserve_share : float, default 0
        Share of every account's budget held back for short-notice requirements.
    absorptive_capacity : mapping country -> fiscal year -> int
        Most a partner can absorb in a year, across accounts. A country (or a year of
        it) without an entry is not limited.
    floors : tuple of RegionalFloor
    blocked : frozenset of (country, account, fiscal year)
        Where a restriction forbids funding; a candidate blocked in any of its years
        cannot be funded (the compliance domain feeds this).
    crisis_draws : mapping account -> fiscal year -> int
        Dollars a crisis takes from the account in that year. The reserve absorbs
        them first; any excess comes out of the money for programs.
    name : str
    """

    fiscal_years: tuple[int, ...]
    budgets: Mapping[str, Mapping[int, int]]
    candidates: tuple[Candidate, ...]
    reserve_share: float = 0.0
    absorptive_capacity: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    floors: tuple[RegionalFloor, ...] = ()
    blocked: frozenset[Blocked] = frozenset()
    crisis_draws: Mapping[str, Mapping[int, int]] = field(default_factory=dict)
    name: str = ""

    def __post_init__(self) -> None:
        problems: list[Detail] = []
        years = set(self.fiscal_years)
        if not 0 <= self.reserve_share <= 1:
            problems.append(Detail(("reserve_share",), "must be between 0 and 1"))
        seen: set[str] = set()
        for i, c in enumerate(self.candidates):
            where: tuple[str | int, ...] = ("candidates", i)
            if c.id in seen:
                problems.append(Detail((*where, "id"), f"duplicate id {c.id!r}"))
            seen.add(c.id)
            if c.account not in self.budgets:
                problems.append(Detail((*where, "account"), f"no budget for {c.account!r}"))
            if not c.fiscal_years or not set(c.fiscal_years) <= years:
                problems.append(Detail((*where, "fiscal_years"), "outside the problem's years"))
            if not c.levels:
                problems.append(Detail((*where, "levels"), "needs at least one level"))
            for k, level in enumerate(c.levels):
                if level.annual < 0 or not math.isfinite(level.value):
                    problems.append(
                        Detail((*where, "levels", k), "annual must be >= 0, value finite")
                    )
        for f, floor in enumerate(self.floors):
            if not 0 <= floor.min_share <= 1:
                problems.append(Detail(("floors", f, "min_share"), "must be between 0 and 1"))
        if problems:
            raise Invalid("invalid allocation problem", problems)

    # -- money --------------------------------------------------------------------
    def gross(self, account: str, fiscal_year: int) -> int:
        return int(self.budgets.get(account, {}).get(fiscal_year, 0))

    def reserve(self, account: str, fiscal_year: int) -> int:
        """Dollars of the account's year held back as the crisis reserve."""
        gross = self.gross(account, fiscal_year)
        return gross - net_of_reserve(gross, self.reserve_share)

    def crisis_draw(self, account: str, fiscal_year: int) -> int:
        return int(self.crisis_draws.get(account, {}).get(fiscal_year, 0))

    def available(self, account: str, fiscal_year: int) -> int:
        """Dollars programs may use: budget less the reserve, less any crisis draw
        beyond the reserve."""
        gross = self.gross(account, fiscal_year)
        net = net_of_reserve(gross, self.reserve_share)
        excess = max(0, self.crisis_draw(account, fiscal_year) - (gross - net))
        return max(0, net - excess)

    def capacity(self, country: str, fiscal_year: int) -> int | None:
        """The partner's absorptive capacity in that year, None if not limited."""
        entry = self.absorptive_capacity.get(country)
        if entry is None or fiscal_year not in entry:
            return None
        return int(entry[fiscal_year])

    # -- derived problems ----------------------------------------------------------
    def with_values(self, values: Iterable[float]) -> AllocationProblem:
        """The same problem with every level's value replaced (flat, candidate order)."""
        flat = [float(v) for v in values]
        if len(flat) != self.compiled.n_levels:
            raise ValueError(f"expected {self.compiled.n_levels} values, got {len(flat)}")
        it = iter(flat)
        candidates = tuple(
            replace(c, levels=tuple(replace(level, value=next(it)) for level in c.levels))
            for c in self.candidates
        )
        return replace(self, candidates=candidates)

    def with_eligibility(self, eligible: Callable[[str, str, int], bool]) -> AllocationProblem:
        """The same problem with every (country, account, year) of a candidate that
        ``eligible`` refuses added to ``blocked`` (the compliance domain's hook)."""
        refused = {
            (c.country, c.account, y)
            for c in self.candidates
            for y in c.fiscal_years
            if not eligible(c.country, c.account, y)
        }
        return replace(self, blocked=self.blocked | frozenset(refused))

    def candidate(self, candidate_id: str) -> Candidate:
        return self.candidates[self.compiled.index[candidate_id]]

    @cached_property
    def compiled(self) -> Compiled:
        """The problem as flat arrays, computed once."""
        return Compiled.build(self)

    def __getstate__(self) -> dict[str, Any]:
        # The arrays are cheap to rebuild; do not ship them to worker processes.
        state = dict(self.__dict__)
        state.pop("compiled", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


@dataclass(frozen=True, eq=False)
class Compiled:
    """Flat arrays of a problem: one column per (candidate, level).

    Shapes: ``n`` candidates, ``m`` level columns, ``T`` years, ``A`` accounts,
    ``C`` countries, ``F`` floors.
    """

    years: tuple[int, ...]
    accounts: tuple[str, ...]
    countries: tuple[str, ...]
    index: Mapping[str, int]
    col_candidate: IntArray  # (m,) candidate of each column
    col_level: IntArray  # (m,) level number within its candidate
    annual: IntArray  # (m,) dollars per active year
    value: FloatArray  # (m,)
    value_sd: FloatArray  # (m,)
    first_col: IntArray  # (n + 1,) columns of candidate i are first_col[i]:first_col[i+1]
    active: BoolArray  # (n, T) candidate spends in that year
    account_of: IntArray  # (n,)
    country_of: IntArray  # (n,)
    must_fund: BoolArray  # (n,)
    eligible: BoolArray  # (n,) no restriction blocks any of its years
    requires: tuple[tuple[int, int], ...]  # (i, j): i only if j
    missing_requires: tuple[tuple[int, str], ...]  # (i, unknown id)
    available: IntArray  # (A, T)
    capacity: FloatArray  # (C, T), inf where not limited
    in_floor: BoolArray  # (F, n)

    @property
    def n(self) -> int:
        return len(self.account_of)

    @property
    def n_levels(self) -> int:
        return len(self.annual)

    @property
    def years_count(self) -> IntArray:
        counts: IntArray = self.active.sum(axis=1).astype(np.int64)
        return counts

    @property
    def total_cost(self) -> FloatArray:
        """Dollars over all years of each column (annual x number of years)."""
        out: FloatArray = (self.annual * self.years_count[self.col_candidate]).astype(np.float64)
        return out

    def levels_of(self, i: int) -> range:
        return range(int(self.first_col[i]), int(self.first_col[i + 1]))

    @classmethod
    def build(cls, p: AllocationProblem) -> Compiled:
        years = tuple(p.fiscal_years)
        year_ix = {y: t for t, y in enumerate(years)}
        accounts = tuple(p.budgets)
        account_ix = {a: k for k, a in enumerate(accounts)}
        countries = tuple(sorted({c.country for c in p.candidates} | set(p.absorptive_capacity)))
        country_ix = {c: k for k, c in enumerate(countries)}
        index = {c.id: i for i, c in enumerate(p.candidates)}
        n, big_t = len(p.candidates), len(years)
        sizes = np.array([len(c.levels) for c in p.candidates], dtype=np.int64)
        first_col = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(sizes, out=first_col[1:])
        col_candidate = np.repeat(np.arange(n, dtype=np.int64), sizes)
        col_level = np.concatenate(
            [np.arange(s, dtype=np.int64) for s in sizes] or [np.zeros(0, dtype=np.int64)]
        )
        annual = np.array([lv.annual for c in p.candidates for lv in c.levels], dtype=np.int64)
        value = np.array([lv.value for c in p.candidates for lv in c.levels], dtype=np.float64)
        value_sd = np.array(
            [lv.value_sd for c in p.candidates for lv in c.levels], dtype=np.float64
        )
        active = np.zeros((n, big_t), dtype=np.bool_)
        for i, c in enumerate(p.candidates):
            for y in c.fiscal_years:
                active[i, year_ix[y]] = True
        account_of = np.array([account_ix[c.account] for c in p.candidates], dtype=np.int64)
        country_of = np.array([country_ix[c.country] for c in p.candidates], dtype=np.int64)
        must_fund = np.array([c.must_fund for c in p.candidates], dtype=np.bool_)
        eligible = np.array(
            [
                not any((c.country, c.account, y) in p.blocked for y in c.fiscal_years)
                for c in p.candidates
            ],
            dtype=np.bool_,
        )
        requires: list[tuple[int, int]] = []
        missing: list[tuple[int, str]] = []
        for i, c in enumerate(p.candidates):
            for r in c.requires:
                if r in index:
                    requires.append((i, index[r]))
                else:
                    missing.append((i, r))
        available = np.array(
            [[p.available(a, y) for y in years] for a in accounts], dtype=np.int64
        ).reshape(len(accounts), big_t)
        capacity = np.full((len(countries), big_t), np.inf)
        for c_name, by_year in p.absorptive_capacity.items():
            for y, amount in by_year.items():
                if y in year_ix:
                    capacity[country_ix[c_name], year_ix[y]] = float(amount)
        in_floor = np.array(
            [[c.country in f.countries for c in p.candidates] for f in p.floors], dtype=np.bool_
        ).reshape(len(p.floors), n)
        return cls(
            years=years,
            accounts=accounts,
            countries=countries,
            index=index,
            col_candidate=col_candidate,
            col_level=col_level,
            annual=annual,
            value=value,
            value_sd=value_sd,
            first_col=first_col,
            active=active,
            account_of=account_of,
            country_of=country_of,
            must_fund=must_fund,
            eligible=eligible,
            requires=tuple(requires),
            missing_requires=tuple(missing),
            available=available,
            capacity=capacity,
            in_floor=in_floor,
        )


def choice_objective(compiled: Compiled, choice: IntArray) -> float:
    """Total value of a choice (level per candidate, -1 for not funded)."""
    funded = choice >= 0
    cols = compiled.first_col[:-1][funded] + choice[funded]
    return float(compiled.value[cols].sum())
