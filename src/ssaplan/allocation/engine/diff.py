"""What moved between two allocation results, and why.

:func:`diff_results` compares a baseline result with another (a what-if): each
candidate added, dropped, or moved to another level, with the differences between
the two problems that touch it (its account's budget in its years, its partner's
capacity, a new restriction, a requirement that dropped, its own values) and, for
drops, where its value per dollar ranked: "C17 dropped: FMF FY2028 budget cut by 10%;
its value per dollar was the lowest of the 12 funded FMF candidates".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ssaplan.allocation.engine.model import AllocationProblem
from ssaplan.allocation.engine.result import AllocationResult, money, round_value


@dataclass(frozen=True)
class Move:
    """One candidate whose funding differs between two results."""

    id: str
    change: str  # added, dropped, level up, level down
    before: int | None  # annual dollars
    after: int | None
    reasons: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "change": self.change,
            "annual_before": self.before,
            "annual_after": self.after,
            "reasons": list(self.reasons),
        }

    def sentence(self) -> str:
        if self.change == "added":
            head = f"{self.id} added at {money(self.after or 0)}/yr"
        elif self.change == "dropped":
            head = f"{self.id} dropped (was {money(self.before or 0)}/yr)"
        else:
            head = (
                f"{self.id} {self.change}: {money(self.before or 0)} -> {money(self.after or 0)}/yr"
            )
        return f"{head}: {'; '.join(self.reasons)}" if self.reasons else head


@dataclass(frozen=True)
class ResultDiff:
    """What moved between a baseline result and another, and why."""

    before: str
    after: str
    objective_before: float | None
    objective_after: float | None
    changes: tuple[str, ...]  # what differs between the two problems
    moves: tuple[Move, ...]

    def summary(self) -> str:
        ob, oa = self.objective_before, self.objective_after
        lines = [f"{self.before!r} -> {self.after!r}"]
        if ob is not None and oa is not None:
            lines[0] += f": value {ob:,.4g} -> {oa:,.4g} ({oa - ob:+,.4g})"
        lines += [f"  changed: {c}" for c in self.changes]
        lines += [f"  {m.sentence()}" for m in self.moves] or ["  no funding decision moved"]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "before": self.before,
            "after": self.after,
            "objective_before": round_value(self.objective_before),
            "objective_after": round_value(self.objective_after),
            "changes": list(self.changes),
            "moves": [m.as_dict() for m in self.moves],
        }


def _pct(before: float, after: float) -> str:
    if before == 0:
        return f"from {money(before)} to {money(after)}"
    change = 100 * (after - before) / before
    verb = "cut" if change < 0 else "increased"
    return f"{verb} by {abs(change):.3g}%"


def problem_changes(p0: AllocationProblem, p1: AllocationProblem) -> dict[tuple[Any, ...], str]:
    """What differs between two problems, keyed by what it touches."""
    out: dict[tuple[Any, ...], str] = {}
    for a in sorted(set(p0.budgets) | set(p1.budgets)):
        for y in p1.fiscal_years:
            g0, g1 = p0.gross(a, y), p1.gross(a, y)
            v0, v1 = p0.available(a, y), p1.available(a, y)
            if g0 != g1:
                out[("account", a, y)] = f"{a} FY{y} budget {_pct(g0, g1)}"
            elif v0 != v1:
                d0, d1 = p0.crisis_draw(a, y), p1.crisis_draw(a, y)
                held = money(p1.reserve(a, y))
                cause = (
                    f"a crisis draws {money(d1)} from {a} FY{y} (the reserve holds {held})"
                    if d1 != d0
                    else f"the reserve share went from {p0.reserve_share:.0%} "
                    f"to {p1.reserve_share:.0%}"
                )
                out[("account", a, y)] = (
                    f"{cause}: {a} FY{y} available {_pct(v0, v1)} ({money(v0)} -> {money(v1)})"
                )
    for c in sorted(set(p0.absorptive_capacity) | set(p1.absorptive_capacity)):
        for y in p1.fiscal_years:
            k0, k1 = p0.capacity(c, y), p1.capacity(c, y)
            if k0 != k1:
                text = (
                    f"{c} absorptive capacity in FY{y} {_pct(k0, k1)}"
                    if k0 is not None and k1 is not None
                    else f"{c} absorptive capacity in FY{y} now "
                    + ("unlimited" if k1 is None else money(k1))
                )
                out[("country", c, y)] = text
    for country, account, y in sorted(p1.blocked - p0.blocked):
        out[("blocked", country, account, y)] = (
            f"a new restriction blocks {account} funds for {country} in FY{y}"
        )
    for country, account, y in sorted(p0.blocked - p1.blocked):
        out[("blocked", country, account, y)] = (
            f"the restriction on {account} funds for {country} in FY{y} was lifted"
        )
    index0 = {c.id: c for c in p0.candidates}
    for cand in p1.candidates:
        old = index0.get(cand.id)
        if old is not None and old.levels != cand.levels:
            out[("candidate", cand.id)] = f"{cand.id}'s levels or values changed"
        if old is not None and old.must_fund != cand.must_fund:
            out[("candidate-must", cand.id)] = (
                f"{cand.id} is {'now' if cand.must_fund else 'no longer'} must-fund"
            )
    f0 = {(f.scheme, f.region): f.min_share for f in p0.floors}
    for f in p1.floors:
        if f0.get((f.scheme, f.region)) != f.min_share:
            out[("floor", f.scheme, f.region)] = f"the {f.label} floor is now {f.min_share:.0%}"
    return out


def _ratio_note(
    problem: AllocationProblem, result: AllocationResult, candidate_id: str
) -> str | None:
    """Where the candidate's value per dollar ranks among what its account funds."""
    k = problem.compiled
    i = k.index[candidate_id]
    level = result.choice[i]
    if level < 0:
        return None
    col = int(k.first_col[i] + level)
    ratio = k.value[col] / max(float(k.total_cost[col]), 1.0)
    peers = [
        j
        for j in range(k.n)
        if result.choice[j] >= 0
        and k.account_of[j] == k.account_of[i]
        and (k.active[j] & k.active[i]).any()
    ]
    ratios = sorted(
        k.value[k.first_col[j] + result.choice[j]]
        / max(float(k.total_cost[k.first_col[j] + result.choice[j]]), 1.0)
        for j in peers
    )
    if len(ratios) < 2:
        return None
    account = problem.candidates[i].account
    if ratio <= ratios[0]:
        return (
            f"its value per dollar was the lowest of the {len(ratios)} funded {account} candidates"
        )
    rank = sum(r < ratio for r in ratios)
    if rank < len(ratios) / 4:
        return f"its value per dollar was in the lowest quarter of funded {account} candidates"
    return None


