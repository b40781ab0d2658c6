"""Reading a long-form panel CSV (one row per unit and period) within stated bounds.

A panel file comes from a user, so it is read defensively: its size, number of lines,
line length and number of columns are checked *before* it is parsed, and each refusal
names the limit it hit. Only the columns a method needs are parsed, all as text; the
engine (:meth:`ssaplan.evaluation.engine.Panel.from_frame`) then checks the values
and names the file line of every bad one (line 1 is the header).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ssaplan.core.errors import BadRequest, Detail, Invalid
from ssaplan.evaluation.engine.data import Panel

#: Cells read as missing. "." is Stata's missing value; "NA" is R's.
MISSING = ["", "NA", "N/A", "NaN", "nan", "null", "NULL", "."]


@dataclass(frozen=True)
class Limits:
    """Bounds on a panel file. The defaults allow a country-year panel of every
    country since 1800 many times over, and refuse what would exhaust memory."""

    max_bytes: int = 200 * 1024 * 1024
    max_rows: int = 5_000_000
    max_columns: int = 500
    max_line_bytes: int = 65_536


DEFAULT_LIMITS = Limits()


def read_panel_csv(
    path: str | Path, columns: Sequence[str], *, limits: Limits = DEFAULT_LIMITS
) -> pd.DataFrame:
    """The named ``columns`` of a CSV file, as text, indexed by file line number.

    Parameters
    ----------
    path : str or Path
        A UTF-8 (optionally with BOM) comma-separated file with a header line.
    columns : sequence of str
        Columns to read; each must be in the header.
    limits : Limits
        Size bounds (default :data:`DEFAULT_LIMITS`).

    Raises
    ------
    BadRequest
        Missing, unreadable, empty, too large, too many rows or columns, a line too
        long, not UTF-8, or malformed CSV.
    Invalid
        A requested column is not in the header (the detail lists those that are).
    """
    file = Path(path)
    name = file.name
    if not file.exists():
        raise BadRequest(f"panel file {str(file)!r} does not exist: check the path")
    if not file.is_file():
        raise BadRequest(f"panel file {str(file)!r} is not a file")
    size = file.stat().st_size
    if size > limits.max_bytes:
        raise BadRequest(
            f"panel file {name} is {size / 2**20:.1f} MB, over the limit of "
            f"{limits.max_bytes / 2**20:.0f} MB (max_bytes): keep only the columns and "
            "rows the evaluation needs"
        )
    data = file.read_bytes()
    if not data.strip():
        raise BadRequest(
            f"panel file {name} is empty: a panel CSV needs a header line and one row "
            "per unit and period"
        )
    _check_lines(data, name, limits)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadRequest(
            f"panel file {name} is not UTF-8 text (byte {exc.start}): save it as UTF-8 CSV"
        ) from exc
    header = next(csv.reader(io.StringIO(text.split("\n", 1)[0])), [])
    header = [h.strip() for h in header]
    if len(header) > limits.max_columns:
        raise BadRequest(
            f"panel file {name} has {len(header)} columns, over the limit of "
            f"{limits.max_columns} (max_columns): keep the columns the evaluation needs"
        )
    duplicated = sorted({h for h in header if header.count(h) > 1})
    if duplicated:
        raise BadRequest(f"panel file {name} repeats column names: {', '.join(duplicated)}")
    unknown = [c for c in dict.fromkeys(columns) if c not in header]
    if unknown:
        raise Invalid(
            "unknown column" + ("s" if len(unknown) > 1 else ""),
            [
                Detail((name, "columns", c), f"no column {c!r}; the file has: {', '.join(header)}")
                for c in unknown
            ],
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            usecols=list(dict.fromkeys(columns)),
            dtype=str,
            keep_default_na=False,
            na_values=MISSING,
            skipinitialspace=True,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise BadRequest(f"panel file {name} is not valid CSV: {first}") from exc
    if len(frame) == 0:
        raise BadRequest(
            f"panel file {name} has a header but no rows: a panel needs one row per unit and period"
        )
    if len(frame) > limits.max_rows:
        raise BadRequest(
            f"panel file {name} has {len(frame):,} rows, over the limit of "
            f"{limits.max_rows:,} (max_rows)"
        )
    frame.index = pd.RangeIndex(2, len(frame) + 2, name="line")
    return frame


def _check_lines(data: bytes, name: str, limits: Limits) -> None:
    """Count lines and find the longest one without parsing (one vectorized pass)."""
    newlines = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
    ends = np.append(newlines, len(data))
    lengths = np.diff(np.concatenate(([-1], ends))) - 1
    longest = int(lengths.max())
    if longest > limits.max_line_bytes:
        line = int(np.argmax(lengths)) + 1
        raise BadRequest(
            f"panel file {name} line {line} is {longest:,} bytes long, over the limit of "
            f"{limits.max_line_bytes:,} (max_line_bytes): is it really a CSV?"
        )
    rows = int((lengths > 0).sum()) - 1
    if rows > limits.max_rows:
        raise BadRequest(
            f"panel file {name} has {rows:,} rows, over the limit of {limits.max_rows:,} (max_rows)"
        )


def load_panel(
    path: str | Path,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated: str | None = None,
    covariates: Sequence[str] = (),
    limits: Limits = DEFAULT_LIMITS,
) -> Panel:
    """Read a panel CSV and validate it into a :class:`Panel` (see ``Panel.from_frame``).

    Errors about values carry the file name and line, e.g.
    ``panel.csv.line.7.lemp: 1 values of 'lemp' are not finite numbers``.
    """
    columns = [unit, time, outcome, *([treated] if treated else []), *covariates]
    frame = read_panel_csv(path, columns, limits=limits)
    try:
        return Panel.from_frame(
            frame, unit=unit, time=time, outcome=outcome, treated=treated, covariates=covariates
        )
    except Invalid as exc:
        name = Path(path).name
        raise Invalid(exc.message, [Detail((name, *d.loc), d.msg) for d in exc.details]) from exc


def parse_windows(spec: Mapping[str, str]) -> dict[str, tuple[float, float]]:
    """``{"beer": "1984-1988"}`` -> ``{"beer": (1984.0, 1988.0)}``; errors name the bad one."""
    out = {}
    for key, value in spec.items():
        try:
            lo, hi = (float(v) for v in value.split("-", 1))
        except ValueError as exc:
            raise BadRequest(
                f"predictor window {key}:{value} is not FIRST-LAST, e.g. beer:1984-1988"
            ) from exc
        out[key] = (lo, hi)
    return out
