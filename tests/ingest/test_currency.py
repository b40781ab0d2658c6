"""Amounts to whole U.S. dollars with the bundled ECB table: no web, rounding, limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from ssaplan.ingest.currency import (
    MAX_USD,
    AmountError,
    UsdConverter,
    is_iso4217,
    parse_amount,
)


def test_iso_4217_codes() -> None:
    assert is_iso4217("USD") and is_iso4217("UGX") and is_iso4217("EEK")  # EEK: historic
    assert not is_iso4217("XYZ") and not is_iso4217("EURO") and not is_iso4217("usd")


def test_usd_passes_through_and_rounds_half_to_even() -> None:
    c = UsdConverter()
    assert c.to_usd(Decimal("100.5"), "USD", date(2020, 1, 1)) == 100
    assert c.to_usd(Decimal("101.5"), "USD", date(2020, 1, 1)) == 102
    assert c.to_usd(Decimal("-250"), "USD", date(2020, 1, 1)) == -250


def test_a_rate_at_the_value_date() -> None:
    c = UsdConverter()
    eur_2010 = c.to_usd(Decimal(1_000_000), "EUR", date(2010, 7, 7))
    eur_2020 = c.to_usd(Decimal(1_000_000), "EUR", date(2020, 7, 7))
    assert eur_2010 is not None and eur_2020 is not None
    assert 1_200_000 < eur_2010 < 1_300_000 and 1_100_000 < eur_2020 < 1_150_000
    # Before the table starts (1999) the first rate on record is used.
    assert c.to_usd(Decimal(100), "GBP", date(1990, 1, 1)) == c.to_usd(
        Decimal(100), "GBP", date(1999, 1, 4)
    )


def test_no_rate_is_none_and_nonsense_is_an_error() -> None:
    c = UsdConverter()
    assert c.to_usd(Decimal(5_000_000), "UGX", date(2010, 1, 1)) is None
    with pytest.raises(AmountError, match="not an ISO 4217 code"):
        c.to_usd(Decimal(1), "XYZ", date(2010, 1, 1))
    with pytest.raises(AmountError, match="implausibly large"):
        c.to_usd(Decimal(MAX_USD) * 2, "USD", date(2010, 1, 1))
    with pytest.raises(AmountError, match="implausibly large"):
        c.to_usd(Decimal(10) ** 16, "UGX", date(2010, 1, 1))


@pytest.mark.parametrize("text", ["", "  ", "1,000", "$5", "NaN", "Infinity", "12 500"])
def test_amounts_must_be_plain_finite_numbers(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text)


def test_plain_numbers_parse_exactly() -> None:
    assert parse_amount(" 1000000.99 ") == Decimal("1000000.99")
    assert parse_amount("-5") == Decimal(-5)


def test_the_rate_table_equals_the_package_to_the_last_digit() -> None:
    """The lazily built table gives exactly what ``CurrencyConverter(decimal=True)`` with
    both fallbacks gives: same currencies, same ranges, same rate on sampled days
    inside, between and outside the published ones."""
    import random
    from datetime import timedelta

    from currency_converter import CurrencyConverter

    from ssaplan.ingest.currency import RateTable

    package = CurrencyConverter(
        fallback_on_missing_rate=True, fallback_on_wrong_date=True, decimal=True
    )
    table = RateTable()
    assert table.currencies == frozenset(package.currencies)
    rng = random.Random(2013)
    for code in sorted(package.currencies):
        assert table.bounds(code) == tuple(package.bounds[code])
        first = package.bounds[code].first_date
        days = [first - timedelta(days=3), first, first + timedelta(days=1)]
        days += [date(1998, 1, 1) + timedelta(days=rng.randrange(11_000)) for _ in range(40)]
        for day in days:
            assert table.usd_per_unit(code, day) == Decimal(package.convert(1, code, "USD", day))