def _no_room(
    problem: AllocationProblem,
    result: AllocationResult,
    candidate_id: str,
    annual: int,
    grew: set[str],
) -> list[str]:
    """Which limit of the second result would break if the candidate kept its
    earlier level, and who took the room (candidates added or moved up there)."""
    from ssaplan.allocation.engine.greedy import spend

    k = problem.compiled
    i = k.index[candidate_id]
    choice = np.asarray(result.choice, dtype=np.int64)
    by_account, by_country, by_candidate = spend(k, choice)
    now = 0 if choice[i] < 0 else int(k.annual[k.first_col[i] + choice[i]])
    extra = annual - now
    cand = problem.candidates[i]
    a, c = int(k.account_of[i]), int(k.country_of[i])
    out: list[str] = []
    for t in np.flatnonzero(k.active[i]):
        year = k.years[t]
        takers = [
            other.id
            for j, other in enumerate(problem.candidates)
            if other.id in grew and k.active[j, t]
        ]
        if by_account[a, t] + extra > k.available[a, t]:
            who = [x for x in takers if problem.candidate(x).account == cand.account]
            out.append(
                f"{cand.account} FY{year} has no room left for it"
                + (f" ({', '.join(who[:3])} took it)" if who else "")
            )
            break
        if by_country[c, t] + extra > k.capacity[c, t]:
            who = [x for x in takers if problem.candidate(x).country == cand.country]
            out.append(
                f"{cand.country}'s absorptive capacity in FY{year} is full"
                + (f" ({', '.join(who[:3])} took it)" if who else "")
            )
            break
    if not out:
        total = by_candidate.sum(axis=0)
        for f, floor in enumerate(problem.floors):
            if k.in_floor[f, i] or floor.min_share <= 0:
                continue
            region = by_candidate[k.in_floor[f]].sum(axis=0)
            for t in np.flatnonzero(k.active[i]):
                if region[t] < floor.min_share * (total[t] + extra) - 1:
                    out.append(f"keeping it would break the {floor.label} floor in FY{k.years[t]}")
                    return out
    return out


def diff_results(
    before_problem: AllocationProblem,
    before: AllocationResult,
    after_problem: AllocationProblem,
    after: AllocationResult,
) -> ResultDiff:
    """Candidates moved in, out, up or down, each with the changes that touch it."""
    changes = problem_changes(before_problem, after_problem)
    b = {c.id: c for c in before.chosen}
    a = {c.id: c for c in after.chosen}
    moves: list[Move] = []
    dropped = [cid for cid in b if cid not in a]
    grew = {cid for cid, ch in a.items() if cid not in b or ch.annual > b[cid].annual}
    for c in after_problem.candidates:
        cb, ca = b.get(c.id), a.get(c.id)
        if cb is None and ca is None:
            continue
        if cb is not None and ca is not None and cb.annual == ca.annual:
            continue
        if cb is None:
            change = "added"
        elif ca is None:
            change = "dropped"
        else:
            change = "level up" if ca.annual > cb.annual else "level down"
        reasons = [
            text
            for key, text in changes.items()
            if (key[0] == "account" and key[1] == c.account and key[2] in c.fiscal_years)
            or (key[0] == "country" and key[1] == c.country and key[2] in c.fiscal_years)
            or (
                key[0] == "blocked"
                and key[1:3] == (c.country, c.account)
                and key[3] in c.fiscal_years
            )
            or (key[0] in ("candidate", "candidate-must") and key[1] == c.id)
        ]
        for r in c.requires:
            if r in b and r not in a:
                reasons.append(f"{r}, which it requires, dropped")
        if change in ("dropped", "level down") and c.id in {
            x.id for x in before_problem.candidates
        }:
            note = _ratio_note(before_problem, before, c.id)
            if note:
                reasons.append(note)
        if change in ("added", "level up") and not reasons:
            freed = [d for d in dropped if before_problem.candidate(d).account == c.account]
            if freed:
                reasons.append(f"uses {c.account} money freed by {', '.join(freed[:3])}")
        direct = any("restriction" in r or "which it requires" in r for r in reasons)
        if change in ("dropped", "level down") and cb is not None and not direct:
            reasons += _no_room(after_problem, after, c.id, cb.annual, grew)
        if not reasons:
            reasons.append("knock-on effect of the other moves under the same limits")
        moves.append(
            Move(
                c.id,
                change,
                None if cb is None else cb.annual,
                None if ca is None else ca.annual,
                tuple(reasons),
            )
        )
    return ResultDiff(
        before=before.name,
        after=after.name,
        objective_before=before.objective,
        objective_after=after.objective,
        changes=tuple(changes.values()),
        moves=tuple(moves),
    )
