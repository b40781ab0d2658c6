"""The stored world as the coordination engine reads it.

The one place coordination reads the portfolio's and the donor tables to build the
engine's plain records (docs/coordination.md, section 6):

* :class:`ProgramFacts` and :class:`DonorFacts`: a program and a donor activity, read in
  bulk with Core selects (no ORM objects: a run may read 100,000 activities);
* :func:`overlap_activities`: both as the overlap engine's ``Activity`` records, with
  what the review queue shows for each (title, owner, stable reference);
* :func:`our_flows` and :func:`donor_flows`: money as ``DonorFlow`` rows — ours from
  the portfolio's money by partner (:func:`ssaplan.portfolio.money.partner_money`),
  the others' from their IATI transactions;
* :func:`fingerprint`: what a stored run read, to tell when it is stale.

Interpretation rules for donor data live here, stated once:

* a donor is its reporting organisation's ref (else its name); U.S. government
  publishers (``data/donors.toml``) are left out of the donors' money (the portfolio
  counts U.S. money) but kept in overlap detection;
* a transaction counts in the U.S. fiscal year of its date (else its value date), like
  the portfolio's lines; a transaction without a dollar value (no rate for its
  currency) or without any date is left out and counted;
* an activity's dollars split among its recipient countries and regions by their
  percentages (equally when any is missing), then among its sectors (DAC vocabulary 1,
  else 2) by theirs, to the dollar (largest remainder, as the portfolio splits).
"""

from __future__ import annotations

import csv
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ssaplan.coordination.engine import Activity, DonorFlow
from ssaplan.coordination.models import (
    DonorActivity,
    DonorRecipientCountry,
    DonorRecipientRegion,
    DonorSector,
    DonorTransaction,
)
from ssaplan.core.errors import Detail, Invalid
from ssaplan.portfolio import visibility
from ssaplan.portfolio.engine import fiscal_year, split_amount
from ssaplan.portfolio.filters import ProgramFilter
from ssaplan.portfolio.models import (
    Program,
    ProgramCountry,
    ProgramObjective,
    ProgramRegion,
)
from ssaplan.portfolio.money import PartnerMoney, partner_money
from ssaplan.reference.catalog import Catalog

DATA = Path(__file__).resolve().parent / "data"
UNSPECIFIED = "(unspecified)"
OTHER_REGIONS = "(other regions)"
UNKNOWN_COUNTRY = "(unknown country)"
VOCABULARIES = ("dac3", "dac5")
CHUNK = 500


@dataclass(frozen=True)
class Basis:
    """Which money counts: the portfolio's measure and the IATI transaction types."""

    name: str
    label: str
    ours: str  # planned | obligated | disbursed
    iati_transactions: tuple[str, ...]


@dataclass(frozen=True)
class DonorSettings:
    """``data/donors.toml``: our donor code and name, our IATI publishers, the bases."""

    us_code: str
    us_name: str
    publisher_prefixes: tuple[str, ...]
    bases: Mapping[str, Basis]

    def is_us(self, ref: str | None) -> bool:
        return bool(ref) and any(str(ref).upper().startswith(p) for p in self.publisher_prefixes)

    def basis(self, name: str) -> Basis:
        if name not in self.bases:
            raise Invalid(
                "unknown money basis",
                [Detail(("basis",), f"use one of {', '.join(sorted(self.bases))}")],
            )
        return self.bases[name]


@cache
def donor_settings() -> DonorSettings:
    raw = tomllib.loads((DATA / "donors.toml").read_text(encoding="utf-8"))
    bases = {
        name: Basis(name, b["label"], b["ours"], tuple(b["iati_transactions"]))
        for name, b in raw["basis"].items()
    }
    us = raw["us"]
    return DonorSettings(
        us["code"], us["name"], tuple(p.upper() for p in us["publisher_prefixes"]), bases
    )


@cache
def dac_regions() -> dict[str, str]:
    """DAC recipient-region codes -> reference region codes (``data/dac_regions.csv``,
    the same table as ingest's ``iati_regions.csv``: coordination sits below ingest and
    cannot read it from there)."""
    with (DATA / "dac_regions.csv").open(encoding="utf-8", newline="") as fh:
        return {r["dac_region"]: r["region"] for r in csv.DictReader(fh) if r["region"]}


def check_vocabulary(vocabulary: str) -> str:
    if vocabulary not in VOCABULARIES:
        raise Invalid(
            "unknown sector vocabulary",
            [Detail(("vocabulary",), f"use one of {', '.join(VOCABULARIES)}")],
        )
    return vocabulary


