"""From stored programs to the engine's program-years, and the verdicts back per program-year.

A program-year is judged **per account that funds it**: one engine evaluation per budget
line's account (the program's main account when the line names none), merged into one
verdict for the program and fiscal year — eligible only if every account is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ssaplan.compliance.engine import (
    Eligibility,
    ProgramYear,
    Reason,
    Restriction,
    affected_programs,
    evaluate_all,
    fiscal_year_bounds,
    fiscal_year_of,
)
from ssaplan.compliance.rules import RuleSet
from ssaplan.compliance.service.common import Context, ProgramFacts, load_program_facts
from ssaplan.compliance.vetting import VettingRegister

NO_ACCOUNT = "no_account"


@dataclass(frozen=True)
class Verdict:
    """One program-year judged over every account that funds it."""

    program: ProgramFacts
    fiscal_year: int
    eligible: bool
    accounts: tuple[str, ...]
    planned: int
    reasons: tuple[Reason, ...]

    def as_dict(self) -> dict[str, object]:
        """The program entry of the ``comply check --json`` contract."""
        return {
            "id": self.program.code,
            "fiscal_year": self.fiscal_year,
            "eligible": self.eligible,
            "reasons": [r.as_dict() for r in self.reasons],
        }


def year_accounts(
    program: ProgramFacts, fiscal_years: Collection[int] | None = None
) -> dict[int, dict[str | None, int]]:
    """Planned dollars by fiscal year and account (None: no account recorded)."""
    out: dict[int, dict[str | None, int]] = defaultdict(dict)
    for fy, account, planned in program.lines:
        if fiscal_years is not None and fy not in fiscal_years:
            continue
        key = account or program.account
        out[fy][key] = out[fy].get(key, 0) + planned
    return dict(out)


def to_program_year(program: ProgramFacts, fiscal_year: int, account: str) -> ProgramYear:
    return ProgramYear(
        program_id=program.code,
        fiscal_year=fiscal_year,
        countries=program.countries,
        account=account,
        purpose=program.purpose,
        dac_code=program.dac_code,
        recipient=program.recipient,
        flags=program.flags,
        units=program.units,
        individuals=program.individuals,
    )


def _no_account_reasons(
    program: ProgramFacts, fiscal_year: int, restrictions: Iterable[Restriction]
) -> list[Reason]:
    """A line without an account cannot be judged while a restriction is in force there."""
    lo, hi = fiscal_year_bounds(fiscal_year)
    out = []
    for r in restrictions:
        if r.country in program.countries and r.in_force(lo, hi):
            out.append(
                Reason(
                    NO_ACCOUNT,
                    r.citation,
                    f"FY{fiscal_year}: {r.label()} is in force but no funding account is "
                    "recorded for this program-year, so which rules reach it cannot be "
                    "judged: record the account of its budget line",
                    "blocks",
                    r.country,
                )
            )
    return out


def judge(
    programs: Iterable[ProgramFacts],
    restrictions: Collection[Restriction],
    rules: RuleSet,
    *,
    as_of: date,
    register: VettingRegister,
    account_agencies: Mapping[str, str],
    fiscal_years: Collection[int] | None = None,
) -> list[Verdict]:
    """Every program-year of ``programs`` (of ``fiscal_years``), sorted by id then year."""
    plan: list[tuple[ProgramFacts, int, dict[str | None, int]]] = []
    years: list[ProgramYear] = []
    for program in programs:
        for fy, accounts in sorted(year_accounts(program, fiscal_years).items()):
            plan.append((program, fy, accounts))
            years += [to_program_year(program, fy, a) for a in accounts if a is not None]
    results: dict[tuple[str, int, str], Eligibility] = {
        (e.program_id, e.fiscal_year, py.account): e
        for py, e in zip(
            years,
            _evaluate_in_order(
                years,
                restrictions,
                rules,
                as_of=as_of,
                register=register,
                account_agencies=account_agencies,
            ),
            strict=True,
        )
    }
    by_country: dict[str, list[Restriction]] = defaultdict(list)
    for r in restrictions:
        by_country[r.country].append(r)
    verdicts = []
    for program, fy, accounts in plan:
        reasons: list[Reason] = []
        for account in sorted(accounts, key=lambda a: a or ""):
            if account is None:
                relevant = [r for c in program.countries for r in by_country.get(c, ())]
                reasons += _no_account_reasons(program, fy, relevant)
                continue
            reasons += results[(program.code, fy, account)].reasons
        unique = tuple(dict.fromkeys(reasons))
        verdicts.append(
            Verdict(
                program=program,
                fiscal_year=fy,
                eligible=not any(r.blocking for r in unique),
                accounts=tuple(sorted(a for a in accounts if a is not None)),
                planned=sum(accounts.values()),
                reasons=unique,
            )
        )
    return verdicts


def _evaluate_in_order(
    years: list[ProgramYear],
    restrictions: Collection[Restriction],
    rules: RuleSet,
    *,
    as_of: date,
    register: VettingRegister,
    account_agencies: Mapping[str, str],
) -> list[Eligibility]:
    """:func:`evaluate_all`, answered in the order of ``years`` (it sorts its answer)."""
    found = evaluate_all(
        years,
        restrictions,
        rules,
        as_of=as_of,
        vetting=register,
        account_agencies=account_agencies,
    )
    by_key: dict[tuple[str, int], list[Eligibility]] = defaultdict(list)
    for e in found:
        by_key[(e.program_id, e.fiscal_year)].append(e)
    # evaluate_all sorts stably by (program, year): the accounts of one program-year keep
    # the order they were given in.
    counters: dict[tuple[str, int], int] = defaultdict(int)
    out = []
    for py in years:
        key = (py.program_id, py.fiscal_year)
        out.append(by_key[key][counters[key]])
        counters[key] += 1
    return out


def programs_reached(
    ctx: Context,
    rules: RuleSet,
    old: Collection[Restriction],
    new: Collection[Restriction],
    *,
    from_fiscal_year: int | None = None,
) -> tuple[str, ...]:
    """Program ids whose restriction findings change from ``old`` to ``new`` (a review
    trigger), counting program-years from ``from_fiscal_year`` (default: the current FY)."""
    changed = set(old) ^ set(new)
    if not changed:
        return ()
    first = from_fiscal_year if from_fiscal_year is not None else fiscal_year_of(ctx.today)
    facts = load_program_facts(ctx.session, ctx.catalog, countries={r.country for r in changed})
    years = []
    for program in facts:
        for fy, accounts in year_accounts(program).items():
            if fy < first:
                continue
            for account in accounts:
                # A line without an account could be from any account: try each.
                for a in [account] if account else sorted(ctx.catalog.accounts):
                    years.append(to_program_year(program, fy, a))
    return affected_programs(old, new, years, rules, from_fiscal_year=first)
