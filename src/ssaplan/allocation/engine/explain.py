"""Why a problem is infeasible, and why two results differ -- in words a planner can act on.

Infeasibility is found first by direct checks on the must-fund set (the must-fund
candidates and, transitively, everything they require), which name the account,
partner, year and dollars: "must-fund candidates need $112M of FMF in FY2028;
$95M is available after the reserve". When no single check explains it (the
constraints conflict only together, or only because programs cannot be split), an
elastic MIP -- the same rows, each allowed to be broken at a price per dollar --
finds the smallest set of relaxations that make the problem feasible, and those
rows are reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ssaplan.allocation.engine.model import AllocationProblem, Compiled, share_fraction
from ssaplan.allocation.engine.result import Finding, money

if TYPE_CHECKING:
    from ssaplan.allocation.engine.formulation import Formulation


def _ids(problem: AllocationProblem, idx: Any, limit: int = 5) -> str:
    names = [problem.candidates[int(i)].id for i in idx]
    more = f" and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def must_fund_closure(k: Compiled) -> tuple[np.ndarray, dict[int, int]]:
    """Candidates that must be funded: must-fund ones and, transitively, what they
    require; with, for each required one, a must-fund candidate that needs it."""
    required_by: dict[int, int] = {}
    need = np.zeros(k.n, dtype=np.bool_)
    stack = [int(i) for i in np.flatnonzero(k.must_fund)]
    need[stack] = True
    requires: dict[int, list[int]] = {}
    for i, j in k.requires:
        requires.setdefault(i, []).append(j)
    while stack:
        i = stack.pop()
        for j in requires.get(i, []):
            if not need[j]:
                need[j] = True
                required_by[j] = required_by.get(i, i)
                stack.append(j)
    return need, required_by


def must_fund_conflicts(problem: AllocationProblem) -> list[Finding]:
    """Direct checks: what the must-fund set alone cannot have."""
    k = problem.compiled
    ids = [c.id for c in problem.candidates]
    need, required_by = must_fund_closure(k)
    out: list[Finding] = []

    def why(i: int) -> str:
        return (
            "must be funded"
            if k.must_fund[i]
            else f"is required by must-fund {ids[required_by[i]]}"
        )

    for i, missing in k.missing_requires:
        if need[i]:
            out.append(
                Finding(
                    "dependency",
                    f"{ids[i]} {why(i)} but requires {missing}, which is not a candidate",
                    (("candidate", ids[i]), ("requires", missing)),
                )
            )
    for b in np.flatnonzero(need & ~k.eligible):
        c = problem.candidates[int(b)]
        years = [y for y in c.fiscal_years if (c.country, c.account, y) in problem.blocked]
        out.append(
            Finding(
                "eligibility",
                f"{c.id} {why(int(b))} but a restriction blocks {c.account} funds for "
                f"{c.country} in {', '.join(f'FY{y}' for y in years)}",
                (("candidate", c.id), ("country", c.country), ("account", c.account)),
            )
        )
    cheapest = np.minimum.reduceat(k.annual, k.first_col[:-1]) if k.n else np.zeros(0)
    need_year = k.active & need[:, None]
    floor_spend = need_year * cheapest[:, None]  # (n, T) least a must-fund spends
    by_account = np.zeros((len(k.accounts), len(k.years)), dtype=np.int64)
    np.add.at(by_account, k.account_of, floor_spend)
    for a, t in zip(*np.nonzero(by_account > k.available), strict=True):
        account, year = k.accounts[a], k.years[t]
        who = np.flatnonzero(need_year[:, t] & (k.account_of == a))
        gross = problem.gross(account, year)
        draw = problem.crisis_draw(account, year)
        after = (
            f"after the reserve ({problem.reserve_share:.0%} of {money(gross)} held back"
            + (f", and a crisis draw of {money(draw)}" if draw else "")
            + ")"
        )
        out.append(
            Finding(
                "budget",
                f"must-fund candidates need {money(by_account[a, t])} of {account} in FY{year}; "
                f"{money(k.available[a, t])} is available {after} ({_ids(problem, who)})",
                (
                    ("account", account),
                    ("fiscal_year", year),
                    ("need", int(by_account[a, t])),
                    ("available", int(k.available[a, t])),
                ),
            )
        )
    by_country = np.zeros((len(k.countries), len(k.years)), dtype=np.int64)
    np.add.at(by_country, k.country_of, floor_spend)
    for c, t in zip(*np.nonzero(by_country > k.capacity), strict=True):
        country, year = k.countries[c], k.years[t]
        who = np.flatnonzero(need_year[:, t] & (k.country_of == c))
        out.append(
            Finding(
                "capacity",
                f"must-fund candidates in {country} need {money(by_country[c, t])} in FY{year}; "
                f"{country} can absorb {money(k.capacity[c, t])} ({_ids(problem, who)})",
                (
                    ("country", country),
                    ("fiscal_year", year),
                    ("need", int(by_country[c, t])),
                    ("capacity", int(k.capacity[c, t])),
                ),
            )
        )
    out += _floor_conflicts(problem, need, floor_spend)
    return out


def _floor_conflicts(problem: AllocationProblem, need: Any, floor_spend: Any) -> list[Finding]:
    """A floor fails when the most its region can get stays below its share of what
    must-fund candidates outside it already spend."""
    k = problem.compiled
    out: list[Finding] = []
    open_ = k.eligible.copy()
    for i, _ in k.missing_requires:
        open_[i] = False
    largest = np.maximum.reduceat(k.annual, k.first_col[:-1]) if k.n else np.zeros(0)
    for f, floor in enumerate(problem.floors):
        share = share_fraction(floor.min_share)
        if share == 0:
            continue
        inside = k.in_floor[f]
        for t, year in enumerate(k.years):
            outside = int(floor_spend[~inside, t].sum())
            if outside == 0:
                continue
            reach = inside & open_ & k.active[:, t]
            by_account = np.zeros(len(k.accounts))
            np.add.at(by_account, k.account_of[reach], largest[reach])
            by_country = np.zeros(len(k.countries))
            np.add.at(by_country, k.country_of[reach], largest[reach])
            out_by_account = np.zeros(len(k.accounts))
            np.add.at(out_by_account, k.account_of[~inside], floor_spend[~inside, t])
            most = min(
                float(
                    np.minimum(by_account, np.maximum(k.available[:, t] - out_by_account, 0)).sum()
                ),
                float(np.minimum(by_country, k.capacity[:, t]).sum()),
            )
            if share == 1:
                lacking = True
                needed = float("inf")
            else:
                needed = float(share / (1 - share) * outside)
                lacking = most + 1 < needed
            if not lacking:
                continue
            if not reach.any():
                reason = f"no candidate in {floor.region} can be funded in FY{year}"
            else:
                reason = (
                    f"at most {money(most)} can go to {floor.region} "
                    "(its candidates, budgets and absorptive capacity)"
                )
            need_text = (
                "everything would have to go there"
                if share == 1
                else f"{floor.region} would need at least {money(needed)}"
            )
            out.append(
                Finding(
                    "floor",
                    f"the {floor.label} floor asks for {floor.min_share:.0%} of each year's "
                    f"funded total; in FY{year} must-fund candidates outside {floor.region} "
                    f"take {money(outside)}, so {need_text}, but {reason}",
                    (
                        ("scheme", floor.scheme),
                        ("region", floor.region),
                        ("fiscal_year", year),
                        ("min_share", floor.min_share),
                    ),
                )
            )
    return out


def explain_infeasible(
    problem: AllocationProblem, form: Formulation, *, time_limit: float = 10.0
) -> list[Finding]:
    """Direct checks first; if they find nothing, the elastic MIP's relaxed rows."""
    direct = must_fund_conflicts(problem)
    return direct if direct else elastic_findings(problem, form, time_limit=time_limit)