# --- programs -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgramFacts:
    """One program of the portfolio as coordination reads it."""

    pk: int
    code: str
    title: str
    description: str
    agency: str
    top_agency: str
    status: str
    start: date | None
    end: date | None
    institution_type: str | None
    purpose: str | None
    dac_code: str | None
    countries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    objectives: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"program:{self.pk}"

    def partner_countries(self, catalog: Catalog) -> frozenset[str]:
        """Its countries, a region's members counting for the region."""
        out = set(self.countries)
        for code in self.regions:
            if code in catalog.regions:
                out |= catalog.region_members(code)
        return frozenset(out)


def visible_program_ids(catalog: Catalog, audience: visibility.Audience | None) -> Any:
    """The ids of the programs ``audience`` may see (every program for none): the one
    set every coordination figure about our money is computed over."""
    return visibility.only_visible(
        ProgramFilter().program_ids(catalog), audience or visibility.Audience(), catalog
    )


def visible_partner_money(
    session: Session, catalog: Catalog, audience: visibility.Audience | None
) -> list[PartnerMoney]:
    """The portfolio's money by partner, over the programs ``audience`` may see."""
    if audience is None or audience.unrestricted:
        return partner_money(session, catalog)
    return partner_money(session, catalog, program_ids=visible_program_ids(catalog, audience))


def load_programs(
    session: Session, catalog: Catalog, audience: visibility.Audience | None = None
) -> list[ProgramFacts]:
    """Every program ``audience`` may see (all for none) with its partners and
    objectives, ordered by code."""
    countries: dict[int, list[str]] = defaultdict(list)
    for pid, iso3 in session.execute(
        select(ProgramCountry.program_id, ProgramCountry.iso3).order_by(
            ProgramCountry.program_id, ProgramCountry.iso3
        )
    ):
        countries[pid].append(iso3)
    regions: dict[int, list[str]] = defaultdict(list)
    for pid, code in session.execute(
        select(ProgramRegion.program_id, ProgramRegion.region_code).order_by(
            ProgramRegion.program_id, ProgramRegion.region_code
        )
    ):
        regions[pid].append(code)
    objectives: dict[int, list[str]] = defaultdict(list)
    for pid, oid in session.execute(
        select(ProgramObjective.program_id, ProgramObjective.objective_id).order_by(
            ProgramObjective.program_id, ProgramObjective.objective_id
        )
    ):
        objectives[pid].append(oid)
    rows = session.execute(
        visibility.only_visible(
            select(
                Program.id,
                Program.code,
                Program.title,
                Program.description,
                Program.agency_id,
                Program.status,
                Program.start_date,
                Program.end_date,
                Program.institution_type_id,
                Program.purpose_id,
                Program.dac_code,
            ),
            audience or visibility.Audience(),
            catalog,
        ).order_by(Program.code)
    )
    out = []
    for r in rows:
        out.append(
            ProgramFacts(
                pk=r.id,
                code=r.code,
                title=r.title or "",
                description=r.description or "",
                agency=r.agency_id,
                top_agency=catalog.top_agency(r.agency_id),
                status=r.status,
                start=r.start_date,
                end=r.end_date,
                institution_type=r.institution_type_id,
                purpose=r.purpose_id,
                dac_code=r.dac_code,
                countries=tuple(countries.get(r.id, ())),
                regions=tuple(regions.get(r.id, ())),
                objectives=tuple(objectives.get(r.id, ())),
            )
        )
    return out


# --- donor activities -----------------------------------------------------------------


@dataclass(frozen=True)
class DonorFacts:
    """One stored donor activity as coordination reads it.

    ``countries`` are ``(iso3 or None, percentage or None)``; ``regions`` are
    ``(reference region code or None, published code, percentage or None)``;
    ``sectors`` are ``(vocabulary, code, percentage or None)``.
    """

    identifier: str
    donor: str
    donor_name: str
    title: str
    description: str
    language: str | None
    start: date | None
    end: date | None
    countries: tuple[tuple[str | None, float | None], ...] = ()
    regions: tuple[tuple[str | None, str, float | None], ...] = ()
    sectors: tuple[tuple[str, str, float | None], ...] = ()
    is_us: bool = False

    @property
    def ref(self) -> str:
        return f"donor:{self.identifier}"

    @property
    def dac_code(self) -> str | None:
        """The vocabulary-1 (DAC 5-digit) sector with the largest percentage."""
        best: tuple[float, str] | None = None
        for vocabulary, code, pct in self.sectors:
            if vocabulary == "1" and len(code) == 5 and code.isdigit():
                key = (pct if pct is not None else 0.0, code)
                if best is None or key[0] > best[0]:
                    best = key
        return best[1] if best else None

    @property
    def country_codes(self) -> tuple[str, ...]:
        return tuple(sorted({c for c, _ in self.countries if c}))

    @property
    def region_codes(self) -> tuple[str, ...]:
        return tuple(sorted({r for r, _, _ in self.regions if r}))


