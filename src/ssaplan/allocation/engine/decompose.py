"""Partner decomposition: a Lagrangian upper bound and a restricted-master solution.

Why: on large problems HiGHS spends most of its time in the root cut loop and its
primal heuristics find good choices slowly (on the 5,000-candidate benchmark, HiGHS
alone is 0.2-0.4% from its bound after a minute). The hard part is each partner's
absorptive capacity: a small knapsack over a few multi-year programs whose levels
must fill it well. That part decomposes by partner; only the account budgets,
regional floors and dependencies across partners couple the partners.

How (Dantzig-Wolfe column generation used as a heuristic, "price and branch";
Barnhart et al. 1998, "Branch-and-price: column generation for solving huge integer
programs", Operations Research 46(3); Joncour et al. 2010, "Column generation based
primal heuristics", ENDM 36):

1. Pricing. For multipliers ``lam >= 0`` on the coupling rows, every partner with a
   capacity row (a *block*) solves its own small MIP -- maximize ``(v - lam A) x``
   subject to its choice, capacity and internal dependency rows -- exactly (small
   blocks by enumeration, larger ones by HiGHS). Every other candidate simply takes
   its best level. The total plus ``lam . b`` is a valid upper bound on the optimum
   for any ``lam`` (Lagrangian weak duality; Geoffrion 1974; Fisher 1981), at least
   as strong as the LP bound with each partner's integer hull.
2. Master. A partner's solution is a *pattern*. The restricted master chooses one
   pattern per block (from the patterns generated so far, including the blocks'
   part of the warm-start choices) plus any levels of the other candidates, subject
   to the coupling rows. Its LP duals are the next ``lam``; a few rounds of this add
   the patterns that matter.
3. The master MIP (HiGHS) over all patterns gives a feasible choice for the whole
   problem; the best ``L(lam)`` seen is the proven bound.

Every bound reported is a proven one (HiGHS's dual bound of each block's MIP, never
its incumbent); the choice is re-checked in whole dollars by the caller.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import highspy
import numpy as np
from scipy import sparse

from ssaplan.allocation.engine.formulation import Formulation, highs_solution, new_highs
from ssaplan.allocation.engine.model import BoolArray, Compiled, FloatArray, IntArray

#: Blocks with at most this many level combinations are priced by enumeration.
ENUMERATE_UP_TO = 70_000


@dataclass(eq=False)
class _Block:
    """One partner's part of the problem: its columns and rows kept out of the master."""

    cols: IntArray
    combos: FloatArray | None = None  # feasible 0/1 rows (enumerated blocks)
    highs: Any = None  # a kept HiGHS model (larger blocks)
    patterns: list[FloatArray] = field(default_factory=list)
    seen: set[bytes] = field(default_factory=set)

    def add(self, x: FloatArray) -> bool:
        key = np.packbits(x > 0.5).tobytes()
        if key in self.seen:
            return False
        self.seen.add(key)
        self.patterns.append((x > 0.5).astype(np.float64))
        return True


@dataclass(frozen=True)
class DecompositionResult:
    """The master's choice (column values, None if none found) and the proven bound."""

    x: FloatArray | None
    objective: float | None
    bound: float
    rounds: int
    patterns: int
    seconds: float
    pricing_seconds: float = 0.0


