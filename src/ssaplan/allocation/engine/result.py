"""What an allocation returns: immutable results with ``summary()`` and ``as_dict()``.

``as_dict()`` is the JSON contract of ``ssaplan allocate --json`` (docs/allocation.md):
money in whole dollars, values rounded to 6 decimals, shares to 4, shadow prices to
4 significant digits.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ssaplan.allocation.engine.model import AllocationProblem, IntArray, choice_objective

SHADOW_PRICE_BASIS = "LP relaxation at the optimal integer choice"
SHADOW_PRICE_UNIT = "value per dollar"


def round_value(x: float | None, digits: int = 6) -> float | None:
    """A value without float noise (28.000000000000004 -> 28.0); None and inf pass."""
    if x is None or not math.isfinite(x):
        return None if x is None else x
    out = round(float(x), digits)
    return 0.0 if out == 0 else out


def significant(x: float | None, digits: int = 4) -> float | None:
    if x is None or not math.isfinite(x):
        return x
    return 0.0 if x == 0 else float(f"{x:.{digits}g}")


def money(x: float) -> str:
    """Dollars for people: $1.25M, $950k, $400."""
    a = abs(x)
    if a >= 1e9:
        text = f"${a / 1e9:.3g}B"
    elif a >= 1e6:
        text = f"${a / 1e6:.4g}M"
    elif a >= 1e4:
        text = f"${a / 1e3:.4g}k"
    else:
        text = f"${a:,.0f}"
    return ("-" if x < 0 else "") + text


@dataclass(frozen=True)
class Choice:
    """One funded candidate: its level (0-based, in the order given), annual dollars, value."""

    id: str
    level: int
    annual: int
    value: float

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "annual": self.annual, "value": round_value(self.value)}


@dataclass(frozen=True)
class BudgetLine:
    """One account's fiscal year: dollars used, available after the reserve (and any
    crisis draw beyond it), and the value of one more dollar (None if not computed)."""

    account: str
    fiscal_year: int
    used: int
    available: int
    reserve: int
    shadow_price: float | None


@dataclass(frozen=True)
class CapacityLine:
    """A limited partner's fiscal year: dollars used against its absorptive capacity."""

    country: str
    fiscal_year: int
    used: int
    capacity: int


@dataclass(frozen=True)
class GreedyComparison:
    """The spreadsheet ranking on the same problem, and what the optimizer adds."""

    objective: float | None
    funded: int
    violations: tuple[str, ...]
    improvement: float | None
    ratio: float | None

    @property
    def feasible(self) -> bool:
        return not self.violations

    def as_dict(self) -> dict[str, Any]:
        return {
            "objective": round_value(self.objective),
            "feasible": self.feasible,
            "funded": self.funded,
            "violations": list(self.violations[:10]),
            "improvement": round_value(self.improvement),
            "ratio": round_value(self.ratio, 4),
        }


