"""Compliance rules as data: which restriction blocks which assistance, with exceptions.

The rules live in a TOML file (the shipped default is ``data/default_rules.toml``;
administrators will edit a copy). This module reads one, checks every table and key
strictly and answers with immutable :class:`RuleSet` objects. A bad file raises
:class:`~ssaplan.core.errors.Invalid` listing every problem at once, each named by
file, line, rule and key. Pure: no database, no catalog import — the caller passes
the known account ids (and, optionally, purpose ids and DAC codes) in.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ssaplan.core.errors import Detail, Invalid

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_RULES_PATH = DATA_DIR / "default_rules.toml"
MAX_RULES_BYTES = 1_000_000

ALL_ACCOUNTS = "*"
RECIPIENTS = ("government", "non_government", "any")
# What a program-year's recipient can be; "any" is only a rule's scope.
RECIPIENT_KINDS = ("government", "non_government")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_DAC = re.compile(r"^\d{5}$")

TOP_KEYS = {"schema_version", "as_of", "restriction_type", "rule"}
TYPE_KEYS = {"id", "name", "description"}
RULE_REQUIRED = {
    "id",
    "restriction_type",
    "summary",
    "citation",
    "blocks_accounts",
    "recipients",
    "waivable",
}
RULE_KEYS = RULE_REQUIRED | {"blocks_purposes", "waiver", "note", "exceptions"}
EXCEPTION_REQUIRED = {"id", "summary", "citation"}
EXCEPTION_KEYS = EXCEPTION_REQUIRED | {"dac_codes", "flags", "accounts"}
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RestrictionType:
    """A kind of statutory country restriction (coup, child soldiers list, ...)."""

    id: str
    name: str
    description: str = ""


@dataclass(frozen=True)
class RuleException:
    """Assistance a rule does not reach, recognized by DAC purpose code or program flag.

    ``accounts`` limits the exception to some of the rule's accounts; empty means all.
    """

    id: str
    summary: str
    citation: str
    dac_codes: frozenset[str] = frozenset()
    flags: frozenset[str] = frozenset()
    accounts: frozenset[str] = frozenset()

    def match(self, account: str, dac_code: str | None, flags: Collection[str]) -> str | None:
        """What about the program makes this exception apply, or None."""
        if self.accounts and account not in self.accounts:
            return None
        if dac_code is not None and dac_code in self.dac_codes:
            return f"DAC purpose code {dac_code}"
        hits = sorted(self.flags.intersection(flags))
        if hits:
            return "flag " + ", ".join(hits)
        return None


@dataclass(frozen=True)
class Rule:
    """One statutory rule: a restriction type blocks these accounts for these recipients.

    ``blocks_accounts`` holds account ids, or ``"*"`` for every account;
    ``blocks_purposes`` (taxonomy purpose ids) narrows the rule when not empty.
    ``waiver`` names who may lift the rule and under what citation; it is empty when
    the law allows no waiver.
    """

    id: str
    restriction_type: str
    summary: str
    citation: str
    blocks_accounts: frozenset[str]
    recipients: str
    waivable: bool
    waiver: str = ""
    blocks_purposes: frozenset[str] = frozenset()
    exceptions: tuple[RuleException, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if self.recipients not in RECIPIENTS:
            raise ValueError(f"recipients must be one of {RECIPIENTS}, not {self.recipients!r}")

    def covers_account(self, account: str) -> bool:
        return ALL_ACCOUNTS in self.blocks_accounts or account in self.blocks_accounts

    def covers_purpose(self, purpose: str | None) -> bool:
        return not self.blocks_purposes or purpose in self.blocks_purposes

    def covers_recipient(self, recipient: str) -> bool:
        return self.recipients == "any" or self.recipients == recipient


@dataclass(frozen=True)
class RuleSet:
    """A whole rules file: the restriction types and the rules, in file order."""

    restriction_types: Mapping[str, RestrictionType]
    rules: tuple[Rule, ...]
    as_of: date | None = None
    source: str = ""
    _by_type: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        grouped: dict[str, list[Rule]] = {}
        for rule in self.rules:
            grouped.setdefault(rule.restriction_type, []).append(rule)
        object.__setattr__(
            self, "_by_type", MappingProxyType({k: tuple(v) for k, v in grouped.items()})
        )
        object.__setattr__(
            self, "restriction_types", MappingProxyType(dict(self.restriction_types))
        )

    def for_type(self, restriction_type: str) -> tuple[Rule, ...]:
        return self._by_type.get(restriction_type, ())

    def rule(self, rule_id: str) -> Rule:
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)


# -- reading -----------------------------------------------------------------------------
def load_rules(
    path: Path = DEFAULT_RULES_PATH,
    *,
    known_accounts: Collection[str],
    known_purposes: Collection[str] | None = None,
    known_dac_codes: Collection[str] | None = None,
    name: str | None = None,
) -> RuleSet:
    """Read and check a rules file; raise :class:`Invalid` with every problem found."""
    name = name or path.name
    raw = path.read_bytes()
    if len(raw) > MAX_RULES_BYTES:
        raise Invalid(
            "the rules file is too large",
            [Detail((name,), f"{len(raw)} bytes; the limit is {MAX_RULES_BYTES}")],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise Invalid(
            "the rules file is invalid", [Detail((name, f"line {line}"), "not UTF-8 text")]
        ) from None
    return parse_rules(
        text,
        name=name,
        known_accounts=known_accounts,
        known_purposes=known_purposes,
        known_dac_codes=known_dac_codes,
    )


def parse_rules(
    text: str,
    *,
    name: str = "rules.toml",
    known_accounts: Collection[str],
    known_purposes: Collection[str] | None = None,
    known_dac_codes: Collection[str] | None = None,
) -> RuleSet:
    """Check the TOML text of a rules file and build its :class:`RuleSet`.

    ``known_accounts`` is required: a rule naming an account that does not exist
    would silently block nothing. Purposes and DAC codes are checked when given.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        where = (name, f"line {match.group(1)}") if match else (name,)
        raise Invalid("the rules file is not valid TOML", [Detail(where, str(exc))]) from None
    checker = _Checker(
        name,
        _Lines(text),
        frozenset(known_accounts),
        None if known_purposes is None else frozenset(known_purposes),
        None if known_dac_codes is None else frozenset(known_dac_codes),
    )
    ruleset = checker.check(data)
    if checker.problems:
        n = len(checker.problems)
        raise Invalid(
            f"the rules file {name} has {n} problem{'s' if n != 1 else ''}; nothing was loaded",
            checker.problems,
        )
    return ruleset


