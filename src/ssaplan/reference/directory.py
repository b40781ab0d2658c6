"""The reference catalog as core's :class:`~ssaplan.core.permissions.Directory`."""

from __future__ import annotations

from typing import cast

from ssaplan.reference.catalog import Catalog, Kind, UnknownCode, get_catalog


class CatalogDirectory:
    """Agencies, countries and regions for permission scopes, from the shipped catalog."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        return self._catalog or get_catalog()

    def agency_family(self, agency_id: str) -> frozenset[str]:
        return self.catalog.agency_descendants(agency_id)

    def region_countries(self, code: str) -> frozenset[str]:
        region = self.catalog.regions.get(code)
        return region.members if region is not None else frozenset()

    def resolve(self, kind: str, text: str) -> str:
        try:
            return self.catalog.resolve(cast(Kind, kind), text)
        except UnknownCode as exc:
            raise LookupError(str(exc)) from exc

    def name(self, kind: str, code: str) -> str:
        table = self.catalog.table(cast(Kind, kind))
        item = table.get(code)
        return str(getattr(item, "name", "")) if item is not None else ""