def _description(descriptions: Sequence[dict[str, str]], language: str | None) -> str:
    """The general description (type 1) in the default language, else the first general
    one, else the first of any type."""
    general = [d for d in descriptions or () if (d.get("type") or "1") == "1" and d.get("text")]
    for d in general:
        if (d.get("lang") or "") == (language or ""):
            return d["text"]
    if general:
        return general[0]["text"]
    texts = [d["text"] for d in descriptions or () if d.get("text")]
    return texts[0] if texts else ""


def _region_code(code: str, vocabulary: str, catalog: Catalog) -> str | None:
    code = (code or "").strip()
    if vocabulary == "1" and code in dac_regions():
        return dac_regions()[code]
    return code if code in catalog.regions else None


def load_donor_activities(
    session: Session, catalog: Catalog, audience: visibility.Audience | None = None
) -> list[DonorFacts]:
    """Every stored donor activity ``audience`` may see (all for none) with its
    recipients and sectors, by identifier. (Child rows of hidden activities are read
    but never used: every fact is keyed by a visible activity.)"""
    settings = donor_settings()
    countries: dict[str, list[tuple[str | None, float | None]]] = defaultdict(list)
    for aid, iso3, pct in session.execute(
        select(
            DonorRecipientCountry.activity_id,
            DonorRecipientCountry.iso3,
            DonorRecipientCountry.percentage,
        ).order_by(DonorRecipientCountry.activity_id, DonorRecipientCountry.seq)
    ):
        countries[aid].append((iso3, pct))
    regions: dict[str, list[tuple[str | None, str, float | None]]] = defaultdict(list)
    for aid, code, vocabulary, pct in session.execute(
        select(
            DonorRecipientRegion.activity_id,
            DonorRecipientRegion.code,
            DonorRecipientRegion.vocabulary,
            DonorRecipientRegion.percentage,
        ).order_by(DonorRecipientRegion.activity_id, DonorRecipientRegion.seq)
    ):
        regions[aid].append((_region_code(code, vocabulary, catalog), code, pct))
    sectors: dict[str, list[tuple[str, str, float | None]]] = defaultdict(list)
    for aid, vocabulary, code, pct in session.execute(
        select(
            DonorSector.activity_id,
            DonorSector.vocabulary,
            DonorSector.code,
            DonorSector.percentage,
        ).order_by(DonorSector.activity_id, DonorSector.seq)
    ):
        sectors[aid].append((vocabulary or "1", (code or "").strip(), pct))
    out = []
    for r in session.execute(
        visibility.only_visible(
            select(
                DonorActivity.identifier,
                DonorActivity.reporting_org_ref,
                DonorActivity.reporting_org_name,
                DonorActivity.title,
                DonorActivity.descriptions,
                DonorActivity.default_language,
                DonorActivity.planned_start,
                DonorActivity.actual_start,
                DonorActivity.planned_end,
                DonorActivity.actual_end,
            ),
            audience or visibility.Audience(),
            catalog,
            marked=DonorActivity,
        ).order_by(DonorActivity.identifier)
    ):
        ref = (r.reporting_org_ref or "").strip()
        name = (r.reporting_org_name or "").strip()
        out.append(
            DonorFacts(
                identifier=r.identifier,
                donor=ref or name or "(unknown donor)",
                donor_name=name or ref or "(unknown donor)",
                title=r.title or "",
                description=_description(r.descriptions, r.default_language),
                language=r.default_language,
                start=r.actual_start or r.planned_start,
                end=r.actual_end or r.planned_end,
                countries=tuple(countries.get(r.identifier, ())),
                regions=tuple(regions.get(r.identifier, ())),
                sectors=tuple(sectors.get(r.identifier, ())),
                is_us=settings.is_us(ref),
            )
        )
    return out


