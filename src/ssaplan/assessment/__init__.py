"""The common assessment framework: partner indicators, propensity, priority, mismatch.

The policy asks for "common U.S. Government assessments" and for investment "in
countries where the conditions are right for sustained progress". This package keeps
partner indicators (imported from public sources), frameworks that combine them into
constructs and a propensity score, policy inputs that give each country a priority,
and assessments as records that say who assessed what, with which inputs and weights.
See docs/assessment.md for the method and its limits.
"""
