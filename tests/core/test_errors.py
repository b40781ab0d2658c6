from ssaplan.core.errors import Detail, Invalid, NotFound, StaleVersion, envelope


def test_one_line_names_each_problem_and_counts_the_rest() -> None:
    details = [Detail(("row", i, "agency"), f"unknown agency {i}") for i in range(7)]
    line = Invalid("cannot import", details).one_line()
    assert "\n" not in line
    assert line.startswith("cannot import: row.0.agency: unknown agency 0;")
    assert line.endswith("and 2 more")


def test_envelope_shape_is_the_same_for_every_error() -> None:
    for exc, status, code in (
        (NotFound("no program with id 'X'"), 404, "not_found"),
        (StaleVersion("changed"), 409, "stale_version"),
        (Invalid("bad", [Detail(("body", "title"), "is required")]), 422, "invalid"),
    ):
        body = exc.as_envelope()
        assert set(body) == {"error"}
        assert body["error"]["status"] == status
        assert body["error"]["code"] == code
        assert body == envelope(status, code, exc.message, exc.details)
