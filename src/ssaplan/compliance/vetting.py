"""Human-rights (Leahy) vetting: units, vetting decisions, credible information.

The Leahy laws forbid assistance to a unit of a foreign security force where there
is credible information that the unit committed a gross violation of human rights:
22 U.S.C. 2378d for assistance under the Foreign Assistance Act and the Arms Export
Control Act (State-funded), 10 U.S.C. 362 for Defense-funded training, equipment and
other assistance. Both lift the bar when the government takes corrective steps
(2378d(b): effective steps to bring those responsible to justice; 362(b): all
necessary corrective steps) — recorded here as the credible information's
``remediated_on`` date.

A unit is **cleared** on a day when its latest vetting decision on or before that
day is an approval still within its validity, and no credible information about it
is open that day. Approval validity counts the decision day as day 1: with the
default 365 days, an approval decided on 2025-01-01 is valid through 2025-12-31
(day 365) and lapses on 2026-01-01 (day 366).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType

from ssaplan.compliance.inputs import ProgramYear, fiscal_year_of
from ssaplan.core.errors import Detail, Invalid

VETTING_STATUSES = ("pending", "approved", "suspended", "denied")
SUBJECT_KINDS = ("unit", "individual")
DEFAULT_VALIDITY_DAYS = 365
# What vetting_state can answer, beyond the four recorded statuses.
STATES = (
    "approved",
    "expired",
    "pending",
    "suspended",
    "denied",
    "not_vetted",
    "credible_information",
    "unknown_unit",
)
_ISO3 = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class Unit:
    """A unit of a foreign security force that U.S. assistance may reach.

    ``type`` is an institution type id of the reference taxonomy (``armed_forces``,
    ``police``, ...); ``parent`` the id of the unit it belongs to, if registered.
    """

    id: str
    name: str
    country: str
    type: str
    parent: str | None = None


@dataclass(frozen=True)
class VettingRecord:
    """One vetting request and its decision, for a unit or an individual.

    ``program_id`` is the program whose assistance the request is for. ``decided``
    is required for every status but ``pending``; ``validity_days`` is the approval's
    validity (default 12 months: 365 days, configurable per record).
    """

    id: str
    subject_id: str
    program_id: str | None
    status: str
    decided: date | None = None
    requested: date | None = None
    validity_days: int = DEFAULT_VALIDITY_DAYS
    subject_kind: str = "unit"

    def __post_init__(self) -> None:
        if self.status not in VETTING_STATUSES:
            raise ValueError(f"status must be one of {VETTING_STATUSES}, not {self.status!r}")
        if self.subject_kind not in SUBJECT_KINDS:
            raise ValueError(f"subject_kind must be one of {SUBJECT_KINDS}")
        if self.status != "pending" and self.decided is None:
            raise ValueError(f"a {self.status} vetting record needs its decision date")
        if self.validity_days <= 0:
            raise ValueError("validity_days must be positive")

    @property
    def expires_on(self) -> date | None:
        """The first day an approval is no longer valid (None unless approved)."""
        if self.status != "approved" or self.decided is None:
            return None
        return self.decided + timedelta(days=self.validity_days)


@dataclass(frozen=True)
class CredibleInformation:
    """Credible information that a unit committed a gross violation of human rights.

    It bars assistance to the unit from ``reported`` until ``remediated_on`` (the day
    the corrective-steps determination is recorded; None while it is not).
    """

    id: str
    unit_id: str
    reported: date
    description: str
    remediated_on: date | None = None

    def __post_init__(self) -> None:
        if self.remediated_on is not None and self.remediated_on < self.reported:
            raise ValueError("remediated_on is before the information was reported")

    def open_on(self, day: date) -> bool:
        return self.reported <= day and (self.remediated_on is None or day < self.remediated_on)


@dataclass(frozen=True)
class VettingState:
    """Whether a unit or individual may receive assistance on a day, and why."""

    subject_id: str
    on: date
    status: str
    cleared: bool
    record: VettingRecord | None
    expires_on: date | None
    credible_information: tuple[CredibleInformation, ...]
    text: str


@dataclass(frozen=True)
class VettingRegister:
    """All units, vetting records and credible information, indexed for look-ups."""

    units: Mapping[str, Unit] = field(default_factory=dict)
    records: tuple[VettingRecord, ...] = ()
    credible: tuple[CredibleInformation, ...] = ()
    _by_subject: Mapping[str, tuple[VettingRecord, ...]] = field(default_factory=dict, repr=False)
    _credible_by_unit: Mapping[str, tuple[CredibleInformation, ...]] = field(
        default_factory=dict, repr=False
    )

    def __post_init__(self) -> None:
        by_subject: dict[str, list[VettingRecord]] = {}
        for record in self.records:
            by_subject.setdefault(record.subject_id, []).append(record)
        by_unit: dict[str, list[CredibleInformation]] = {}
        for info in self.credible:
            by_unit.setdefault(info.unit_id, []).append(info)
        object.__setattr__(self, "units", MappingProxyType(dict(self.units)))
        object.__setattr__(
            self, "_by_subject", MappingProxyType({k: tuple(v) for k, v in by_subject.items()})
        )
        object.__setattr__(
            self, "_credible_by_unit", MappingProxyType({k: tuple(v) for k, v in by_unit.items()})
        )

    @classmethod
    def build(
        cls,
        units: Iterable[Unit] = (),
        records: Iterable[VettingRecord] = (),
        credible: Iterable[CredibleInformation] = (),
    ) -> VettingRegister:
        return cls({u.id: u for u in units}, tuple(records), tuple(credible))

    def records_for(
        self, subject_id: str, program_id: str | None = None
    ) -> tuple[VettingRecord, ...]:
        found = self._by_subject.get(subject_id, ())
        if program_id is None:
            return found
        return tuple(r for r in found if r.program_id == program_id)

    def open_credible(self, unit_id: str, on: date) -> tuple[CredibleInformation, ...]:
        return tuple(c for c in self._credible_by_unit.get(unit_id, ()) if c.open_on(on))


def _decision_key(record: VettingRecord) -> tuple[date, date, str]:
    return (record.decided or date.min, record.requested or date.min, record.id)


def vetting_state(
    register: VettingRegister,
    subject_id: str,
    on: date,
    *,
    program_id: str | None = None,
    subject_kind: str = "unit",
) -> VettingState:
    """The vetting state of a unit (or individual) on a day.

    With ``program_id`` only the records made for that program count; without it,
    any program's. The latest decision on or before ``on`` governs; a pending
    request counts only when no decision governs. Open credible information
    about a unit makes it ineligible whatever its vetting status.
    """
    if subject_kind == "unit" and subject_id not in register.units:
        return VettingState(
            subject_id,
            on,
            "unknown_unit",
            False,
            None,
            None,
            (),
            f"unit {subject_id} is not in the register of security-force units",
        )
    name = (
        f"unit {subject_id} ({register.units[subject_id].name})"
        if subject_kind == "unit"
        else f"individual {subject_id}"
    )
    # An individual and a unit may share an id string: only this kind's records count.
    records = [
        r for r in register.records_for(subject_id, program_id) if r.subject_kind == subject_kind
    ]
    decided = [r for r in records if r.status != "pending" and r.decided and r.decided <= on]
    pending = [r for r in records if r.status == "pending" and (r.requested or date.min) <= on]
    latest = max(decided, key=_decision_key) if decided else None
    credible = register.open_credible(subject_id, on) if subject_kind == "unit" else ()
    scope = f" for program {program_id}" if program_id else ""

    expires = latest.expires_on if latest else None
    if latest and latest.status == "approved" and expires and on < expires:
        status, cleared = "approved", True
        day = (on - latest.decided).days + 1 if latest.decided else 0
        text = (
            f"{name} approved{scope} on {latest.decided} (record {latest.id}); valid through "
            f"{expires - timedelta(days=1)} (day {day} of {latest.validity_days})"
        )
    elif latest and latest.status in ("suspended", "denied"):
        status, cleared = latest.status, False
        text = f"{name} vetting {latest.status}{scope} on {latest.decided} (record {latest.id})"
        if pending:
            text += f"; a new request is pending (record {pending[-1].id})"
    elif pending:
        status, cleared = "pending", False
        text = f"{name} vetting pending{scope} (record {pending[-1].id})"
        if latest and expires:
            text += f"; the previous approval lapsed on {expires}"
    elif latest and latest.status == "approved":
        status, cleared = "expired", False
        text = (
            f"{name} approval{scope} of {latest.decided} (record {latest.id}) lapsed on "
            f"{expires} after {latest.validity_days} days"
        )
    else:
        status, cleared = "not_vetted", False
        text = f"{name} has no vetting decision{scope} on or before {on}"

    if credible:
        listed = "; ".join(f"{c.id} reported {c.reported}: {c.description}" for c in credible)
        text = (
            f"{name}: credible information of a gross violation of human rights, not "
            f"remediated on {on} ({listed}); vetting status: {status}"
        )
        status, cleared = "credible_information", False
    return VettingState(
        subject_id,
        on,
        status,
        cleared,
        latest,
        expires if status == "approved" else None,
        credible,
        text,
    )


@dataclass(frozen=True)
class ExpiringApproval:
    """An approval still valid on a day that lapses within the look-ahead window."""

    record: VettingRecord
    expires_on: date
    days_left: int


def expiring(register: VettingRegister, on: date, within_days: int) -> tuple[ExpiringApproval, ...]:
    """Approvals valid on ``on`` whose validity ends within ``within_days`` days.

    Only the latest decision per subject and program counts (a renewed approval
    hides the one it replaces). ``days_left`` is 1 on the last valid day. Sorted by
    expiry, then record id.
    """
    latest: dict[tuple[str, str | None, str], VettingRecord] = {}
    for record in register.records:
        if record.status == "pending" or record.decided is None or record.decided > on:
            continue
        key = (record.subject_kind, record.program_id, record.subject_id)
        if key not in latest or _decision_key(record) > _decision_key(latest[key]):
            latest[key] = record
    found = []
    for record in latest.values():
        expires = record.expires_on
        if record.status != "approved" or expires is None or on >= expires:
            continue
        days_left = (expires - on).days
        if days_left <= within_days:
            found.append(ExpiringApproval(record, expires, days_left))
    return tuple(sorted(found, key=lambda e: (e.expires_on, e.record.id)))


@dataclass(frozen=True)
class AssistedUnit:
    """A unit that program-years of the fiscal year assist, with its vetting state."""

    unit: Unit
    program_ids: tuple[str, ...]
    state: VettingState


def assisted_units(
    program_years: Iterable[ProgramYear],
    register: VettingRegister,
    on: date,
    *,
    fiscal_year: int | None = None,
) -> dict[str, tuple[AssistedUnit, ...]]:
    """The current list of assisted units per country.

    22 U.S.C. 2378d asks State to keep, for each country, "a current list of all
    security force units receiving United States training, equipment, or other
    types of assistance".

    Units assisted by program-years of ``fiscal_year`` (default: the fiscal year of
    ``on``), grouped by the unit's own country, each with its vetting state on ``on``
    (any program's records count). Units not in the register are listed under the
    key ``"?"`` so that they are seen, not dropped.
    """
    fy = fiscal_year if fiscal_year is not None else fiscal_year_of(on)
    programs_of: dict[str, set[str]] = {}
    for py in program_years:
        if py.fiscal_year != fy:
            continue
        for unit_id in py.units:
            programs_of.setdefault(unit_id, set()).add(py.program_id)
    by_country: dict[str, list[AssistedUnit]] = {}
    for unit_id, programs in programs_of.items():
        unit = register.units.get(unit_id) or Unit(unit_id, "(not registered)", "?", "?")
        state = vetting_state(register, unit_id, on)
        by_country.setdefault(unit.country, []).append(
            AssistedUnit(unit, tuple(sorted(programs)), state)
        )
    return {
        country: tuple(sorted(items, key=lambda a: (a.unit.name, a.unit.id)))
        for country, items in sorted(by_country.items())
    }


def check_vetting(
    units: Iterable[Unit],
    records: Iterable[VettingRecord] = (),
    credible: Iterable[CredibleInformation] = (),
    *,
    known_unit_types: Collection[str] | None = None,
    known_programs: Collection[str] | None = None,
    source: str = "vetting",
) -> None:
    """Check units, records and credible information together; raise :class:`Invalid`.

    Catches what the dataclasses cannot see alone: duplicate ids, vetting or credible
    information for a unit that does not exist, unknown parents and parent cycles,
    unknown unit types or programs. Nothing should be written when this raises.
    """
    problems: list[Detail] = []
    unit_list = list(units)
    by_id: dict[str, Unit] = {}
    for unit in unit_list:
        loc = (source, "unit", unit.id)
        if unit.id in by_id:
            problems.append(Detail(loc, "duplicate unit id"))
        by_id[unit.id] = unit
        if not _ISO3.match(unit.country):
            problems.append(Detail(loc, f"country {unit.country!r} is not an ISO3 code"))
        if known_unit_types is not None and unit.type not in known_unit_types:
            problems.append(Detail(loc, f"unknown unit type {unit.type!r}"))
    for unit in unit_list:
        loc = (source, "unit", unit.id)
        if unit.parent is not None and unit.parent not in by_id:
            problems.append(Detail(loc, f"parent unit {unit.parent!r} does not exist"))
        seen = {unit.id}
        parent = unit.parent
        while parent is not None and parent in by_id:
            if parent in seen:
                problems.append(Detail(loc, "the parent chain loops back to this unit"))
                break
            seen.add(parent)
            parent = by_id[parent].parent
    record_ids: set[str] = set()
    for record in records:
        loc = (source, "vetting record", record.id)
        if record.id in record_ids:
            problems.append(Detail(loc, "duplicate vetting record id"))
        record_ids.add(record.id)
        if record.subject_kind == "unit" and record.subject_id not in by_id:
            problems.append(
                Detail(loc, f"vetting for unit {record.subject_id!r}, which does not exist")
            )
        if known_programs is not None and record.program_id not in known_programs:
            problems.append(Detail(loc, f"program {record.program_id!r} does not exist"))
        if record.requested and record.decided and record.decided < record.requested:
            problems.append(Detail(loc, "decided before it was requested"))
    credible_ids: set[str] = set()
    for info in credible:
        loc = (source, "credible information", info.id)
        if info.id in credible_ids:
            problems.append(Detail(loc, "duplicate credible information id"))
        credible_ids.add(info.id)
        if info.unit_id not in by_id:
            problems.append(Detail(loc, f"unit {info.unit_id!r} does not exist"))
    if problems:
        raise Invalid(f"{len(problems)} vetting problem(s); nothing was written", problems)