# --- overlap detection ----------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """What the review queue shows of one side of a pair."""

    ref: str
    title: str
    owner: str  # top agency id or donor ref
    owner_name: str
    partners: tuple[str, ...]


@dataclass
class OverlapInputs:
    """The engine's activities, what the queue shows of each, and records set aside."""

    activities: list[Activity]
    sides: dict[str, Side]
    set_aside: list[dict[str, str]] = field(default_factory=list)


def overlap_activities(
    programs: Sequence[ProgramFacts], donors: Sequence[DonorFacts], catalog: Catalog
) -> OverlapInputs:
    """Programs and donor activities as the overlap engine's ``Activity`` records.

    Programs are compared by top agency (State/INL and State/PM are one agency: the
    policy asks for coherence across agencies). A donor activity whose identifier is
    also a program's code (the same IATI file imported both ways) is set aside: the
    program stands for it.
    """
    activities: list[Activity] = []
    sides: dict[str, Side] = {}
    set_aside: list[dict[str, str]] = []
    for p in programs:
        activities.append(
            Activity(
                id=p.code,
                source="program",
                agency_or_donor=p.top_agency,
                countries=p.countries,
                regions=p.regions,
                start=p.start,
                end=p.end,
                institution_type=p.institution_type,
                purpose=p.purpose,
                dac_code=p.dac_code,
                title=p.title,
                description=p.description,
            )
        )
        agency = catalog.agencies.get(p.top_agency)
        sides[p.code] = Side(
            p.ref,
            p.title,
            p.top_agency,
            agency.name if agency else p.top_agency,
            (*p.countries, *p.regions),
        )
    for d in donors:
        if d.identifier in sides:
            set_aside.append(
                {
                    "id": d.identifier,
                    "reason": f"also a program's id ({d.identifier}): the same activity "
                    "imported both ways; compared once, as the program",
                }
            )
            continue
        activities.append(
            Activity(
                id=d.identifier,
                source="donor",
                agency_or_donor=d.donor,
                countries=d.country_codes,
                regions=d.region_codes,
                start=d.start,
                end=d.end,
                dac_code=d.dac_code,
                title=d.title,
                description=d.description,
                language=d.language,
            )
        )
        sides[d.identifier] = Side(
            d.ref, d.title, d.donor, d.donor_name, (*d.country_codes, *d.region_codes)
        )
    return OverlapInputs(activities, sides, set_aside)


def regions_of(catalog: Catalog) -> dict[str, tuple[str, ...]]:
    """Every country's regions of any kind (bureau, command, UN regions, organizations)."""
    return {iso3: catalog.country_regions(iso3) for iso3 in catalog.countries}


def partner_name(catalog: Catalog, code: str) -> str:
    """A country's or region's display name (the code itself when neither)."""
    if code in catalog.countries:
        return catalog.countries[code].name
    if code in catalog.regions:
        return catalog.regions[code].name
    return code


# --- money ----------------------------------------------------------------------------


def sector_of(dac_code: str | None, vocabulary: str) -> str:
    """A DAC purpose code in the analysis's vocabulary (its 3-digit category for dac3)."""
    code = (dac_code or "").strip()
    if not code:
        return UNSPECIFIED
    return code[:3] if vocabulary == "dac3" else code


@cache
def _category_names(catalog: Catalog) -> dict[str, str]:
    return {d.category: d.category_name for d in catalog.dac_codes.values()}


def sector_name(catalog: Catalog, code: str) -> str:
    """'Conflict, peace and security' for 152; the purpose name for a 5-digit code."""
    if code in catalog.dac_codes:
        return catalog.dac_codes[code].name
    return _category_names(catalog).get(code, code)


def our_flows(
    session: Session,
    catalog: Catalog,
    *,
    basis: Basis,
    vocabulary: str,
    rows: Sequence[PartnerMoney] | None = None,
    audience: visibility.Audience | None = None,
) -> list[DonorFlow]:
    """The portfolio's money as flows of the donor ``US``: one per budget line and
    partner (:func:`partner_money`), the partner a country or a region as a whole,
    the sector the program's DAC code in ``vocabulary``, the year its fiscal year.
    Only the programs ``audience`` may see (all for none)."""
    us = donor_settings().us_code
    dac = dict(session.execute(select(Program.id, Program.dac_code)).all())
    out = []
    for r in rows if rows is not None else visible_partner_money(session, catalog, audience):
        usd = getattr(r.money, basis.ours)
        if usd:
            out.append(
                DonorFlow(
                    us,
                    r.partner or UNSPECIFIED,
                    sector_of(dac.get(r.program_pk), vocabulary),
                    r.fiscal_year,
                    int(usd),
                )
            )
    return out