def check_rules_data(
    data: Mapping[str, Any],
    *,
    name: str = "rules",
    known_accounts: Collection[str],
    known_purposes: Collection[str] | None = None,
    known_dac_codes: Collection[str] | None = None,
) -> RuleSet:
    """Check rules given as data (the tables a TOML file holds) and build the :class:`RuleSet`.

    The database keeps the rules as rows; the service turns them back into this shape
    (:func:`ruleset_as_data`) and checks the whole set with the same checker as a file,
    so an edit that would make the rules inconsistent is refused before it is saved.
    Problems name the rule and key (there are no lines to name).
    """
    checker = _Checker(
        name,
        _Lines(""),
        frozenset(known_accounts),
        None if known_purposes is None else frozenset(known_purposes),
        None if known_dac_codes is None else frozenset(known_dac_codes),
    )
    ruleset = checker.check(data)
    if checker.problems:
        n = len(checker.problems)
        raise Invalid(
            f"the rules would have {n} problem{'s' if n != 1 else ''}; nothing was saved",
            checker.problems,
        )
    return ruleset


def type_as_data(rtype: RestrictionType) -> dict[str, Any]:
    out: dict[str, Any] = {"id": rtype.id, "name": rtype.name}
    if rtype.description:
        out["description"] = rtype.description
    return out


def exception_as_data(exception: RuleException) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": exception.id,
        "summary": exception.summary,
        "citation": exception.citation,
    }
    if exception.dac_codes:
        out["dac_codes"] = sorted(exception.dac_codes)
    if exception.flags:
        out["flags"] = sorted(exception.flags)
    if exception.accounts:
        out["accounts"] = sorted(exception.accounts)
    return out


def rule_as_data(rule: Rule) -> dict[str, Any]:
    """One rule as the table a ``[[rule]]`` holds (keys left out when empty)."""
    out: dict[str, Any] = {
        "id": rule.id,
        "restriction_type": rule.restriction_type,
        "summary": rule.summary,
        "citation": rule.citation,
        "blocks_accounts": sorted(rule.blocks_accounts),
        "recipients": rule.recipients,
        "waivable": rule.waivable,
    }
    if rule.blocks_purposes:
        out["blocks_purposes"] = sorted(rule.blocks_purposes)
    if rule.waiver:
        out["waiver"] = rule.waiver
    if rule.note:
        out["note"] = rule.note
    if rule.exceptions:
        out["exceptions"] = [exception_as_data(e) for e in rule.exceptions]
    return out