class PartnerDecomposition:
    """Decompose one formulation by partner (see the module docstring)."""

    def __init__(self, form: Formulation, compiled: Compiled, *, block_gap: float = 1e-3) -> None:
        k = compiled
        self.form, self.k = form, k
        kinds = [kind for kind, _ in form.rows]
        blocky = np.zeros(len(k.countries), dtype=np.bool_)
        coupling = np.zeros(len(kinds), dtype=np.bool_)
        for r, (kind, key) in enumerate(form.rows):
            if kind == "capacity":
                blocky[key[0]] = True
            elif kind in ("budget", "floor"):
                coupling[r] = True
            elif kind == "requires":
                i, j = key
                if k.country_of[i] == k.country_of[j]:
                    blocky[k.country_of[i]] = True
                else:
                    coupling[r] = True
        self.blocky = blocky
        self.coupling_rows = np.flatnonzero(coupling)
        csr = form.matrix.tocsr()
        self.a_c = csr[self.coupling_rows].tocsc()
        self.b_c = form.row_upper[self.coupling_rows]
        self.lo_c = form.row_lower[self.coupling_rows]
        country_of_col = k.country_of[k.col_candidate]
        in_block = blocky[country_of_col]
        self.free_cols = np.flatnonzero(~in_block)
        free_cands = np.unique(k.col_candidate[self.free_cols])
        self.free_starts = np.searchsorted(self.free_cols, k.first_col[free_cands])
        self.free_must = k.must_fund[free_cands]
        self.free_open = form.col_upper[self.free_cols] > 0
        self.free_segment = np.repeat(
            np.arange(len(free_cands)), np.diff(np.append(self.free_starts, len(self.free_cols)))
        )
        free_set = set(free_cands.tolist())
        self.free_choice_rows = np.array(
            [
                r
                for r, (kind, key) in enumerate(form.rows)
                if kind == "choice" and key[0] in free_set
            ],
            dtype=np.int64,
        )
        row_block = np.full(len(kinds), -1, dtype=np.int64)
        for r, (kind, key) in enumerate(form.rows):
            if coupling[r]:
                continue
            if kind == "choice" or kind == "requires":
                row_block[r] = k.country_of[key[0]]
            elif kind == "capacity":
                row_block[r] = key[0]
        csc = form.matrix.tocsc()
        self.blocks: list[_Block] = []
        # small partners first: if time runs out mid-round, most plans are in
        by_size = sorted(
            np.flatnonzero(blocky), key=lambda c: int(np.count_nonzero(country_of_col == c))
        )
        for c in by_size:
            cols = np.flatnonzero(country_of_col == c)
            rows = np.flatnonzero(row_block == c)
            self.blocks.append(self._block(csc[:, cols][rows].tocsc(), cols, rows, block_gap))
        self.block_of_col = np.full(k.n_levels, -1, dtype=np.int64)
        for b, block in enumerate(self.blocks):
            self.block_of_col[block.cols] = b

    # -- blocks -------------------------------------------------------------------
    def _block(self, sub: sparse.csc_matrix, cols: IntArray, rows: IntArray, gap: float) -> _Block:
        form, k = self.form, self.k
        open_ = form.col_upper[cols] > 0
        # candidates of the block and their columns (contiguous)
        cands = np.unique(k.col_candidate[cols])
        sizes = [int(k.first_col[i + 1] - k.first_col[i]) for i in cands]
        count = 1
        for s in sizes:
            count *= s + 1
            if count > ENUMERATE_UP_TO:
                break
        if count <= ENUMERATE_UP_TO:
            # every combination, as mixed-radix digits: digit d of candidate pos is
            # its level + 1 (0 = not funded)
            combos = np.zeros((count, len(cols)))
            offset = np.cumsum([0, *sizes[:-1]])
            code = np.arange(count)
            for pos, s in enumerate(sizes):
                digit = code % (s + 1)
                code //= s + 1
                rows_on = np.flatnonzero(digit > 0)
                combos[rows_on, offset[pos] + digit[rows_on] - 1] = 1.0
            activity = combos @ sub.T.toarray()
            ok = np.all(activity <= form.row_upper[rows] + 1e-9, axis=1)
            ok &= np.all(activity >= form.row_lower[rows] - 1e-9, axis=1)
            ok &= np.all(combos[:, ~open_] == 0, axis=1)
            return _Block(cols=cols, combos=combos[ok])

        h = new_highs()
        h.setOptionValue("mip_rel_gap", float(gap))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), len(rows)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = form.cost[cols]
        lp.col_lower_ = np.zeros(len(cols))
        lp.col_upper_ = form.col_upper[cols]
        lp.row_lower_ = form.row_lower[rows]
        lp.row_upper_ = form.row_upper[rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = sub.indptr.astype(np.int32)
        lp.a_matrix_.index_ = sub.indices.astype(np.int32)
        lp.a_matrix_.value_ = sub.data
        lp.integrality_ = [highspy.HighsVarType.kInteger] * len(cols)
        h.passModel(lp)
        return _Block(cols=cols, highs=h)

    def price(self, lam: FloatArray, deadline: float) -> tuple[float, FloatArray, BoolArray]:
        """``L(lam)`` (a valid bound even if the deadline cuts the round short), the
        relaxed solution, and which blocks got a plan in time."""
        reduced = self.form.cost - self.a_c.T @ lam
        x = np.zeros(len(self.form.cost))
        total = float(lam @ self.b_c)
        if len(self.free_cols):
            red = np.where(self.free_open, reduced[self.free_cols], -np.inf)
            best = np.maximum.reduceat(red, self.free_starts)
            take = np.where(self.free_must, best, np.maximum(best, 0.0))
            total += float(take[np.isfinite(take)].sum())
            chosen = (red == best[self.free_segment]) & np.isfinite(red)
            chosen &= (best[self.free_segment] > 0) | self.free_must[self.free_segment]
            first = chosen & ~_earlier_in_segment(chosen, self.free_segment)
            x[self.free_cols[first]] = 1.0
        # every block adds a valid upper bound on its part: its best plan (enumerated),
        # HiGHS's dual bound (even when stopped by the deadline), or, for a block the
        # deadline leaves unsolved, each of its candidates' best level on its own
        solved = np.zeros(len(self.blocks), dtype=np.bool_)
        for b, block in enumerate(self.blocks):
            r = reduced[block.cols]
            if block.combos is not None:
                if len(block.combos) == 0:
                    return np.inf, x, solved  # no feasible plan here (caught earlier)
                values = block.combos @ r
                best_n = int(np.argmax(values))
                total += float(values[best_n])
                x[block.cols] = block.combos[best_n]
                solved[b] = True
                continue
            left = deadline - time.monotonic()
            bound = np.inf
            if left > 0.05:
                h = block.highs
                h.changeColsCost(len(block.cols), np.arange(len(block.cols), dtype=np.int32), r)
                h.setOptionValue("time_limit", float(left))
                if block.patterns:  # the latest plan is still feasible: a head start
                    h.setSolution(highs_solution(block.patterns[-1]))
                h.run()
                info = h.getInfo()
                bound = float(info.mip_dual_bound)
                if info.primal_solution_status == 2:
                    x[block.cols] = np.round(np.asarray(h.getSolution().col_value))
                    solved[b] = True
            total += bound if np.isfinite(bound) else self._loose_bound(block, r)
        return total, x, solved

    def _loose_bound(self, block: _Block, reduced: FloatArray) -> float:
        """An upper bound on a block without its capacity rows: each candidate's best
        level (or nothing), must-fund ones their best level."""
        k = self.k
        open_ = self.form.col_upper[block.cols] > 0
        value = np.where(open_, reduced, -np.inf)
        cands = k.col_candidate[block.cols]
        total = 0.0
        for i in np.unique(cands):
            best = float(value[cands == i].max())
            total += best if k.must_fund[i] else max(best, 0.0)
        return total

    # -- master -------------------------------------------------------------------
    def add_patterns(self, x: FloatArray, solved: BoolArray | None = None) -> int:
        """Add each block's part of ``x`` as a pattern (only the solved blocks')."""
        return sum(
            block.add(x[block.cols])
            for b, block in enumerate(self.blocks)
            if solved is None or solved[b]
        )

    def _master(self) -> tuple[Any, list[tuple[int, int]]]:
        """The restricted master as a HighsLp, and (block, pattern) per pattern column."""
        form = self.form
        n_free = len(self.free_cols)
        index: list[tuple[int, int]] = []
        cost = [form.cost[self.free_cols]]
        coupling_cols = [self.a_c[:, self.free_cols]]
        for b, block in enumerate(self.blocks):
            if not block.patterns:
                continue
            pats = np.array(block.patterns)  # (p, cols)
            cost.append(pats @ form.cost[block.cols])
            coupling_cols.append(sparse.csc_matrix(self.a_c[:, block.cols] @ pats.T))
            index += [(b, q) for q in range(len(block.patterns))]
        n_pat = len(index)
        choice = form.matrix.tocsr()[self.free_choice_rows][:, self.free_cols]
        convex = sparse.csr_matrix(
            (np.ones(n_pat), ([b for b, _ in index], np.arange(n_pat))),
            shape=(len(self.blocks), n_pat),
        )
        matrix = sparse.vstack(
            [
                sparse.hstack(coupling_cols),
                sparse.hstack([choice, sparse.csr_matrix((choice.shape[0], n_pat))]),
                sparse.hstack([sparse.csr_matrix((len(self.blocks), n_free)), convex]),
            ]
        ).tocsc()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = matrix.shape[1], matrix.shape[0]
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.col_cost_ = np.concatenate(cost)
        lp.col_lower_ = np.zeros(matrix.shape[1])
        lp.col_upper_ = np.concatenate([form.col_upper[self.free_cols], np.ones(n_pat)])
        lp.row_lower_ = np.concatenate(
            [self.lo_c, form.row_lower[self.free_choice_rows], np.ones(len(self.blocks))]
        )
        lp.row_upper_ = np.concatenate(
            [self.b_c, form.row_upper[self.free_choice_rows], np.ones(len(self.blocks))]
        )
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = matrix.indptr.astype(np.int32)
        lp.a_matrix_.index_ = matrix.indices.astype(np.int32)
        lp.a_matrix_.value_ = matrix.data
        return lp, index

    def _columns(self, master_x: FloatArray, index: list[tuple[int, int]]) -> FloatArray:
        x = np.zeros(len(self.form.cost))
        n_free = len(self.free_cols)
        x[self.free_cols] = np.round(master_x[:n_free])
        for pos, (b, q) in enumerate(index):
            if master_x[n_free + pos] > 0.5:
                block = self.blocks[b]
                x[block.cols] = block.patterns[q]
        return x

    def _master_x(self, x: FloatArray, index: list[tuple[int, int]]) -> FloatArray:
        """A full choice expressed in master columns (its patterns must be present)."""
        out = np.zeros(len(self.free_cols) + len(index))
        out[: len(self.free_cols)] = x[self.free_cols]
        keys = {
            b: np.packbits(x[block.cols] > 0.5).tobytes() for b, block in enumerate(self.blocks)
        }
        for pos, (b, q) in enumerate(index):
            if np.packbits(self.blocks[b].patterns[q] > 0.5).tobytes() == keys[b]:
                out[len(self.free_cols) + pos] = 1.0
        return out

    def solve(
        self,
        *,
        start: FloatArray,
        lam: FloatArray,
        deadline: float,
        master_share: float = 0.45,
        mip_rel_gap: float = 1e-3,
        seed: int = 2013,
    ) -> DecompositionResult:
        """Column generation until ``master_share`` of the time is left, then the master MIP.

        ``start`` is a feasible choice (column values); ``lam`` the LP duals (per row
        of the formulation) to price with first.
        """

        started = time.monotonic()
        total_time = max(deadline - started, 0.1)
        pricing_until = started + (1 - master_share) * total_time
        self.add_patterns(start)
        lam_c = np.maximum(lam[self.coupling_rows], 0.0)
        bound, rounds = np.inf, 0
        while time.monotonic() < pricing_until:
            value, x, solved = self.price(lam_c, pricing_until)
            rounds += 1
            bound = min(bound, value)
            added = self.add_patterns(x, solved)
            if not solved.all() or not added:
                break
            lp, _ = self._master()
            h = new_highs()
            h.passModel(lp)
            h.setOptionValue("time_limit", float(max(pricing_until - time.monotonic(), 0.1)))
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            lam_c = np.maximum(np.asarray(h.getSolution().row_dual)[: len(self.coupling_rows)], 0.0)
        priced = time.monotonic() - started
        lp, index = self._master()
        lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
        h = new_highs()
        h.passModel(lp)
        h.setOptionValue("time_limit", float(max(deadline - time.monotonic(), 0.2)))
        h.setOptionValue("mip_rel_gap", float(mip_rel_gap / 2))
        h.setOptionValue("random_seed", int(seed))
        h.setSolution(highs_solution(self._master_x(start, index)))
        h.run()
        x_out = None
        objective = None
        if h.getInfo().primal_solution_status == 2:
            x_out = self._columns(np.asarray(h.getSolution().col_value), index)
            objective = float(self.form.cost @ x_out)
        return DecompositionResult(
            x=x_out,
            objective=objective,
            bound=bound,
            rounds=rounds,
            patterns=sum(len(b.patterns) for b in self.blocks),
            seconds=time.monotonic() - started,
            pricing_seconds=priced,
        )


def _earlier_in_segment(flags: BoolArray, segment: IntArray) -> BoolArray:
    """True where an earlier position of the same segment is already flagged."""
    out = np.zeros(len(flags), dtype=np.bool_)
    seen: set[int] = set()
    for pos in np.flatnonzero(flags):
        s = int(segment[pos])
        if s in seen:
            out[pos] = True
        seen.add(s)
    return out
