"""``ssaplan deconflict`` and ``ssaplan coordinate``: thin wrappers over the services.

``deconflict --json`` prints exactly the contract ``{"pairs": [{"a", "b", "score",
"likely", "reasons", ...}]}`` (``a`` and ``b`` the programs' ids or the activities'
IATI identifiers), with ``skipped``, ``orphan_marks``, ``stats`` and the stored ``run``
beside it; progress goes to stderr.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from typing import Annotated, Any

import typer

from ssaplan.clikit import DbOpt, JsonOpt, emit, info, open_store, state


class _Progress:
    """Stage lines on stderr, and the partner blocks about every tenth of the way."""

    def __init__(self) -> None:
        self.stage = ""
        self.next_report = 0.0
        self.started = time.perf_counter()

    def __call__(self, stage: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - self.started
        if stage != self.stage:
            self.stage = stage
            self.next_report = 0.1
            info(f"deconflict: {stage} ({done:,} of {total:,}) at {elapsed:.1f} s")
            return
        if total and done / total >= self.next_report:
            self.next_report = done / total + 0.1
            info(
                f"deconflict: {stage} {done:,} of {total:,} ({done / total:.0%}) at {elapsed:.1f} s"
            )


def deconflict(
    ctx: typer.Context,
    within_agency: Annotated[
        bool,
        typer.Option(
            "--within-agency", help="also compare programs of one agency (default: across)"
        ),
    ] = False,
    donor_pairs: Annotated[
        bool, typer.Option("--donor-pairs", help="also compare donor activities with each other")
    ] = False,
    likely_only: Annotated[
        bool, typer.Option("--likely-only", help="print only the likely pairs (all are stored)")
    ] = False,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Find programs that likely duplicate each other, across agencies and with other
    donors' activities; stores the run for the review queue (reviewers' marks apply)."""
    from ssaplan.coordination.overlaps import OverlapService
    from ssaplan.core.permissions import Actor

    st = state(ctx, db, as_json)
    store = open_store(st)
    with store.transaction() as session:
        outcome = OverlapService(session, Actor.operator()).run(
            within_agency=within_agency, donor_pairs=donor_pairs, progress=_Progress()
        )
    result = outcome.result
    pairs = [p for p in result.pairs if p.likely or not likely_only]
    titles = outcome.titles

    def described(pair: Any) -> dict[str, Any]:
        a_title, a_owner = titles.get(pair.a, ("", ""))
        b_title, b_owner = titles.get(pair.b, ("", ""))
        return {
            **pair.as_dict(),
            "a_title": a_title,
            "a_owner": a_owner,
            "b_title": b_title,
            "b_owner": b_owner,
        }

    data: dict[str, Any] = {
        "pairs": [described(p) for p in pairs],
        "skipped": outcome.skipped_shown,
        "orphan_marks": [list(m) for m in result.orphan_marks],
        "stats": dict(result.stats),
        "run": outcome.run.model_dump(mode="json"),
    }

    def human() -> None:
        lines = [f"{'score':>5}  {'likely':<6} pair"]
        for p in pairs[:30]:
            d = described(p)
            lines.append(
                f"{p.score:5.3f}  {'yes' if p.likely else 'no':<6} "
                f"{d['a_title'][:48]} ({p.a}, {d['a_owner']})"
            )
            lines.append(f"{'':13}{d['b_title'][:48]} ({p.b}, {d['b_owner']})")
            lines.append(f"{'':13}" + "; ".join(p.reasons[:4]))
        if len(pairs) > 30:
            lines.append(f"  ... {len(pairs) - 30} more (use --json for all)")
        sys.stdout.write("\n".join(lines) + "\n")
        run = outcome.run
        withheld = f", {run.withheld:,} pair(s) withheld by their marking" if run.withheld else ""
        info(
            f"run {run.id}: {run.activities or 0:,} activities compared, {run.pairs or 0:,} "
            f"pairs ({run.likely or 0:,} likely){withheld}, {len(data['skipped'])} skipped, "
            f"in {run.seconds:.1f} s"
        )

    emit(st, data, human)


def coordinate(
    ctx: typer.Context,
    partner: Annotated[
        str, typer.Option("--partner", metavar="ISO3", help="partner country (or region code)")
    ],
    basis: Annotated[
        str, typer.Option(help="money that counts: disbursed (default) or committed")
    ] = "disbursed",
    vocabulary: Annotated[
        str, typer.Option(help="sectors: dac3 (DAC categories, default) or dac5 (purpose codes)")
    ] = "dac3",
    first_fy: Annotated[int | None, typer.Option(help="first fiscal year counted")] = None,
    last_fy: Annotated[int | None, typer.Option(help="last fiscal year counted")] = None,
    as_of: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="gaps as of this day (default today)")
    ] = None,
    months: Annotated[int, typer.Option(help="gap window in months")] = 12,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One partner's donor picture: who funds which sectors, concentration, lead donors
    and a division of labour, our share over time, gaps and likely overlaps."""
    from ssaplan.coordination.partner import partner_picture
    from ssaplan.core.errors import BadRequest
    from ssaplan.core.permissions import Actor

    st = state(ctx, db, as_json)
    day = None
    if as_of:
        try:
            day = date.fromisoformat(as_of)
        except ValueError as exc:
            raise BadRequest(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from exc
    store = open_store(st)
    with store.session() as session:
        picture = partner_picture(
            session,
            Actor.operator(),
            partner,
            basis=basis,
            vocabulary=vocabulary,
            first_fy=first_fy,
            last_fy=last_fy,
            as_of=day,
            months=months,
        )
    data = picture.model_dump(mode="json")

    def human() -> None:
        p = picture
        out = [
            f"{p.partner.name} ({p.partner.code}): ${p.usd:,} {p.note.basis_label}, "
            f"FY{min(p.note.years, default=0)}-FY{max(p.note.years, default=0)}"
        ]
        out.append(f"{'donor':<44}{'dollars':>16}{'share':>8}")
        for d in p.donors[:15]:
            out.append(f"{d.name[:43]:<44}{d.usd:>16,}{d.share:>8.1%}")
        if p.fragmentation:
            f = p.fragmentation
            out.append(
                f"concentration: HHI {f.hhi:.3f} ({f.effective_donors:.1f} effective donors), "
                f"{f.non_significant} non-significant relationships"
            )
        out.append("lead donors:")
        for lead in p.lead_donors:
            out.append(
                f"  {lead.sector_name[:40]:<42}{lead.donor_name[:40]} "
                f"({lead.share:.0%}{', no RCA > 1' if not lead.has_advantage else ''})"
            )
        s = p.our_share
        out.append(
            f"our share: {s.our_share:.1%} (${s.ours_usd:,} of ${s.ours_usd + s.others_usd:,})"
        )
        kinds: dict[str, int] = {}
        for g in p.gaps:
            kinds[g.kind] = kinds.get(g.kind, 0) + 1
        out.append("gaps: " + (", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) or "none"))
        out.append(f"likely overlaps in the latest run: {len(p.overlaps)}")
        sys.stdout.write("\n".join(out) + "\n")

    emit(st, data, human)
