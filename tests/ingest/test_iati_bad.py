"""Malformed and malicious IATI files: a specific error naming file and line, and the
database exactly as it was. With --skip-invalid: the valid activities, and a reason
for every skipped one."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ssaplan.core.errors import Invalid
from ssaplan.core.store import Store
from tests.conftest import shared_data
from tests.ingest.conftest import (
    activity,
    db_state,
    iati_file,
    import_iati,
    transaction,
    xml_counts,
)

Write = Callable[[str, str | bytes], Path]

XXE = """<?xml version="1.0"?>
<!DOCTYPE iati-activities [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<iati-activities version="2.03"><iati-activity>
<iati-identifier>&xxe;</iati-identifier></iati-activity></iati-activities>
"""
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">\n'
        for i in range(1, 10)
    )
    + ']>\n<iati-activities version="2.03"><iati-activity>'
    "<iati-identifier>&lol9;</iati-identifier></iati-activity></iati-activities>\n"
)
EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE iati-activities SYSTEM "http://example.invalid/evil.dtd">
<iati-activities version="2.03"></iati-activities>
"""


def expect_error(
    store: Store, paths: list[Path], pattern: str, line: int | None = None, **options: object
) -> Invalid:
    """Import must fail with ``pattern`` in the message or a detail, naming the file (and
    line), and leave every table and the audit chain as they were."""
    before = db_state(store)
    with pytest.raises(Invalid) as caught:
        import_iati(store, paths, **options)
    exc = caught.value
    text = exc.message + " | " + " | ".join(d.msg for d in exc.details)
    assert re.search(pattern, text), text
    assert exc.details and exc.details[0].loc[0] in {p.name for p in paths}
    if line is not None:
        assert f"line {line}" in exc.details[0].loc, exc.details[0].loc
    assert db_state(store) == before
    return exc


def test_external_entities_are_refused_before_anything_is_read(store: Store, write: Write) -> None:
    exc = expect_error(store, [write("xxe.xml", XXE)], r"DTD not allowed.*|declares a DTD")
    assert "passwd" not in exc.one_line() and "root:" not in exc.one_line()


def test_billion_laughs_never_expands(store: Store, write: Write) -> None:
    expect_error(store, [write("lol.xml", BILLION_LAUGHS)], r"declares a DTD")


def test_an_external_dtd_is_refused(store: Store, write: Write) -> None:
    expect_error(store, [write("ext.xml", EXTERNAL_DTD)], r"declares a DTD")


def test_a_truncated_file_is_named_and_nothing_is_written(store: Store, write: Write) -> None:
    whole = iati_file(*(activity(f"XM-1-{i}") for i in range(40)))
    path = write("cut.xml", whole[: len(whole) * 2 // 3])
    expect_error(store, [path], r"truncated file|ends in the middle")


def test_malformed_xml_names_the_line(store: Store, write: Write) -> None:
    text = iati_file(activity("XM-1-1"), activity("XM-1-2").replace("</title>", "</tilte>"))
    expect_error(store, [write("bad.xml", text)], r"malformed XML|mismatch", line=17)


def test_a_wrong_encoding_is_explained(store: Store, write: Write) -> None:
    text = iati_file(activity("XM-1-1", "<description><narrative>Café</narrative></description>"))
    latin1 = text.encode("utf-8").replace("Café".encode(), "Café".encode("latin-1"))
    expect_error(store, [write("latin1.xml", latin1)], r"wrong encoding|not proper UTF-8")
    # Declared honestly, the same bytes import.
    honest = latin1.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert import_iati(store, [write("honest.xml", honest)])["activities"] == 1


def test_an_unknown_version_is_an_error(store: Store, write: Write) -> None:
    exc = expect_error(
        store,
        [write("v3.xml", iati_file(activity("XM-1-1"), version="3.01"))],
        r"unsupported IATI version.*|'3.01' is not supported",
    )
    assert "1.01-1.05 and 2.01-2.03" in exc.one_line()


@pytest.mark.parametrize(
    ("body", "pattern"),
    [
        (transaction("3", "2020-01-01", "100", "XYZ"), r"'XYZ' is not an ISO 4217"),
        (transaction("3", "2020-01-01", "1e20", "EUR"), r"implausibly large"),
        (transaction("3", "2020-01-01", "12,5", "EUR"), r"is not a number"),
        (transaction("3", "2020-01-01", "NaN", "EUR"), r"not a finite number"),
        (transaction("3", "2020-13-45", "100", "EUR"), r"is not a date"),
        ('<sector vocabulary="1" code="15130" percentage="140"/>', r"not between 0 and 100"),
        ("<budget><value value-date='2020-01-01'>5</value></budget>", r"no period-start"),
    ],
    ids=["unknown-currency", "absurd", "comma", "nan", "bad-date", "percent", "no-period"],
)
def test_bad_values_are_specific_errors(
    store: Store, write: Write, body: str, pattern: str
) -> None:
    text = iati_file(activity("XM-1-ok"), activity("XM-1-bad", body))
    exc = expect_error(store, [write("values.xml", text)], pattern)
    assert "nothing was written" in exc.message


def test_negative_values_are_corrections_and_are_kept(store: Store, write: Write) -> None:
    """IATI allows negative transactions (e.g. a decommitment); real publishers use them."""
    body = transaction("2", "2020-01-01", "1000", "USD") + transaction(
        "2", "2020-06-01", "-250", "USD"
    )
    summary = import_iati(store, [write("neg.xml", iati_file(activity("XM-1-1", body)))])
    assert summary["transactions"] == 2


def test_duplicate_identifiers_are_refused(store: Store, write: Write) -> None:
    text = iati_file(activity("XM-1-1"), activity("XM-1-1"))
    expect_error(store, [write("dup.xml", text)], r"appears twice in this import", line=14)


def test_duplicates_are_found_across_batches_and_files(store: Store, write: Write) -> None:
    """Identifiers already written are looked up in the database, not kept in memory."""
    many = [activity(f"XM-1-{i}") for i in range(520)] + [activity("XM-1-7")]
    path = write("many.xml", iati_file(*many))
    exc = expect_error(store, [path], r"appears twice in this import")
    assert exc.details[0].msg.startswith("'XM-1-7' appears twice in this import (also at line ")
    summary = import_iati(store, [path], skip_invalid=True)
    assert summary["activities"] == 520 and len(summary["skipped"]) == 1
    other = write("other.xml", iati_file(activity("XM-2-1"), activity("XM-1-3")))
    exc = expect_error(store, [write("first.xml", iati_file(activity("XM-1-3"))), other], r"twice")
    assert "of first.xml" in exc.details[0].msg


def test_an_organisation_file_is_not_an_activity_file(store: Store, write: Write) -> None:
    org = '<?xml version="1.0"?>\n<iati-organisations version="2.03"></iati-organisations>\n'
    expect_error(store, [write("org.xml", org)], r"not an IATI activity file")


def test_an_empty_file(store: Store, write: Write) -> None:
    expect_error(store, [write("empty.xml", "")], r"empty")


def test_skip_invalid_writes_the_valid_ones_and_lists_the_rest(store: Store, write: Write) -> None:
    text = iati_file(
        activity("XM-1-a", transaction("3", "2020-01-01", "10", "EUR")),
        activity("XM-1-b", transaction("3", "2020-01-01", "ten", "EUR")),
        activity("XM-1-c", transaction("3", "2020-01-01", "30", "GBP")),
    )
    summary = import_iati(store, [write("mixed.xml", text)], skip_invalid=True)
    assert (summary["activities"], summary["transactions"]) == (2, 2)
    assert summary["skipped"] == [
        {
            "file": "mixed.xml",
            "line": 14,
            "identifier": "XM-1-b",
            "reason": "line 23, value: 'ten' is not a number: write digits with an optional '.' "
            "and no thousands separators or currency signs",
        }
    ]


def test_one_bad_file_fails_the_whole_import_unless_skipped(store: Store, write: Write) -> None:
    good = write("good.xml", iati_file(activity("XM-1-a"), activity("XM-1-b")))
    bad = write("bad.xml", iati_file(activity("XM-1-c"))[:-30])
    expect_error(store, [good, bad], r"truncated")
    before = db_state(store)
    summary = import_iati(store, [good, bad], skip_invalid=True)
    assert summary["files"] == 1 and summary["activities"] == 2
    assert [s["file"] for s in summary["skipped"]] == ["bad.xml"]
    assert summary["skipped"][0]["identifier"] is None
    assert "truncated" in summary["skipped"][0]["reason"]
    after = db_state(store)
    # Only the good file's two activities were kept: the bad file's savepoint rolled back.
    assert after["donor_activities"] - before["donor_activities"] == 2


# -- the validator's bad files -------------------------------------------------------
# Files that break what ssaplan reads: each must be refused with a specific error.
MUST_FAIL = {
    "integration-tests__broken-xml.xml": r"malformed XML",
    "integration-tests__iati-act-xml-errors.xml": r"malformed XML",
    "integration-tests__iati-org-xml-errors.xml": r"malformed XML",
    "integration-tests__iati-org-root-only.xml": r"not an IATI activity file",
    "integration-tests__iati-org-no-errors.xml": r"not an IATI activity file",
    "integration-tests__iati-dup-activity-ids.xml": r"appears twice",
    "activity-tests__should-fail__budget__03-missing-value.xml": r"has no <value>",
    "activity-tests__should-fail__budget__11-two-value.xml": r"appears twice",
    "activity-tests__should-fail__budget__12-non-decimal-value.xml": r"not a number",
    "activity-tests__should-fail__transaction__03-missing-value.xml": r"has no <value>",
    "activity-tests__should-fail__transaction__05-two-transaction-type.xml": r"appears twice",
    "activity-tests__should-fail__transaction__22-incorrect-date-value-date.xml": r"not a date",
    "activity-tests__should-fail__transaction__40-non-decimal-value.xml": r"not a number",
    "activity-tests__should-fail__20-two-reporting-orgs.xml": r"appears twice",
}


@pytest.mark.parametrize("folder", ["js-validator-api", "schema-should-fail"])
def test_validator_bad_files_fail_specifically_or_import_completely(
    store: Store, folder: str
) -> None:
    """Each file either imports completely (counts checked independently; the rules it
    breaks concern parts ssaplan does not read) or fails with a specific error that
    names the file and leaves the database as it was; never a crash."""
    paths = sorted(shared_data("iati", "validator-bad", folder).glob("*.xml"))
    assert paths
    outcomes = {"imported": 0, "refused": 0}
    for path in paths:
        before = db_state(store)
        try:
            summary = import_iati(store, [path])
        except Invalid as exc:
            assert path.name not in MUST_FAIL or re.search(MUST_FAIL[path.name], exc.one_line())
            assert exc.details and exc.details[0].loc[0] == path.name, exc.one_line()
            assert db_state(store) == before, path.name
            outcomes["refused"] += 1
            continue
        assert path.name not in MUST_FAIL, f"{path.name} was accepted"
        assert (summary["activities"], summary["transactions"]) == xml_counts(path), path.name
        outcomes["imported"] += 1
    assert outcomes["refused"] >= (18 if folder == "js-validator-api" else 30), outcomes
