"""The plain facts the compliance engine judges: restrictions, waivers, program-years.

Frozen dataclasses with no behaviour beyond their own invariants, so that the
service can build them from database rows (or tests from literals) and the engine
stays pure. Dates are inclusive: a restriction with ``end=date(2025, 9, 30)`` is in
force on 30 September 2025 and not on 1 October; ``end=None`` means open-ended.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from ssaplan.compliance.rules import RECIPIENT_KINDS

_ISO3 = re.compile(r"^[A-Z]{3}$")


def fiscal_year_bounds(fiscal_year: int) -> tuple[date, date]:
    """First and last day of a U.S. federal fiscal year (1 October to 30 September)."""
    return date(fiscal_year - 1, 10, 1), date(fiscal_year, 9, 30)


def fiscal_year_of(day: date) -> int:
    """The U.S. federal fiscal year a day falls in (FY2026 runs 2025-10-01 to 2026-09-30)."""
    return day.year + 1 if day.month >= 10 else day.year


def overlap(
    start: date, end: date | None, window_start: date, window_end: date
) -> tuple[date, date] | None:
    """The part of ``[start, end]`` inside ``[window_start, window_end]``, or None."""
    lo = max(start, window_start)
    hi = window_end if end is None else min(end, window_end)
    return (lo, hi) if lo <= hi else None


@dataclass(frozen=True)
class Waiver:
    """A recorded waiver of a restriction for some accounts over a period.

    ``citation`` names the determination (e.g. the presidential determination
    number); it may be empty when the source did not carry one, and the engine
    then cites the rule's waiver authority instead.
    """

    accounts: frozenset[str]
    start: date
    end: date | None = None
    citation: str = ""

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("a waiver must cover at least one account")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"waiver ends ({self.end}) before it starts ({self.start})")

    def covers(self, account: str) -> bool:
        return account in self.accounts


@dataclass(frozen=True)
class Restriction:
    """A statutory restriction on assistance to one country over a period.

    ``type`` is a restriction type id of the rules file (``coup``,
    ``child_soldiers``, ``trafficking_tier3``, ``state_sponsor_of_terrorism``, ...).
    Leahy vetting is not a restriction: it applies to units (see ``vetting``).
    """

    country: str
    type: str
    start: date
    end: date | None
    citation: str
    source_document: str = ""
    waivers: tuple[Waiver, ...] = ()

    def __post_init__(self) -> None:
        if not _ISO3.match(self.country):
            raise ValueError(f"country must be an ISO 3166 alpha-3 code, not {self.country!r}")
        if self.end is not None and self.end < self.start:
            raise ValueError(f"restriction ends ({self.end}) before it starts ({self.start})")

    def in_force(self, start: date, end: date) -> tuple[date, date] | None:
        """The days of ``[start, end]`` on which the restriction is in force, or None."""
        return overlap(self.start, self.end, start, end)

    def label(self) -> str:
        until = self.end.isoformat() if self.end else "open-ended"
        return f"{self.type} restriction on {self.country} from {self.start.isoformat()} ({until})"


@dataclass(frozen=True)
class ProgramYear:
    """One program's assistance in one fiscal year, as the compliance engine sees it.

    ``recipient`` is ``government`` (the default: assistance implemented by or for the
    partner government) or ``non_government``. ``flags`` carry legal facts that no
    code records, e.g. ``democracy_assistance`` or ``cspa_certified_professionalization``.
    ``units`` are the security-force units the program assists (Leahy vetting),
    ``individuals`` the individually vetted participants.
    """

    program_id: str
    fiscal_year: int
    countries: tuple[str, ...]
    account: str
    purpose: str | None = None
    dac_code: str | None = None
    recipient: str = "government"
    flags: frozenset[str] = frozenset()
    units: tuple[str, ...] = ()
    individuals: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.recipient not in RECIPIENT_KINDS:
            raise ValueError(f"recipient must be one of {RECIPIENT_KINDS}, not {self.recipient!r}")
        for country in self.countries:
            if not _ISO3.match(country):
                raise ValueError(f"country must be an ISO 3166 alpha-3 code, not {country!r}")
