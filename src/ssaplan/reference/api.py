"""Reference data over the API: the taxonomy, goals, regions, agencies, accounts, codes."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter

from ssaplan.core.deps import Reader
from ssaplan.core.errors import NotFound
from ssaplan.reference.catalog import Kind, UnknownCode, get_catalog
from ssaplan.reference.schemas import (
    ReferenceEntry,
    ReferenceIndexPublic,
    ReferenceKindPublic,
    ReferenceListPublic,
)

router = APIRouter(prefix="/api/reference", tags=["reference"])

# URL segment -> catalog kind
KINDS: dict[str, Kind] = {
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


def _item(value: Any) -> dict[str, Any]:
    data = asdict(value)
    for key, v in data.items():
        if isinstance(v, frozenset | set | tuple):
            data[key] = sorted(v)
    return data


@router.get("")
def reference_index(actor: Reader) -> ReferenceIndexPublic:
    """The kinds of reference data and how many entries each has."""
    catalog = get_catalog()
    return ReferenceIndexPublic(
        kinds=[
            ReferenceKindPublic(
                kind=seg, count=len(catalog.table(kind)), url=f"/api/reference/{seg}"
            )
            for seg, kind in KINDS.items()
        ]
    )


@router.get("/{kind}")
def reference_list(kind: str, actor: Reader) -> ReferenceListPublic:
    """Every entry of one kind, e.g. ``/api/reference/accounts``."""
    if kind not in KINDS:
        raise NotFound(f"no reference kind {kind!r}: use one of {', '.join(KINDS)}")
    table = get_catalog().table(KINDS[kind])
    items = [_item(v) for v in table.values()]
    return ReferenceListPublic.model_validate({"kind": kind, "items": items, "total": len(items)})


@router.get("/{kind}/{code:path}", response_model=ReferenceEntry)
def reference_item(kind: str, code: str, actor: Reader) -> dict[str, Any]:
    """One entry, by id or display name (any case)."""
    if kind not in KINDS:
        raise NotFound(f"no reference kind {kind!r}: use one of {', '.join(KINDS)}")
    catalog = get_catalog()
    try:
        key = catalog.resolve(KINDS[kind], code)
    except UnknownCode as exc:
        raise NotFound(str(exc)) from exc
    return _item(catalog.table(KINDS[kind])[key])
