"""Pure computation of the strategy domain: reporting periods, the checks a results
framework must pass, the value expected of an indicator in a period.

No database, no HTTP: plain values in, plain values out.

Periods are named after the U.S. federal fiscal year (FY2027 runs 1 October 2026 to
30 September 2027): ``FY2027`` (annual), ``FY2027-H1``/``H2`` (semiannual),
``FY2027-Q1``..``Q4`` (quarterly), ``FY2027-M01``..``M12`` (monthly, M01 = October).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

PER_YEAR = {"annual": 1, "semiannual": 2, "quarterly": 4, "monthly": 12}
_LETTER = {2: "H", 4: "Q", 12: "M"}
_PERIOD = re.compile(r"^FY(\d{4})(?:-(H|Q|M)(\d{1,2}))?$")


@dataclass(frozen=True, order=True)
class Period:
    """A reporting period: the ``index``-th of ``per_year`` parts of a fiscal year."""

    fiscal_year: int
    index: int = 1
    per_year: int = 1

    @property
    def label(self) -> str:
        if self.per_year == 1:
            return f"FY{self.fiscal_year}"
        letter = _LETTER[self.per_year]
        number = f"{self.index:02d}" if self.per_year == 12 else str(self.index)
        return f"FY{self.fiscal_year}-{letter}{number}"

    @property
    def fraction(self) -> float:
        """How much of its fiscal year has passed at the period's end (Q1: 0.25)."""
        return self.index / self.per_year

    @property
    def sort_key(self) -> tuple[int, float]:
        """Order across frequencies: by fiscal year, then by where in it the period ends."""
        return (self.fiscal_year, self.fraction)

    def end(self) -> date:
        """The last day of the period."""
        months = 12 * self.index // self.per_year
        year, month = self.fiscal_year - 1, 10 + months
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
        return date(year, month, 1) - timedelta(days=1)

    def start(self) -> date:
        months = 12 * (self.index - 1) // self.per_year
        year, month = self.fiscal_year - 1, 10 + months
        year += (month - 1) // 12
        month = (month - 1) % 12 + 1
        return date(year, month, 1)


def frequency_of(per_year: int) -> str:
    return next(name for name, n in PER_YEAR.items() if n == per_year)


def parse_period(text: str) -> Period:
    """A period from its label; ``ValueError`` saying what a label looks like."""
    m = _PERIOD.match(text.strip().upper())
    if not m:
        raise ValueError(
            f"{text!r} is not a period: write FY2027, FY2027-H1, FY2027-Q3 or FY2027-M05 "
            "(fiscal years; M01 is October)"
        )
    fy = int(m.group(1))
    if m.group(2) is None:
        return Period(fy)
    per_year = {"H": 2, "Q": 4, "M": 12}[m.group(2)]
    index = int(m.group(3))
    if not 1 <= index <= per_year:
        raise ValueError(f"{text!r}: {m.group(2)} runs from 1 to {per_year}")
    return Period(fy, index, per_year)


def periods(frequency: str, first_fy: int, last_fy: int) -> list[Period]:
    """Every period of ``frequency`` in fiscal years ``first_fy``..``last_fy``, in order."""
    n = PER_YEAR[frequency]
    return [Period(fy, i, n) for fy in range(first_fy, last_fy + 1) for i in range(1, n + 1)]


def known_period(text: str, frequency: str, first_fy: int, last_fy: int) -> Period:
    """The period ``text`` names, if it is one an indicator reports in.

    An indicator collected ``frequency`` reports in the periods of that frequency within
    its strategy's fiscal years; anything else is an unknown period (``ValueError``).
    """
    period = parse_period(text)
    n = PER_YEAR[frequency]
    first, last = periods(frequency, first_fy, first_fy)[0], periods(frequency, last_fy, last_fy)
    if period.per_year != n:
        raise ValueError(
            f"unknown period {period.label}: the indicator is collected {frequency}, "
            f"so its periods look like {first.label}"
        )
    if not first_fy <= period.fiscal_year <= last_fy:
        raise ValueError(
            f"unknown period {period.label}: the strategy runs FY{first_fy}-FY{last_fy} "
            f"({first.label} to {last[-1].label})"
        )
    return period


def disaggregation_key(breakdown: Mapping[str, str]) -> str:
    """A breakdown as one string: sorted ``name=value`` pairs joined by ``;``."""
    return ";".join(f"{k}={breakdown[k]}" for k in sorted(breakdown))


@dataclass(frozen=True)
class Problem:
    """A problem with one field of a results framework (``field`` relative to the item)."""

    field: tuple[str | int, ...]
    message: str


