"""The pure statistical core of impact evaluation: panels in, frozen results out.

Nothing here touches the database, HTTP or the file system (reading a CSV is
:mod:`ssaplan.evaluation.panel`'s job). Build a :class:`Panel` from a long table, then:

- :func:`estimate_did` (or :func:`estimate_twfe`, :func:`estimate_cs`,
  :func:`estimate_sa`) -> :class:`DidResult`, with an event study and pre-trend test
  for ``cs`` and ``sa``;
- :func:`synthetic_control` -> :class:`SynthResult`, with placebo-in-space inference;
- :func:`minimum_detectable_effect` -> :class:`MdeResult` for planned evaluations.

Every result has ``summary()`` (text) and ``as_dict()`` (JSON-ready). Bad input raises
:class:`ssaplan.core.errors.Invalid` whose details say what the method needs.
See docs/evaluation.md.
"""

from ssaplan.evaluation.engine.callaway import estimate_cs
from ssaplan.evaluation.engine.data import Panel
from ssaplan.evaluation.engine.did import METHODS, estimate_did
from ssaplan.evaluation.engine.mde import MdeResult, minimum_detectable_effect
from ssaplan.evaluation.engine.results import Coefficient, DidResult, WaldTest
from ssaplan.evaluation.engine.simplex import simplex_least_squares, simplex_qp
from ssaplan.evaluation.engine.sunab import estimate_sa
from ssaplan.evaluation.engine.synth import Placebo, SynthResult, synthetic_control
from ssaplan.evaluation.engine.twfe import estimate_twfe

__all__ = [
    "METHODS",
    "Coefficient",
    "DidResult",
    "MdeResult",
    "Panel",
    "Placebo",
    "SynthResult",
    "WaldTest",
    "estimate_cs",
    "estimate_did",
    "estimate_sa",
    "estimate_twfe",
    "minimum_detectable_effect",
    "simplex_least_squares",
    "simplex_qp",
    "synthetic_control",
]
