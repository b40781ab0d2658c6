"""Impact evaluation: what worked, measured on unit-period panels.

The policy asks to "inform policy with rigorous analysis, assessments, and
evaluations" and for "data on what works and what does not work through impact
evaluations". This package holds the statistical core of that: difference-in-differences
with two-way fixed effects, staggered adoption done right (Callaway & Sant'Anna 2021
group-time effects; Sun & Abraham 2021 interaction-weighted event study), event-study
output with a pre-trend test, synthetic control for one treated partner with
placebo-in-space inference, and minimum detectable effects for planned evaluations.

- :mod:`ssaplan.evaluation.engine` -- the pure methods: arrays and DataFrames in,
  frozen results with ``summary()`` and ``as_dict()`` out; no database, no HTTP.
- :mod:`ssaplan.evaluation.panel` -- reading a long-form panel CSV within stated bounds.
- :mod:`ssaplan.evaluation.cli` -- ``ssaplan evaluate did|synth|mde``.

See docs/evaluation.md for the methods, their assumptions and the reference results.
"""
