"""One IATI ``<iati-activity>`` element to rows for the donor-activity tables.

Pure: an lxml element in, an :class:`ActivityRecord` (or an :class:`ActivityProblem`
naming every problem found) out. Both major versions are read by the same code: IATI
1.x puts text directly in elements (``<title xml:lang="en">...</title>``) and uses
names for codes (``role="Funding"``, ``type="start-planned"``, transaction type
``D``); 2.x wraps text in ``<narrative>`` and uses numbers. 1.x names are mapped to
2.x codes with ``iati_codes.csv``, taken from the IATI 1.0x and 2.0x codelists
(https://iatistandard.org/en/iati-standard/203/codelists/ and the 1.05 archive);
anything else is kept as published.

What is an error here: an amount that is not a finite number or is implausibly large,
a currency that is not ISO 4217, a malformed ``iso-date``/``value-date``, a percentage
outside 0-100. Codelist values (roles, statuses, sector codes, recipient countries)
are the publisher's: unknown ones are kept and, for countries, reported as warnings.

Speed: this runs once per activity of files with hundreds of thousands of them, so
the rows are built directly as tuples in the column order the bulk writer takes
(:data:`~ssaplan.coordination.service.ACTIVITY_COLUMNS` and
:data:`~ssaplan.coordination.service.CHILD_COLUMNS`), with values already in the form
both back ends store (dates as ISO text, titles and descriptions as JSON text);
children are visited once each, in one plain loop (``iterchildren`` with a tag filter
costs more per call in lxml than it saves on IATI's small elements). Dates,
currencies, countries and rates are looked up once per distinct value.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _str  # json.dumps' own string encoder
from pathlib import Path
from typing import Any

from lxml import etree

from ssaplan.core.errors import Detail
from ssaplan.ingest.currency import (
    MAX_ORIGINAL,
    AmountError,
    UsdConverter,
    is_iso4217,
    parse_amount,
    usd_at,
)
from ssaplan.ingest.iati_xml import (
    XML_LANG,
    FieldProblem,
    attr,
    boolean,
    code_or_name,
    first_text,
    line_of,
    once,
    parse_date,
    percentage,
    required,
    texts,
    twice,
    upper,
)
from ssaplan.reference.catalog import Catalog


def _codes() -> dict[str, dict[str, str]]:
    """IATI 1.0x names -> 2.0x codes, by codelist, from ``iati_codes.csv`` (keys lower-case)."""
    out: dict[str, dict[str, str]] = {}
    with (Path(__file__).parent / "iati_codes.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out.setdefault(row["codelist"], {})[row["name"].lower()] = row["code"]
    return out


_CODES = _codes()
TRANSACTION_TYPES = _CODES["TransactionType"]
ROLES = _CODES["OrganisationRole"]
DATE_TYPES = _CODES["ActivityDateType"]
BUDGET_TYPES = _CODES["BudgetType"]
SECTOR_VOCABULARIES = _CODES["SectorVocabulary"]
# Incoming flows of the pre-1.01 drafts (``flow="incoming"``), which 2.x codes apart.
INCOMING = {"2": "11", "12": "13"}
DATE_COLUMNS = {"1": "planned_start", "2": "actual_start", "3": "planned_end", "4": "actual_end"}
_DATE_INDEX = {"planned_start": 0, "actual_start": 1, "planned_end": 2, "actual_end": 3}
CURRENCY_DEFAULT_NOTE = "no currency stated (neither on the value nor as default-currency)"
MAX_CACHED = 100_000  # distinct dates or rates remembered per file, to keep memory flat

(
    _TRANSACTION,
    _ORG,
    _DATE,
    _SECTOR,
    _MONEY,
    _COUNTRY,
    _IDENTIFIER,
    _TITLE,
    _DESCRIPTION,
    _PUBLISHER,
    _STATUS,
    _REGION,
    _AID_TYPE,
    _FINANCE_TYPE,
    _FLOW_TYPE,
) = range(15)
# The children of an activity that are read, by how (one lookup instead of a chain of
# comparisons, which every unread child, e.g. a policy marker, would run to its end).
_CHILD_KIND = {
    "transaction": _TRANSACTION,
    "participating-org": _ORG,
    "activity-date": _DATE,
    "sector": _SECTOR,
    "budget": _MONEY,
    "planned-disbursement": _MONEY,
    "recipient-country": _COUNTRY,
    "iati-identifier": _IDENTIFIER,
    "title": _TITLE,
    "description": _DESCRIPTION,
    "reporting-org": _PUBLISHER,
    "activity-status": _STATUS,
    "recipient-region": _REGION,
    "default-aid-type": _AID_TYPE,
    "default-finance-type": _FINANCE_TYPE,
    "default-flow-type": _FLOW_TYPE,
}
_DATE_KEYS = frozenset(
    ("planned_start", "actual_start", "planned_end", "actual_end")
    + ("period_start", "period_end", "value_date", "transaction_date")
)


@dataclass(slots=True)
class ActivityRecord:
    """Rows for one activity, ready for bulk insert.

    ``activity_row`` holds the values of
    :data:`~ssaplan.coordination.service.ACTIVITY_COLUMNS`; ``child_rows`` one list of
    row tuples per child table, in the order of
    :data:`~ssaplan.coordination.service.CHILD_TABLES` (rows are lists: the identifier,
    first, is filled in last), each in the order of its
    :data:`~ssaplan.coordination.service.CHILD_COLUMNS`. Dates are ISO text and titles
    and descriptions JSON text, as stored. The properties (:attr:`activity`,
    :attr:`transactions`, ...) give the same rows as dictionaries with dates and JSON
    decoded, for readers that want names rather than speed (the portfolio mapping).
    """

    identifier: str
    line: int
    activity_row: tuple[Any, ...]
    child_rows: tuple[list[list[Any]], ...]
    budget_count: int = 0  # how many of the money rows are budgets (the rest: planned)
    warnings: list[tuple[str, int]] = field(default_factory=list)

    @property
    def activity(self) -> dict[str, Any]:
        """The activity's own columns by name (no identifier)."""
        from ssaplan.coordination.service import ACTIVITY_COLUMNS

        row = _as_dict(ACTIVITY_COLUMNS[1:], self.activity_row[1:])
        row["titles"] = json.loads(row["titles"])
        row["descriptions"] = json.loads(row["descriptions"])
        return row

    def _children(self, index: int) -> list[dict[str, Any]]:
        # Imported here: the reader itself needs no database code (nor its start-up time
        # in the worker process).
        from ssaplan.coordination.service import CHILD_COLUMNS, CHILD_TABLES

        keys = CHILD_COLUMNS[CHILD_TABLES[index][0]][1:]
        return [_as_dict(keys, row[1:]) for row in self.child_rows[index]]

    @property
    def orgs(self) -> list[dict[str, Any]]:
        """Participating organisations by column name."""
        return self._children(0)

    @property
    def countries(self) -> list[dict[str, Any]]:
        """Recipient countries by column name."""
        return self._children(1)

    @property
    def regions(self) -> list[dict[str, Any]]:
        """Recipient regions by column name."""
        return self._children(2)

    @property
    def sectors(self) -> list[dict[str, Any]]:
        """Sectors by column name."""
        return self._children(3)

    @property
    def budgets(self) -> list[dict[str, Any]]:
        """Budgets and planned disbursements by column name."""
        return self._children(4)

    @property
    def transactions(self) -> list[dict[str, Any]]:
        """Transactions by column name."""
        return self._children(5)

    @property
    def money_row_count(self) -> int:
        """Budgets and planned disbursements together."""
        return len(self.child_rows[4])

    @property
    def transaction_count(self) -> int:
        """How many transactions the activity has."""
        return len(self.child_rows[5])


