"""Measures computed from the portfolio: how consistent and well executed past U.S.
assistance to each partner has been.

RAND's "What Works Best When Building Partner Capacity" (2013) found that success
tracks consistent funding; these measures make that evidence part of the assessment.
Pure: money by country and fiscal year in, measures out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ssaplan.assessment.framework import PORTFOLIO_MEASURES

FloatArray = NDArray[np.float64]

CONSECUTIVE, OBLIGATION, DISBURSEMENT, VARIABILITY = PORTFOLIO_MEASURES
DEFAULT_LOOKBACK = 5


def portfolio_measures(
    planned: FloatArray,
    obligated: FloatArray,
    disbursed: FloatArray,
    fiscal_years: Sequence[int],
    assess_year: int,
    *,
    lookback: int = DEFAULT_LOOKBACK,
) -> dict[str, FloatArray]:
    """The portfolio-derived measures of each country for ``assess_year``.

    Parameters
    ----------
    planned, obligated, disbursed : float arrays, shape (n, F)
        Whole U.S. dollars per country and fiscal year.
    fiscal_years : sequence of int, length F
        The fiscal year of each column.
    assess_year : int
        The assessment year Y; fiscal years Y - lookback + 1 .. Y count.
    lookback : int, default 5
        Length of the window in fiscal years.

    Returns
    -------
    dict of measure name -> float array, shape (n,)
        NaN where the measure is undefined: every measure needs planned money in the
        window; the disbursement rate also needs obligations; the variability needs
        at least two fiscal years since the first funded one.

        - ``portfolio: consecutive funded years`` - fiscal years with planned money
          in an unbroken run ending at Y (0 if Y itself has none);
        - ``portfolio: obligation rate`` - obligated / planned over the window;
        - ``portfolio: disbursement rate`` - disbursed / obligated over the window;
        - ``portfolio: planned amount variability`` - coefficient of variation
          (standard deviation / mean) of yearly planned money from the first funded
          fiscal year of the window to Y.
    """
    n = planned.shape[0]
    window = list(range(assess_year - lookback + 1, assess_year + 1))
    col = {fy: i for i, fy in enumerate(fiscal_years)}

    def take(a: FloatArray) -> FloatArray:
        out = np.zeros((n, len(window)))
        for j, fy in enumerate(window):
            if fy in col:
                out[:, j] = a[:, col[fy]]
        return out

    p, o, d = take(planned), take(obligated), take(disbursed)
    funded = p > 0
    defined = funded.any(axis=1)

    # Length of the run of funded years that ends at the last column (Y).
    unfunded_after = np.cumsum(~funded[:, ::-1], axis=1) == 0
    consecutive = unfunded_after.sum(axis=1).astype(float)

    p_sum, o_sum, d_sum = p.sum(axis=1), o.sum(axis=1), d.sum(axis=1)
    obligation = np.where(p_sum > 0, o_sum / np.where(p_sum > 0, p_sum, 1.0), np.nan)
    disbursement = np.where(o_sum > 0, d_sum / np.where(o_sum > 0, o_sum, 1.0), np.nan)

    first = np.where(defined, np.argmax(funded, axis=1), len(window))
    span = np.arange(len(window))[None, :] >= first[:, None]
    years_in_span = span.sum(axis=1)
    mean = np.where(span, p, 0.0).sum(axis=1) / np.maximum(years_in_span, 1)
    var = np.where(span, (p - mean[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(years_in_span, 1)
    ok = defined & (years_in_span >= 2) & (mean > 0)
    variability = np.where(ok, np.sqrt(var) / np.where(ok, mean, 1.0), np.nan)

    return {
        CONSECUTIVE: np.where(defined, consecutive, np.nan),
        OBLIGATION: obligation,
        DISBURSEMENT: disbursement,
        VARIABILITY: variability,
    }
