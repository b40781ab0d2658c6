"""Reference tables in the database follow the shipped files."""

from __future__ import annotations

from sqlalchemy import func, select

from ssaplan.core.store import Store
from ssaplan.reference.catalog import get_catalog
from ssaplan.reference.models import Account, Country, CountryRegion, DacCode
from ssaplan.reference.service import sync
from tests.conftest import OPERATOR


def test_init_loaded_every_reference_row(store: Store) -> None:
    c = get_catalog()
    with store.session() as session:
        assert session.execute(select(func.count()).select_from(Country)).scalar_one() == len(
            c.countries
        )
        assert session.execute(select(func.count()).select_from(Account)).scalar_one() == len(
            c.accounts
        )
        assert session.execute(select(func.count()).select_from(DacCode)).scalar_one() == len(
            c.dac_codes
        )
        members = set(
            session.execute(
                select(CountryRegion.iso3).where(CountryRegion.region_code == "ECOWAS")
            ).scalars()
        )
    assert members == set(c.region_members("ECOWAS"))


def test_sync_again_changes_nothing_and_repairs_drift(store: Store) -> None:
    with store.transaction() as session:
        report = sync(session, OPERATOR, get_catalog())
    assert not report.changed
    with store.transaction() as session:
        session.get(Account, "FMF").name = "edited by hand"  # type: ignore[union-attr]
    with store.transaction() as session:
        report = sync(session, OPERATOR, get_catalog())
        assert report.updated["accounts"] == 1
    with store.session() as session:
        assert session.get(Account, "FMF").name == "Foreign Military Financing"  # type: ignore[union-attr]
