"""Least squares over the probability simplex, solved exactly by an active-set method.

Synthetic control weights solve::

    minimize  ||b - A w||^2   subject to  w >= 0,  sum(w) = 1

a convex quadratic programme. General-purpose optimizers (SLSQP, Nelder-Mead on a
reparametrization) approach the optimum iteratively, stop at a tolerance and can stall
on the boundary, where the solution almost always lies (a few donors carry all the
weight). The active-set method below instead guesses which weights are positive,
solves the equality-constrained problem on that set exactly (one small linear system)
and corrects the guess until the Karush-Kuhn-Tucker conditions hold; it ends in a
finite number of steps, typically as many as there are positive weights.

It is the primal active-set method for convex QP (Nocedal & Wright 2006, *Numerical
Optimization*, 2nd ed., Algorithm 16.3), in the form Lawson & Hanson (1974, *Solving
Least Squares Problems*, ch. 23) gave for non-negative least squares, adapted to the
extra equality ``sum(w) = 1``. It works on the Gram form ``Q = A'A``, ``c = A'b``, so
that many related problems (placebo fits that swap the treated unit) share one Gram
matrix computed once.

When ``A`` has more columns than rows the objective need not be strictly convex and
the optimum may not be unique; a ridge of ``1e-10 * mean(diag(Q))`` makes it unique
(it picks, among optimal weight vectors, essentially the one of least norm) while
changing the fit by a negligible amount.
"""

from __future__ import annotations

import numpy as np

from ssaplan.evaluation.engine.results import FloatArray

RIDGE = 1e-10


def simplex_qp(
    q: FloatArray, c: FloatArray, *, start: FloatArray | None = None, tol: float = 1e-12
) -> FloatArray:
    """Minimize ``w'Qw/2 - c'w`` over the simplex; ``Q`` (shape ``(k, k)``) positive semidefinite.

    ``start`` (optional, shape ``(k,)``) is a feasible guess, e.g. the solution of a
    nearby problem: its support is tried first, which saves most of the iterations
    when problems are solved in sequence (as in a search over ``V``).

    Returns the weights, shape ``(k,)``: non-negative, summing to 1.
    """
    k = c.size
    if k == 1:
        return np.ones(1)
    scale = float(np.mean(np.diag(q))) or 1.0
    q = q + RIDGE * scale * np.eye(k)
    threshold = tol * max(scale, float(np.abs(c).max()), 1.0)
    if start is not None and start.shape == (k,) and (start >= 0).all() and start.sum() > 0:
        w = start / start.sum()
        active = w > 0
        w = _descend(q, c, w, active, _solve_on(q, c, active), threshold / scale)
        active = w > 0
    else:
        # Feasible start: the single best donor (a vertex of the simplex).
        first = int(np.argmin(0.5 * np.diag(q) - c))
        active = np.zeros(k, dtype=bool)  # "active" here: in the support (w > 0)
        active[first] = True
        w = np.zeros(k)
        w[first] = 1.0
    for _ in range(20 * k + 100):
        grad = q @ w - c
        # Lagrange multiplier of sum(w) = 1; at a subproblem optimum grad is constant
        # on the support and equals -mu there.
        mu = -float(grad[active].mean())
        slack = grad + mu  # KKT: >= 0 off the support
        slack[active] = np.inf
        enter = int(np.argmin(slack))
        if slack[enter] >= -threshold:
            break
        active[enter] = True
        z = _solve_on(q, c, active)
        if z[enter] <= 0:
            # In exact arithmetic the entering weight is positive; if rounding says
            # otherwise, w is optimal to working precision.
            break
        w = _descend(q, c, w, active, z, threshold / scale)
        active = w > 0
    else:  # pragma: no cover - finite termination is guaranteed for convex Q
        raise RuntimeError("simplex least squares did not converge")
    w = np.clip(w, 0.0, None)
    return np.asarray(w / w.sum())


def _descend(
    q: FloatArray, c: FloatArray, w: FloatArray, active: np.ndarray, z: FloatArray, tiny: float
) -> FloatArray:
    """From feasible ``w``, move to the subproblem optimum ``z`` on ``active``, dropping
    weights that would turn negative on the way and re-solving (Lawson-Hanson inner loop)."""
    active = active.copy()
    while not (z[active] > 0).all():
        blocking = active & (z <= 0)
        steps = w[blocking] / (w[blocking] - z[blocking])
        w = w + float(steps.min()) * (z - w)
        leaving = blocking & (w <= tiny)
        leaving[np.flatnonzero(blocking)[np.argmin(steps)]] = True
        active &= ~leaving
        w[~active] = 0.0
        w = w / w.sum()
        z = _solve_on(q, c, active)
    return z


def _solve_on(q: FloatArray, c: FloatArray, active: np.ndarray) -> FloatArray:
    """Minimize on the support ``active`` with ``sum(w) = 1`` only (the KKT system)."""
    idx = np.flatnonzero(active)
    m = idx.size
    kkt = np.zeros((m + 1, m + 1))
    kkt[:m, :m] = q[np.ix_(idx, idx)]
    kkt[:m, m] = 1.0
    kkt[m, :m] = 1.0
    rhs = np.append(c[idx], 1.0)
    sol = np.linalg.solve(kkt, rhs)
    z = np.zeros(c.size)
    z[idx] = sol[:m]
    return z


def simplex_least_squares(a: FloatArray, b: FloatArray) -> FloatArray:
    """Weights ``w`` (shape ``(k,)``) minimizing ``||b - a w||`` with ``w >= 0``, ``sum(w) = 1``.

    ``a`` has shape ``(n, k)`` (one column per donor), ``b`` shape ``(n,)``.
    """
    return simplex_qp(a.T @ a, a.T @ b)
