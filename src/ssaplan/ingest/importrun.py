"""Bookkeeping of one import run: problems found, records skipped, notes to report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ssaplan.core.errors import Detail, Invalid
from ssaplan.core.store import utcnow
from ssaplan.ingest.iati_activity import ActivityRecord

MAX_DETAILS = 200  # problems listed in one error; the count says how many more


@dataclass
class Warnings:
    """Notes that did not stop the import, counted per file and kind."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    first_line: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, source: str, message: str, line: int) -> None:
        """Count one occurrence of ``message`` in ``source``."""
        key = (source, message)
        self.counts[key] += 1
        self.first_line.setdefault(key, line)

    def as_list(self) -> list[str]:
        """One line per file and kind, with how often and where first."""
        out = []
        for (source, message), n in self.counts.items():
            line = self.first_line[(source, message)]
            times = f"{n} times, first" if n > 1 else "once,"
            out.append(f"{source}: {message} ({times} at line {line})")
        return out


@dataclass
class ImportRun:
    """State of one import run across its files."""

    skip_invalid: bool
    started: datetime = field(default_factory=utcnow)  # marks the rows this run writes
    seen: dict[str, tuple[str, int]] = field(default_factory=dict)
    problems: list[Detail] = field(default_factory=list)
    problem_count: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    warnings: Warnings = field(default_factory=Warnings)

    def fail(self, details: Sequence[Detail]) -> None:
        """Record a refused record (its details, up to :data:`MAX_DETAILS` in all)."""
        self.problem_count += 1
        room = MAX_DETAILS - len(self.problems)
        self.problems.extend(details[: max(room, 0)])


def count_written(counter: Counter[str], r: ActivityRecord) -> None:
    """Add an activity and its transactions, budgets and planned disbursements."""
    counter["activities"] += 1
    counter["transactions"] += r.transaction_count
    counter["budgets"] += r.budget_count
    counter["planned_disbursements"] += r.money_row_count - r.budget_count


def short(detail: Detail, loc: tuple[str | int, ...] | None) -> str:
    """A detail as one phrase without its file name: ``line 12, value: ...``."""
    where = ", ".join(str(p) for p in detail.loc[1:])
    return f"{where}: {detail.msg}" if where else detail.msg


def is_file_level(exc: Invalid) -> bool:
    """Whether an error concerns a whole file (it cannot be read at all)."""
    return exc.message.startswith("cannot import ")


def line_in(loc: tuple[str | int, ...]) -> int | None:
    """The line (or row) number in a location, if it has one."""
    for part in loc:
        if isinstance(part, str) and part.startswith("line "):
            tail = part[5:]
            return int(tail) if tail.isdigit() else None
    return None
