"""``ssaplan reference list KIND``: the shipped reference data."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, state
from ssaplan.core.errors import SsaplanError

app = typer.Typer(help="Reference data: taxonomy, countries, accounts.", no_args_is_help=True)


REFERENCE_KINDS = (
    "institution_type",
    "level",
    "purpose",
    "country",
    "region",
    "agency",
    "account",
    "objective",
    "dac_code",
    "marking",
)


@app.command("list")
def reference_list(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=", ".join(REFERENCE_KINDS))],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List one kind of reference data (from the shipped files)."""
    from dataclasses import asdict

    from ssaplan.reference.catalog import get_catalog

    st = state(ctx, db, as_json)
    key = kind.strip().lower().replace("-", "_").rstrip("s")
    if key == "countrie":
        key = "country"
    if key not in REFERENCE_KINDS:
        raise SsaplanError(
            f"unknown reference kind {kind!r}: use one of {', '.join(REFERENCE_KINDS)}"
        )
    table = get_catalog().table(key)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = [asdict(v) for v in table.values()]  # type: ignore[call-overload]

    def human() -> None:
        for ident, item in table.items():
            sys.stdout.write(f"{ident:<12} {getattr(item, 'name', '')}\n")

    emit(st, {"kind": key, "items": items}, human)
