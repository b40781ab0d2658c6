"""Scenario what-ifs: pure functions from a scenario to a changed scenario, and a comparison.

Each what-if returns a new :class:`~ssaplan.allocation.scenario.Scenario` whose name
and ``changes`` record what was done; the baseline is untouched. :func:`compare`
solves both and explains what moved (:func:`~ssaplan.allocation.engine.diff.diff_results`).

    cut = change_budget(base, "FMF", percent=-10, fiscal_years=[2028])
    print(compare(base, cut).summary())
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from ssaplan.allocation.engine.diff import ResultDiff, diff_results
from ssaplan.allocation.engine.result import AllocationResult, money
from ssaplan.allocation.engine.solve import AllocationOptimizer
from ssaplan.allocation.scenario import Scenario
from ssaplan.core.errors import BadRequest


def _years(s: Scenario, fiscal_years: Iterable[int] | None) -> tuple[int, ...]:
    years = tuple(s.problem.fiscal_years) if fiscal_years is None else tuple(fiscal_years)
    outside = [y for y in years if y not in s.problem.fiscal_years]
    if outside:
        raise BadRequest(f"FY{outside[0]} is outside the scenario's fiscal years")
    return years


def _span(years: tuple[int, ...], all_years: tuple[int, ...]) -> str:
    if years == tuple(all_years):
        return "all years"
    return ", ".join(f"FY{y}" for y in years)


def _adjust(current: int, percent: float | None, amount: int | None) -> int:
    if (percent is None) == (amount is None):
        raise BadRequest("give either a percent or an amount")
    if percent is not None:
        return max(0, math.floor(current * (1 + percent / 100)))
    return max(0, current + int(amount or 0))


def _how(percent: float | None, amount: int | None) -> str:
    if percent is not None:
        return f"{percent:+g}%"
    return ("+" if (amount or 0) >= 0 else "") + money(amount or 0)


def change_budget(
    s: Scenario,
    account: str,
    *,
    percent: float | None = None,
    amount: int | None = None,
    fiscal_years: Iterable[int] | None = None,
) -> Scenario:
    """Cut or increase an account's budget by ``percent`` (-10 is a 10% cut) or by
    ``amount`` dollars, in the given years (default all); never below zero."""
    p = s.problem
    if account not in p.budgets:
        raise BadRequest(f"unknown account {account!r}: the scenario has {', '.join(p.budgets)}")
    years = _years(s, fiscal_years)
    budgets = {a: dict(b) for a, b in p.budgets.items()}
    for y in years:
        budgets[account][y] = _adjust(p.gross(account, y), percent, amount)
    change = f"{account} budget {_how(percent, amount)} ({_span(years, p.fiscal_years)})"
    return s.with_problem(replace(p, budgets=budgets), change)


def restrict(
    s: Scenario,
    country: str,
    *,
    account: str | None = None,
    fiscal_years: Iterable[int] | None = None,
) -> Scenario:
    """A new restriction: no money for ``country`` from ``account`` (default: any) in
    the given years (default: all)."""
    p = s.problem
    if account is not None and account not in p.budgets:
        raise BadRequest(f"unknown account {account!r}: the scenario has {', '.join(p.budgets)}")
    years = _years(s, fiscal_years)
    accounts = [account] if account else list(p.budgets)
    blocked = set(p.blocked) | {(country, a, y) for a in accounts for y in years}
    change = (
        f"restriction on {country}"
        + (f" ({account})" if account else " (all accounts)")
        + f", {_span(years, p.fiscal_years)}"
    )
    return s.with_problem(replace(p, blocked=frozenset(blocked)), change)


def draw_reserve(s: Scenario, account: str, fiscal_year: int, amount: int) -> Scenario:
    """A crisis takes ``amount`` dollars of ``account`` in ``fiscal_year``: the reserve
    pays first, and programs lose whatever exceeds it."""
    p = s.problem
    if account not in p.budgets:
        raise BadRequest(f"unknown account {account!r}: the scenario has {', '.join(p.budgets)}")
    _years(s, [fiscal_year])
    if amount < 0:
        raise BadRequest("a crisis draw must be >= 0 dollars")
    draws = {a: dict(b) for a, b in p.crisis_draws.items()}
    draws.setdefault(account, {})[fiscal_year] = p.crisis_draw(account, fiscal_year) + int(amount)
    reserve = p.reserve(account, fiscal_year)
    change = f"crisis draws {money(amount)} of {account} FY{fiscal_year} (reserve {money(reserve)})"
    return s.with_problem(replace(p, crisis_draws=draws), change)


def change_capacity(
    s: Scenario,
    country: str,
    *,
    percent: float | None = None,
    amount: int | None = None,
    to: int | None = None,
    fiscal_years: Iterable[int] | None = None,
) -> Scenario:
    """Change a partner's absorptive capacity by ``percent`` or ``amount``, or set it
    ``to`` a level (which also limits a partner that was unlimited)."""
    p = s.problem
    years = _years(s, fiscal_years)
    capacity = {c: dict(b) for c, b in p.absorptive_capacity.items()}
    for y in years:
        current = p.capacity(country, y)
        if to is not None:
            if percent is not None or amount is not None:
                raise BadRequest("give one of percent, amount or to")
            capacity.setdefault(country, {})[y] = max(0, int(to))
        elif current is None:
            raise BadRequest(
                f"{country} has no absorptive capacity limit in FY{y}; set one with to="
            )
        else:
            capacity.setdefault(country, {})[y] = _adjust(current, percent, amount)
    how = f"set to {money(to)}" if to is not None else _how(percent, amount)
    change = f"{country} absorptive capacity {how} ({_span(years, p.fiscal_years)})"
    return s.with_problem(replace(p, absorptive_capacity=capacity), change)


@dataclass(frozen=True)
class Comparison:
    """A baseline and a what-if, solved, with what moved and why."""

    base: AllocationResult
    other: AllocationResult
    diff: ResultDiff

    def summary(self) -> str:
        return self.diff.summary()

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base.as_dict(),
            "other": self.other.as_dict(),
            "diff": self.diff.as_dict(),
        }


def compare(
    base: Scenario, other: Scenario, *, optimizer: AllocationOptimizer | None = None
) -> Comparison:
    """Solve both scenarios with the same optimizer and explain the differences."""
    optimizer = optimizer or AllocationOptimizer()
    r0 = optimizer.solve(base.problem)
    r1 = optimizer.solve(other.problem)
    return Comparison(r0, r1, diff_results(base.problem, r0, other.problem, r1))