def ruleset_as_data(ruleset: RuleSet) -> dict[str, Any]:
    """A rule set as the tables of a rules file (the inverse of :func:`check_rules_data`)."""
    data: dict[str, Any] = {"schema_version": SCHEMA_VERSION}
    if ruleset.as_of is not None:
        data["as_of"] = ruleset.as_of
    data["restriction_type"] = [type_as_data(t) for t in ruleset.restriction_types.values()]
    data["rule"] = [rule_as_data(r) for r in ruleset.rules]
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    text = str(value)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    escaped = escaped.replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{escaped}"'


def dump_rules(ruleset: RuleSet, *, header: str = "") -> str:
    """A rule set as the text of a rules file, which :func:`parse_rules` reads back equal.

    For administrators: export the rules in force, edit them with counsel, import them.
    """
    data = ruleset_as_data(ruleset)
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    if lines:
        lines.append("")
    lines.append(f"schema_version = {SCHEMA_VERSION}")
    if "as_of" in data:
        lines.append(f"as_of = {_toml_value(data['as_of'])}")
    for rtype in data["restriction_type"]:
        lines += ["", "[[restriction_type]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in rtype.items()]
    for rule in data["rule"]:
        lines += ["", "[[rule]]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in rule.items() if k != "exceptions"]
        for exception in rule.get("exceptions", []):
            lines += ["", "[[rule.exceptions]]"]
            lines += [f"{k} = {_toml_value(v)}" for k, v in exception.items()]
    return "\n".join(lines) + "\n"


class _Lines:
    """Where tables and keys start in the TOML text, for error messages.

    Tracks ``[[restriction_type]]``, ``[[rule]]`` and ``[[rule.exceptions]]`` headers
    and ``key =`` lines. A file written with inline tables gives fewer lines; the
    messages then name the rule and key without a line.
    """

    _HEADER = re.compile(r"^\s*\[\[\s*([A-Za-z_.]+)\s*\]\]\s*(#.*)?$")
    _KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

    def __init__(self, text: str) -> None:
        self.tables: dict[tuple[Any, ...], int] = {}
        self.keys: dict[tuple[Any, ...], int] = {}
        counts = {"restriction_type": -1, "rule": -1}
        exc_count = -1
        current: tuple[Any, ...] = ("top",)
        in_string = False
        for number, line in enumerate(text.splitlines(), start=1):
            # Skip the inside of multi-line strings (a key-looking line in a summary).
            if line.count('"""') % 2 == 1:
                in_string = not in_string
                if not in_string:
                    continue
            elif in_string:
                continue
            header = self._HEADER.match(line)
            if header:
                table = header.group(1)
                if table in counts:
                    counts[table] += 1
                    exc_count = -1
                    current = (table, counts[table])
                elif table == "rule.exceptions":
                    exc_count += 1
                    current = ("rule", counts["rule"], "exceptions", exc_count)
                else:
                    current = (table,)
                self.tables.setdefault(current, number)
                continue
            key = self._KEY.match(line)
            if key:
                self.keys.setdefault((*current, key.group(1)), number)

    def of(self, where: tuple[Any, ...], key: str | None = None) -> str | None:
        number = self.keys.get((*where, key)) if key else None
        if number is None:
            number = self.tables.get(where)
        return f"line {number}" if number is not None else None


class _Checker:
    def __init__(
        self,
        name: str,
        lines: _Lines,
        accounts: frozenset[str],
        purposes: frozenset[str] | None,
        dac_codes: frozenset[str] | None,
    ) -> None:
        self.name = name
        self.lines = lines
        self.accounts = accounts
        self.purposes = purposes
        self.dac_codes = dac_codes
        self.problems: list[Detail] = []

    def problem(self, where: tuple[Any, ...], label: str, key: str | None, msg: str) -> None:
        loc: list[str | int] = [self.name]
        line = self.lines.of(where, key)
        if line:
            loc.append(line)
        if label:
            loc.append(label)
        if key:
            loc.append(key)
        self.problems.append(Detail(tuple(loc), msg))

    # -- helpers for typed values ---------------------------------------------------------
    def text(self, table: Mapping[str, Any], key: str, where: tuple[Any, ...], label: str) -> str:
        value = table.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(where, label, key, "must be a non-empty text in double quotes")
            return ""
        return value.strip()

    def text_list(
        self, table: Mapping[str, Any], key: str, where: tuple[Any, ...], label: str
    ) -> list[str]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(where, label, key, 'must be a list of texts, e.g. ["FMF", "IMET"]')
            return []
        seen: set[str] = set()
        for item in value:
            if item in seen:
                self.problem(where, label, key, f"{item!r} is listed twice")
            seen.add(item)
        return [v.strip() for v in value]

    def unknown_keys(
        self,
        table: Mapping[str, Any],
        allowed: Iterable[str],
        where: tuple[Any, ...],
        label: str,
    ) -> None:
        allowed = set(allowed)
        for key in table:
            if key not in allowed:
                self.problem(
                    where, label, key, f"unknown key; allowed keys: {', '.join(sorted(allowed))}"
                )

    def missing_keys(
        self,
        table: Mapping[str, Any],
        required: Iterable[str],
        where: tuple[Any, ...],
        label: str,
    ) -> None:
        for key in sorted(required):
            if key not in table:
                self.problem(where, label, None, f"{key} is missing")

    def identifier(
        self, table: Mapping[str, Any], where: tuple[Any, ...], label: str, key: str = "id"
    ) -> str:
        value = self.text(table, key, where, label)
        if value and not _ID.match(value):
            self.problem(where, label, key, f"{value!r} must be lower-case letters, digits and _")
        return value

    # -- the file -----------------------------------------------------------------------
    def check(self, data: Mapping[str, Any]) -> RuleSet:
        top = ("top",)
        self.unknown_keys(data, TOP_KEYS, top, "")
        version = data.get("schema_version")
        if version != SCHEMA_VERSION:
            self.problem(top, "", "schema_version", f"must be {SCHEMA_VERSION} (found {version!r})")
        as_of = data.get("as_of")
        if as_of is not None and not (isinstance(as_of, date) and not hasattr(as_of, "hour")):
            self.problem(top, "", "as_of", "must be a date written as YYYY-MM-DD")
            as_of = None

        types = self.types(data.get("restriction_type", []))
        raw_rules = data.get("rule", [])
        if not isinstance(raw_rules, list) or not raw_rules:
            self.problem(top, "", "rule", "the file has no [[rule]] tables")
            raw_rules = []
        rules: list[Rule] = []
        seen: dict[str, str] = {}
        for index, raw in enumerate(raw_rules):
            where = ("rule", index)
            if not isinstance(raw, dict):
                self.problem(where, f"rule {index + 1}", None, "must be a [[rule]] table")
                continue
            rule = self.rule(raw, where, index, types)
            if rule is None:
                continue
            if rule.id in seen:
                self.problem(
                    where, f"rule {rule.id}", "id", f"duplicate rule id (first at {seen[rule.id]})"
                )
            seen.setdefault(rule.id, self.lines.of(where, "id") or f"rule {index + 1}")
            rules.append(rule)
        return RuleSet(types, tuple(rules), as_of, self.name)

    def types(self, raw_types: Any) -> dict[str, RestrictionType]:
        types: dict[str, RestrictionType] = {}
        if not isinstance(raw_types, list) or not raw_types:
            self.problem(("top",), "", "restriction_type", "no [[restriction_type]] tables")
            return types
        for index, raw in enumerate(raw_types):
            where = ("restriction_type", index)
            label = f"restriction_type {index + 1}"
            if not isinstance(raw, dict):
                self.problem(where, label, None, "must be a [[restriction_type]] table")
                continue
            self.unknown_keys(raw, TYPE_KEYS, where, label)
            self.missing_keys(raw, {"id", "name"}, where, label)
            type_id = self.identifier(raw, where, label)
            if not type_id:
                continue
            label = f"restriction_type {type_id}"
            if type_id in types:
                self.problem(where, label, "id", "duplicate restriction type id")
                continue
            if type_id == "leahy":
                self.problem(
                    where,
                    label,
                    "id",
                    "Leahy vetting applies to units, not countries: it is not a restriction type",
                )
            types[type_id] = RestrictionType(
                type_id,
                self.text(raw, "name", where, label),
                self.text(raw, "description", where, label),
            )
        return types

    def rule(
        self,
        raw: Mapping[str, Any],
        where: tuple[Any, ...],
        index: int,
        types: Mapping[str, RestrictionType],
    ) -> Rule | None:
        label = f"rule {raw.get('id')}" if isinstance(raw.get("id"), str) else f"rule {index + 1}"
        self.unknown_keys(raw, RULE_KEYS, where, label)
        self.missing_keys(raw, RULE_REQUIRED, where, label)
        rule_id = self.identifier(raw, where, label)

        rtype = self.text(raw, "restriction_type", where, label)
        if rtype and types and rtype not in types:
            self.problem(
                where,
                label,
                "restriction_type",
                f"{rtype!r} is not declared in a [[restriction_type]] table "
                f"(declared: {', '.join(sorted(types))})",
            )

        accounts = self.text_list(raw, "blocks_accounts", where, label)
        if isinstance(raw.get("blocks_accounts"), list) and not accounts:
            self.problem(where, label, "blocks_accounts", 'is empty: list account ids or ["*"]')
        if ALL_ACCOUNTS in accounts and len(accounts) > 1:
            self.problem(where, label, "blocks_accounts", '"*" means every account: list it alone')
        for account in accounts:
            if account != ALL_ACCOUNTS and account not in self.accounts:
                self.problem(where, label, "blocks_accounts", f"unknown account id {account!r}")

        purposes = self.text_list(raw, "blocks_purposes", where, label)
        if self.purposes is not None:
            for purpose in purposes:
                if purpose not in self.purposes:
                    self.problem(where, label, "blocks_purposes", f"unknown purpose id {purpose!r}")

        recipients = raw.get("recipients")
        if "recipients" in raw and recipients not in RECIPIENTS:
            self.problem(
                where, label, "recipients", f"{recipients!r} must be one of {', '.join(RECIPIENTS)}"
            )
            recipients = None

        waivable = raw.get("waivable")
        if "waivable" in raw and not isinstance(waivable, bool):
            self.problem(where, label, "waivable", "must be true or false")
            waivable = None
        waiver = self.text(raw, "waiver", where, label)
        if waivable is True and not waiver:
            self.problem(
                where, label, "waiver", "a waivable rule must say who waives it and under what law"
            )
        if waivable is False and "waiver" in raw:
            self.problem(where, label, "waiver", "given for a rule that is not waivable")

        exceptions = self.exceptions(raw.get("exceptions", []), where, label, set(accounts))

        summary = self.text(raw, "summary", where, label)
        citation = self.text(raw, "citation", where, label)
        note = self.text(raw, "note", where, label)
        if not (rule_id and rtype and accounts and summary and citation):
            return None
        if recipients is None or waivable is None:
            return None
        return Rule(
            id=rule_id,
            restriction_type=rtype,
            summary=summary,
            citation=citation,
            blocks_accounts=frozenset(accounts),
            recipients=str(recipients),
            waivable=bool(waivable),
            waiver=waiver,
            blocks_purposes=frozenset(purposes),
            exceptions=exceptions,
            note=note,
        )

    def exceptions(
        self, raw_list: Any, rule_where: tuple[Any, ...], rule_label: str, accounts: set[str]
    ) -> tuple[RuleException, ...]:
        if not isinstance(raw_list, list):
            self.problem(rule_where, rule_label, "exceptions", "must be [[rule.exceptions]] tables")
            return ()
        found: list[RuleException] = []
        seen: set[str] = set()
        for index, raw in enumerate(raw_list):
            where = (*rule_where, "exceptions", index)
            if not isinstance(raw, dict):
                self.problem(where, rule_label, "exceptions", "must be a [[rule.exceptions]] table")
                continue
            label = f"{rule_label} exception {raw.get('id', index + 1)}"
            self.unknown_keys(raw, EXCEPTION_KEYS, where, label)
            self.missing_keys(raw, EXCEPTION_REQUIRED, where, label)
            exc_id = self.identifier(raw, where, label)
            if exc_id in seen:
                self.problem(where, label, "id", "duplicate exception id in this rule")
            seen.add(exc_id)
            dac_codes = self.text_list(raw, "dac_codes", where, label)
            for code in dac_codes:
                if not _DAC.match(code):
                    self.problem(where, label, "dac_codes", f"{code!r} is not a 5-digit DAC code")
                elif self.dac_codes is not None and code not in self.dac_codes:
                    self.problem(where, label, "dac_codes", f"unknown DAC purpose code {code!r}")
            flags = self.text_list(raw, "flags", where, label)
            for flag in flags:
                if not _ID.match(flag):
                    self.problem(
                        where, label, "flags", f"{flag!r} must be lower-case letters, digits and _"
                    )
            if not dac_codes and not flags:
                self.problem(
                    where, label, None, "give dac_codes or flags: how is the exception recognized?"
                )
            exc_accounts = self.text_list(raw, "accounts", where, label)
            for account in exc_accounts:
                if account not in self.accounts:
                    self.problem(where, label, "accounts", f"unknown account id {account!r}")
                elif ALL_ACCOUNTS not in accounts and account not in accounts:
                    self.problem(
                        where,
                        label,
                        "accounts",
                        f"{account!r} is not among the rule's blocks_accounts",
                    )
            summary = self.text(raw, "summary", where, label)
            citation = self.text(raw, "citation", where, label)
            if exc_id and summary and citation and (dac_codes or flags):
                found.append(
                    RuleException(
                        exc_id,
                        summary,
                        citation,
                        frozenset(dac_codes),
                        frozenset(flags),
                        frozenset(exc_accounts),
                    )
                )
        return tuple(found)
