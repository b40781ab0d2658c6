"""Fixtures and helpers of the ingest tests: independent counts of IATI files, the
state of a database (to prove a failed import changed nothing), imports as a service."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from sqlalchemy import func, select

from ssaplan.coordination.models import (
    DonorActivity,
    DonorBudget,
    DonorParticipatingOrg,
    DonorRecipientCountry,
    DonorRecipientRegion,
    DonorSector,
    DonorTransaction,
    USAssistanceFigure,
)
from ssaplan.core.models import AuditHead, AuditRecord
from ssaplan.core.store import Store
from ssaplan.ingest.service import IngestService
from ssaplan.portfolio.models import BudgetLine, Milestone, Program
from tests.conftest import OPERATOR, SHARED, shared_data

IATI = SHARED / "data" / "iati"
US_ASSISTANCE = SHARED / "data" / "us-assistance"
TABLES = (
    DonorActivity,
    DonorParticipatingOrg,
    DonorRecipientCountry,
    DonorRecipientRegion,
    DonorSector,
    DonorBudget,
    DonorTransaction,
    USAssistanceFigure,
    Program,
    BudgetLine,
    Milestone,
    AuditRecord,
)


def xml_counts(path: Path) -> tuple[int, int]:
    """(activities, transactions) of an IATI file, counted with a plain lxml parse that
    shares nothing with the importer."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.parse(str(path), parser).getroot()
    activities = [root] if root.tag == "iati-activity" else root.findall("iati-activity")
    return len(activities), sum(len(a.findall("transaction")) for a in activities)


DONOR_TABLES = [m for m in TABLES if m.__tablename__.startswith("donor_")]


def db_state(store: Store) -> dict[str, Any]:
    """Row counts of every table an import touches, and the head of the audit chain."""
    with store.session() as session:
        state: dict[str, Any] = {
            m.__tablename__: session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in TABLES
        }
        head = session.get(AuditHead, 1)
        state["audit_head"] = head.last_hash if head else None
    return state


def import_iati(store: Store, paths: Sequence[Path], **options: Any) -> dict[str, Any]:
    with store.transaction() as session:
        return IngestService(session, OPERATOR).import_iati(list(paths), **options)


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str | bytes], Path]:
    """``write(name, content) -> path``: a file in the test's folder."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def activity(identifier: str, body: str = "", **attrs: str) -> str:
    """A minimal IATI 2.03 activity, with extra elements in ``body``."""
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f"""
  <iati-activity default-currency="EUR"{extra}>
    <iati-identifier>{identifier}</iati-identifier>
    <reporting-org ref="XM-DAC-41114" type="40"><narrative>UNDP</narrative></reporting-org>
    <title><narrative xml:lang="en">Activity {identifier}</narrative></title>
    <participating-org role="4"><narrative>Implementer</narrative></participating-org>
    <activity-status code="2"/>
    <activity-date type="1" iso-date="2022-01-01"/>
    <recipient-country code="NG" percentage="100"/>
    <sector vocabulary="1" code="15130" percentage="100"/>
    {body}
  </iati-activity>"""


def iati_file(*activities: str, version: str = "2.03") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<iati-activities version="{version}">{"".join(activities)}\n</iati-activities>\n'
    )


def transaction(code: str, day: str, value: str, currency: str = "") -> str:
    cur = f' currency="{currency}"' if currency else ""
    return (
        f'<transaction><transaction-type code="{code}"/><transaction-date iso-date="{day}"/>'
        f'<value{cur} value-date="{day}">{value}</value></transaction>'
    )


def dfid_copies(path: Path, copies: int) -> Path:
    """The real DFID file's 205 activities ``copies`` times, with new identifiers."""
    root = etree.parse(str(shared_data("iati", "publishers", "gb-1_dfid_drc__CD.xml"))).getroot()
    out = etree.Element("iati-activities", version="1.01")
    for copy in range(copies):
        for a in root.findall("iati-activity"):
            clone = etree.fromstring(etree.tostring(a))
            ident = clone.find("iati-identifier")
            assert ident is not None
            ident.text = f"{ident.text}-C{copy}"
            out.append(clone)
    path.write_bytes(etree.tostring(out, xml_declaration=True, encoding="UTF-8"))
    return path


def stored_rows(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every donor row, as stored (the import time aside), in key order."""
    out = {}
    with store.session() as session:
        for model in DONOR_TABLES:
            table = model.__table__
            columns = [c for c in table.columns if c.key != "imported_at"]
            rows = session.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            out[model.__tablename__] = [tuple(r) for r in rows]
    return out