def check_indicator(
    *,
    frequency: str,
    baseline_value: float | None,
    baseline_period: str | None,
    targets: Sequence[tuple[int, float]],
    first_fy: int,
    last_fy: int,
) -> list[Problem]:
    """Every problem with an indicator's baseline and targets.

    A target needs a baseline (the value and the period it was measured in): without
    one, no one can tell progress from where things already stood (10 U.S.C. 383 asks
    for baselines). Targets fall within the strategy's years; the baseline comes no
    later than the first target's year; a value is a finite number.
    """
    out: list[Problem] = []
    if (baseline_value is None) != (baseline_period is None):
        missing = "baseline_period" if baseline_period is None else "baseline_value"
        out.append(
            Problem(
                (missing,),
                "a baseline is a value and the period it was measured in: give both or neither",
            )
        )
    if baseline_value is not None and not math.isfinite(baseline_value):
        out.append(Problem(("baseline_value",), "must be a finite number"))
    if targets and baseline_value is None and baseline_period is None:
        out.append(
            Problem(
                ("targets",),
                "targets without a baseline: give baseline_value and baseline_period "
                "(where things stood before the programs) before setting targets",
            )
        )
    baseline: Period | None = None
    if baseline_period is not None:
        try:
            baseline = parse_period(baseline_period)
        except ValueError as exc:
            out.append(Problem(("baseline_period",), str(exc)))
    seen: set[int] = set()
    for i, (fy, value) in enumerate(targets):
        if fy in seen:
            out.append(Problem(("targets", i, "fiscal_year"), f"FY{fy} has two targets"))
        seen.add(fy)
        if not first_fy <= fy <= last_fy:
            out.append(
                Problem(
                    ("targets", i, "fiscal_year"),
                    f"FY{fy} is outside the strategy (FY{first_fy}-FY{last_fy})",
                )
            )
        if not math.isfinite(value):
            out.append(Problem(("targets", i, "value"), "must be a finite number"))
    if baseline is not None and targets:
        first_target = min(fy for fy, _ in targets)
        if baseline.fiscal_year > first_target:
            out.append(
                Problem(
                    ("baseline_period",),
                    f"the baseline ({baseline.label}) comes after the first target "
                    f"(FY{first_target}): a baseline is where things stood before",
                )
            )
    if frequency not in PER_YEAR:
        out.append(Problem(("frequency",), f"must be one of {', '.join(PER_YEAR)}"))
    return out


def expected_value(
    period: Period,
    baseline: tuple[Period, float] | None,
    targets: Mapping[int, float],
) -> float | None:
    """The value an indicator should show at the end of ``period``.

    The year's target, for an annual indicator. Within a year, the straight line from
    where the year started (the previous year's target, else the baseline) to the
    year's target: a quarterly indicator should be a quarter of the way at Q1. None
    when the year has no target (the period is not rated).
    """
    if period.fiscal_year not in targets:
        return None
    target = targets[period.fiscal_year]
    if period.per_year == 1 or period.index == period.per_year:
        return target
    if period.fiscal_year - 1 in targets:
        start = targets[period.fiscal_year - 1]
    elif baseline is not None:
        start = baseline[1]
    else:
        return target
    return start + (target - start) * period.fraction


def split_equally(amount: int, parts: int) -> list[int]:
    """Whole dollars of ``amount`` in ``parts`` parts adding up exactly (earlier parts
    get the leftover dollars)."""
    if parts <= 0:
        return []
    base, extra = divmod(amount, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def years(first_fy: int, last_fy: int) -> list[int]:
    return list(range(first_fy, last_fy + 1))


def sorted_periods(labels: Iterable[str]) -> list[str]:
    """Period labels in time order (unparseable ones last, as given)."""
    good: list[tuple[tuple[int, float], str]] = []
    bad: list[str] = []
    for label in labels:
        try:
            good.append((parse_period(label).sort_key, label))
        except ValueError:
            bad.append(label)
    return [label for _, label in sorted(good)] + bad


@dataclass(frozen=True)
class Observed:
    """One measured total of an indicator, with how good the data is."""

    period: Period
    value: float
    quality: str
    confidence: str


@dataclass(frozen=True)
class IndicatorSeries:
    """An indicator with what monitoring needs: baseline, targets, measured totals in
    time order, and the programs (surrogate ids) serving its objective."""

    indicator_id: int
    code: str
    name: str
    unit: str
    kind: str
    direction: str
    frequency: str
    strategy: str
    strategy_title: str
    partner: str
    objective_id: int
    objective_code: str
    objective_title: str
    baseline: tuple[Period, float] | None
    targets: Mapping[int, float]
    values: tuple[Observed, ...]
    programs: frozenset[int]