def _json_titles(titles: dict[str, str]) -> str:
    """``json.dumps(titles)``, exactly, without its per-call set-up (a third of the time)."""
    return "{" + ", ".join([_str(k) + ": " + _str(v) for k, v in titles.items()]) + "}"


def _json_descriptions(descriptions: list[tuple[str, str, str]]) -> str:
    """``json.dumps`` of ``[{"type": ..., "lang": ..., "text": ...}, ...]``, exactly."""
    return (
        "["
        + ", ".join(
            [
                '{"type": '
                + _str(kind)
                + ', "lang": '
                + _str(lang)
                + ', "text": '
                + _str(text)
                + "}"
                for kind, lang, text in descriptions
            ]
        )
        + "]"
    )


def _as_dict(keys: tuple[str, ...], values: Sequence[Any]) -> dict[str, Any]:
    row = dict(zip(keys, values, strict=True))
    for key in _DATE_KEYS.intersection(row):
        if row[key] is not None:
            row[key] = date.fromisoformat(row[key])
    return row


@dataclass
class ActivityProblem:
    """An activity that cannot be imported, with every reason found."""

    identifier: str | None
    line: int
    details: list[Detail]


class ActivityReader:
    """Turns ``<iati-activity>`` elements of one file into records.

    ``warn(message, line)`` receives notes that do not stop the import (no rate for a
    currency, an unknown recipient country, ...).
    """

    def __init__(
        self,
        source: str,
        catalog: Catalog,
        converter: UsdConverter,
        default_lang: str | None = None,
    ) -> None:
        self.source = source
        self.catalog = catalog
        self.converter = converter
        self.default_lang = default_lang
        self._countries: dict[str, str | None] = {}
        self._currencies: dict[str, bool] = {}
        self._anonymous: dict[str, int] = {}
        self._dates: dict[str, str] = {}  # published date text -> ISO date
        self._rates: dict[tuple[str, str], Decimal | None] = {}  # (currency, ISO day)

    # -- entry point ------------------------------------------------------------
    def read(self, el: etree._Element) -> ActivityRecord | ActivityProblem:
        """One ``<iati-activity>`` as rows, or every problem found in it."""
        line = line_of(el)
        problems: list[Detail] = []
        warnings: list[tuple[str, int]] = []
        lang = el.get(XML_LANG) or self.default_lang
        default_currency = upper(el.get("default-currency"))
        humanitarian = boolean(el.get("humanitarian"))
        reporting_ref = reporting_type = status = None
        aid_type = finance_type = flow_type = None
        reporting_name = ""
        dates: list[str | None] = [None, None, None, None]
        titles: dict[str, str] = {}
        descriptions: list[tuple[str, str, str]] = []
        orgs: list[list[Any]] = []
        countries: list[list[Any]] = []
        regions: list[list[Any]] = []
        sectors: list[list[Any]] = []
        budgets: list[list[Any]] = []
        transactions: list[list[Any]] = []
        budget_count = 0
        if default_currency is not None and not self._currency_ok(default_currency):
            problems.append(
                Detail(
                    (self.source, f"line {line}", "default-currency"),
                    f"{default_currency!r} is not an ISO 4217 currency code",
                )
            )
            default_currency = None
        # Every row starts with the identifier, which may come after them in the file:
        # rows are lists until it is known (a search for it first costs more in lxml).
        identifier = ""
        seen: set[str] = set()
        for child in el:
            tag = child.tag
            kind = _CHILD_KIND.get(tag)
            if kind is None:
                continue  # contacts, policy markers, results, ...: not stored
            try:
                if kind == _TRANSACTION:
                    transactions.append(
                        self._transaction(child, len(transactions), default_currency, warnings)
                    )
                elif kind == _ORG:
                    role = attr(child, "role")
                    orgs.append(
                        [
                            None,
                            len(orgs),
                            ROLES.get(role.lower(), role) if role else None,
                            attr(child, "ref"),
                            attr(child, "type"),
                            first_text(child, lang)[:500],
                        ]
                    )
                elif kind == _DATE:
                    self._activity_date(child, dates, warnings)
                elif kind == _SECTOR:
                    sectors.append(self._sector(child, len(sectors), lang))
                elif kind == _MONEY:
                    budgets.append(
                        self._budget(child, tag, len(budgets), default_currency, warnings)
                    )
                    budget_count += tag == "budget"
                elif kind == _COUNTRY:
                    countries.append(self._country(child, len(countries), lang, warnings))
                elif kind == _IDENTIFIER:
                    once(child, seen, "an activity has one identifier")
                    identifier = (child.text or "").strip()
                elif kind == _TITLE:
                    for t_lang, text in texts(child, lang):
                        titles.setdefault(t_lang or "", text)
                elif kind == _DESCRIPTION:
                    described = child.get("type") or "1"
                    for t_lang, text in texts(child, lang):
                        descriptions.append((described, t_lang or "", text))
                elif kind == _PUBLISHER:
                    once(child, seen, "an activity has one publisher")
                    reporting_ref = attr(child, "ref")
                    reporting_type = attr(child, "type")
                    reporting_name = first_text(child, lang)
                elif kind == _STATUS:
                    status = attr(child, "code")
                elif kind == _REGION:
                    regions.append(
                        [
                            None,
                            len(regions),
                            required(child, "code")[:40],
                            attr(child, "vocabulary") or "1",
                            percentage(child),
                        ]
                    )
                elif kind == _AID_TYPE:
                    # 2.03 allows one per vocabulary; keep the OECD DAC one (vocabulary 1).
                    if (attr(child, "vocabulary") or "1") == "1":
                        aid_type = attr(child, "code")
                elif kind == _FINANCE_TYPE:
                    finance_type = attr(child, "code")
                else:  # default-flow-type
                    flow_type = attr(child, "code")
            except FieldProblem as exc:
                problems.append(
                    Detail((self.source, f"line {line_of(exc.element)}", exc.what), exc.msg)
                )

        if not identifier:
            identifier = self._anonymous_id(el)
            warnings.append(
                (
                    "activities have no iati-identifier: identified by a hash of the file name "
                    "and their content",
                    line,
                )
            )
        if len(identifier) > 250:
            problems.append(
                Detail(
                    (self.source, f"line {line}", "iati-identifier"),
                    "is longer than 250 characters",
                )
            )
        if problems:
            return ActivityProblem(identifier, line, problems)
        child_rows = (orgs, countries, regions, sectors, budgets, transactions)
        for rows in child_rows:
            for row in rows:
                row[0] = identifier
        title = (titles.get(lang or "") or next(iter(titles.values()), ""))[:500]
        activity_row = (
            identifier,
            reporting_ref,
            reporting_type,
            reporting_name,
            title,
            _json_titles(titles),
            _json_descriptions(descriptions),
            lang,
            default_currency,
            status,
            *dates,
            humanitarian,
            aid_type,
            finance_type,
            flow_type,
            line,
        )
        return ActivityRecord(
            identifier,
            line,
            activity_row,
            child_rows,
            budget_count,
            warnings,
        )

    # -- parts --------------------------------------------------------------------
    def _iso(self, el: etree._Element, name: str, *, text_fallback: bool = False) -> str | None:
        """A date attribute as ISO text (an error if malformed), or the element's text
        with ``text_fallback`` (ignored if it is not a date: 1.x text is often a label);
        see :func:`~ssaplan.ingest.iati_xml.date_attr`."""
        value = el.get(name)
        if value is not None:
            found = self._dates.get(value)
            if found is not None:
                return found
            value = value.strip()
        if not value:
            if not text_fallback:
                return None
            text = (el.text or "").strip()
            if not text:
                return None
            try:
                return self._day(text)
            except ValueError:
                return None
        try:
            return self._day(value)
        except ValueError:
            raise FieldProblem(
                el, name, f"{value[:40]!r} is not a date: write YYYY-MM-DD"
            ) from None

    def _day(self, text: str) -> str:
        """``text`` (a ``YYYY-MM-DD`` date, or a datetime) as ISO date text, remembered."""
        found = self._dates.get(text)
        if found is None:
            if len(self._dates) >= MAX_CACHED:
                self._dates.clear()
            found = self._dates[text] = parse_date(text).isoformat()
        return found

    def _activity_date(
        self, el: etree._Element, dates: list[str | None], warnings: list[tuple[str, int]]
    ) -> None:
        kind = attr(el, "type") or ""
        column = DATE_COLUMNS.get(DATE_TYPES.get(kind.lower(), kind))
        if column is None:
            return
        index = _DATE_INDEX[column]
        if el.get("iso-date"):
            dates[index] = self._iso(el, "iso-date")
            return
        text = (el.text or "").strip()
        try:
            dates[index] = self._day(text) if text else None
        except ValueError:
            warnings.append(("activity dates written as free text were ignored", line_of(el)))

    def _sector(self, el: etree._Element, seq: int, lang: str | None) -> list[Any]:
        vocabulary = attr(el, "vocabulary") or "1"
        name = first_text(el, lang)[:200]
        code = attr(el, "code") or ""
        if not code and not name:
            # 1.x publishers name sectors in text without a code; with neither, what is it?
            raise FieldProblem(el, "code", "<sector> has no code: add the code attribute")
        return [
            None,
            seq,
            SECTOR_VOCABULARIES.get(vocabulary.lower(), vocabulary),
            code[:40],
            name,
            percentage(el),
        ]

    def _country(
        self,
        el: etree._Element,
        seq: int,
        lang: str | None,
        warnings: list[tuple[str, int]],
    ) -> list[Any]:
        code = (attr(el, "code") or "").upper()
        name = first_text(el, lang)[:200]
        key = code or name
        if key not in self._countries:
            self._countries[key] = (
                self.catalog.resolve("country", key)
                if key and self.catalog.is_known("country", key)
                else None
            )
        iso3 = self._countries[key]
        if iso3 is None:
            shown = f"code {code!r}" if code else f"name {name!r}"
            warnings.append(
                (
                    f"recipient-country {shown} is not an ISO 3166 country: kept as published",
                    line_of(el),
                )
            )
        return [None, seq, code[:20], iso3, name, percentage(el)]

    def _budget(
        self,
        el: etree._Element,
        tag: str,
        seq: int,
        default_currency: str | None,
        warnings: list[tuple[str, int]],
    ) -> list[Any]:
        start = end = None
        value_el = None
        seen: set[str] = set()
        for child in el:
            ctag = child.tag
            if ctag == "value":
                once(child, seen, f"a <{tag}> has one amount")
                value_el = child
            elif ctag == "period-start":
                once(child, seen, f"a <{tag}> has one period")
                start = self._iso(child, "iso-date", text_fallback=True)
            elif ctag == "period-end":
                once(child, seen, f"a <{tag}> has one period")
                end = self._iso(child, "iso-date", text_fallback=True)
        if value_el is None:
            raise FieldProblem(el, "value", f"<{tag}> has no <value>: add the amount")
        # The schema requires both dates of a budget, only the start of a planned disbursement.
        if start is None or (end is None and tag == "budget"):
            missing = "period-start" if start is None else "period-end"
            raise FieldProblem(
                el,
                missing,
                f'<{tag}> has no {missing} date: add <{missing} iso-date="YYYY-MM-DD"/>',
            )
        amount, currency, value_date, usd = self._money(value_el, default_currency, start, warnings)
        kind_type = attr(el, "type")
        return [
            None,
            seq,
            tag,
            BUDGET_TYPES.get(kind_type.lower(), kind_type) if kind_type else None,
            attr(el, "status"),
            start,
            end,
            amount,
            currency,
            value_date,
            usd,
        ]

    def _transaction(
        self,
        el: etree._Element,
        seq: int,
        default_currency: str | None,
        warnings: list[tuple[str, int]],
    ) -> list[Any]:
        kind = transaction_date = provider_ref = receiver_ref = aid_type = finance_type = None
        provider_name = receiver_name = status_text = ""
        value_el = type_el = date_el = None
        for child in el:
            ctag = child.tag
            if ctag == "value":
                if value_el is not None:
                    twice(child, "a transaction has one amount")
                value_el = child
            elif ctag == "transaction-type":
                if type_el is not None:
                    twice(child, "a transaction has one type")
                type_el = child
                kind = code_or_name(child, TRANSACTION_TYPES)
            elif ctag == "transaction-date":
                if date_el is not None:
                    twice(child, "a transaction has one date")
                date_el = child
                transaction_date = self._iso(child, "iso-date", text_fallback=True)
            elif ctag == "provider-org":
                provider_ref = attr(child, "ref")
                provider_name = first_text(child, None)[:500]
            elif ctag == "receiver-org":
                receiver_ref = attr(child, "ref")
                receiver_name = first_text(child, None)[:500]
            elif ctag == "aid-type":
                if (attr(child, "vocabulary") or "1") == "1":
                    aid_type = attr(child, "code")
            elif ctag == "finance-type":
                finance_type = attr(child, "code")
            elif ctag == "status":
                status_text = (child.text or "").strip()
        if not kind:
            # Pre-1.01 drafts: a ``type`` attribute, or the status of an OCHA pledge.
            named = (el.get("type") or status_text).strip()
            kind = TRANSACTION_TYPES.get(named.lower(), named.lower())[:20]
        if not kind:
            raise FieldProblem(
                el,
                "transaction-type",
                'the transaction has no type: add <transaction-type code="..."/> '
                "(2 commitment, 3 disbursement, 4 expenditure, ...)",
            )
        if (el.get("flow") or "").lower() == "incoming":
            kind = INCOMING.get(kind, kind)
        if value_el is None:
            raise FieldProblem(el, "value", "<transaction> has no <value>: add the amount")
        amount, currency, value_date, usd = self._money(
            value_el, default_currency, transaction_date, warnings
        )
        return [
            None,
            seq,
            kind,
            transaction_date or value_date,
            amount,
            currency,
            value_date,
            usd,
            provider_ref,
            provider_name,
            receiver_ref,
            receiver_name,
            aid_type,
            finance_type,
            boolean(el.get("humanitarian")),
        ]

    def _money(
        self,
        el: etree._Element,
        default_currency: str | None,
        fallback_date: str | None,
        warnings: list[tuple[str, int]],
    ) -> tuple[str, str | None, str | None, int | None]:
        try:
            amount = parse_amount(el.text)
        except AmountError as exc:
            raise FieldProblem(el, "value", str(exc)) from None
        currency = upper(el.get("currency")) or default_currency
        value_date = self._iso(el, "value-date") or fallback_date
        text = format(amount, "f")
        if currency is None:
            if abs(amount) > MAX_ORIGINAL:
                raise FieldProblem(el, "value", f"{text} is implausibly large: check the units")
            warnings.append((f"amounts with {CURRENCY_DEFAULT_NOTE}: USD left empty", line_of(el)))
            return text, None, value_date, None
        if not self._currency_ok(currency):
            raise FieldProblem(
                el,
                "currency",
                f"{currency!r} is not an ISO 4217 currency code: use e.g. USD, EUR, GBP",
            )
        if value_date is None:
            warnings.append(("amounts without a value date: USD left empty", line_of(el)))
            return text, currency, None, None
        key = (currency, value_date)
        rate = self._rates.get(key)
        if rate is None and key not in self._rates:
            if len(self._rates) >= MAX_CACHED:
                self._rates.clear()
            rate = self._rates[key] = self.converter.rate(currency, date.fromisoformat(value_date))
        try:
            usd = usd_at(amount, currency, rate)
        except AmountError as exc:
            raise FieldProblem(el, "value", str(exc)) from None
        if usd is None:
            warnings.append(
                (
                    f"amounts in {currency} have no rate in the bundled ECB table: "
                    "original kept, USD left empty",
                    line_of(el),
                )
            )
        return text, currency, value_date, usd

    def _currency_ok(self, code: str) -> bool:
        ok = self._currencies.get(code)
        if ok is None:
            ok = self._currencies[code] = is_iso4217(code)
        return ok

    def _anonymous_id(self, el: etree._Element) -> str:
        # The file's name is part of the hash: the same placeholder activity published in
        # two files is two activities; the same file imported again gets the same ids.
        content = etree.tostring(el, method="c14n", with_tail=False)
        digest = hashlib.sha256(self.source.encode("utf-8") + b"\0" + content).hexdigest()
        key = digest[:32]
        count = self._anonymous.get(key, 0) + 1
        self._anonymous[key] = count
        return f"anonymous:{key}" + (f"-{count}" if count > 1 else "")
