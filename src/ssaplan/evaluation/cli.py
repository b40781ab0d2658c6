"""``ssaplan evaluate ...``: impact estimates, the evaluation registry, the evidence base.

- ``did|synth|mde``: impact estimates from a panel CSV; no database needed, unless
  ``--record EV-nnnnn`` saves the estimate (with its analysis) on a registered evaluation.
- ``list|show|add``: the evaluation registry; ``evidence`` and ``effectiveness``: the
  evidence base and the allocation's multipliers (``--without-evidence``: the switch).

Thin: parse options, read the panel (:mod:`ssaplan.evaluation.panel`), call the engine or
a service, render. ``--json`` prints one object on stdout.
"""

from __future__ import annotations

import json
import sys
import time as clock
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ssaplan.clikit import CliState, DbOpt, JsonOpt, emit, info, open_store, state
from ssaplan.core.errors import BadRequest

if TYPE_CHECKING:
    import numpy as np

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


RecordOpt = Annotated[
    str | None,
    typer.Option(
        "--record",
        help="save the estimate, with its analysis, on this registered evaluation (EV-nnnnn)",
    ),
]
OutcomeSdOpt = Annotated[
    float | None,
    typer.Option(
        "--outcome-sd",
        help="with --record: the outcome's SD among comparison units (default: from the panel)",
        min=0.0,
    ),
]
DirectionOpt = Annotated[
    int,
    typer.Option(
        "--direction", help="with --record: 1 if more of the outcome is better, -1 if less"
    ),
]


def _sd(values: np.ndarray) -> float | None:
    import numpy as np

    finite = values[np.isfinite(values)]
    return float(np.std(finite, ddof=1)) if finite.size > 1 and np.std(finite) > 0 else None


def _record(
    st: CliState,
    code: str,
    result: dict[str, Any],
    *,
    outcome: str,
    method: str,
    outcome_sd: float | None,
    direction: int,
    source: str,
) -> None:
    """Save an engine result as an estimate of evaluation ``code`` (one transaction)."""
    from ssaplan.core.permissions import Actor
    from ssaplan.evaluation.schemas import EstimateIn
    from ssaplan.evaluation.service import EvaluationService

    if direction not in (1, -1):
        raise BadRequest(f"--direction must be 1 or -1, not {direction}")
    if result.get("std_error") is None:
        raise BadRequest("the estimate has no standard error to record: run synth with placebos")
    analysis = dict(result)
    if "placebos" in analysis:  # placebo paths are large; their summaries stay
        analysis["placebos"] = [
            {k: v for k, v in p.items() if k != "gaps"} for p in analysis["placebos"]
        ]
    analysis.pop("group_time", None)
    estimate = EstimateIn(
        outcome=outcome[:300],
        unit=f"units of {outcome}"[:100],
        method=method,
        estimate=result["estimate"],
        std_error=result["std_error"],
        ci_low=result.get("ci_low"),
        ci_high=result.get("ci_high"),
        ci_level=1 - float(result.get("alpha", 0.05)),
        outcome_sd=outcome_sd,
        direction=direction,
        n_treated=result.get("n_treated"),
        n_control=result.get("n_control"),
        note=f"computed by ssaplan evaluate from {source}"[:4000],
        analysis=analysis,
    )
    with open_store(st).transaction() as session:
        saved = EvaluationService(session, Actor.operator()).add_estimate(code, estimate)
    info(f"recorded on {saved.id} (version {saved.version})")


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
    record: RecordOpt = None,
    outcome_sd: OutcomeSdOpt = None,
    direction: DirectionOpt = 1,
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
    out = result.as_dict()
    if record:
        sd = outcome_sd or _sd(data.y[data.never_treated]) or _sd(data.y)
        _record(
            st,
            record,
            out,
            outcome=outcome,
            method=method,
            outcome_sd=sd,
            direction=direction,
            source=panel.name,
        )
    emit(st, out, _printer(result.summary()))


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
    record: RecordOpt = None,
    outcome_sd: OutcomeSdOpt = None,
    direction: DirectionOpt = 1,
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
    out = result.as_dict()
    if record:
        pre = data.times < start
        sd = outcome_sd or _sd(data.y[:, pre])
        _record(
            st,
            record,
            out,
            outcome=outcome,
            method="synth",
            outcome_sd=sd,
            direction=direction,
            source=panel.name,
        )
    emit(st, out, _printer(result.summary()))


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


# -- the registry and the evidence base ------------------------------------------------
MAX_JSON_BYTES = 5_000_000


