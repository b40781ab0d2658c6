"""U.S. foreign-assistance CSV files: what they are and what they become.

Three layouts are recognized from the header (column order and extra columns do not
matter; names are matched without regard to case, spaces and punctuation):

**Activity ledger** (ForeignAssistance.gov's complete data: ``Activity ID`` or
``Activity Name`` with ``Country Code``, ``Fiscal Year``, ``Managing Agency Name``,
``Funding Account Name``, ``International Purpose Code``, ``Transaction Type Name``,
``Current Dollar Amount``, ...). Rows aggregate to **programs of the shared portfolio**,
one per activity, keyed ``FA-<Activity Project Number>`` (the award number) or, without
one, ``FA-<Activity ID>``: obligations -> obligated, disbursements -> disbursed,
appropriated-and-planned -> planned, per fiscal year. Agency and account names are
matched through ``fa_names.csv`` and the catalog; regional pseudo-countries (``SSN``
"Sub-Saharan Africa Region", ...) become the State bureau of their ``Region Name``.
Only the security sector is taken unless ``all_sectors``: rows whose purpose code is in
``dac_mapping.csv``, whose U.S. category is "Peace and Security", or whose account is a
security-assistance account; the others are counted by category in the summary.

**Country totals** (``Country Code``/``Country Name``, ``Fiscal Year``/``Year``,
``Transaction Type Name``/``Assistance Name``, ``current_amount``/``Amount``, no
activity): **published U.S. figures** by country, fiscal year and measure.

**Budget tables by country and account** (State Congressional Budget Justification
"budget by country": ``Country``, one column per account, ``Fiscal Year``; thousands of
dollars): **planned** figures by country x account x fiscal year, in dollars.

Figures are kept for countries only: rows for regions, bureaus, programs, international
organizations and subtotals are not stored and are listed in the summary with their
row counts, as are account names that match no catalog account (those figures are kept
with the source's account label). Files in UTF-8 are read as such; otherwise as
Windows-1252 (what Excel writes), which the summary says.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import pydantic

from ssaplan.core.errors import Detail
from ssaplan.core.limits import csv_rows
from ssaplan.ingest.currency import MAX_USD
from ssaplan.ingest.mapping import HERE, Mappings, taxonomy_for
from ssaplan.portfolio.schemas import ProgramCreate
from ssaplan.reference.catalog import Catalog, UnknownCode

SECURITY_ACCOUNTS = frozenset(
    {
        "FMF",
        "IMET",
        "PKO",
        "GPOI",
        "INCLE",
        "NADR",
        "10USC333",
        "10USC332",
        "10USC321",
        "10USC345",
        "CTPF",
        "USAI",
        "CTEF",
        "SEC1206",
    }
)
MEASURES = {
    "obligations": "obligated",
    "obligation": "obligated",
    "disbursements": "disbursed",
    "disbursement": "disbursed",
    "appropriated and planned": "planned",
    "planned": "planned",
    "presidents budget requests": "requested",
    "presidents budget request": "requested",
    "initial allocations": "allocated",
}
PROGRAM_MEASURES = {"obligated": "obligated", "disbursed": "disbursed", "planned": "planned"}
COLUMNS = {
    "country_code": ("country code",),
    "country_name": ("country name",),
    "region_name": ("region name",),
    "fiscal_year": ("fiscal year", "year"),
    "measure": ("transaction type name", "assistance name", "transaction type"),
    "amount": ("current dollar amount", "current amount", "amount"),
    "agency": ("managing agency name", "funding agency name"),
    "subagency": ("managing sub agency or bureau acronym",),
    "account": ("funding account name",),
    "category": ("us category name",),
    "purpose": ("international purpose code",),
    "activity_id": ("activity id",),
    "project": ("activity project number",),
    "activity_name": ("activity name",),
    "description": ("activity description",),
    "start": ("activity start date",),
    "end": ("activity end date",),
}
NULLS = frozenset({"", "null", "none", "n/a", ".", "-"})
TOTAL_COLUMNS = ("total", "all accounts", "total without ghcs state")


def norm(text: str) -> str:
    """Lower-case, punctuation to spaces, spaces collapsed: how names are compared."""
    return " ".join(re.sub(r"[^0-9a-z&]+", " ", text.lower().replace("'", "")).split())


@lru_cache(maxsize=1)
def _names() -> dict[tuple[str, str], str]:
    out: dict[tuple[str, str], str] = {}
    with (HERE / "fa_names.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            out[(row["kind"].strip(), norm(row["name"]))] = row["id"].strip()
    return out


def match_name(catalog: Catalog, kind: str, name: str) -> str | None:
    """The catalog id for a foreign-assistance agency, account or region name."""
    key = norm(name)
    for prefix in (
        "department of state ",
        "agency for international development ",
        "funds appropriated to the president ",
    ):
        if kind == "account" and key.startswith(prefix) and (kind, key) not in _names():
            key = key[len(prefix) :]
    found = _names().get((kind, key))
    if found is not None:
        return found
    if kind in ("agency", "account", "region"):
        try:
            return catalog.resolve(kind, name)  # type: ignore[arg-type]
        except UnknownCode:
            return None
    return None


@dataclass
class FaResult:
    """What a foreign-assistance file holds, validated, with everything left out."""

    layout: str
    rows: int = 0
    encoding: str = "utf-8"
    programs: list[tuple[ProgramCreate, tuple[str | int, ...]]] = field(default_factory=list)
    rejected: list[tuple[tuple[str | int, ...], str | None, list[Detail]]] = field(
        default_factory=list
    )
    figures: list[dict[str, Any]] = field(default_factory=list)
    file_problems: list[Detail] = field(default_factory=list)
    out_of_scope: Counter[str] = field(default_factory=Counter)
    not_countries: Counter[str] = field(default_factory=Counter)
    unmapped_accounts: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def decode(raw: bytes, encoding: str | None) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read with."""
    if encoding:
        return raw.decode(encoding), encoding
    try:
        return raw.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="strict"), "windows-1252"