def elastic_findings(
    problem: AllocationProblem, form: Formulation, *, time_limit: float = 10.0
) -> list[Finding]:
    """Allow every budget, capacity, floor, dependency and must-fund row to be broken,
    at a cost per $1M (a must-fund row: its cheapest total cost), and report the rows
    the cheapest repair breaks."""
    import highspy
    from scipy import sparse

    from ssaplan.allocation.engine.formulation import MILLION, new_highs

    k = problem.compiled
    ids = [c.id for c in problem.candidates]
    m = form.matrix.shape[1]
    relax: list[int] = []
    sign: list[float] = []
    price: list[float] = []
    for r, (kind, key) in enumerate(form.rows):
        if kind == "choice":
            i = key[0]
            if k.must_fund[i]:
                relax.append(r)
                sign.append(1.0)  # sum x + s >= 1
                cols = list(k.levels_of(i))
                price.append(1.0 + float(k.total_cost[cols].min()) / MILLION)
        else:
            relax.append(r)
            sign.append(-1.0)  # row - s <= upper
            price.append(1.0)
    n_s = len(relax)
    slack = sparse.csc_matrix(
        (np.array(sign), (np.array(relax, dtype=np.int64), np.arange(n_s))),
        shape=(form.matrix.shape[0], n_s),
    )
    matrix = sparse.hstack([form.matrix, slack], format="csc")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m + n_s, matrix.shape[0]
    lp.sense_ = highspy.ObjSense.kMinimize
    lp.col_cost_ = np.concatenate([np.zeros(m), np.array(price)])
    lp.col_lower_ = np.zeros(m + n_s)
    lp.col_upper_ = np.concatenate([form.col_upper, np.full(n_s, np.inf)])
    lp.row_lower_ = form.row_lower
    lp.row_upper_ = form.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
    lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
    lp.a_matrix_.value_ = matrix.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m + [highspy.HighsVarType.kContinuous] * n_s
    h = new_highs()
    h.setOptionValue("time_limit", float(time_limit))
    h.passModel(lp)
    h.run()
    if h.getInfo().primal_solution_status != 2:
        return [Finding("conflict", "the constraints conflict; no explanation was found in time")]
    s = np.asarray(h.getSolution().col_value)[m:]
    out: list[Finding] = []
    for q in np.flatnonzero(s > 1e-6):
        kind, key = form.rows[relax[q]]
        short = money(s[q] * MILLION)
        if kind == "budget":
            a, t = key
            out.append(
                Finding(
                    "budget",
                    f"{k.accounts[a]} FY{k.years[t]} would need {short} more than the "
                    f"{money(k.available[a, t])} available after the reserve",
                    (("account", k.accounts[a]), ("fiscal_year", k.years[t])),
                )
            )
        elif kind == "capacity":
            c, t = key
            out.append(
                Finding(
                    "capacity",
                    f"{k.countries[c]} would need {short} more absorptive capacity in "
                    f"FY{k.years[t]} than its {money(k.capacity[c, t])}",
                    (("country", k.countries[c]), ("fiscal_year", k.years[t])),
                )
            )
        elif kind == "floor":
            f, t = key
            floor = problem.floors[f]
            out.append(
                Finding(
                    "floor",
                    f"the {floor.label} floor of {floor.min_share:.0%} cannot be met in "
                    f"FY{k.years[t]}: {short} short",
                    (
                        ("scheme", floor.scheme),
                        ("region", floor.region),
                        ("fiscal_year", k.years[t]),
                    ),
                )
            )
        elif kind == "requires":
            i, j = key
            out.append(
                Finding(
                    "dependency",
                    f"{ids[i]} requires {ids[j]}, which cannot be funded with the rest",
                    (("candidate", ids[i]), ("requires", ids[j])),
                )
            )
        else:
            out.append(
                Finding(
                    "conflict",
                    f"must-fund {ids[key[0]]} cannot be funded together with the other constraints",
                    (("candidate", ids[key[0]]),),
                )
            )
    if out:
        lead = Finding(
            "conflict",
            "no single constraint explains it; the smallest repair relaxes all of these together",
        )
        return [lead, *out]
    return [Finding("conflict", "the constraints conflict only through whole-program amounts")]
