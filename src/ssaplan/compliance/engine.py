"""Eligibility: is a program-year free of statutory restrictions and vetted?

Pure: it judges plain dataclasses (``inputs``, ``rules``, ``vetting``) and imports
nothing from models, services or interfaces.

**The fiscal-year rule.** A program-year of fiscal year *F* is judged against every
restriction on one of its countries that is in force on at least one day of *F*
(1 October of *F*-1 to 30 September of *F*, both inclusive). For each rule of the
restriction's type that covers the program's account, purpose and recipient:

1. if one of the rule's exceptions matches (DAC purpose code or program flag, within
   the exception's accounts), the rule does not apply — reason ``excepted``;
2. else, if the rule is waivable and the restriction's waivers that cover the
   program's account together cover **every day the restriction is in force within
   F**, the rule is lifted — reason ``waived``;
3. else the program-year is ineligible — reason ``blocks``, naming any uncovered days
   of a partial waiver, or a waiver recorded under a rule that allows none.

A regional program (several countries) is ineligible while any of its countries
blocks it. Then **vetting**: every unit (and individual) the program-year assists
must be cleared on the evaluation date ``as_of`` (see :mod:`.vetting`); any other
state blocks, cited under 10 U.S.C. 362 when the account's agency is the Department
of Defense and 22 U.S.C. 2378d otherwise.

Every reason is kept, blocking or not, so that an eligible program says which
exception or waiver made it so. Reasons of kind ``not_applicable`` say which
restrictions were in force but do not reach the program.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ssaplan.compliance.inputs import (
    ProgramYear,
    Restriction,
    Waiver,
    fiscal_year_bounds,
    fiscal_year_of,
    overlap,
)
from ssaplan.compliance.rules import Rule, RuleSet
from ssaplan.compliance.vetting import VettingRegister, vetting_state

__all__ = [
    "EFFECTS",
    "Eligibility",
    "ProgramYear",
    "Reason",
    "Restriction",
    "Waiver",
    "affected_programs",
    "blocked_cells",
    "evaluate",
    "evaluate_all",
    "fiscal_year_bounds",
    "fiscal_year_of",
    "leahy_citation",
    "report",
]

EFFECTS = ("blocks", "waived", "excepted", "not_applicable", "no_rule", "vetted")
LEAHY_RULE = "leahy"
LEAHY_STATE = "22 U.S.C. 2378d (FAA sec. 620M)"
LEAHY_DOD = "10 U.S.C. 362"
EMPTY_REGISTER = VettingRegister()


@dataclass(frozen=True)
class Reason:
    """One finding about a program-year: which rule, under what law, and what it did.

    ``effect`` is one of :data:`EFFECTS`; only ``blocks`` makes a program ineligible.
    """

    rule: str
    citation: str
    text: str
    effect: str = "blocks"
    country: str | None = None

    @property
    def blocking(self) -> bool:
        return self.effect == "blocks"

    def as_dict(self) -> dict[str, Any]:
        """The reason in the ``comply check --json`` contract."""
        return {"rule": self.rule, "citation": self.citation, "text": self.text}


@dataclass(frozen=True)
class Eligibility:
    """The verdict on one program-year, with every reason."""

    program_id: str
    fiscal_year: int
    eligible: bool
    reasons: tuple[Reason, ...]

    @property
    def blocking_reasons(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if r.blocking)

    def as_dict(self) -> dict[str, Any]:
        """The program entry of the ``comply check --json`` contract."""
        return {
            "id": self.program_id,
            "fiscal_year": self.fiscal_year,
            "eligible": self.eligible,
            "reasons": [r.as_dict() for r in self.reasons],
        }


def report(results: Iterable[Eligibility]) -> dict[str, Any]:
    """``{"programs": [...]}``, the JSON answer of ``ssaplan comply check``."""
    return {"programs": [e.as_dict() for e in results]}


def leahy_citation(agency: str | None) -> str:
    """The Leahy law for an account managed by ``agency`` (e.g. ``DoD/DSCA``, ``State/PM``).

    Defense-funded assistance: 10 U.S.C. 362. Everything else is vetted under
    22 U.S.C. 2378d, which strictly reaches Foreign Assistance Act and Arms Export
    Control Act money; applying it to other civilian accounts is the defaults'
    conservative choice. Unknown agency: both are cited.
    """
    if agency is None:
        return f"{LEAHY_STATE}; {LEAHY_DOD}"
    return LEAHY_DOD if agency.split("/", 1)[0] == "DoD" else LEAHY_STATE


# -- restrictions -------------------------------------------------------------------
def _rules_by_type(rules: RuleSet | Iterable[Rule]) -> dict[str, tuple[Rule, ...]]:
    grouped: dict[str, list[Rule]] = {}
    for rule in rules.rules if isinstance(rules, RuleSet) else rules:
        grouped.setdefault(rule.restriction_type, []).append(rule)
    return {k: tuple(v) for k, v in grouped.items()}


def _by_country(restrictions: Iterable[Restriction]) -> dict[str, list[Restriction]]:
    index: dict[str, list[Restriction]] = {}
    for restriction in restrictions:
        index.setdefault(restriction.country, []).append(restriction)
    for items in index.values():
        items.sort(key=lambda r: (r.type, r.start))
    return index


def _span(lo: date, hi: date) -> str:
    return lo.isoformat() if lo == hi else f"{lo.isoformat()} to {hi.isoformat()}"


def waiver_gaps(
    waivers: Iterable[Waiver], account: str, lo: date, hi: date
) -> tuple[tuple[Waiver, ...], tuple[tuple[date, date], ...]]:
    """The waivers covering ``account`` that touch ``[lo, hi]``, and the days they leave.

    Several waivers may together cover the period (one ending the day before the
    next starts is continuous).
    """
    used: list[tuple[date, date, Waiver]] = []
    for waiver in waivers:
        if not waiver.covers(account):
            continue
        part = overlap(waiver.start, waiver.end, lo, hi)
        if part:
            used.append((part[0], part[1], waiver))
    used.sort(key=lambda item: (item[0], item[1]))
    gaps: list[tuple[date, date]] = []
    cursor = lo
    for start, end, _ in used:
        if start > cursor:
            gaps.append((cursor, start - timedelta(days=1)))
        if end >= cursor:
            cursor = end + timedelta(days=1)
        if cursor > hi:
            break
    if cursor <= hi:
        gaps.append((cursor, hi))
    return tuple(w for _, _, w in used), tuple(gaps)


def _waiver_text(waiver: Waiver, rule: Rule) -> str:
    until = waiver.end.isoformat() if waiver.end else "open-ended"
    cited = waiver.citation or f"under {rule.waiver}"
    return f"waiver from {waiver.start.isoformat()} ({until}), {cited}"


def _judge_rule(
    py: ProgramYear, restriction: Restriction, rule: Rule, lo: date, hi: date
) -> Reason:
    head = (
        f"FY{py.fiscal_year}: {restriction.label()} ({restriction.citation}) is in force "
        f"{_span(lo, hi)}"
    )
    country = restriction.country
    if not rule.covers_account(py.account):
        return Reason(
            rule.id,
            rule.citation,
            f"{head}; rule {rule.id} does not cover account {py.account}",
            "not_applicable",
            country,
        )
    if not rule.covers_recipient(py.recipient):
        return Reason(
            rule.id,
            rule.citation,
            f"{head}; rule {rule.id} reaches only {rule.recipients} recipients and this "
            f"assistance goes to a {py.recipient.replace('_', '-')} recipient",
            "not_applicable",
            country,
        )
    if not rule.covers_purpose(py.purpose):
        return Reason(
            rule.id,
            rule.citation,
            f"{head}; rule {rule.id} reaches only purposes "
            f"{', '.join(sorted(rule.blocks_purposes))}, not {py.purpose or 'an unset purpose'}",
            "not_applicable",
            country,
        )
    for exception in rule.exceptions:
        matched = exception.match(py.account, py.dac_code, py.flags)
        if matched:
            return Reason(
                rule.id,
                exception.citation,
                f"{head}; excepted from rule {rule.id} as {exception.id} ({matched}): "
                f"{exception.summary}",
                "excepted",
                country,
            )
    used, gaps = waiver_gaps(restriction.waivers, py.account, lo, hi)
    recipient = py.recipient.replace("_", "-")
    blocked = f"{head}; rule {rule.id} blocks {py.account} assistance to the {recipient} recipient"
    if used and not rule.waivable:
        return Reason(
            rule.id,
            rule.citation,
            f"{blocked}; a waiver is recorded for {py.account} but rule {rule.id} allows "
            "no waiver, so it is ignored",
            "blocks",
            country,
        )
    if used and not gaps:
        waivers = "; ".join(_waiver_text(w, rule) for w in used)
        return Reason(
            rule.id,
            "; ".join(dict.fromkeys(w.citation or rule.waiver for w in used)),
            f"{head}; rule {rule.id} would block {py.account} but is waived for every day "
            f"it is in force this fiscal year ({waivers})",
            "waived",
            country,
        )
    if used:
        waivers = "; ".join(_waiver_text(w, rule) for w in used)
        missing = ", ".join(_span(a, b) for a, b in gaps)
        return Reason(
            rule.id,
            rule.citation,
            f"{blocked}; the waivers for {py.account} ({waivers}) leave {missing} uncovered",
            "blocks",
            country,
        )
    return Reason(rule.id, rule.citation, blocked, "blocks", country)


def restriction_reasons(
    py: ProgramYear,
    restrictions: Iterable[Restriction],
    rules: RuleSet | Iterable[Rule],
    *,
    _rules_index: Mapping[str, tuple[Rule, ...]] | None = None,
) -> tuple[Reason, ...]:
    """Every finding of the restrictions (of the program's countries) in force in its FY."""
    index = _rules_index if _rules_index is not None else _rules_by_type(rules)
    fy_start, fy_end = fiscal_year_bounds(py.fiscal_year)
    countries = set(py.countries)
    reasons: list[Reason] = []
    for restriction in restrictions:
        if restriction.country not in countries:
            continue
        window = restriction.in_force(fy_start, fy_end)
        if window is None:
            continue
        lo, hi = window
        matching = index.get(restriction.type, ())
        if not matching:
            reasons.append(
                Reason(
                    restriction.type,
                    restriction.citation,
                    f"FY{py.fiscal_year}: {restriction.label()} is in force {_span(lo, hi)} "
                    f"but no rule says what a {restriction.type} restriction blocks: "
                    "review it by hand",
                    "no_rule",
                    restriction.country,
                )
            )
        for rule in matching:
            reasons.append(_judge_rule(py, restriction, rule, lo, hi))
    return tuple(reasons)


# -- vetting ------------------------------------------------------------------------
def vetting_reasons(
    py: ProgramYear,
    register: VettingRegister,
    as_of: date,
    *,
    agency: str | None,
    per_program: bool = True,
) -> tuple[Reason, ...]:
    """One blocking reason per assisted unit or individual not cleared on ``as_of``.

    When all are cleared, one ``vetted`` reason says so and when the first approval
    lapses. ``per_program``: only vetting records made for this program count.
    """
    subjects = [(u, "unit") for u in py.units] + [(i, "individual") for i in py.individuals]
    if not subjects:
        return ()
    citation = leahy_citation(agency)
    program = py.program_id if per_program else None
    reasons: list[Reason] = []
    expiries: list[date] = []
    for subject_id, kind in subjects:
        state = vetting_state(register, subject_id, as_of, program_id=program, subject_kind=kind)
        if state.cleared:
            if state.expires_on:
                expiries.append(state.expires_on)
            continue
        reasons.append(Reason(LEAHY_RULE, citation, state.text, "blocks"))
    if not reasons:
        first = min(expiries) - timedelta(days=1) if expiries else None
        until = f"; the first approval is valid through {first.isoformat()}" if first else ""
        reasons.append(
            Reason(
                LEAHY_RULE,
                citation,
                f"all {len(subjects)} assisted units and individuals are vetted and cleared "
                f"on {as_of.isoformat()}{until}",
                "vetted",
            )
        )
    return tuple(reasons)


# -- the verdict --------------------------------------------------------------------
def evaluate(
    program_year: ProgramYear,
    restrictions: Iterable[Restriction],
    rules: RuleSet | Iterable[Rule],
    *,
    as_of: date,
    vetting: VettingRegister = EMPTY_REGISTER,
    account_agencies: Mapping[str, str] | None = None,
    vetting_per_program: bool = True,
) -> Eligibility:
    """Judge one program-year: restrictions in force during its fiscal year, then vetting.

    ``as_of`` is the day vetting is checked on (normally today). ``account_agencies``
    maps account ids to their managing agency (from the reference catalog), which
    picks the Leahy citation.
    """
    return _evaluate(
        program_year,
        restrictions,
        _rules_by_type(rules),
        as_of=as_of,
        vetting=vetting,
        account_agencies=account_agencies or {},
        vetting_per_program=vetting_per_program,
    )


def _evaluate(
    py: ProgramYear,
    restrictions: Iterable[Restriction],
    rules_index: Mapping[str, tuple[Rule, ...]],
    *,
    as_of: date,
    vetting: VettingRegister,
    account_agencies: Mapping[str, str],
    vetting_per_program: bool,
) -> Eligibility:
    reasons = list(restriction_reasons(py, restrictions, (), _rules_index=rules_index))
    reasons += vetting_reasons(
        py,
        vetting,
        as_of,
        agency=account_agencies.get(py.account),
        per_program=vetting_per_program,
    )
    eligible = not any(r.blocking for r in reasons)
    return Eligibility(py.program_id, py.fiscal_year, eligible, tuple(reasons))


def evaluate_all(
    program_years: Iterable[ProgramYear],
    restrictions: Iterable[Restriction],
    rules: RuleSet | Iterable[Rule],
    *,
    as_of: date,
    vetting: VettingRegister = EMPTY_REGISTER,
    account_agencies: Mapping[str, str] | None = None,
    vetting_per_program: bool = True,
) -> tuple[Eligibility, ...]:
    """:func:`evaluate` for many program-years, sorted by program id then fiscal year."""
    index = _rules_by_type(rules)
    by_country = _by_country(restrictions)
    agencies = account_agencies or {}
    results = []
    for py in program_years:
        relevant = [r for c in dict.fromkeys(py.countries) for r in by_country.get(c, ())]
        results.append(
            _evaluate(
                py,
                relevant,
                index,
                as_of=as_of,
                vetting=vetting,
                account_agencies=agencies,
                vetting_per_program=vetting_per_program,
            )
        )
    return tuple(sorted(results, key=lambda e: (e.program_id, e.fiscal_year)))


# -- for the allocation optimizer and for monitoring -------------------------------------
def blocked_cells(
    restrictions: Iterable[Restriction],
    rules: RuleSet | Iterable[Rule],
    *,
    accounts: Collection[str],
    fiscal_years: Iterable[int],
    recipient: str = "government",
) -> frozenset[tuple[str, str, int]]:
    """The (country, account, fiscal year) cells no money may go to.

    A cell is blocked when a plain program-year there — to ``recipient``, with no DAC
    code, purpose or flag, hence no exception — would be blocked by a restriction
    (after waivers). Candidates that carry an exception must be judged with
    :func:`evaluate` instead; vetting is per program and not part of a cell.
    """
    index = _rules_by_type(rules)
    years = sorted(set(fiscal_years))
    blocked: set[tuple[str, str, int]] = set()
    restrictions = list(restrictions)
    for restriction in restrictions:
        for fy in years:
            if restriction.in_force(*fiscal_year_bounds(fy)) is None:
                continue
            for account in accounts:
                if (restriction.country, account, fy) in blocked:
                    continue
                py = ProgramYear("", fy, (restriction.country,), account, recipient=recipient)
                found = restriction_reasons(py, [restriction], (), _rules_index=index)
                if any(r.blocking for r in found):
                    blocked.add((restriction.country, account, fy))
    return frozenset(blocked)


def affected_programs(
    old: Iterable[Restriction],
    new: Iterable[Restriction],
    program_years: Iterable[ProgramYear],
    rules: RuleSet | Iterable[Rule],
    *,
    from_fiscal_year: int | None = None,
) -> tuple[str, ...]:
    """Program ids whose restriction findings change between two restriction sets.

    The review trigger: a new, ended or changed restriction (or waiver) that
    reaches a program-year — blocking, waived or excepted — changes its findings, and
    the monitoring domain opens an immediate review of that program. Restrictions in
    force that do not reach a program do not count. ``from_fiscal_year`` ignores
    program-years of earlier fiscal years (money already spent).
    """
    old_set, new_set = set(old), set(new)
    changed = old_set ^ new_set
    touched = {r.country for r in changed}
    if not touched:
        return ()
    index = _rules_by_type(rules)
    old_by, new_by = _by_country(old_set), _by_country(new_set)

    def findings(py: ProgramYear, by: Mapping[str, Sequence[Restriction]]) -> set[Reason]:
        relevant = [r for c in py.countries if c in touched for r in by.get(c, ())]
        reasons = restriction_reasons(py, relevant, (), _rules_index=index)
        return {r for r in reasons if r.effect != "not_applicable"}

    affected: set[str] = set()
    for py in program_years:
        if from_fiscal_year is not None and py.fiscal_year < from_fiscal_year:
            continue
        if py.program_id in affected or not touched.intersection(py.countries):
            continue
        if findings(py, old_by) != findings(py, new_by):
            affected.add(py.program_id)
    return tuple(sorted(affected))
