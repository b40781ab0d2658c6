"""The one money format, axis ticks, empty charts, names for codes, form parsing."""

from __future__ import annotations

import pytest

from ssaplan.core.errors import Detail
from ssaplan.ui.charts import bars, columns
from ssaplan.ui.forms import field_errors, parse_amount
from ssaplan.ui.money import dollars, money, money_tick, nice_ticks
from ssaplan.ui.names import name, named, sort_by_name


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3_000_000_000, "$3.0B"),
        (1_949_000_000, "$1.9B"),
        (563_600_000, "$563.6M"),
        (999_960, "$1.0M"),
        (12_500, "$12.5K"),
        (950, "$950"),
        (0, "$0"),
        (-2_500_000, "-$2.5M"),
        (None, "–"),
    ],
)
def test_money_has_one_short_format(value: int | None, text: str) -> None:
    assert money(value) == text


def test_exact_dollars_and_ticks() -> None:
    assert dollars(1_234_567) == "$1,234,567"
    assert nice_ticks(3_300_000_000) == [0.0, 1e9, 2e9, 3e9, 4e9]
    assert nice_ticks(563_600_000)[-1] >= 563_600_000
    assert all(t % 1e8 == 0 for t in nice_ticks(563_600_000))
    assert [money_tick(t) for t in (0, 2.5e9, 2e9)] == ["$0", "$2.5B", "$2B"]
    assert nice_ticks(0) == [0.0]


def test_empty_charts_say_no_data() -> None:
    assert "no data" in str(bars([], title="t"))
    assert "no data" in str(columns([], [], title="t"))
    assert "no data" in str(columns(["FY2027"], [("planned", [0])], title="t"))
    drawn = str(bars([("FMF", 3_300_000_000)], labels=["Foreign Military Financing"], title="t"))
    assert "Foreign Military Financing" in drawn and "$3.3B" in drawn and "(FMF)" in drawn


def test_names_where_people_read() -> None:
    assert name("GNB", "country") == "Guinea-Bissau"
    assert name("G1.3", "objective") == "G1.3 Support legitimate self-defense"
    assert name("AF", "region") == "Bureau of African Affairs"
    assert name("10USC333", "account").startswith("Foreign security forces")
    assert name("NOPE", "account") == "NOPE"
    assert 'title="FMF"' in str(named("FMF", "account"))
    assert sort_by_name(["GNB", "AFG", "DZA"], "country") == ["AFG", "DZA", "GNB"]


def test_amounts_as_typed_and_errors_by_field() -> None:
    assert parse_amount("1,200,000") == 1_200_000
    assert parse_amount("$1.2M") == 1_200_000
    assert parse_amount("350k") == 350_000
    assert parse_amount("") is None
    with pytest.raises(ValueError, match="not an amount"):
        parse_amount("lots")
    errors = field_errors([Detail(("body", "budget", 0, "planned"), "too big")])
    assert errors == {"budget.0.planned": "too big"}
