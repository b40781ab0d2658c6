"""The allocation engine: pure computation, no database, no HTTP, no printing.

Modules, from the ground up:

- :mod:`.model`: the problem (candidates, levels, budgets, limits) and its arrays;
- :mod:`.greedy`: the spreadsheet ranking by value per dollar, and a choice checker;
- :mod:`.formulation`: the MIP's rows, and the HiGHS calls;
- :mod:`.decompose`: partner decomposition for large problems (bound and choice);
- :mod:`.solve`: :class:`AllocationOptimizer`, which puts them together;
- :mod:`.result`: the immutable results with ``summary()`` and ``as_dict()``;
- :mod:`.explain`: why a problem is infeasible; :mod:`.diff`: why two results differ;
- :mod:`.robust`: re-solving over draws of the values.

Imports only numpy, scipy, highspy and :mod:`ssaplan.core.errors`.
"""

from ssaplan.allocation.engine.diff import ResultDiff, diff_results
from ssaplan.allocation.engine.explain import explain_infeasible, must_fund_conflicts
from ssaplan.allocation.engine.greedy import GreedyRanking, GreedyResult, check_choice
from ssaplan.allocation.engine.model import AllocationProblem, Candidate, Level, RegionalFloor
from ssaplan.allocation.engine.result import AllocationResult, Finding
from ssaplan.allocation.engine.robust import RobustAllocator, RobustResult
from ssaplan.allocation.engine.solve import AllocationOptimizer

__all__ = [
    "AllocationOptimizer",
    "AllocationProblem",
    "AllocationResult",
    "Candidate",
    "Finding",
    "GreedyRanking",
    "GreedyResult",
    "Level",
    "RegionalFloor",
    "ResultDiff",
    "RobustAllocator",
    "RobustResult",
    "check_choice",
    "diff_results",
    "explain_infeasible",
    "must_fund_conflicts",
]