@app.command("list")
def registry_list(
    ctx: typer.Context,
    evaluation_type: Annotated[
        str | None, typer.Option("--type", help="process, performance or impact")
    ] = None,
    status: Annotated[
        str | None, typer.Option(help="planned, ongoing, completed or cancelled")
    ] = None,
    program: Annotated[str | None, typer.Option(help="program id")] = None,
    agency: Annotated[str | None, typer.Option(help="agency (with its bureaus)")] = None,
    q: Annotated[str | None, typer.Option(help="words in title, evaluator or findings")] = None,
    limit: Annotated[int, typer.Option(help="at most this many", min=1, max=10_000)] = 100,
    offset: Annotated[int, typer.Option(help="skip this many", min=0)] = 0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List the evaluation registry, newest first."""
    from ssaplan.core.permissions import Actor
    from ssaplan.evaluation.service import EvaluationService

    st = state(ctx, db, as_json)
    for value, allowed, name in (
        (evaluation_type, ("process", "performance", "impact"), "--type"),
        (status, ("planned", "ongoing", "completed", "cancelled"), "--status"),
    ):
        if value is not None and value not in allowed:
            raise BadRequest(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
    with open_store(st).session() as session:
        page = EvaluationService(session, Actor.operator()).list_evaluations(
            evaluation_type=evaluation_type,
            status=status,
            program=program,
            agency=agency,
            q=q,
            limit=limit,
            offset=offset,
        )
    data = page.model_dump(mode="json")

    def human() -> None:
        for e in page.items:
            effect = (
                f"{e.primary_estimate.estimate:.4g} {e.primary_estimate.unit}"
                if e.primary_estimate
                else "-"
            )
            sys.stdout.write(
                f"{e.id}  {e.evaluation_type:<11} {e.status:<9} {e.marking:<4} {e.agency:<10} "
                f"{effect:<24} {e.title}\n"
            )
        sys.stdout.write(f"{len(page.items)} of {page.total} evaluations\n")
        hidden = page.withheld.above_ceiling + page.withheld.not_releasable
        if hidden:
            info(f"{hidden} evaluation(s) withheld (marking or releasability)")

    emit(st, data, human)


@app.command("show")
def registry_show(
    ctx: typer.Context,
    evaluation_id: Annotated[str, typer.Argument(help="the evaluation's id, e.g. EV-00042")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show one evaluation with its estimates, recommendations and documents."""
    from ssaplan.core.permissions import Actor
    from ssaplan.evaluation.service import EvaluationService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        e = EvaluationService(session, Actor.operator()).get(evaluation_id)

    def human() -> None:
        lines = [
            f"{e.id}  {e.title}",
            f"  {e.evaluation_type} evaluation, {e.status}; {e.agency_name} ({e.agency})",
            f"  marking: {e.marking}"
            + (f", releasable to {', '.join(e.releasable_to)}" if e.releasable_to else ""),
            f"  program: {e.program_title} ({e.program})" if e.program else "  program: -",
            f"  evaluator: {e.evaluator or '-'} ({e.independence})",
        ]
        for x in e.estimates:
            lines.append(
                f"  estimate: {x.outcome}: {x.estimate:.4g} {x.unit}"
                + (f" (SE {x.std_error:.3g})" if x.std_error else "")
                + (" [primary]" if x.primary else "")
            )
        for r in e.recommendations:
            lines.append(f"  recommendation ({r.response}): {r.text}")
        sys.stdout.write("\n".join(lines) + "\n")

    emit(st, e.model_dump(mode="json"), human)


@app.command("add")
def registry_add(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="a JSON object with the fields of an evaluation (see docs)")
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register an evaluation from a JSON file (all of it, or nothing)."""
    from pydantic import ValidationError

    from ssaplan.core.errors import Detail, Invalid
    from ssaplan.core.permissions import Actor
    from ssaplan.evaluation.schemas import EvaluationCreate
    from ssaplan.evaluation.service import EvaluationService

    st = state(ctx, db, as_json)
    if not file.is_file():
        raise BadRequest(f"{file} is not a file")
    if file.stat().st_size > MAX_JSON_BYTES:
        raise BadRequest(f"{file} is larger than {MAX_JSON_BYTES:,} bytes (max_bytes)")
    try:
        raw = json.loads(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"{file.name} is not UTF-8 JSON: {exc}") from exc
    try:
        data = EvaluationCreate.model_validate(raw)
    except ValidationError as exc:
        raise Invalid(
            f"{file.name} is not a valid evaluation",
            [Detail((file.name, *err["loc"]), err["msg"]) for err in exc.errors()],
        ) from exc
    with open_store(st).transaction() as session:
        e = EvaluationService(session, Actor.operator()).create(data)
    emit(st, e.model_dump(mode="json"), _printer(f"registered {e.id}: {e.title}"))


@app.command("evidence")
def evidence(
    ctx: typer.Context,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The evidence base: pooled effects by kind of program and their multipliers."""
    from ssaplan.core.permissions import Actor
    from ssaplan.evaluation.evidence import EvidenceService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        table = EvidenceService(session, Actor.operator()).table()

    def human() -> None:
        for k in table.kinds:
            p = k.pooled
            sys.stdout.write(
                f"{k.institution_type_name} x {k.purpose_name}: k={p.k}, "
                f"{p.estimate:+.3f} SD [{p.ci_low:+.3f}, {p.ci_high:+.3f}], "
                f"multiplier {k.multiplier:.2f}\n"
            )
        for x in table.excluded:
            sys.stdout.write(f"not pooled: {x.evaluation} {x.title}: {x.reason}\n")

    emit(st, table.model_dump(mode="json"), human)


@app.command("effectiveness")
def effectiveness(
    ctx: typer.Context,
    without_evidence: Annotated[
        bool,
        typer.Option(
            "--without-evidence", help="every kind counts 1, as if nothing were evaluated"
        ),
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The allocation's default effectiveness by kind of program."""
    from ssaplan.core.permissions import Actor
    from ssaplan.evaluation.evidence import EvidenceService

    st = state(ctx, db, as_json)
    with open_store(st).session() as session:
        found = EvidenceService(session, Actor.operator()).effectiveness(
            use_evidence=not without_evidence
        )

    def human() -> None:
        for row in found.kinds:
            sys.stdout.write(
                f"{row.institution_type} x {row.purpose}: {row.multiplier:.2f} (k={row.k})\n"
            )
        sys.stdout.write(f"every other kind: {found.default:.2f}\n")

    emit(st, found.model_dump(mode="json"), human)
