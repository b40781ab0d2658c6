"""Editable mappings from outside codes to the portfolio's reference data.

Three CSV files next to this module, each documented in ``docs/formats.md``:

``dac_mapping.csv``
    OECD DAC purpose code -> institution type, level, purpose and objectives of the
    policy's taxonomy. Used when IATI activities (``--as-portfolio``) or
    foreign-assistance rows become programs.
``iati_agencies.csv``
    IATI organisation identifier of a U.S. reporting organisation -> agency.
``iati_regions.csv``
    OECD DAC recipient-region code -> region of the catalog.

The files are read once and checked against the reference catalog: a mapping that
names an unknown institution type, objective, agency or region is refused with the
file and line, so a typo never silently drops a mapping.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ssaplan.core.errors import BadRequest
from ssaplan.reference.catalog import Catalog, Kind, UnknownCode, get_catalog

HERE = Path(__file__).parent


@dataclass(frozen=True)
class DacMapping:
    """What a DAC purpose code says about a program in the policy's taxonomy."""

    code: str
    institution_type: str | None
    level: str | None
    purpose: str | None
    objectives: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class Mappings:
    """All mapping tables, validated."""

    dac: MappingProxyType[str, DacMapping]
    agencies: MappingProxyType[str, str]
    regions: MappingProxyType[str, str]


def _read(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            raise BadRequest(f"{path.name}: missing columns {', '.join(missing)}")
        return [
            (line, {k: (v or "").strip() for k, v in row.items() if k is not None})
            for line, row in enumerate(reader, start=2)
        ]


def load_mappings(catalog: Catalog | None = None, directory: Path = HERE) -> Mappings:
    """Read and check the three mapping files in ``directory``.

    Raises :class:`~ssaplan.core.errors.BadRequest` listing every bad line.
    """
    catalog = catalog or get_catalog()
    problems: list[str] = []

    def check(kind: Kind, value: str, where: str) -> str | None:
        if not value:
            return None
        try:
            return catalog.resolve(kind, value)
        except UnknownCode as exc:
            problems.append(f"{where}: {exc}")
            return None

    dac: dict[str, DacMapping] = {}
    fname = "dac_mapping.csv"
    for line, row in _read(directory / fname, ("dac_code", "institution_type", "objectives")):
        where = f"{fname} line {line}"
        code = row["dac_code"]
        if check("dac_code", code, where) is None:
            continue
        if code in dac:
            problems.append(f"{where}: DAC code {code} appears twice")
        objectives = tuple(
            o
            for o in (
                check("objective", part.strip(), where)
                for part in row.get("objectives", "").split("|")
            )
            if o
        )
        dac[code] = DacMapping(
            code=code,
            institution_type=check("institution_type", row["institution_type"], where),
            level=check("level", row.get("level", ""), where),
            purpose=check("purpose", row.get("purpose", ""), where),
            objectives=objectives,
            note=row.get("note", ""),
        )
    agencies: dict[str, str] = {}
    fname = "iati_agencies.csv"
    for line, row in _read(directory / fname, ("ref", "agency")):
        agency = check("agency", row["agency"], f"{fname} line {line}")
        if agency:
            agencies[row["ref"].upper()] = agency
    regions: dict[str, str] = {}
    fname = "iati_regions.csv"
    for line, row in _read(directory / fname, ("dac_region", "region")):
        region = check("region", row["region"], f"{fname} line {line}")
        if region:
            regions[row["dac_region"]] = region
    if problems:
        raise BadRequest("the ingest mapping files are invalid: " + "; ".join(problems[:10]))
    return Mappings(
        dac=MappingProxyType(dac),
        agencies=MappingProxyType(agencies),
        regions=MappingProxyType(regions),
    )


@lru_cache(maxsize=1)
def get_mappings() -> Mappings:
    """The shipped mappings, loaded once per process."""
    return load_mappings()


def taxonomy_for(codes: list[str], mappings: Mappings) -> dict[str, Any]:
    """Institution type, level and purpose of the first mapped code in ``codes`` (which
    is ordered by importance) and the objectives of every mapped code."""
    out: dict[str, Any] = {}
    objectives: list[str] = []
    for code in codes:
        m = mappings.dac.get(code)
        if m is None:
            continue
        if not out:
            out = {"institution_type": m.institution_type, "level": m.level, "purpose": m.purpose}
        objectives += [o for o in m.objectives if o not in objectives]
    if out:
        out["objectives"] = objectives
    return out
