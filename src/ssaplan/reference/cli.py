"""``ssaplan reference list KIND``: the shipped reference data."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, state
from ssaplan.core.errors import SsaplanError

app = typer.Typer(help="Reference data: taxonomy, countries, accounts.", no_args_is_help=True)

# Each kind by the name the API uses (/api/reference/{name}) and the catalog's own.
REFERENCE_KINDS = {
    "institution-types": "institution_type",
    "levels": "level",
    "purposes": "purpose",
    "objectives": "objective",
    "regions": "region",
    "agencies": "agency",
    "accounts": "account",
    "dac-codes": "dac_code",
    "markings": "marking",
    "countries": "country",
}


def kind_of(text: str) -> str | None:
    """The catalog kind for ``text``: the API name (``dac-codes``), the catalog name
    (``dac_code``), singular or plural, with ``-`` or ``_``, any case."""
    wanted = text.strip().lower().replace("_", "-")
    for api_name, kind in REFERENCE_KINDS.items():
        forms = {api_name, kind.replace("_", "-"), api_name.rstrip("s")}
        if wanted in forms:
            return kind
    return None


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
    key = kind_of(kind)
    if key is None:
        raise SsaplanError(
            f"unknown reference kind {kind!r}: use one of {', '.join(REFERENCE_KINDS)}"
        )
    table = get_catalog().table(key)  # type: ignore[arg-type]
    items: list[dict[str, Any]] = [asdict(v) for v in table.values()]  # type: ignore[call-overload]

    def human() -> None:
        width = max((len(str(ident)) for ident in table), default=4) + 2
        for ident, item in table.items():
            sys.stdout.write(f"{ident:<{width}}{getattr(item, 'name', '')}\n")

    emit(st, {"kind": key, "items": items}, human)
