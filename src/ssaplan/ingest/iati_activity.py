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
"""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass, field
from datetime import date
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
)
from ssaplan.ingest.iati_xml import (
    XML_LANG,
    FieldProblem,
    attr,
    boolean,
    code_or_name,
    date_attr,
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
CURRENCY_DEFAULT_NOTE = "no currency stated (neither on the value nor as default-currency)"


@dataclass
class ActivityRecord:
    """Rows for one activity, ready for bulk insert (keys are column names)."""

    identifier: str
    line: int
    activity: dict[str, Any]
    orgs: list[dict[str, Any]]
    countries: list[dict[str, Any]]
    regions: list[dict[str, Any]]
    sectors: list[dict[str, Any]]
    budgets: list[dict[str, Any]]
    transactions: list[dict[str, Any]]
    warnings: list[tuple[str, int]] = field(default_factory=list)

    @property
    def budget_count(self) -> int:
        """How many of the money rows are budgets (the rest: planned disbursements)."""
        return sum(1 for b in self.budgets if b["kind"] == "budget")


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

    # -- entry point ------------------------------------------------------------
    def read(self, el: etree._Element) -> ActivityRecord | ActivityProblem:
        """One ``<iati-activity>`` as rows, or every problem found in it."""
        line = line_of(el)
        problems: list[Detail] = []
        warnings: list[tuple[str, int]] = []
        lang = el.get(XML_LANG) or self.default_lang
        default_currency = upper(el.get("default-currency"))
        act: dict[str, Any] = {
            "reporting_org_ref": None,
            "reporting_org_type": None,
            "reporting_org_name": "",
            "title": "",
            "titles": {},
            "descriptions": [],
            "default_language": lang,
            "default_currency": default_currency,
            "status": None,
            "planned_start": None,
            "actual_start": None,
            "planned_end": None,
            "actual_end": None,
            "humanitarian": boolean(el.get("humanitarian")),
            "default_aid_type": None,
            "default_finance_type": None,
            "default_flow_type": None,
            "source_line": line,
        }
        identifier = ""
        orgs: list[dict[str, Any]] = []
        countries: list[dict[str, Any]] = []
        regions: list[dict[str, Any]] = []
        sectors: list[dict[str, Any]] = []
        budgets: list[dict[str, Any]] = []
        transactions: list[dict[str, Any]] = []
        if default_currency is not None and not self._currency_ok(default_currency):
            problems.append(
                Detail(
                    (self.source, f"line {line}", "default-currency"),
                    f"{default_currency!r} is not an ISO 4217 currency code",
                )
            )
            default_currency = None

        def report(child: etree._Element, what: str, msg: str) -> None:
            problems.append(Detail((self.source, f"line {line_of(child)}", what), msg))

        seen: set[str] = set()
        for child in el:
            tag = child.tag
            if not isinstance(tag, str):
                continue  # comments, processing instructions
            try:
                if tag == "transaction":
                    transactions.append(
                        self._transaction(child, len(transactions), default_currency, warnings)
                    )
                elif tag == "iati-identifier":
                    once(child, seen, "an activity has one identifier")
                    identifier = (child.text or "").strip()
                elif tag == "title":
                    for t_lang, text in texts(child, lang):
                        act["titles"].setdefault(t_lang or "", text)
                elif tag == "description":
                    for t_lang, text in texts(child, lang):
                        act["descriptions"].append(
                            {"type": child.get("type") or "1", "lang": t_lang or "", "text": text}
                        )
                elif tag == "reporting-org":
                    once(child, seen, "an activity has one publisher")
                    act["reporting_org_ref"] = attr(child, "ref")
                    act["reporting_org_type"] = attr(child, "type")
                    act["reporting_org_name"] = first_text(child, lang)
                elif tag == "participating-org":
                    role = attr(child, "role")
                    orgs.append(
                        {
                            "seq": len(orgs),
                            "role": ROLES.get(role.lower(), role) if role else None,
                            "ref": attr(child, "ref"),
                            "type": attr(child, "type"),
                            "name": first_text(child, lang)[:500],
                        }
                    )
                elif tag == "activity-status":
                    act["status"] = attr(child, "code")
                elif tag == "activity-date":
                    self._activity_date(child, act, warnings)
                elif tag == "recipient-country":
                    countries.append(self._country(child, len(countries), lang, warnings))
                elif tag == "recipient-region":
                    regions.append(
                        {
                            "seq": len(regions),
                            "code": required(child, "code")[:40],
                            "vocabulary": attr(child, "vocabulary") or "1",
                            "percentage": percentage(child),
                        }
                    )
                elif tag == "sector":
                    sectors.append(self._sector(child, len(sectors), lang))
                elif tag in ("budget", "planned-disbursement"):
                    budgets.append(
                        self._budget(child, tag, len(budgets), default_currency, warnings)
                    )
                elif tag == "default-aid-type":
                    # 2.03 allows one per vocabulary; keep the OECD DAC one (vocabulary 1).
                    if (attr(child, "vocabulary") or "1") == "1":
                        act["default_aid_type"] = attr(child, "code")
                elif tag == "default-finance-type":
                    act["default_finance_type"] = attr(child, "code")
                elif tag == "default-flow-type":
                    act["default_flow_type"] = attr(child, "code")
            except FieldProblem as exc:
                report(exc.element, exc.what, exc.msg)

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
        titles = act["titles"]
        act["title"] = (titles.get(lang or "") or next(iter(titles.values()), ""))[:500]
        return ActivityRecord(
            identifier=identifier,
            line=line,
            activity=act,
            orgs=orgs,
            countries=countries,
            regions=regions,
            sectors=sectors,
            budgets=budgets,
            transactions=transactions,
            warnings=warnings,
        )

    # -- parts --------------------------------------------------------------------
    def _activity_date(
        self, el: etree._Element, act: dict[str, Any], warnings: list[tuple[str, int]]
    ) -> None:
        kind = attr(el, "type") or ""
        code = DATE_TYPES.get(kind.lower(), kind)
        column = DATE_COLUMNS.get(code)
        if column is None:
            return
        if el.get("iso-date"):
            act[column] = date_attr(el, "iso-date")
            return
        text = (el.text or "").strip()
        try:
            act[column] = parse_date(text) if text else None
        except ValueError:
            warnings.append(("activity dates written as free text were ignored", line_of(el)))

    def _sector(self, el: etree._Element, seq: int, lang: str | None) -> dict[str, Any]:
        vocabulary = attr(el, "vocabulary") or "1"
        name = first_text(el, lang)[:200]
        code = attr(el, "code") or ""
        if not code and not name:
            # 1.x publishers name sectors in text without a code; with neither, what is it?
            raise FieldProblem(el, "code", "<sector> has no code: add the code attribute")
        return {
            "seq": seq,
            "vocabulary": SECTOR_VOCABULARIES.get(vocabulary.lower(), vocabulary),
            "code": code[:40],
            "name": name,
            "percentage": percentage(el),
        }

    def _country(
        self,
        el: etree._Element,
        seq: int,
        lang: str | None,
        warnings: list[tuple[str, int]],
    ) -> dict[str, Any]:
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
        return {
            "seq": seq,
            "code": code[:20],
            "iso3": iso3,
            "name": name,
            "percentage": percentage(el),
        }

    def _budget(
        self,
        el: etree._Element,
        tag: str,
        seq: int,
        default_currency: str | None,
        warnings: list[tuple[str, int]],
    ) -> dict[str, Any]:
        start = end = None
        value_el = None
        seen: set[str] = set()
        for child in el:
            ctag = child.tag
            if ctag == "period-start":
                once(child, seen, f"a <{tag}> has one period")
                start = date_attr(child, "iso-date", text_fallback=True)
            elif ctag == "period-end":
                once(child, seen, f"a <{tag}> has one period")
                end = date_attr(child, "iso-date", text_fallback=True)
            elif ctag == "value":
                once(child, seen, f"a <{tag}> has one amount")
                value_el = child
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
        return {
            "seq": seq,
            "kind": tag,
            "type": BUDGET_TYPES.get(kind_type.lower(), kind_type) if kind_type else None,
            "status": attr(el, "status"),
            "period_start": start,
            "period_end": end,
            "amount": amount,
            "currency": currency,
            "value_date": value_date,
            "usd": usd,
        }

    def _transaction(
        self,
        el: etree._Element,
        seq: int,
        default_currency: str | None,
        warnings: list[tuple[str, int]],
    ) -> dict[str, Any]:
        row: dict[str, Any] = {
            "seq": seq,
            "type": "",
            "transaction_date": None,
            "provider_ref": None,
            "provider_name": "",
            "receiver_ref": None,
            "receiver_name": "",
            "aid_type": None,
            "finance_type": None,
            "humanitarian": boolean(el.get("humanitarian")),
        }
        value_el = type_el = date_el = None
        status_text = ""
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
                row["type"] = code_or_name(child, TRANSACTION_TYPES)
            elif ctag == "transaction-date":
                if date_el is not None:
                    twice(child, "a transaction has one date")
                date_el = child
                row["transaction_date"] = date_attr(child, "iso-date", text_fallback=True)
            elif ctag == "provider-org":
                row["provider_ref"] = attr(child, "ref")
                row["provider_name"] = first_text(child, None)[:500]
            elif ctag == "receiver-org":
                row["receiver_ref"] = attr(child, "ref")
                row["receiver_name"] = first_text(child, None)[:500]
            elif ctag == "aid-type":
                if (attr(child, "vocabulary") or "1") == "1":
                    row["aid_type"] = attr(child, "code")
            elif ctag == "finance-type":
                row["finance_type"] = attr(child, "code")
            elif ctag == "status":
                status_text = (child.text or "").strip()
        if not row["type"]:
            # Pre-1.01 drafts: a ``type`` attribute, or the status of an OCHA pledge.
            named = (el.get("type") or status_text).strip()
            row["type"] = TRANSACTION_TYPES.get(named.lower(), named.lower())[:20]
        if not row["type"]:
            raise FieldProblem(
                el,
                "transaction-type",
                'the transaction has no type: add <transaction-type code="..."/> '
                "(2 commitment, 3 disbursement, 4 expenditure, ...)",
            )
        if (el.get("flow") or "").lower() == "incoming":
            row["type"] = INCOMING.get(row["type"], row["type"])
        if value_el is None:
            raise FieldProblem(el, "value", "<transaction> has no <value>: add the amount")
        amount, currency, value_date, usd = self._money(
            value_el, default_currency, row["transaction_date"], warnings
        )
        if row["transaction_date"] is None:
            row["transaction_date"] = value_date
        row.update(amount=amount, currency=currency, value_date=value_date, usd=usd)
        return row

    def _money(
        self,
        el: etree._Element,
        default_currency: str | None,
        fallback_date: date | None,
        warnings: list[tuple[str, int]],
    ) -> tuple[str, str | None, date | None, int | None]:
        try:
            amount = parse_amount(el.text)
        except AmountError as exc:
            raise FieldProblem(el, "value", str(exc)) from None
        currency = upper(el.get("currency")) or default_currency
        value_date = date_attr(el, "value-date") or fallback_date
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
        try:
            usd = self.converter.to_usd(amount, currency, value_date)
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
