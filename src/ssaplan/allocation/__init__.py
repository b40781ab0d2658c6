"""Allocation: spend limited assistance money where it does the most good.

The policy asks to "be more selective and use resources for the greatest impact" and
to keep "flexible security sector assistance to respond to short-notice
requirements". This package chooses which candidate programs to fund, and at which
level, to maximize total value within each account's budget per fiscal year (less a
crisis reserve), each partner's absorptive capacity, legal eligibility, dependencies
and regional floors -- as a mixed-integer program solved with HiGHS -- and explains
the answer: shadow prices of budgets, the comparison with the spreadsheet ranking,
why a scenario is infeasible, what moves in a what-if and how solid each choice is
when values are uncertain.

- :mod:`ssaplan.allocation.engine`: the pure computation (numpy, scipy, highspy);
- :mod:`ssaplan.allocation.scenario`: scenario JSON -> problem, with JSON-path errors;
- :mod:`ssaplan.allocation.whatif`: budget cuts, restrictions, crises, capacity changes;
- :mod:`ssaplan.allocation.cli`: ``ssaplan allocate``.

See docs/allocation.md for the model, the formats and the performance measured.
"""
