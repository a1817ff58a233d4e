"""The readings: one catalogue, parsed the same everywhere, never stricter when lenient,
each documented example warned about by its lenient value and refused by its strict one."""

from __future__ import annotations

import json

import pytest
from helpers.readings import (
    ACCENTS_AS_UCS2,
    BASE,
    SIMPLE_CREDITS,
    WITHOUT_PLUS,
    codes,
    documents,
    readings,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_contract.core.encoding import analyze
from sms_contract.core.readings import (
    BY_NAME,
    READINGS,
    RECIPIENT_PATTERNS,
    Readings,
    accepted_credits,
    parse_readings,
)
from sms_contract.core.validation import check_body, check_document
from sms_contract.exceptions import ReadingError, SmsContractError

PROPERTY = settings(
    max_examples=400,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

STRICT = Readings.strict()

# -- the catalogue ------------------------------------------------------------------------


def test_the_catalogue_has_the_readings_the_issue_names():
    assert [r.name for r in READINGS] == ["unicode", "credits", "to", "unknown-fields"]


def test_readings_defaults_and_strict_values_are_those_of_the_catalogue():
    assert Readings().to_dict() == {r.name: r.default for r in READINGS}
    assert STRICT.to_dict() == {r.name: r.strict for r in READINGS}
    assert STRICT.to_dict() == {
        "unicode": "exact",
        "credits": "concatenated",
        "to": "e164",
        "unknown-fields": "reject",
    }


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_each_reading_names_real_values_and_has_one_lenient_value(reading):
    names = set(reading.value_names)
    assert {reading.default, reading.strict} <= names
    for value in reading.values:
        assert set(value.includes) <= names - {value.name}
        assert value.meaning and "|" not in value.meaning
    assert reading.lenient in names
    assert reading.why and "\n" not in reading.why


def test_the_defaults_are_the_lenient_values_except_credits():
    # The default credits reading refuses what operators would bill otherwise.
    lenient = {r.name for r in READINGS if r.default == r.lenient}
    assert lenient == {"unicode", "to", "unknown-fields"}


# -- parsing ----------------------------------------------------------------------------------


def test_parse_readings_takes_items_and_space_separated_strings_a_later_one_winning():
    parsed = parse_readings(["unicode=exact credits=simple", "to=digits", "credits=either"])
    assert parsed == Readings(unicode="exact", credits="either", to="digits")


def test_parse_readings_starts_from_a_base():
    assert parse_readings(["to=e164"], STRICT) == STRICT
    assert parse_readings([], STRICT) == STRICT
    assert parse_readings(["", "  "]) == Readings()


@given(readings)
def test_the_string_form_of_readings_parses_back_to_them(chosen):
    assert parse_readings([str(chosen)]) == chosen
    assert Readings.from_mapping(chosen.to_dict()) == chosen


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["unicod=exact"], "unknown reading 'unicod'; the readings are: "),
        (["unicode=strict"], "unknown value 'strict' for the reading unicode; its values are: "),
        (["credits="], "unknown value '' for the reading credits; its values are: "),
        (["unicode"], "'unicode' is not NAME=VALUE (e.g. unicode=exact); the readings are: "),
        (["=exact"], "'=exact' is not NAME=VALUE"),
        (["unknown_fields=warn"], "unknown reading 'unknown_fields'"),
    ],
)
def test_a_bad_reading_is_a_one_line_error_listing_the_valid_ones(items, message):
    with pytest.raises(ReadingError) as error:
        parse_readings(items)
    text = str(error.value)
    assert text.startswith(message) and "\n" not in text
    name = items[0].partition("=")[0]
    about_a_value = text.startswith("unknown value")
    listed = BY_NAME[name].value_names if about_a_value else [r.name for r in READINGS]
    assert text.endswith(", ".join(listed))


def test_a_reading_error_is_a_value_error_of_the_project():
    with pytest.raises(ReadingError) as error:
        Readings(unicode="sometimes")  # type: ignore[arg-type]
    assert isinstance(error.value, SmsContractError) and isinstance(error.value, ValueError)
    assert str(error.value) == (
        "unknown value 'sometimes' for the reading unicode; its values are: allowed, exact"
    )


# -- the documented example of each reading ---------------------------------------------------


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_example_of_a_reading_is_warned_about_by_its_lenient_value(reading):
    document = {**BASE, **reading.example}
    lenient = Readings.from_mapping({reading.name: reading.lenient}, STRICT)
    result = check_document(document, readings=lenient)
    assert result.valid, result.violations
    assert [w.code for w in result.warnings] == [reading.warning]


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_example_of_a_reading_is_refused_by_its_strict_value(reading):
    document = {**BASE, **reading.example}
    lenient_elsewhere = Readings.from_mapping({reading.name: reading.strict}, Readings())
    result = check_document(document, readings=lenient_elsewhere)
    assert [v.code for v in result.violations] == [reading.violation]


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_example_of_a_reading_is_valid_json_schema_but_for_that_reading(reading):
    # Each example breaks nothing but its reading: the strict verdict names it alone.
    result = check_document({**BASE, **reading.example}, readings=STRICT)
    assert len(result.violations) == 1


