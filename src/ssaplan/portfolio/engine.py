"""Pure portfolio computation: pipeline rules, fiscal years, roll-ups of money.

No database, no HTTP: plain values in, immutable results out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType

PIPELINE = ("proposed", "approved", "notified", "obligated", "implementing", "completed")

# Where a program may go next. Steps may be skipped forward (not every program needs a
# congressional notification); suspension can be lifted; completed and terminated are final.
# Admins may correct a status against these rules.
TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "proposed": frozenset({"approved", "suspended", "terminated"}),
        "approved": frozenset({"notified", "obligated", "suspended", "terminated"}),
        "notified": frozenset({"obligated", "suspended", "terminated"}),
        "obligated": frozenset({"implementing", "completed", "suspended", "terminated"}),
        "implementing": frozenset({"completed", "suspended", "terminated"}),
        "suspended": frozenset({"approved", "notified", "obligated", "implementing", "terminated"}),
        "completed": frozenset(),
        "terminated": frozenset(),
    }
)

# Stopping a program needs a reason, kept in the audit trail (policy: "consider ...
# restructuring, or terminating security sector assistance programs").
NEEDS_REASON = frozenset({"suspended", "terminated"})
STATUS_ORDER = (*PIPELINE, "suspended", "terminated")


def next_steps(status: str) -> list[str]:
    """The statuses a program may move to next, in pipeline order (stops last)."""
    allowed = TRANSITIONS.get(status, frozenset())
    return [s for s in STATUS_ORDER if s in allowed]


MULTI_REGIONAL = "Multi-regional"
UNASSIGNED = "Unassigned"
FULL_SHARE = 10_000  # basis points: a program's partners' shares sum to this


def equal_shares(n: int) -> list[int]:
    """``n`` partners' default shares in basis points: equal, summing to 10,000 exactly.

    Largest remainder: the first ``10000 mod n`` partners get one basis point more.
    """
    if n <= 0:
        return []
    base, extra = divmod(FULL_SHARE, n)
    return [base + (1 if i < extra else 0) for i in range(n)]


def split_amount(amount: int, shares_bp: Sequence[int]) -> list[int]:
    """Whole dollars of ``amount`` per share, adding up to ``amount`` exactly.

    Each share gets ``floor(amount x share / total)``; the dollars left over go one by one
    to the largest fractional parts (earlier partners first on ties). Shares are basis
    points but need not sum to 10,000 (they are normalized by their total).

    >>> split_amount(100, [3334, 3333, 3333])
    [34, 33, 33]
    """
    total = sum(shares_bp)
    if not shares_bp:
        return []
    if total <= 0:
        return [amount] + [0] * (len(shares_bp) - 1)
    parts = [amount * s // total for s in shares_bp]
    left = amount - sum(parts)
    order = sorted(range(len(shares_bp)), key=lambda i: (-(amount * shares_bp[i] % total), i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def fiscal_year(day: date) -> int:
    """The U.S. federal fiscal year of a date (FY2027 runs 1 Oct 2026 - 30 Sep 2027)."""
    return day.year + 1 if day.month >= 10 else day.year


def transition_allowed(current: str, new: str) -> bool:
    return new == current or new in TRANSITIONS.get(current, frozenset())


def home_bureau(bureaus: Iterable[str | None]) -> str:
    """The one regional bureau a program's money counts under in roll-ups.

    A program whose partners all sit in one bureau counts there; partners in several
    bureaus make it multi-regional. Counting each program once keeps every roll-up
    summing to the portfolio total.
    """
    found = {b for b in bureaus if b}
    if len(found) == 1:
        return found.pop()
    return MULTI_REGIONAL if found else UNASSIGNED


@dataclass(frozen=True)
class Money:
    """Planned, obligated and disbursed whole dollars."""

    planned: int = 0
    obligated: int = 0
    disbursed: int = 0

    def __add__(self, other: Money) -> Money:
        return Money(
            self.planned + other.planned,
            self.obligated + other.obligated,
            self.disbursed + other.disbursed,
        )

    def as_dict(self) -> dict[str, int]:
        return {"planned": self.planned, "obligated": self.obligated, "disbursed": self.disbursed}


@dataclass(frozen=True)
class MoneyRow:
    """One budget line (or one partner's share of it) with the attributes roll-ups
    group by."""

    program_id: str
    fiscal_year: int
    money: Money
    groups: Mapping[str, str]  # dimension -> key, e.g. {"bureau": "AF", "agency": "State"}


@dataclass(frozen=True)
class Rollup:
    """Totals of a set of programs, overall and by each dimension."""

    total: Money
    programs: int
    by: Mapping[str, Mapping[str, Money]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {
            "programs": self.programs,
            "total": self.total.as_dict(),
            "by": {
                d: [{"key": k, **m.as_dict()} for k, m in groups.items()]
                for d, groups in self.by.items()
            },
        }

    def summary(self) -> str:
        lines = [f"{self.programs} programs, planned ${self.total.planned:,}"]
        for dim, groups in self.by.items():
            top = sorted(groups.items(), key=lambda kv: -kv[1].planned)[:5]
            lines.append(f"  by {dim}: " + ", ".join(f"{k} ${m.planned:,}" for k, m in top))
        return "\n".join(lines)


def rollup(
    rows: Iterable[MoneyRow], dimensions: Iterable[str], programs: int | None = None
) -> Rollup:
    """Sum money overall, by fiscal year, and by each named dimension.

    Every row is counted exactly once in each dimension, so each dimension's groups
    add up to ``total``.
    """
    dims = list(dimensions)
    total = Money()
    by: dict[str, dict[str, Money]] = {"fiscal_year": {}, **{d: {} for d in dims}}
    seen: set[str] = set()
    for row in rows:
        total = total + row.money
        seen.add(row.program_id)
        fy = str(row.fiscal_year)
        by["fiscal_year"][fy] = by["fiscal_year"].get(fy, Money()) + row.money
        for d in dims:
            key = row.groups.get(d, UNASSIGNED) or UNASSIGNED
            by[d][key] = by[d].get(key, Money()) + row.money
    ordered = {d: MappingProxyType(dict(_ordered(d, groups))) for d, groups in by.items()}
    return Rollup(total, programs if programs is not None else len(seen), MappingProxyType(ordered))


def _ordered(dimension: str, groups: dict[str, Money]) -> list[tuple[str, Money]]:
    """Fiscal years in time order; other groups largest first."""
    if dimension == "fiscal_year":
        return sorted(groups.items())
    return sorted(groups.items(), key=lambda kv: (-kv[1].planned, kv[0]))
