"""A validated unit x period panel: the one input every evaluation method takes.

A long table (one row per unit and period) becomes matrices of shape
``(n_units, n_periods)``: the outcome, the 0/1 treated indicator and any covariates,
with NaN where a unit-period is missing. Treatment must be absorbing (once treated,
treated in every later observed period); each unit's *cohort* is the position of its
first treated period, -1 for never-treated units. Everything a user can get wrong
raises :class:`~ssaplan.core.errors.Invalid` with one :class:`Detail` per problem.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ssaplan.core.errors import Detail, Invalid
from ssaplan.evaluation.engine.results import BoolArray, FloatArray, IntArray, plain

#: How many offending rows or units an error names before it says "and N more".
SHOWN = 5
NEVER = -1


def _rows(ids: Sequence[Any]) -> str:
    shown = ", ".join(str(plain(i)) for i in ids[:SHOWN])
    return shown + (f" and {len(ids) - SHOWN} more" if len(ids) > SHOWN else "")


@dataclass(frozen=True)
class Panel:
    """Units observed over periods: outcome, treatment and covariates as matrices.

    Attributes
    ----------
    unit, time, outcome, treated : str
        The column names the panel was built from (``treated`` is ``None`` when the
        panel came without an indicator, e.g. for synthetic control).
    units : tuple, length ``n_units``
        Unit labels, sorted.
    times : ndarray of float, shape ``(n_periods,)``
        The distinct periods, ascending. Methods count event time in positions of this
        array (so a gap in the calendar is one period).
    y : ndarray of float, shape ``(n_units, n_periods)``
        The outcome; NaN where missing or where the unit-period has no row.
    d : ndarray of float, shape ``(n_units, n_periods)``
        The treated indicator (0 or 1); NaN where the unit-period has no row.
    observed : ndarray of bool, shape ``(n_units, n_periods)``
        Whether a row exists for the unit-period.
    cohort : ndarray of int, shape ``(n_units,)``
        Position in ``times`` of each unit's first treated period; -1 if never treated.
    covariates : tuple of (name, ndarray of shape ``(n_units, n_periods)``)
    """

    unit: str
    time: str
    outcome: str
    treated: str | None
    units: tuple[Any, ...]
    times: FloatArray
    y: FloatArray
    d: FloatArray
    observed: BoolArray
    cohort: IntArray
    covariates: tuple[tuple[str, FloatArray], ...] = ()

    @property
    def n_units(self) -> int:
        return len(self.units)

    @property
    def n_periods(self) -> int:
        return int(self.times.size)

    @property
    def never_treated(self) -> BoolArray:
        return np.asarray(self.cohort == NEVER)

    def covariate(self, name: str) -> FloatArray:
        for key, values in self.covariates:
            if key == name:
                return values
        raise KeyError(name)

    def time_label(self, position: int) -> Any:
        return plain(float(self.times[position]))

    def unit_index(self, label: Any, loc: str = "treated_unit") -> int:
        """Position of the unit called ``label`` (``"17"`` also finds unit ``17.0``)."""
        for i, u in enumerate(self.units):
            if u == label or str(plain(u)) == str(label):
                return i
        try:
            wanted = float(label)
        except (TypeError, ValueError):
            wanted = None
        if wanted is not None:
            for i, u in enumerate(self.units):
                try:
                    if float(u) == wanted:
                        return i
                except (TypeError, ValueError):
                    continue
        raise Invalid(
            f"unit {label!r} is not in the panel",
            [
                Detail(
                    (loc,),
                    f"no unit {label!r} in column {self.unit!r}; it holds "
                    f"{self.n_units} units, e.g. {_rows(list(self.units))}: "
                    "name one of them exactly as the file writes it",
                )
            ],
        )

    @classmethod
    def from_frame(
        cls,
        frame: pd.DataFrame,
        *,
        unit: str,
        time: str,
        outcome: str,
        treated: str | None = None,
        covariates: Sequence[str] = (),
    ) -> Panel:
        """Build and validate a panel from a long table.

        Parameters
        ----------
        frame : DataFrame
            One row per unit and period. Its index labels rows in error messages
            (``frame.index.name``, e.g. ``"line"`` from
            :func:`ssaplan.evaluation.panel.read_panel_csv`, else ``"row"``).
        unit, time, outcome : str
            Column names. ``time`` and ``outcome`` must be numeric; the outcome may
            have missing values (each method says what it does with them).
        treated : str, optional
            Column with 1 for treated unit-periods and 0 otherwise; absorbing.
        covariates : sequence of str
            Numeric columns to carry along (by default none).

        Raises
        ------
        Invalid
            Unknown columns, an empty table, missing unit or time, non-numeric
            values, duplicate unit-periods, an outcome that is all missing, a treated
            indicator that is not 0/1 or switches back from 1 to 0.
        """
        columns = [unit, time, outcome, *([treated] if treated else []), *covariates]
        unknown = [c for c in dict.fromkeys(columns) if c not in frame.columns]
        if unknown:
            have = ", ".join(map(str, frame.columns))
            raise Invalid(
                "unknown column" + ("s" if len(unknown) > 1 else ""),
                [
                    Detail(("columns", c), f"no column {c!r}; the panel has: {have}")
                    for c in unknown
                ],
            )
        if len(frame) == 0:
            raise Invalid(
                "the panel has no rows",
                [Detail(("panel",), "a panel needs one row per unit and period")],
            )
        label = str(frame.index.name or "row")
        row_ids = np.asarray(frame.index)
        problems: list[Detail] = []

        unit_missing = np.asarray(frame[unit].isna())
        if unit_missing.any():
            problems.append(
                Detail(
                    (label, plain(row_ids[unit_missing][0]), unit),
                    f"{int(unit_missing.sum())} rows have no unit (rows "
                    f"{_rows(list(row_ids[unit_missing]))}): every row needs its unit",
                )
            )
        numeric: dict[str, FloatArray] = {}
        for name in dict.fromkeys([time, outcome, *([treated] if treated else []), *covariates]):
            numeric[name] = _numeric(frame[name], name, label, row_ids, problems)
        time_values = numeric[time]
        time_missing = np.isnan(time_values)
        if time_missing.any():
            problems.append(
                Detail(
                    (label, plain(row_ids[time_missing][0]), time),
                    f"{int(time_missing.sum())} rows have no period (rows "
                    f"{_rows(list(row_ids[time_missing]))}): every row needs its period",
                )
            )
        if problems:
            raise Invalid("the panel has values the methods cannot use", problems)

        unit_codes, unit_labels = pd.factorize(frame[unit], sort=True)
        time_codes, time_labels = pd.factorize(pd.Series(time_values), sort=True)
        n, t = len(unit_labels), len(time_labels)
        cells = unit_codes.astype(np.int64) * t + time_codes
        counts = np.bincount(cells, minlength=n * t)
        if (counts > 1).any():
            dup_cells = np.flatnonzero(counts > 1)
            details = []
            for cell in dup_cells[:SHOWN]:
                rows = row_ids[cells == cell]
                details.append(
                    Detail(
                        (label, plain(rows[0])),
                        f"unit {plain(unit_labels[cell // t])!r} in period "
                        f"{plain(float(time_labels[cell % t]))} has {len(rows)} rows "
                        f"({label}s {_rows(list(rows))})",
                    )
                )
            raise Invalid(
                f"{len(dup_cells)} unit-periods appear more than once: a panel needs exactly "
                "one row per unit and period; remove or aggregate the duplicates",
                details,
            )

        def matrix(values: FloatArray) -> FloatArray:
            out = np.full(n * t, np.nan)
            out[cells] = values
            return out.reshape(n, t)

        present = np.zeros(n * t, dtype=bool)
        present[cells] = True
        observed = present.reshape(n, t)
        y = matrix(numeric[outcome])
        if np.isnan(y).all():
            raise Invalid(
                "the outcome is missing everywhere",
                [
                    Detail(
                        ("columns", outcome),
                        f"column {outcome!r} has no values: the methods need the outcome "
                        "observed for treated and control units before and after treatment",
                    )
                ],
            )
        if treated:
            d = matrix(numeric[treated])
            _check_indicator(numeric[treated], treated, label, row_ids)
        else:
            d = np.where(observed, 0.0, np.nan)
        cohort = _cohorts(d, observed, treated or "treated", unit_labels, time_labels)
        return cls(
            unit=unit,
            time=time,
            outcome=outcome,
            treated=treated,
            units=tuple(plain(u) for u in unit_labels),
            times=np.asarray(time_labels, dtype=float),
            y=y,
            d=d,
            observed=observed,
            cohort=cohort,
            covariates=tuple((c, matrix(numeric[c])) for c in covariates),
        )


def _numeric(
    column: pd.Series, name: str, label: str, row_ids: Any, problems: list[Detail]
) -> FloatArray:
    if column.dtype == bool:
        return np.asarray(column, dtype=float)
    converted = pd.to_numeric(column, errors="coerce")
    values = np.asarray(converted, dtype=float)
    bad = np.isnan(values) & np.asarray(column.notna())
    bad |= np.isinf(values)
    if bad.any():
        first = np.flatnonzero(bad)[:SHOWN]
        shown = ", ".join(f"{plain(row_ids[i])}: {column.iloc[i]!r}" for i in first)
        problems.append(
            Detail(
                (label, plain(row_ids[first[0]]), name),
                f"{int(bad.sum())} values of {name!r} are not finite numbers ({label} {shown}"
                + (" ..." if bad.sum() > SHOWN else "")
                + "): write plain numbers, and leave a cell empty when the value is missing",
            )
        )
    return values


def _check_indicator(values: FloatArray, name: str, label: str, row_ids: Any) -> None:
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        first = np.flatnonzero(bad)[:SHOWN]
        shown = ", ".join(f"{plain(row_ids[i])}: {values[i]:g}" for i in first)
        raise Invalid(
            f"the treated indicator {name!r} must be 0 or 1 in every row",
            [
                Detail(
                    (label, plain(row_ids[first[0]]), name),
                    f"{int(bad.sum())} rows are neither 0 nor 1 ({label} {shown}): write 1 for "
                    "unit-periods under treatment and 0 otherwise",
                )
            ],
        )


def _cohorts(
    d: FloatArray, observed: BoolArray, name: str, unit_labels: Any, time_labels: Any
) -> IntArray:
    d0 = np.nan_to_num(d, nan=0.0)
    ever = np.maximum.accumulate(d0, axis=1)
    back = observed & (d0 == 0) & (ever == 1)
    if back.any():
        units = np.flatnonzero(back.any(axis=1))
        details = []
        for i in units[:SHOWN]:
            first = int(np.argmax(d0[i] == 1))
            off = int(np.argmax(back[i]))
            details.append(
                Detail(
                    (name, str(plain(unit_labels[i]))),
                    f"treated from {plain(float(time_labels[first]))} but untreated again in "
                    f"{plain(float(time_labels[off]))}",
                )
            )
        raise Invalid(
            f"treatment must be absorbing but {len(units)} units leave it: these methods "
            "need each unit untreated until its first treated period and treated in every "
            "period after; code the treatment as 'has started' (1 from the first treated "
            "period on) or evaluate each spell separately",
            details,
        )
    treated_any = (d0 == 1).any(axis=1)
    return np.where(treated_any, np.argmax(d0 == 1, axis=1), NEVER).astype(np.int64)