# -- the three sends of the issue ---------------------------------------------------------------


def test_with_the_defaults_accents_declared_ucs2_are_accepted_with_a_warning_naming_credits():
    result = check_document(ACCENTS_AS_UCS2)
    assert result.valid
    [warning] = result.warnings
    assert (warning.pointer, warning.code) == ("/isUnicode", "is_unicode_not_needed")
    assert warning.message == (
        "isUnicode is true: GSM-7 could carry the text; as declared (UCS-2) it costs "
        "1 credit, as GSM-7 it would cost 1"
    )


def test_with_the_defaults_a_number_without_plus_is_accepted_with_a_warning():
    result = check_document(WITHOUT_PLUS)
    assert result.valid
    assert [(w.pointer, w.code, w.message) for w in result.warnings] == [
        (
            "/to",
            "to_without_plus",
            "to 33612345678 has no '+': read as +33612345678, a valid international number "
            "(to=either)",
        )
    ]


def test_with_the_defaults_simple_credits_are_refused_naming_both_counts():
    [violation] = check_document(SIMPLE_CREDITS).violations
    assert (violation.pointer, violation.code) == ("/credits", "credits_mismatch")
    assert violation.message == (
        "credits is 2 but the text needs 3 (310 septets make 3 parts of up to 153; "
        "2 is the simple reading, ceil(310 septets / 160) = 2, see credits=either)"
    )


@pytest.mark.parametrize("document", [ACCENTS_AS_UCS2, WITHOUT_PLUS, SIMPLE_CREDITS])
def test_with_the_strict_values_all_three_sends_are_refused(document):
    strict = parse_readings(["unicode=exact", "to=e164", "credits=concatenated"])
    assert not check_document(document, readings=strict).valid


def test_with_credits_either_simple_credits_are_accepted_with_a_warning():
    result = check_document(SIMPLE_CREDITS, readings=Readings(credits="either"))
    assert result.valid
    [warning] = result.warnings
    assert (warning.pointer, warning.code) == ("/credits", "credits_reading")
    assert warning.message == (
        "credits is 2: the simple reading, ceil(310 septets / 160) = 2; concatenated, "
        "310 septets make 3 parts of up to 153"
    )


def test_with_credits_simple_concatenated_credits_are_refused():
    document = {**SIMPLE_CREDITS, "credits": 3}
    [violation] = check_document(document, readings=Readings(credits="simple")).violations
    assert violation.message == (
        "credits is 3 but the text needs 2 (the simple reading: ceil(310 septets / 160) = 2)"
    )


def test_with_credits_either_a_count_matching_neither_reading_is_refused_naming_both():
    document = {**SIMPLE_CREDITS, "credits": 4}
    [violation] = check_document(document, readings=Readings(credits="either")).violations
    assert "3 parts of up to 153; or 2 by the simple reading" in violation.message


# -- unicode -----------------------------------------------------------------------------------


def test_credits_of_a_gsm_text_declared_ucs2_are_counted_as_ucs2():
    # 100 GSM characters: 1 SMS as GSM-7, 2 parts as UCS-2 (100 > 70 units).
    document = {**ACCENTS_AS_UCS2, "text": "a" * 100, "credits": 1}
    result = check_document(document)
    assert codes(result.violations) == {("/credits", "credits_mismatch")}
    assert "counted as UCS-2, as isUnicode declares" in result.violations[0].message
    assert check_document({**document, "credits": 2}).valid


@pytest.mark.parametrize("value", ["allowed", "exact"])
def test_is_unicode_false_with_a_character_outside_gsm_is_refused_under_every_value(value):
    document = {**BASE, "text": "Votre reçu", "isUnicode": False}
    result = check_document(document, readings=Readings(unicode=value))  # type: ignore[arg-type]
    assert ("/isUnicode", "is_unicode_mismatch") in codes(result.violations)


def test_under_unicode_exact_the_violation_names_both_credit_counts():
    [violation] = check_document(ACCENTS_AS_UCS2, readings=STRICT).violations
    assert violation.message == (
        "isUnicode is true but the text needs false "
        "(every character is in GSM 03.38: 1 credit as GSM-7, 1 as UCS-2)"
    )


# -- to ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("to", "either", "e164", "digits"),
    [
        ("+33612345678", True, True, False),
        ("33612345678", True, False, True),
        ("+999123456789", True, True, False),  # matches E.164, valid nowhere: a warning only
        ("999123456789", False, False, False),  # without '+', only a valid number reads
        ("0612345678", False, False, False),
        ("+33 6 12 34 56 78", False, False, False),
        ("33612345678\n", False, False, False),
    ],
)
def test_each_to_value_accepts_what_it_documents(to, either, e164, digits):
    verdicts = {
        value: ("/to", "pattern")
        not in codes(check_document({**BASE, "to": to}, readings=Readings(to=value)).violations)
        for value in ("either", "e164", "digits")
    }
    assert verdicts == {"either": either, "e164": e164, "digits": digits}