@dataclass
class FlowReport:
    """Donor flows and what was left out of them."""

    flows: list[DonorFlow]
    transactions: int = 0
    no_usd: int = 0
    undated: int = 0
    us_publishers: int = 0
    donors: dict[str, str] = field(default_factory=dict)  # donor -> name

    def as_dict(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "left_out": {
                "no_dollar_value": self.no_usd,
                "no_date": self.undated,
                "us_government_publishers": self.us_publishers,
            },
        }


def _weights(values: Sequence[float | None]) -> list[int]:
    """Integer weights from published percentages; equal when any is missing or <= 0."""
    if values and all(v is not None and v > 0 for v in values):
        return [max(1, round(float(v) * 100)) for v in values if v is not None]
    return [1] * len(values)


def _partners_of(d: DonorFacts) -> tuple[list[str], list[int]]:
    names: list[str] = []
    pcts: list[float | None] = []
    for iso3, pct in d.countries:
        names.append(iso3 or UNKNOWN_COUNTRY)
        pcts.append(pct)
    for region, _code, pct in d.regions:
        names.append(region or OTHER_REGIONS)
        pcts.append(pct)
    if not names:
        return [UNSPECIFIED], [1]
    return names, _weights(pcts)


def _sectors_of(d: DonorFacts, vocabulary: str) -> tuple[list[str], list[int]]:
    for wanted in ("1", "2"):
        chosen = [(code, pct) for vocab, code, pct in d.sectors if vocab == wanted and code]
        if chosen:
            codes = [code[:3] if vocabulary == "dac3" else code for code, _ in chosen]
            return codes, _weights([pct for _, pct in chosen])
    return [UNSPECIFIED], [1]


def donor_flows(
    session: Session,
    catalog: Catalog,
    *,
    basis: Basis,
    vocabulary: str,
    activities: Sequence[DonorFacts] | None = None,
    audience: visibility.Audience | None = None,
) -> FlowReport:
    """Other donors' money from their stored IATI transactions of the basis's types:
    only of the activities ``audience`` may see (all for none); a hidden activity's
    transactions are in no count."""
    facts = {
        d.identifier: d for d in activities or load_donor_activities(session, catalog, audience)
    }
    report = FlowReport([])
    totals: dict[tuple[str, int], int] = defaultdict(int)
    us_activities: set[str] = set()
    for aid, tdate, vdate, usd in session.execute(
        select(
            DonorTransaction.activity_id,
            DonorTransaction.transaction_date,
            DonorTransaction.value_date,
            DonorTransaction.usd,
        ).where(DonorTransaction.type.in_(basis.iati_transactions))
    ):
        d = facts.get(aid)
        if d is None:
            continue
        report.transactions += 1
        if d.is_us:
            report.us_publishers += 1
            us_activities.add(aid)
            continue
        if usd is None:
            report.no_usd += 1
            continue
        day = tdate or vdate
        if day is None:
            report.undated += 1
            continue
        totals[(aid, fiscal_year(day))] += int(usd)
    for (aid, year), usd in sorted(totals.items()):
        d = facts[aid]
        report.donors.setdefault(d.donor, d.donor_name)
        partners, pweights = _partners_of(d)
        sectors, sweights = _sectors_of(d, vocabulary)
        for partner, part in zip(partners, split_amount(usd, pweights), strict=True):
            for sector, amount in zip(sectors, split_amount(part, sweights), strict=True):
                if amount:
                    report.flows.append(DonorFlow(d.donor, partner, sector, year, amount))
    return report


def fingerprint(session: Session) -> dict[str, Any]:
    """What the stored world looks like now (counts and latest changes of programs and
    donor activities): a run whose ``inputs`` differ is stale."""
    programs, updated = session.execute(
        select(func.count(), func.max(Program.updated_at)).select_from(Program)
    ).one()
    donors, imported = session.execute(
        select(func.count(), func.max(DonorActivity.imported_at)).select_from(DonorActivity)
    ).one()
    return {
        "programs": int(programs),
        "programs_changed": updated.isoformat() if updated else None,
        "donor_activities": int(donors),
        "donors_imported": imported.isoformat() if imported else None,
    }


def chunks(items: Iterable[Any], size: int = CHUNK) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
