"""The fast IATI import path: rows as tuples in the writer's column order, bulk writes
(``executemany`` on SQLite, ``COPY`` on PostgreSQL), batch boundaries, values that
``COPY`` must escape, and all or nothing past the first batches written."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from ssaplan.coordination import service as coordination
from ssaplan.coordination.models import DonorActivity, DonorSector, DonorTransaction
from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from tests.ingest.conftest import (
    activity,
    db_state,
    dfid_copies,
    iati_file,
    import_iati,
    stored_rows,
    transaction,
    xml_counts,
)

Write = Callable[[str, str | bytes], Path]


def test_the_row_columns_are_the_tables_columns() -> None:
    """The tuple layout the reader builds and the writer inserts names every column."""
    activity_columns = coordination.ACTIVITY_COLUMNS + coordination.RUN_COLUMNS
    assert sorted(activity_columns) == sorted(c.key for c in DonorActivity.__table__.columns)
    for name, model in coordination.CHILD_TABLES:
        assert sorted(coordination.CHILD_COLUMNS[name]) == sorted(
            c.key for c in model.__table__.columns
        ), name


@pytest.mark.parametrize("count", [500, 501])
def test_batch_boundaries_write_every_row_once(store: Store, write: Write, count: int) -> None:
    """The service writes 500 activities at a time: a full batch, and one more."""
    body = transaction("2", "2020-01-01", "10", "EUR") + transaction("3", "2021-01-01", "5")
    path = write("n.xml", iati_file(*(activity(f"XM-9-{i}", body) for i in range(count))))
    summary = import_iati(store, [path])
    assert (summary["activities"], summary["transactions"]) == xml_counts(path)
    rows = stored_rows(store)
    assert len(rows["donor_activities"]) == count
    assert len(rows["donor_transactions"]) == 2 * count
    assert len(rows["donor_sectors"]) == count


AWKWARD = "tab\there, new\nline, back\\slash, \\N, \\.,  \"quotes\" 'é' 中文 &lt;x&gt;"


def test_awkward_values_round_trip_on_both_back_ends(store: Store, write: Write) -> None:
    """What ``COPY``'s text format escapes (tabs, newlines, backslashes, ``\\N``) and
    every type of column arrive as published."""
    text = AWKWARD.replace("\t", "&#9;").replace("\n", "&#10;")
    body = (
        f'<description type="2"><narrative xml:lang="fr">{text}</narrative></description>'
        '<recipient-region code="289" vocabulary="1" percentage="12.5"/>'
        '<transaction humanitarian="1"><transaction-type code="3"/>'
        '<transaction-date iso-date="2019-12-31"/>'
        f'<provider-org ref="X"><narrative>{text}</narrative></provider-org>'
        '<value currency="USD" value-date="2019-12-31">987654321012.00</value></transaction>'
    )
    xml = iati_file(activity("XM-AWK-1", body, humanitarian="false")).replace(
        "Activity XM-AWK-1", text
    )
    import_iati(store, [write("awkward.xml", xml)])
    with store.session() as session:
        act = session.get(DonorActivity, "XM-AWK-1")
        assert act is not None
        assert act.title == AWKWARD.replace("&lt;", "<").replace("&gt;", ">")
        assert act.titles == {"en": act.title}
        assert act.descriptions == [{"type": "2", "lang": "fr", "text": act.title}]
        assert act.humanitarian is False and act.planned_start.isoformat() == "2022-01-01"
        tx = session.execute(select(DonorTransaction)).scalar_one()
        assert tx.provider_name == act.title and tx.humanitarian is True
        assert (tx.amount, tx.currency, tx.usd) == ("987654321012.00", "USD", 987654321012)
        assert tx.transaction_date.isoformat() == tx.value_date.isoformat() == "2019-12-31"
        sector = session.execute(select(DonorSector)).scalar_one()
        assert (sector.code, sector.percentage) == ("15130", 100.0)


def test_a_bad_activity_late_in_a_large_file_writes_nothing(store: Store, tmp_path: Path) -> None:
    """All or nothing holds past the first batches already written."""
    path = dfid_copies(tmp_path / "big.xml", 6)
    data = path.read_bytes()
    cut = data.rindex(b"<value")
    path.write_bytes(data[:cut] + b'<value value-date="nope">' + data[cut + 6 :].split(b">", 1)[1])
    before = db_state(store)
    with pytest.raises(Invalid, match="cannot be imported; nothing was written") as caught:
        import_iati(store, [path])
    assert "'nope' is not a date" in caught.value.details[0].msg
    assert db_state(store) == before


def test_a_failed_write_mid_file_writes_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails after earlier batches were written (a full disk, a lost
    connection) takes them all back with the transaction."""
    path = dfid_copies(tmp_path / "big.xml", 6)  # 1,230 activities: three batches
    real_write = coordination.CoordinationService.replace_activities
    writes = {"n": 0}

    def failing_write(self: Any, *args: Any, **kwargs: Any) -> int:
        writes["n"] += 1
        if writes["n"] == 2:
            raise OSError("disk full")
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(coordination.CoordinationService, "replace_activities", failing_write)
    before = db_state(store)
    with pytest.raises(OSError, match="disk full"):
        import_iati(store, [path])
    assert db_state(store) == before and writes["n"] == 2


def test_on_postgresql_every_batch_lookup_is_planned_afresh(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Statements prepared while the tables were small kept a sequential scan's plan for
    the rest of the import (54 s instead of 14 s for 200 MB): during an import nothing
    is prepared; afterwards the pooled connection prepares again as before."""
    if store.dialect != "postgresql":
        pytest.skip("PostgreSQL only: SQLite plans every statement itself")
    seen: list[Any] = []
    original = coordination.CoordinationService.imported_in_run

    def spy(self: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(self.session.connection().connection.driver_connection.prepare_threshold)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(coordination.CoordinationService, "imported_in_run", spy)
    monkeypatch.setattr("ssaplan.ingest.service.BATCH", 50)
    summary = import_iati(store, [dfid_copies(tmp_path / "copies.xml", 2)])
    assert summary["activities"] == 410
    assert len(seen) >= 8 and set(seen) == {None}
    with store.session() as session:
        assert session.connection().connection.driver_connection.prepare_threshold == 5