def read_foreign_assistance(
    path: Path,
    name: str,
    *,
    catalog: Catalog,
    mappings: Mappings,
    all_sectors: bool = False,
    encoding: str | None = None,
    today: date | None = None,
) -> FaResult:
    """Read and validate one file; nothing is written here."""
    try:
        text, used = decode(path.read_bytes(), encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        result = FaResult("unknown")
        result.file_problems.append(
            Detail((name,), f"cannot decode the file ({exc}): save it as CSV UTF-8")
        )
        return result
    rows = list(csv_rows(text, name))  # refuses over-long lines and over-wide rows first
    header = rows[0] if rows else []
    layout, columns = detect(header)
    result = FaResult(layout, encoding=used)
    if used != "utf-8":
        result.notes.append(f"{name} is not UTF-8: read as {used}")
    data = [(i, r) for i, r in enumerate(rows[1:], start=2) if any(c.strip() for c in r)]
    result.rows = len(data)
    if layout == "unknown":
        result.file_problems.append(
            Detail(
                (name, "line 1"),
                "not a foreign-assistance layout ssaplan knows: expected an activity ledger "
                "(Activity ID or Activity Name, Country Code, Fiscal Year, Managing Agency "
                "Name, Transaction Type Name, Current Dollar Amount), country totals (Country "
                "Code, Fiscal Year, Transaction Type Name, current_amount) or a budget table "
                "(Country, one column per account, Fiscal Year)",
            )
        )
        return result
    reader: Reader = {"ledger": _ledger, "totals": _totals, "cbj": _cbj}[layout]
    reader(
        result, header, data, columns, name, catalog, mappings, all_sectors, today or date.today()
    )
    return result


def detect(header: list[str]) -> tuple[str, dict[str, int]]:
    """The layout of a header and the index of each known column in it."""
    normalized = [norm(h) for h in header]
    columns: dict[str, int] = {}
    for key, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in normalized:
                columns[key] = normalized.index(alias)
                break
    has_country = "country_code" in columns or "country_name" in columns
    if ("activity_id" in columns or "activity_name" in columns) and has_country:
        return "ledger", columns
    if has_country and {"fiscal_year", "measure", "amount"} <= set(columns):
        return "totals", columns
    if normalized and normalized[0] == "country" and "fiscal_year" in columns and len(header) > 3:
        return "cbj", {"country": 0, "fiscal_year": columns["fiscal_year"]}
    return "unknown", columns


# -- helpers ------------------------------------------------------------------------
def _get(row: list[str], columns: dict[str, int], key: str) -> str:
    i = columns.get(key)
    if i is None or i >= len(row):
        return ""
    value = row[i].strip()
    return "" if value.lower() in NULLS else value


def _amount(text: str, scale: int = 1) -> int:
    """Whole dollars from ``1250000``, ``$1,250,000``, ``-3.5`` or ``(1,250)`` (negative),
    times ``scale``, rounded half up exactly (no binary fractions on the way)."""
    raw = text.strip().replace("$", "").replace(",", "").replace(" ", "")
    bracketed = re.fullmatch(r"\((\d+(?:\.\d+)?)\)", raw)
    digits = bracketed.group(1) if bracketed else raw
    if not re.fullmatch(r"-?\d+(\.\d+)?", digits):
        raise ValueError(f"{text[:40]!r} is not an amount: write digits such as 1250000")
    too_large = f"{text[:40]} is implausibly large (over ${MAX_USD:,}): check the units"
    if len(digits) > 40:
        raise ValueError(too_large)
    value = int((Decimal(digits) * scale).to_integral_value(ROUND_HALF_UP))
    value = -value if bracketed else value
    if abs(value) > MAX_USD:
        raise ValueError(too_large)
    return value


def _fiscal_year(text: str) -> tuple[int, str]:
    m = re.fullmatch(r"(?:FY\s*)?(\d{4})\s*(TQ)?", text.strip(), flags=re.IGNORECASE)
    if m is None:
        raise ValueError(f"{text!r} is not a fiscal year: write e.g. 2024")
    year = int(m.group(1))
    if not 1946 <= year <= 2100:
        raise ValueError(f"fiscal year {year} is out of range")
    return year, "TQ" if m.group(2) else ""


def _country(catalog: Catalog, code: str, name: str) -> str | None:
    for value in (code, name):
        found = catalog.lookup("country", value) if value else None
        if found is not None:
            return found
    return None


def _date(text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


Reader = Callable[..., None]


# -- the three layouts ----------------------------------------------------------------
def _totals(
    result: FaResult,
    header: list[str],
    data: list[tuple[int, list[str]]],
    columns: dict[str, int],
    name: str,
    catalog: Catalog,
    mappings: Mappings,
    all_sectors: bool,
    today: date,
) -> None:
    sums: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line, row in data:
        loc = (name, f"line {line}")
        code = _get(row, columns, "country_code")
        label = _get(row, columns, "country_name") or code
        problems = []
        try:
            fy, period = _fiscal_year(_get(row, columns, "fiscal_year"))
        except ValueError as exc:
            problems.append(Detail((*loc, "Fiscal Year"), str(exc)))
        try:
            amount = _amount(_get(row, columns, "amount") or "0")
        except ValueError as exc:
            problems.append(Detail((*loc, "amount"), str(exc)))
        measure_label = _get(row, columns, "measure")
        measure = MEASURES.get(norm(measure_label))
        if measure is None:
            problems.append(
                Detail(
                    (*loc, "Transaction Type Name"),
                    f"{measure_label!r} is not a measure ssaplan knows: use Obligations, "
                    "Disbursements, Appropriated and Planned, President's Budget Requests or "
                    "Initial Allocations",
                )
            )
        if problems:
            result.rejected.append((loc, label, problems))
            continue
        iso3 = _country(catalog, code, label)
        if iso3 is None:
            result.not_countries[f"{code} {label}".strip()] += 1
            continue
        account_label = _get(row, columns, "account")
        account_id = match_name(catalog, "account", account_label) if account_label else None
        if account_label and account_id is None:
            result.unmapped_accounts[account_label] += 1
        key = ("foreignassistance.gov", measure, fy, period, label, account_label)
        entry = sums.setdefault(
            key,
            {
                "source": "foreignassistance.gov",
                "measure": measure,
                "fiscal_year": fy,
                "period": period,
                "area": label[:200],
                "iso3": iso3,
                "account": account_label[:100],
                "account_id": account_id,
                "amount": 0,
                "source_file": name[:300],
                "note": "current dollars",
            },
        )
        entry["amount"] += amount
    result.figures = list(sums.values())


def _cbj(
    result: FaResult,
    header: list[str],
    data: list[tuple[int, list[str]]],
    columns: dict[str, int],
    name: str,
    catalog: Catalog,
    mappings: Mappings,
    all_sectors: bool,
    today: date,
) -> None:
    fy_index = columns["fiscal_year"]
    accounts: list[tuple[int, str, str | None]] = []
    for i, label in enumerate(header):
        clean = " ".join(label.replace("*", "").split())
        if i == 0 or i == fy_index or norm(clean) in TOTAL_COLUMNS or not clean:
            continue
        account_id = match_name(catalog, "account", clean)
        if account_id is None:
            result.unmapped_accounts[clean] += 1
        accounts.append((i, clean, account_id))
    for line, row in data:
        loc = (name, f"line {line}")
        area = " ".join((row[0] if row else "").split())
        iso3 = _country(catalog, "", area)
        if iso3 is None:
            result.not_countries[area or "(empty)"] += 1
            continue
        problems = []
        try:
            fy, period = _fiscal_year(row[fy_index] if fy_index < len(row) else "")
        except ValueError as exc:
            problems.append(Detail((*loc, "Fiscal Year"), str(exc)))
            fy, period = 0, ""
        figures = []
        for i, label, account_id in accounts:
            cell = row[i].strip() if i < len(row) else ""
            if cell.lower() in NULLS:
                continue
            try:
                amount = _amount(cell, scale=1000)
            except ValueError as exc:
                problems.append(Detail((*loc, label), str(exc)))
                continue
            figures.append(
                {
                    "source": "cbj",
                    "measure": "planned",
                    "fiscal_year": fy,
                    "period": period,
                    "area": area[:200],
                    "iso3": iso3,
                    "account": label[:100],
                    "account_id": account_id,
                    "amount": amount,
                    "source_file": name[:300],
                    "note": "State CBJ budget by country; source in thousands of dollars",
                }
            )
        if problems:
            result.rejected.append((loc, area, problems))
        else:
            result.figures += figures
    for label in list(result.unmapped_accounts):
        result.unmapped_accounts[label] = sum(1 for f in result.figures if f["account"] == label)


def _ledger(
    result: FaResult,
    header: list[str],
    data: list[tuple[int, list[str]]],
    columns: dict[str, int],
    name: str,
    catalog: Catalog,
    mappings: Mappings,
    all_sectors: bool,
    today: date,
) -> None:
    groups: dict[str, list[tuple[tuple[str | int, ...], list[str]]]] = defaultdict(list)
    scope_columns = {"purpose", "category", "account"} & set(columns)
    for line, row in data:
        loc = (name, f"line {line}")
        if not all_sectors and scope_columns and not _in_scope(row, columns, catalog, mappings):
            result.out_of_scope[_get(row, columns, "category") or "(no category)"] += 1
            continue
        key = (
            _get(row, columns, "project")
            or _get(row, columns, "activity_id")
            or norm(f"{_get(row, columns, 'agency')} {_get(row, columns, 'activity_name')}")
        )
        groups[key].append((loc, row))
    for key, rows in groups.items():
        _ledger_program(result, key, rows, columns, catalog, mappings, today)


def _in_scope(row: list[str], columns: dict[str, int], catalog: Catalog, m: Mappings) -> bool:
    if _get(row, columns, "purpose") in m.dac:
        return True
    if norm(_get(row, columns, "category")) == "peace and security":
        return True
    account = _get(row, columns, "account")
    return bool(account) and match_name(catalog, "account", account) in SECURITY_ACCOUNTS


def _ledger_program(
    result: FaResult,
    key: str,
    rows: list[tuple[tuple[str | int, ...], list[str]]],
    columns: dict[str, int],
    catalog: Catalog,
    mappings: Mappings,
    today: date,
) -> None:
    first_loc, first = rows[0]
    problems: list[Detail] = []
    money: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(PROGRAM_MEASURES, 0))
    countries: list[str] = []
    regions: list[str] = []
    codes: list[str] = []
    accounts: list[str] = []
    years: list[int] = []
    for loc, row in rows:
        try:
            fy, _period = _fiscal_year(_get(row, columns, "fiscal_year"))
            years.append(fy)
        except ValueError as exc:
            problems.append(Detail((*loc, "Fiscal Year"), str(exc)))
            continue
        measure = MEASURES.get(norm(_get(row, columns, "measure")))
        try:
            amount = _amount(_get(row, columns, "amount") or "0")
        except ValueError as exc:
            problems.append(Detail((*loc, "Current Dollar Amount"), str(exc)))
            continue
        if measure in PROGRAM_MEASURES:
            money[fy][measure] += amount
        code = _get(row, columns, "country_code")
        label = _get(row, columns, "country_name")
        iso3 = _country(catalog, code, label)
        region = (
            match_name(catalog, "region", _get(row, columns, "region_name")) if not iso3 else None
        )
        if iso3:
            countries += [iso3] if iso3 not in countries else []
        elif region:
            regions += [region] if region not in regions else []
        else:
            problems.append(
                Detail(
                    (*loc, "Country Code"),
                    f"{code or label!r} is neither a country nor a regional row of a known "
                    "region: a program needs a partner (map its Region Name in fa_names.csv)",
                )
            )
        purpose = _get(row, columns, "purpose")
        if purpose and purpose not in codes:
            codes.append(purpose)
        account_label = _get(row, columns, "account")
        if account_label:
            account_id = match_name(catalog, "account", account_label)
            if account_id is None:
                result.unmapped_accounts[account_label] += 1
            elif account_id not in accounts:
                accounts.append(account_id)
    agency_label = _get(first, columns, "agency")
    agency = match_name(catalog, "agency", agency_label) if agency_label else None
    if agency is None:
        problems.append(
            Detail(
                (*first_loc, "Managing Agency Name"),
                f"agency {agency_label!r} matches no agency: add it to fa_names.csv"
                if agency_label
                else "no managing agency: the column is required for activity rows",
            )
        )
    else:
        sub = _get(first, columns, "subagency")
        if sub and f"{agency}/{sub.upper()}" in catalog.agencies:
            agency = f"{agency}/{sub.upper()}"
    budget = []
    for fy in sorted(money):
        line = {"fiscal_year": fy}
        for measure, value in money[fy].items():
            if value < 0:
                result.notes.append(
                    f"{key}: net {measure} in FY{fy} is negative (${value:,}): counted as 0"
                )
                value = 0
            line[measure] = value
        budget.append(line)
    start = _date(_get(first, columns, "start")) or (date(min(years) - 1, 10, 1) if years else None)
    end = _date(_get(first, columns, "end")) or (date(max(years), 9, 30) if years else None)
    if start and end and end < start:
        start = end
    if problems:
        result.rejected.append((first_loc, key, problems))
        return
    dac_code = next((c for c in codes if c in catalog.dac_codes), None)
    fields: dict[str, Any] = {
        "id": f"FA-{key}"[:200],
        "title": (_get(first, columns, "activity_name") or f"Activity {key}")[:300],
        "description": _get(first, columns, "description"),
        "agency": agency,
        "account": accounts[0] if len(accounts) == 1 else None,
        "countries": countries,
        "regions": regions,
        "dac_code": dac_code,
        "start": start,
        "end": end,
        "status": "completed" if end and end < today else "implementing",
        "marking": "U",
        "budget": budget,
        **taxonomy_for(codes, mappings),
    }
    if len(accounts) > 1:
        result.notes.append(
            f"{key}: funded from several accounts ({', '.join(accounts)}): no account set"
        )
    try:
        result.programs.append((ProgramCreate(**fields), first_loc))
    except pydantic.ValidationError as exc:
        result.rejected.append(
            (
                first_loc,
                key,
                [
                    Detail((*first_loc, *(str(p) for p in e["loc"])), e["msg"])
                    for e in exc.errors(include_url=False)
                ],
            )
        )