@dataclass(frozen=True)
class Finding:
    """One reason a problem is infeasible, in words a planner can act on.

    ``kind`` is budget, capacity, eligibility, dependency, floor or conflict;
    ``where`` names the account, country, fiscal year or candidates involved.
    """

    kind: str
    message: str
    where: tuple[tuple[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message, **dict(self.where)}


@dataclass(frozen=True)
class AllocationResult:
    """The optimizer's answer for one problem.

    ``status`` is ``optimal`` (proven within ``gap_tolerance`` of the optimum; ``gap``
    says by how much exactly), ``feasible`` (stopped at the time limit; ``gap`` is the
    proven distance to the optimum), ``infeasible`` (``findings`` say why) or
    ``unknown`` (time ran out before any choice was found).
    """

    name: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    gap_tolerance: float
    choice: tuple[int, ...]
    chosen: tuple[Choice, ...]
    budgets: tuple[BudgetLine, ...]
    capacity: tuple[CapacityLine, ...]
    greedy: GreedyComparison | None
    findings: tuple[Finding, ...]
    seconds: float
    nodes: int
    time_limit: float
    warm_start: str | None
    source: str | None = None
    phases: tuple[tuple[str, float], ...] = ()

    def level_of(self, candidate_id: str) -> int | None:
        for c in self.chosen:
            if c.id == candidate_id:
                return c.level
        return None

    def summary(self) -> str:
        lines = [f"allocation {self.name!r}: {self.status}"]
        if self.status == "infeasible":
            lines += [f"  - {f.message}" for f in self.findings] or ["  (no single cause found)"]
            return "\n".join(lines)
        if self.objective is None:
            lines.append(f"  no choice found within {self.time_limit:g} s")
            return "\n".join(lines)
        spent = sum(b.used for b in self.budgets)
        lines.append(
            f"  value {self.objective:,.4g}, {len(self.chosen)} candidates funded, "
            f"{money(spent)} over all years; proven within {100 * (self.gap or 0):.3f}% "
            f"of the optimum ({self.seconds:.1f} s)"
        )
        shown = ", ".join(f"{c.id} {money(c.annual)}" for c in self.chosen[:12])
        more = f" and {len(self.chosen) - 12} more" if len(self.chosen) > 12 else ""
        lines.append(f"  funded (per year): {shown}{more}")
        if self.greedy is not None:
            if self.greedy.feasible and self.greedy.objective:
                share = 100 * (self.greedy.ratio or 0)
                lines.append(
                    f"  greedy ranking by value per dollar: {self.greedy.objective:,.4g} "
                    f"({share:.1f}% of this; +{self.greedy.improvement or 0:,.4g})"
                )
            else:
                lines.append(f"  greedy ranking fails: {'; '.join(self.greedy.violations[:2])}")
        lines.append("  account  FY     used / available         shadow price (value per $1M)")
        for b in self.budgets:
            price = "" if b.shadow_price is None else f"{b.shadow_price * 1e6:.4g}"
            used, available = money(b.used), money(b.available)
            lines.append(
                f"  {b.account:<8} {b.fiscal_year}  {used:>9} / {available:<9}  {price:>10}"
            )
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        budgets: dict[str, dict[str, Any]] = {}
        for b in self.budgets:
            budgets.setdefault(b.account, {})[str(b.fiscal_year)] = {
                "used": b.used,
                "available": b.available,
                "reserve": b.reserve,
                "shadow_price": significant(b.shadow_price),
            }
        capacity: dict[str, dict[str, Any]] = {}
        for c in self.capacity:
            capacity.setdefault(c.country, {})[str(c.fiscal_year)] = {
                "used": c.used,
                "capacity": c.capacity,
            }
        return {
            "name": self.name,
            "status": self.status,
            "objective": round_value(self.objective),
            "bound": round_value(self.bound),
            "gap": round_value(self.gap),
            "gap_tolerance": self.gap_tolerance,
            "chosen": [c.as_dict() for c in self.chosen],
            "budgets": budgets,
            "shadow_price_basis": SHADOW_PRICE_BASIS,
            "shadow_price_unit": SHADOW_PRICE_UNIT,
            "absorptive_capacity": capacity,
            "greedy": None if self.greedy is None else self.greedy.as_dict(),
            "infeasibility": [f.as_dict() for f in self.findings],
            "solver": {
                "name": "HiGHS",
                "seconds": round(self.seconds, 3),
                "nodes": self.nodes,
                "time_limit": self.time_limit,
                "warm_start": self.warm_start,
                "found_by": self.source,
                "phases": {name: round(sec, 3) for name, sec in self.phases},
            },
        }


class _Settings(Protocol):
    mip_rel_gap: float
    time_limit: float


def build_result(
    problem: AllocationProblem,
    status: str,
    *,
    settings: _Settings,
    greedy: Any,
    choice: IntArray | None = None,
    bound: float | None = None,
    gap: float | None = None,
    findings: tuple[Finding, ...] | list[Finding] = (),
    prices: Mapping[tuple[int, ...], float] | None = None,
    seconds: float = 0.0,
    nodes: int = 0,
    warm_start: str | None = None,
    source: str | None = None,
    phases: Mapping[str, float] | None = None,
) -> AllocationResult:
    """Assemble a result from a choice (level per candidate, -1 unfunded)."""
    from ssaplan.allocation.engine.greedy import spend

    k = problem.compiled
    prices = prices or {}
    objective = None if choice is None else choice_objective(k, choice)
    if choice is None:
        choice = np.full(k.n, -1, dtype=np.int64)
    by_account, by_country, _ = spend(k, choice)
    chosen = tuple(
        Choice(
            c.id,
            int(choice[i]),
            c.levels[int(choice[i])].annual,
            c.levels[int(choice[i])].value,
        )
        for i, c in enumerate(problem.candidates)
        if choice[i] >= 0
    )
    budgets = tuple(
        BudgetLine(
            account=a,
            fiscal_year=y,
            used=int(by_account[ai, t]),
            available=int(k.available[ai, t]),
            reserve=problem.reserve(a, y),
            shadow_price=prices.get((ai, t)) if status in ("optimal", "feasible") else None,
        )
        for ai, a in enumerate(k.accounts)
        for t, y in enumerate(k.years)
    )
    capacity = tuple(
        CapacityLine(country, y, int(by_country[ci, t]), int(k.capacity[ci, t]))
        for ci, country in enumerate(k.countries)
        for t, y in enumerate(k.years)
        if math.isfinite(k.capacity[ci, t])
    )
    comparison = None
    if greedy is not None:
        improvement = ratio = None
        if objective is not None and greedy.feasible:
            improvement = objective - greedy.objective
            ratio = greedy.objective / objective if objective else 1.0
        comparison = GreedyComparison(
            objective=greedy.objective if greedy.feasible else None,
            funded=int((greedy.choice >= 0).sum()),
            violations=greedy.violations,
            improvement=improvement,
            ratio=ratio,
        )
    return AllocationResult(
        name=problem.name,
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        gap_tolerance=settings.mip_rel_gap,
        choice=tuple(int(c) for c in choice),
        chosen=chosen,
        budgets=budgets,
        capacity=capacity,
        greedy=comparison,
        findings=tuple(findings),
        seconds=seconds,
        nodes=nodes,
        time_limit=settings.time_limit,
        warm_start=warm_start,
        source=source,
        phases=tuple((phases or {}).items()),
    )
