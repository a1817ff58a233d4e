"""The shipped examples: each valid one passes, each invalid one breaks exactly its rule
under the strict readings, and the ones a reading governs are tolerated by its lenient value."""

import pytest
from jsonschema import Draft202012Validator

from sms_contract import schema as documents
from sms_contract.core.readings import BY_NAME, READINGS, Readings
from sms_contract.core.validation import check_document, parse_body

#: Every invalid example, by file stem: the one violation it must raise under the
#: strict readings. A new invalid example without an entry here fails
#: ``test_every_invalid_example_...``.
EXPECTED_INVALID = {
    "credits-emoji-counted-as-one-unit": ("/credits", "credits_mismatch"),
    "credits-extension-counted-as-one-septet": ("/credits", "credits_mismatch"),
    "credits-fraction": ("/credits", "type"),
    "credits-simple-reading": ("/credits", "credits_mismatch"),
    "credits-string": ("/credits", "type"),
    "credits-too-high-for-text": ("/credits", "credits_mismatch"),
    "credits-too-low-for-text": ("/credits", "credits_mismatch"),
    "credits-too-many": ("/credits", "maximum"),
    "credits-zero": ("/credits", "minimum"),
    "is-unicode-as-integer": ("/isUnicode", "type"),
    "is-unicode-as-string": ("/isUnicode", "type"),
    "is-unicode-false-with-c-cedilla": ("/isUnicode", "is_unicode_mismatch"),
    "is-unicode-false-with-emoji": ("/isUnicode", "is_unicode_mismatch"),
    "is-unicode-true-for-gsm-text": ("/isUnicode", "is_unicode_mismatch"),
    "missing-credits": ("/credits", "required"),
    "missing-is-unicode": ("/isUnicode", "required"),
    "missing-ret-id": ("/retId", "required"),
    "missing-text": ("/text", "required"),
    "missing-to": ("/to", "required"),
    "missing-type": ("/type", "required"),
    "not-an-object": ("", "not_an_object"),
    "notification-with-empty-sender": ("/type", "type_rule"),
    "notification-with-null-sender": ("/type", "type_rule"),
    "notification-without-sender": ("/type", "type_rule"),
    "ret-id-empty": ("/retId", "min_length"),
    "ret-id-integer": ("/retId", "type"),
    "ret-id-too-long": ("/retId", "max_length"),
    "sender-number": ("/sender", "type"),
    "text-empty": ("/text", "min_length"),
    "text-null": ("/text", "type"),
    "to-not-e164": ("/to", "pattern"),
    "to-number": ("/to", "type"),
    "to-too-long": ("/to", "pattern"),
    "to-too-short": ("/to", "pattern"),
    "to-with-spaces": ("/to", "pattern"),
    "to-without-plus": ("/to", "pattern"),
    "type-lowercase": ("/type", "enum"),
    "type-unknown": ("/type", "enum"),
    "unknown-field": ("/campaign", "unknown_field"),
}

#: The invalid examples a reading governs: its lenient value accepts them, with a warning.
GOVERNED = {
    "is-unicode-true-for-gsm-text": "unicode",
    "credits-simple-reading": "credits",
    "to-without-plus": "to",
    "unknown-field": "unknown-fields",
}

VALID = documents.examples("valid")
INVALID = documents.examples("invalid")


def test_there_are_enough_examples_of_each_kind():
    assert len(VALID) >= 6
    assert len(INVALID) >= 14


def test_every_invalid_example_has_an_expectation_and_vice_versa():
    assert sorted(INVALID) == sorted(EXPECTED_INVALID)


@pytest.mark.parametrize("stem", sorted(VALID))
def test_valid_example_passes_json_schema_and_check_document(stem):
    document = VALID[stem]
    Draft202012Validator(documents.load_schema()).validate(document)
    result = check_document(document)
    assert result.valid, result.violations


@pytest.mark.parametrize("stem", sorted(VALID))
def test_valid_example_file_is_strict_json(stem):
    raw = (documents.path("examples") / "valid" / f"{stem}.json").read_bytes()
    assert parse_body(raw) == VALID[stem]


@pytest.mark.parametrize("stem", sorted(EXPECTED_INVALID))
def test_invalid_example_breaks_exactly_the_rule_it_is_named_for(stem):
    result = check_document(INVALID[stem], readings=Readings.strict())
    assert [(v.pointer, v.code) for v in result.violations] == [EXPECTED_INVALID[stem]]


@pytest.mark.parametrize("stem", sorted(set(EXPECTED_INVALID) - set(GOVERNED)))
def test_invalid_example_no_reading_governs_is_invalid_under_the_default_readings_too(stem):
    result = check_document(INVALID[stem])
    assert [(v.pointer, v.code) for v in result.violations] == [EXPECTED_INVALID[stem]]


def test_every_reading_governs_one_invalid_example():
    assert sorted(GOVERNED.values()) == sorted(reading.name for reading in READINGS)


@pytest.mark.parametrize("stem", sorted(GOVERNED))
def test_invalid_example_a_reading_governs_is_warned_about_by_its_lenient_value(stem):
    reading = BY_NAME[GOVERNED[stem]]
    lenient = Readings.from_mapping({reading.name: reading.lenient}, Readings.strict())
    result = check_document(INVALID[stem], readings=lenient)
    assert result.valid, result.violations
    pointer = EXPECTED_INVALID[stem][0]
    assert [(w.pointer, w.code) for w in result.warnings] == [(pointer, reading.warning)]


@pytest.mark.parametrize("stem", sorted(EXPECTED_INVALID))
def test_invalid_example_is_rejected_by_the_json_schema_unless_only_inconsistent(stem):
    code = EXPECTED_INVALID[stem][1]
    schema_valid = Draft202012Validator(documents.load_schema()).is_valid(INVALID[stem])
    assert schema_valid is code.endswith("_mismatch")


def test_valid_examples_cover_the_type_rule_and_both_encodings():
    senders = {
        repr(doc.get("sender", "absent")) for doc in VALID.values() if doc["type"] == "MARKETING"
    }
    assert {"'absent'", "None", "''"} <= senders
    assert {doc["isUnicode"] for doc in VALID.values()} == {True, False}
    assert any(doc["credits"] > 1 and doc["isUnicode"] for doc in VALID.values())
    assert any(len(doc["to"]) == 16 for doc in VALID.values())


def test_valid_examples_have_distinct_ret_ids():
    ret_ids = [doc["retId"] for doc in VALID.values()]
    assert len(ret_ids) == len(set(ret_ids))
