"""One entry point for the difference-in-differences methods: ``estimate_did(panel, method)``."""

from __future__ import annotations

from collections.abc import Sequence

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.callaway import estimate_cs
from ssaplan.evaluation.engine.data import Panel
from ssaplan.evaluation.engine.results import DidResult
from ssaplan.evaluation.engine.sunab import estimate_sa
from ssaplan.evaluation.engine.twfe import estimate_twfe

METHODS = ("twfe", "cs", "sa")


def estimate_did(
    panel: Panel,
    method: str = "cs",
    *,
    control: str = "never",
    covariates: Sequence[str] = (),
    aggregation: str = "simple",
    alpha: float = 0.05,
) -> DidResult:
    """Estimate the effect of treatment on the treated with the named method.

    Parameters
    ----------
    panel : Panel
        With a treated indicator.
    method : {"cs", "sa", "twfe"}
        Callaway-Sant'Anna (default), Sun-Abraham, or two-way fixed effects.
    control : str
        ``never`` (default) for every method; ``notyet`` for cs; ``last`` for sa.
        twfe uses every untreated unit-period and accepts only ``never``.
    covariates : sequence of str
        Panel covariates (cs: outcome regression on base-period values; sa and twfe:
        linear controls). Default none.
    aggregation : {"simple", "dynamic", "group"}
        cs only: the aggregation reported as ``estimate``. Default ``simple``.
    alpha : float
        1 - confidence level, default 0.05.
    """
    if method == "twfe":
        if control != "never":
            raise Invalid(
                f"control {control!r} does not apply to twfe",
                [
                    Detail(
                        ("control",),
                        "two-way fixed effects compares with every untreated unit-period; "
                        "choose controls with method cs (never, notyet) or sa (never, last)",
                    )
                ],
            )
        return estimate_twfe(panel, covariates=covariates, alpha=alpha)
    if method == "cs":
        return estimate_cs(
            panel, control=control, covariates=covariates, aggregation=aggregation, alpha=alpha
        )
    if method == "sa":
        if control == "notyet":
            raise Invalid(
                "control 'notyet' does not apply to sa",
                [
                    Detail(
                        ("control",),
                        "Sun-Abraham compares with one control cohort: never (never-treated "
                        "units) or last (the last-treated cohort); notyet is for method cs",
                    )
                ],
            )
        return estimate_sa(panel, control=control, covariates=covariates, alpha=alpha)
    raise Invalid(
        f"unknown method {method!r}", [Detail(("method",), f"use one of {', '.join(METHODS)}")]
    )
