"""Coordination's step of the ILLUSTRATIVE demo world (after the portfolio).

* A few planted cross-agency near-duplicates among the portfolio's programs (and one
  hard negative: the same partner and words, another institution), so the overlap
  review queue has something real-looking to show.
* Illustrative donor activities of ten made-up donor publishers (``DEMO-*`` refs,
  names ending "(illustrative)"), with disbursements in dollars by sector, so the donor
  matrix, burden sharing and the partner pages have content; one of them duplicates a
  planted program, a few carry the bad input the engine handles (no description, no
  dates, French text).
* One stored overlap run, and two reviewer marks on it.

Everything here is generated from the demo's seed and labelled illustrative.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ssaplan.coordination.overlaps import OverlapService
from ssaplan.coordination.schemas import MarkCreate
from ssaplan.coordination.service import (
    ACTIVITY_COLUMNS,
    CHILD_COLUMNS,
    CHILD_TABLES,
    CoordinationService,
    as_stored,
)
from ssaplan.core import audit
from ssaplan.core.permissions import Actor
from ssaplan.core.spec import DemoContext
from ssaplan.core.store import utcnow
from ssaplan.portfolio.schemas import BudgetLineIn, ProgramCreate
from ssaplan.portfolio.service import PortfolioService

LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real program."
DONOR_LABEL = "ILLUSTRATIVE DEMO DATA — generated, not a real activity."
SOURCE = "demo (illustrative)"
ACTOR = Actor("demo-loader", "admin")

# (partner, agency, account, institution type, title, description) x 2 per planted pair:
# the same effort written up by two agencies in their own words.
PLANTED: tuple[tuple[tuple[str, str, str, str, str, str], ...], ...] = (
    (
        (
            "SOM",
            "DoD/DSCA",
            "10USC333",
            "border_management",
            "Coast guard boarding team training, Somalia",
            "Courses for Somali coast guard officers on vessel boarding, patrol and "
            "maritime search and rescue.",
        ),
        (
            "SOM",
            "State/INL",
            "INCLE",
            "border_management",
            "Maritime law enforcement training for the Somali coast guard",
            "Train coast guard officers in boarding, patrol at sea and search and rescue.",
        ),
    ),
    (
        (
            "KEN",
            "DOJ/OPDAT",
            "INCLE",
            "justice",
            "Terrorism prosecution skills for Kenyan prosecutors",
            "Mentoring and courses for prosecutors handling terrorism cases: evidence, "
            "case building and trial advocacy.",
        ),
        (
            "KEN",
            "State/CT",
            "NADR",
            "justice",
            "Counterterrorism prosecutor training, Kenya",
            "Training prosecutors to build and try terrorism cases: evidence handling, "
            "case preparation and advocacy at trial.",
        ),
    ),
    (
        (
            "COL",
            "DHS/CBP",
            "DHS-INTL",
            "border_management",
            "Port container inspection training, Colombia",
            "Train customs and port inspectors to target and inspect shipping containers "
            "for narcotics and contraband.",
        ),
        (
            "COL",
            "State/INL",
            "INCLE",
            "border_management",
            "Container targeting and inspection at Colombian seaports",
            "Courses for port inspectors on targeting, scanning and inspecting containers "
            "for drugs and contraband.",
        ),
    ),
)
# A hard negative: same partner, nearly the same words, another institution.
HARD_NEGATIVE = (
    (
        "NGA",
        "State/INL",
        "INCLE",
        "police",
        "Forensic evidence training for the Nigeria Police Force",
        "Courses on crime scene evidence, forensic laboratories and case files.",
    ),
    (
        "NGA",
        "DOJ/OPDAT",
        "INCLE",
        "justice",
        "Forensic evidence training for Nigerian judges",
        "Courses on forensic evidence, laboratory reports and case files at trial.",
    ),
)

DONORS = (
    ("DEMO-GB", "United Kingdom (illustrative)"),
    ("DEMO-DE", "Germany (illustrative)"),
    ("DEMO-EU", "European Union (illustrative)"),
    ("DEMO-NL", "Netherlands (illustrative)"),
    ("DEMO-JP", "Japan (illustrative)"),
    ("DEMO-NO", "Norway (illustrative)"),
    ("DEMO-CA", "Canada (illustrative)"),
    ("DEMO-AU", "Australia (illustrative)"),
    ("DEMO-FR", "France (illustrative)"),
    ("DEMO-SE", "Sweden (illustrative)"),
)
PARTNERS = ("SOM", "KEN", "NGA", "COL", "UKR", "PHL", "MLI", "NER", "IRQ", "GTM", "HND", "SEN")
# (DAC code, title pattern): what donors fund in the security sector.
SECTORS = (
    ("15210", "Security sector reform support, {p}"),
    ("15130", "Rule of law and justice programme, {p}"),
    ("15132", "Community policing programme, {p}"),
    ("15220", "Conflict prevention and peacebuilding, {p}"),
    ("15240", "Small arms control and reintegration, {p}"),
    ("15250", "Demining and explosive remnants clearance, {p}"),
    ("15136", "Border and migration management, {p}"),
)
# Each donor's favourite sectors (what gives it a comparative advantage).
FOCUS = {
    "DEMO-GB": ("15210", "15220"),
    "DEMO-DE": ("15136", "15132"),
    "DEMO-EU": ("15130", "15210", "15136"),
    "DEMO-NL": ("15220", "15130"),
    "DEMO-JP": ("15250", "15240"),
    "DEMO-NO": ("15250", "15220"),
    "DEMO-CA": ("15132", "15130"),
    "DEMO-AU": ("15210", "15132"),
    "DEMO-FR": ("15210", "15136"),
    "DEMO-SE": ("15130", "15220"),
}


@dataclass
class DonorActivityRows:
    """One donor activity as rows (what ``CoordinationService.replace_activities`` takes)."""

    identifier: str
    activity: dict[str, Any]
    orgs: list[dict[str, Any]] = field(default_factory=list)
    countries: list[dict[str, Any]] = field(default_factory=list)
    regions: list[dict[str, Any]] = field(default_factory=list)
    sectors: list[dict[str, Any]] = field(default_factory=list)
    budgets: list[dict[str, Any]] = field(default_factory=list)
    transactions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def activity_row(self) -> tuple[Any, ...]:
        values = {**self.activity, "identifier": self.identifier}
        return tuple(as_stored(values[c]) for c in ACTIVITY_COLUMNS)

    @property
    def child_rows(self) -> tuple[list[tuple[Any, ...]], ...]:
        return tuple(
            [
                tuple(
                    as_stored({**row, "activity_id": self.identifier}[c])
                    for c in CHILD_COLUMNS[name]
                )
                for row in getattr(self, name)
            ]
            for name, _ in CHILD_TABLES
        )


def program_create(
    spec: tuple[str, str, str, str, str, str], start: date, years: int
) -> ProgramCreate:
    """A planted program from ``(partner, agency, account, institution type, title,
    description)``: implementing, $2,000,000 planned in each fiscal year it touches
    (FY2025-FY2029 at most), part obligated and disbursed."""
    iso3, agency, account, inst, title, description = spec
    fy0 = start.year + (1 if start.month >= 10 else 0)
    return ProgramCreate(
        title=title,
        description=f"{LABEL} {description}",
        agency=agency,
        account=account,
        countries=[iso3],
        institution_type=inst,
        level="national",
        purpose="build_capacity",
        objectives=["G1.2"] if inst in ("justice", "police") else ["G1.5"],
        dac_code={"justice": "15130", "police": "15132"}.get(inst, "15210"),
        start=start,
        end=start + timedelta(days=365 * years - 1),
        status="implementing",
        budget=[
            BudgetLineIn(
                fiscal_year=fy,
                planned=2_000_000,
                obligated=1_800_000 if fy < 2027 else 400_000,
                disbursed=1_200_000 if fy < 2027 else 100_000,
            )
            for fy in range(max(fy0, 2025), min(fy0 + years, 2029) + 1)
        ],
    )


def activity_rows(
    identifier: str,
    donor: tuple[str, str],
    title: str,
    description: str | None,
    countries: list[tuple[str, str, float | None]],
    sectors: list[tuple[str, float | None]],
    start: date | None,
    end: date | None,
    payments: list[tuple[date, int]],
    *,
    language: str = "en",
    regions: list[tuple[str, float | None]] | None = None,
) -> DonorActivityRows:
    """An illustrative donor activity as IATI-shaped rows: ``countries`` are ``(iso2, iso3,
    percentage)``, ``sectors`` ``(DAC code, percentage)``, ``payments`` disbursements
    ``(day, dollars)`` in U.S. dollars."""
    ref, name = donor
    descriptions = (
        [{"type": "1", "lang": language, "text": f"{DONOR_LABEL} {description}"}]
        if description
        else []
    )
    rows = DonorActivityRows(
        identifier,
        {
            "reporting_org_ref": ref,
            "reporting_org_type": "10",
            "reporting_org_name": name,
            "title": title,
            "titles": {language: title},
            "descriptions": descriptions,
            "default_language": language,
            "default_currency": "USD",
            "status": "2",
            "planned_start": start,
            "actual_start": start,
            "planned_end": end,
            "actual_end": None,
            "humanitarian": False,
            "default_aid_type": "C01",
            "default_finance_type": "110",
            "default_flow_type": "10",
            "source_line": 0,
        },
    )
    rows.orgs = [
        {"seq": 0, "role": "1", "ref": ref, "type": "10", "name": name},
        {"seq": 1, "role": "4", "ref": None, "type": "22", "name": "Implementing partner"},
    ]
    rows.countries = [
        {"seq": i, "code": iso2, "iso3": iso3, "name": "", "percentage": pct}
        for i, (iso2, iso3, pct) in enumerate(countries)
    ]
    rows.regions = [
        {"seq": i, "code": code, "vocabulary": "1", "percentage": pct}
        for i, (code, pct) in enumerate(regions or [])
    ]
    rows.sectors = [
        {"seq": i, "vocabulary": "1", "code": code, "name": "", "percentage": pct}
        for i, (code, pct) in enumerate(sectors)
    ]
    rows.transactions = [
        {
            "seq": i,
            "type": "3",
            "transaction_date": day,
            "amount": str(usd),
            "currency": "USD",
            "value_date": day,
            "usd": usd,
            "provider_ref": ref,
            "provider_name": name,
            "receiver_ref": None,
            "receiver_name": "Implementing partner",
            "aid_type": None,
            "finance_type": None,
            "humanitarian": None,
        }
        for i, (day, usd) in enumerate(payments)
    ]
    return rows


def donor_activities(seed: int, iso2: dict[str, str]) -> list[DonorActivityRows]:
    """The illustrative donor activities for ``seed``: same seed, same activities."""
    rng = random.Random(seed * 7 + 15)  # noqa: S311 - reproducible demo data, not a secret
    out: list[DonorActivityRows] = []
    n = 0
    for ref, name in DONORS:
        for iso3 in rng.sample(PARTNERS, 5):
            favourite = FOCUS[ref]
            codes = [c for c, _ in SECTORS]
            code = rng.choice(favourite) if rng.random() < 0.75 else rng.choice(codes)
            pattern = dict(SECTORS)[code]
            start = date(2023, 10, 1) + timedelta(days=rng.randint(0, 700))
            end = start + timedelta(days=365 * rng.randint(2, 4))
            yearly = rng.randint(5, 60) * 100_000
            payments = [
                (start + timedelta(days=30 + 365 * k), yearly)
                for k in range(4)
                if start + timedelta(days=30 + 365 * k) <= date(2026, 9, 30)
            ]
            n += 1
            out.append(
                activity_rows(
                    f"{ref}-{n:04d}",
                    (ref, name),
                    pattern.format(p=iso3),
                    f"{pattern.format(p=iso3)}: training, equipment and advice "
                    f"for national institutions ({name}).",
                    [(iso2[iso3], iso3, None)],
                    [(code, None)],
                    start,
                    end,
                    payments,
                )
            )
    # A donor activity that duplicates a planted program (Somalia coast guard).
    out.append(
        activity_rows(
            "DEMO-GB-DUP-0001",
            DONORS[0],
            "Support to the Somali coast guard: boarding and patrol training",
            "Training courses for Somali coast guard officers in vessel boarding, "
            "patrol and search and rescue at sea.",
            [(iso2["SOM"], "SOM", None)],
            [("15136", None)],
            date(2025, 4, 1),
            date(2027, 3, 31),
            [(date(2025, 6, 1), 1_500_000), (date(2026, 6, 1), 1_500_000)],
        )
    )
    # Bad input the engine handles by its rules: no description; no dates; French text;
    # two countries with percentages; a region (DAC 289, south of Sahara) as a whole.
    out.append(
        activity_rows(
            "DEMO-DE-0901",
            DONORS[1],
            "Border police equipment, Niger",
            None,
            [(iso2["NER"], "NER", None)],
            [("15136", None)],
            date(2024, 1, 1),
            date(2026, 12, 31),
            [(date(2024, 3, 1), 2_000_000), (date(2025, 3, 1), 2_500_000)],
        )
    )
    out.append(
        activity_rows(
            "DEMO-EU-0902",
            DONORS[2],
            "Rule of law programme, Mali and Niger",
            "Justice sector support in Mali and Niger: courts, prosecution and prisons.",
            [(iso2["MLI"], "MLI", 60.0), (iso2["NER"], "NER", 40.0)],
            [("15130", 70.0), ("15137", 30.0)],
            None,
            None,
            [(date(2025, 2, 1), 5_000_000)],
        )
    )
    out.append(
        activity_rows(
            "DEMO-FR-0903",
            DONORS[8],
            "Formation des garde-côtes sénégalais",
            "Formation des officiers des garde-côtes à l'arraisonnement, à la patrouille "
            "et au sauvetage en mer.",
            [(iso2["SEN"], "SEN", None)],
            [("15210", None)],
            date(2024, 10, 1),
            date(2027, 9, 30),
            [(date(2024, 12, 1), 1_200_000), (date(2025, 12, 1), 1_200_000)],
            language="fr",
        )
    )
    out.append(
        activity_rows(
            "DEMO-NO-0904",
            DONORS[5],
            "Regional mine action programme, Sahel",
            "Clearance of explosive remnants of war and risk education across the Sahel.",
            [],
            [("15250", None)],
            date(2024, 6, 1),
            date(2027, 5, 31),
            [(date(2024, 9, 1), 3_000_000), (date(2025, 9, 1), 3_000_000)],
            regions=[("289", None)],
        )
    )
    return out


def load(ctx: DemoContext) -> dict[str, Any]:
    """The demo step: planted programs, donor activities, one overlap run, two marks."""
    from ssaplan.reference.catalog import get_catalog

    catalog = get_catalog()
    iso2 = {c.iso3: c.iso2 for c in catalog.countries.values()}
    ctx.log("planting illustrative cross-agency near-duplicates and donor activities...")
    with ctx.store.transaction() as session:
        specs = [spec for pair in (*PLANTED, HARD_NEGATIVE) for spec in pair]
        programs = [
            program_create(spec, date(2025, 1, 1) + timedelta(days=120 * (k % 2)), 3)
            for k, spec in enumerate(specs)
        ]
        report = PortfolioService(session, ACTOR, catalog).upsert_many(programs, source="demo")
        codes = list(report.created)
        activities = donor_activities(ctx.seed, iso2)
        service = CoordinationService(session, ACTOR)
        service.begin_write()
        service.replace_activities(
            activities, source_file=SOURCE, version="2.03", imported_at=utcnow()
        )
        audit.record(
            session,
            audit.Entry(
                ACTOR.username,
                "import",
                "donor_activities",
                SOURCE,
                None,
                {"activities": len(activities), "illustrative": True},
                summary=f"{len(activities)} illustrative donor activities",
            ),
        )
    ctx.log("running overlap detection over the demo world...")
    with ctx.store.transaction() as session:
        overlaps = OverlapService(session, ACTOR, catalog)
        outcome = overlaps.run()
        # Illustrative reviews: the Somalia pair confirmed, the Nigeria pair dismissed.
        overlaps.create_mark(
            MarkCreate(
                a=codes[0],
                b=codes[1],
                mark="confirmed",
                note="Illustrative review: the same coast guard course funded twice; "
                "DoD and INL to merge the curricula.",
            )
        )
        overlaps.create_mark(
            MarkCreate(
                a=codes[6],
                b=codes[7],
                mark="dismissed",
                note="Illustrative review: police and judges are different audiences.",
            )
        )
    return {
        "coordination": {
            "planted_programs": codes,
            "donor_activities": len(activities),
            "overlap_run": outcome.run.id,
            "pairs": outcome.run.pairs,
            "likely": outcome.run.likely,
            "illustrative": True,
        }
    }
