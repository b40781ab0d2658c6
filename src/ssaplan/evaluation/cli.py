"""``ssaplan evaluate did|synth|mde``: impact estimates from a panel CSV; no database needed.

Thin: parse options, read the panel (:mod:`ssaplan.evaluation.panel`), call the engine,
render. ``--json`` prints the result's ``as_dict()`` as one object on stdout.
"""

from __future__ import annotations

import sys
import time as clock
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, state
from ssaplan.core.errors import BadRequest

app = typer.Typer(
    help="Impact evaluation: difference-in-differences, event studies, synthetic control.",
    no_args_is_help=True,
)

PanelOpt = Annotated[
    Path,
    typer.Option("--panel", help="long-form CSV: one row per unit and period", show_default=False),
]
UnitOpt = Annotated[str, typer.Option("--unit", help="unit column", show_default=False)]
TimeOpt = Annotated[str, typer.Option("--time", help="period column", show_default=False)]
OutcomeOpt = Annotated[
    str, typer.Option("--outcome", help="outcome column (numeric)", show_default=False)
]
AlphaOpt = Annotated[
    float, typer.Option("--alpha", help="1 - confidence level of the intervals", min=1e-6, max=0.5)
]


def _printer(text: str) -> Callable[[], None]:
    def human() -> None:
        sys.stdout.write(text + "\n")

    return human


def _names(value: str | None) -> list[str]:
    return [v.strip() for v in (value or "").split(",") if v.strip()]


@app.command("did")
def did(
    ctx: typer.Context,
    panel: PanelOpt,
    unit: UnitOpt,
    time: TimeOpt,
    outcome: OutcomeOpt,
    treated: Annotated[
        str,
        typer.Option(
            "--treated",
            help="0/1 column: 1 from a unit's first treated period on",
            show_default=False,
        ),
    ],
    method: Annotated[
        str, typer.Option("--method", help="cs (Callaway-Sant'Anna), sa (Sun-Abraham) or twfe")
    ] = "cs",
    control: Annotated[
        str,
        typer.Option(
            "--control", help="never; notyet (cs: not-yet-treated); last (sa: last cohort)"
        ),
    ] = "never",
    covariates: Annotated[
        str | None, typer.Option("--covariates", help="covariate columns, comma-separated")
    ] = None,
    aggregation: Annotated[
        str, typer.Option("--aggregation", help="cs: simple, dynamic or group")
    ] = "simple",
    alpha: AlphaOpt = 0.05,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Difference-in-differences on a panel: the effect of treatment on the treated."""
    from ssaplan.evaluation.engine import METHODS, estimate_did
    from ssaplan.evaluation.panel import load_panel

    st = state(ctx, db, as_json)
    if method not in METHODS:
        raise BadRequest(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    covs = _names(covariates)
    data = load_panel(
        panel, unit=unit, time=time, outcome=outcome, treated=treated, covariates=covs
    )
    info(f"{method}: {data.n_units} units x {data.n_periods} periods from {panel.name}")
    result = estimate_did(
        data, method, control=control, covariates=covs, aggregation=aggregation, alpha=alpha
    )
    emit(st, result.as_dict(), _printer(result.summary()))


@app.command("synth")
def synth(
    ctx: typer.Context,
    panel: PanelOpt,
    unit: UnitOpt,
    time: TimeOpt,
    outcome: OutcomeOpt,
    treated_unit: Annotated[
        str,
        typer.Option(
            "--treated-unit", help="the treated unit, as the file writes it", show_default=False
        ),
    ],
    start: Annotated[
        float, typer.Option("--start", help="first treated period", show_default=False)
    ],
    donors: Annotated[
        str | None, typer.Option("--donors", help="donor units, comma-separated (default all)")
    ] = None,
    predictors: Annotated[
        str | None,
        typer.Option(
            "--predictors",
            help="covariates to match, each averaged over the pre-period or NAME:FIRST-LAST, "
            "e.g. beer:1984-1988,retprice (default: match every pre-period outcome)",
        ),
    ] = None,
    lags: Annotated[
        str | None,
        typer.Option("--lags", help="pre-periods whose outcome to match, e.g. 1975,1980,1988"),
    ] = None,
    v: Annotated[
        str | None,
        typer.Option(
            "--v",
            help="predictor weights: optimize (as ADH 2010; the default with predictors or "
            "lags), equal, or w1,w2,...",
        ),
    ] = None,
    placebos: Annotated[
        bool, typer.Option("--placebos/--no-placebos", help="placebo-in-space inference")
    ] = True,
    alpha: AlphaOpt = 0.05,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Synthetic control for one treated unit, with placebo-in-space inference."""
    from ssaplan.evaluation.engine import synthetic_control
    from ssaplan.evaluation.panel import load_panel, parse_windows

    st = state(ctx, db, as_json)
    names, windows = [], {}
    for item in _names(predictors):
        name, _, window = item.partition(":")
        names.append(name)
        if window:
            windows[name] = window
    try:
        lag_times = [float(t) for t in _names(lags)]
    except ValueError as exc:
        raise BadRequest(f"--lags must be periods, comma-separated, not {lags!r}") from exc
    weights: list[float] | str | None = None
    if v:
        try:
            weights = v if v in ("optimize", "equal") else [float(x) for x in _names(v)]
        except ValueError as exc:
            raise BadRequest(
                f"--v must be 'optimize', 'equal' or numbers, comma-separated, not {v!r}"
            ) from exc
    data = load_panel(panel, unit=unit, time=time, outcome=outcome, covariates=names)
    info(
        f"synthetic control: {data.n_units} units x {data.n_periods} periods from {panel.name}"
        + ("; placebo fits for every donor" if placebos else "")
    )
    started = clock.perf_counter()
    result = synthetic_control(
        data,
        treated_unit,
        start,
        donors=_names(donors) or None,
        predictors=names,
        windows=parse_windows(windows),
        lags=lag_times,
        v=weights,
        placebos=placebos,
        alpha=alpha,
    )
    info(f"done in {clock.perf_counter() - started:.2f} s")
    emit(st, result.as_dict(), _printer(result.summary()))


@app.command("mde")
def mde(
    ctx: typer.Context,
    n_treated: Annotated[
        int, typer.Option("--n-treated", help="treated units", show_default=False)
    ],
    n_control: Annotated[
        int, typer.Option("--n-control", help="control units", show_default=False)
    ],
    sd: Annotated[
        float,
        typer.Option("--sd", help="residual SD of the outcome, in its units", show_default=False),
    ],
    icc: Annotated[
        float, typer.Option("--icc", help="correlation between two periods of one unit")
    ] = 0.0,
    pre_periods: Annotated[int, typer.Option("--pre-periods", help="periods before")] = 1,
    post_periods: Annotated[int, typer.Option("--post-periods", help="periods after")] = 1,
    alpha: Annotated[float, typer.Option("--alpha", help="two-sided significance level")] = 0.05,
    power: Annotated[float, typer.Option("--power", help="power")] = 0.8,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Minimum detectable effect of a planned difference-in-differences evaluation."""
    from ssaplan.evaluation.engine import minimum_detectable_effect

    st = state(ctx, db, as_json)
    result = minimum_detectable_effect(
        n_treated=n_treated,
        n_control=n_control,
        sd=sd,
        icc=icc,
        pre_periods=pre_periods,
        post_periods=post_periods,
        alpha=alpha,
        power=power,
    )
    emit(st, result.as_dict(), _printer(result.summary()))