def test_under_to_digits_a_plus_is_refused_saying_so():
    [violation] = check_document(BASE, readings=Readings(to="digits")).violations
    assert violation.message == "to must be written without '+' (to=digits), got \"+33612345678\""


def test_under_to_e164_the_message_is_the_e164_one():
    [violation] = check_document(WITHOUT_PLUS, readings=Readings(to="e164")).violations
    assert violation.message == (
        "to must be in E.164 ('+', country code, 7 to 15 digits, no spaces), got \"33612345678\""
    )


def test_recipient_patterns_are_derived_from_the_schemas_e164_pattern():
    assert RECIPIENT_PATTERNS == {
        "e164": r"^\+[1-9][0-9]{6,14}$",
        "digits": r"^[1-9][0-9]{6,14}$",
        "either": r"^\+?[1-9][0-9]{6,14}$",
    }


# -- unknown fields and the strict_fields alias ------------------------------------------------


@pytest.mark.parametrize(
    ("readings_", "strict_fields", "refused"),
    [
        (Readings(), None, False),
        (Readings(), True, True),
        (Readings(unknown_fields="reject"), None, True),
        (Readings(unknown_fields="reject"), False, False),
    ],
)
def test_strict_fields_is_an_alias_of_unknown_fields_reject(readings_, strict_fields, refused):
    document = {**BASE, "campaign": "spring"}
    result = check_document(document, readings=readings_, strict_fields=strict_fields)
    assert result.valid is not refused
    assert result.readings is not None
    assert result.readings.unknown_fields == ("reject" if refused else "warn")
    body = check_body(json.dumps(document), readings=readings_, strict_fields=strict_fields)
    assert body.valid is not refused


# -- credits -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "concatenated", "simple"),
    [
        ("a" * 160, 1, 1),
        ("a" * 306, 2, 2),
        ("a" * 307, 3, 2),
        ("a" * 320, 3, 2),
        ("a" * 321, 3, 3),
        ("€" * 80, 1, 1),
        ("€" * 155, 3, 2),
        ("ç" * 134, 2, 2),
        ("ç" * 135, 3, 2),
        ("😀" * 68, 3, 2),
    ],
)
def test_the_concatenated_and_simple_counts(text, concatenated, simple):
    analysis = analyze(text)
    assert (analysis.credits, analysis.simple_credits) == (concatenated, simple)
    assert accepted_credits(analysis, "concatenated") == (concatenated,)
    assert accepted_credits(analysis, "simple") == (simple,)
    assert set(accepted_credits(analysis, "either")) == {concatenated, simple}
    assert accepted_credits(analysis, "either")[0] == concatenated


def test_a_gsm_text_counted_as_ucs2_is_ucs2_with_no_offending_character():
    analysis = analyze("a" * 100, ucs2=True)
    assert (analysis.encoding, analysis.units, analysis.credits) == ("UCS-2", 100, 2)
    assert analysis.offending == ()


# -- properties ------------------------------------------------------------------------------


def _lenient_pairs() -> list[tuple[str, str, str]]:
    return [
        (reading.name, value.name, included)
        for reading in READINGS
        for value in reading.values
        for included in value.includes
    ]


@pytest.mark.parametrize(
    ("name", "lenient", "strict"), _lenient_pairs(), ids=lambda part: str(part)
)
@PROPERTY
@given(document=documents(), others=readings)
def test_a_lenient_value_never_refuses_what_the_value_it_includes_accepts(
    name, lenient, strict, document, others
):
    refused_lenient = check_document(
        document, readings=Readings.from_mapping({name: lenient}, others)
    ).violations
    refused_strict = check_document(
        document, readings=Readings.from_mapping({name: strict}, others)
    ).violations
    assert codes(refused_lenient) <= codes(refused_strict)


@PROPERTY
@given(documents())
def test_the_defaults_never_refuse_what_the_strict_readings_accept(document):
    assert codes(check_document(document).violations) <= codes(
        check_document(document, readings=STRICT).violations
    )


@settings(max_examples=200, deadline=None, database=None)
@given(
    text=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=400),
    chosen=readings,
    is_unicode=st.sampled_from([None, True]),
)
def test_a_payload_built_under_readings_passes_them(text, chosen, is_unicode):
    from sms_contract import PayloadBuildError, build_payload

    try:
        built = build_payload("+33612345678", text, "INOCX", readings=chosen, is_unicode=is_unicode)
    except PayloadBuildError as error:
        # Only an isUnicode true that unicode=exact refuses for a GSM-7 text.
        assert error.field == "isUnicode" and chosen.unicode == "exact" and is_unicode
        return
    result = check_document(built.to_json_dict(), readings=chosen)
    assert result.valid, result.violations
    assert {w.code for w in result.warnings} <= {
        "is_unicode_not_needed",
        "credits_reading",
    }
