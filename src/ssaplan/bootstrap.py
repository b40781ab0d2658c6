"""Make a database ready for use: schema migrations, then the reference tables."""

from __future__ import annotations

from dataclasses import dataclass

from ssaplan import domains
from ssaplan.core.auth import local_secret
from ssaplan.core.permissions import Actor
from ssaplan.core.store import Store, current_revisions, migrate
from ssaplan.reference.catalog import get_catalog
from ssaplan.reference.service import SyncReport, sync


@dataclass(frozen=True)
class InitReport:
    revisions: tuple[str, ...]
    reference: SyncReport


def initialize(store: Store, actor: Actor | None = None) -> InitReport:
    """Upgrade the schema to the latest revision and load the shipped reference data.

    Safe to run again: it only applies what is missing or changed.
    """
    domains.install()
    migrate(store)
    with store.transaction() as session:
        report = sync(session, actor or Actor.operator(), get_catalog())
        local_secret(session)
    return InitReport(tuple(sorted(current_revisions(store))), report)
