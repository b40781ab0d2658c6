"""Portfolio-derived measures against hand-computed values."""

from __future__ import annotations

import numpy as np

from ssaplan.assessment.derived import (
    CONSECUTIVE,
    DISBURSEMENT,
    OBLIGATION,
    VARIABILITY,
    portfolio_measures,
)

NAN = float("nan")


def test_measures_by_hand() -> None:
    fys = [2020, 2021, 2022, 2023]
    planned = np.array(
        [
            [100, 100, 100, 100],  # steady
            [0, 200, 0, 100],  # broken run, volatile
            [0, 0, 0, 0],  # never funded
            [50, 0, 0, 0],  # funded, but not in 2023
        ],
        dtype=float,
    )
    obligated = np.array([[100, 90, 80, 30], [0, 200, 0, 0], [0] * 4, [50, 0, 0, 0]], dtype=float)
    disbursed = np.array([[100, 90, 40, 0], [0, 100, 0, 0], [0] * 4, [0, 0, 0, 0]], dtype=float)
    m = portfolio_measures(planned, obligated, disbursed, fys, 2023, lookback=4)
    np.testing.assert_allclose(m[CONSECUTIVE], [4, 1, NAN, 0], equal_nan=True)
    np.testing.assert_allclose(m[OBLIGATION], [300 / 400, 200 / 300, NAN, 1.0], equal_nan=True)
    np.testing.assert_allclose(m[DISBURSEMENT], [230 / 300, 0.5, NAN, 0.0], equal_nan=True)
    # Variability from the first funded year: [200, 0, 100] for the second country.
    second = np.std([200, 0, 100]) / np.mean([200, 0, 100])
    first_four = np.std([50, 0, 0, 0]) / np.mean([50, 0, 0, 0])
    np.testing.assert_allclose(m[VARIABILITY], [0, second, NAN, first_four], equal_nan=True)


def test_years_outside_the_lookback_do_not_count() -> None:
    planned = np.array([[100.0, 0, 0]])
    m = portfolio_measures(planned, planned, planned, [2018, 2019, 2020], 2020, lookback=2)
    assert np.isnan(m[CONSECUTIVE][0]) and np.isnan(m[OBLIGATION][0])
