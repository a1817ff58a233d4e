"""The payload model and builder: strict types, computed fields, the type rule, E.164,
building under readings."""

import re

import pytest
from helpers.payloads import VALID_PAYLOAD as VALID
from pydantic import ValidationError

from sms_contract import PayloadBuildError, SmsPayload, build_payload
from sms_contract.core.model import (
    normalize_number,
    required_type,
    sender_is_set,
)
from sms_contract.core.readings import Readings
from sms_contract.core.validation import check_document


def payload(**change):
    return SmsPayload.model_validate({**VALID, **change})


# -- strict types ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"credits": "1"},
        {"credits": True},
        {"credits": 1.5},
        {"isUnicode": 1},
        {"isUnicode": "true"},
        {"isUnicode": None},
        {"retId": 1},
        {"to": 33612345678},
        {"text": ["Hello"]},
        {"sender": 1},
        {"type": "notification"},
    ],
)
def test_model_never_coerces_a_value_of_the_wrong_json_type(change):
    with pytest.raises(ValidationError):
        payload(**change)


def test_model_reads_an_integral_float_as_an_integer_like_json_schema():
    assert payload(credits=2.0, text="a" * 161).credits == 2
    assert type(payload(credits=1.0).credits) is int


def test_model_refuses_unknown_fields():
    with pytest.raises(ValidationError):
        payload(extra="x")


def test_model_is_frozen():
    with pytest.raises(ValidationError):
        payload().text = "changed"  # type: ignore[misc]


def test_to_json_dict_uses_wire_names_and_leaves_out_an_unset_sender():
    document = {name: value for name, value in VALID.items() if name != "sender"}
    document["type"] = "MARKETING"
    assert SmsPayload.model_validate(document).to_json_dict() == document
    assert payload().to_json_dict() == VALID


# -- the type rule --------------------------------------------------------------------------


@pytest.mark.parametrize("sender", [None, ""])
def test_sender_not_set_means_not_set(sender):
    assert not sender_is_set(sender)
    assert required_type(sender, "NOTIFICATION") == "MARKETING"


def test_a_set_sender_keeps_the_requested_type():
    assert sender_is_set("INOCX")
    assert required_type("INOCX", "NOTIFICATION") == "NOTIFICATION"
    assert required_type("INOCX", "MARKETING") == "MARKETING"


@pytest.mark.parametrize("sender", ["absent", None, ""])
def test_model_refuses_notification_without_sender(sender):
    document = {name: value for name, value in VALID.items() if name != "sender"}
    if sender != "absent":
        document["sender"] = sender
    with pytest.raises(ValidationError, match="MARKETING"):
        SmsPayload.model_validate(document)
    assert SmsPayload.model_validate({**document, "type": "MARKETING"}).type == "MARKETING"


@pytest.mark.parametrize("sender", [None, ""])
def test_build_payload_switches_to_marketing_without_sender(sender):
    built = build_payload("+33612345678", "Hello", sender=sender, type="NOTIFICATION")
    assert built.type == "MARKETING"
    assert ("sender" in built.to_json_dict()) is (sender is not None)


def test_build_payload_without_sender_argument_is_marketing():
    built = build_payload("+33612345678", "Hello")
    assert built.type == "MARKETING"
    assert "sender" not in built.to_json_dict()


def test_build_payload_with_sender_keeps_the_requested_type():
    assert build_payload("+33612345678", "Hi", sender="INOCX").type == "NOTIFICATION"
    assert build_payload("+33612345678", "Hi", "INOCX", "MARKETING").type == "MARKETING"


# -- computed fields ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "is_unicode", "credits"),
    [
        ("Votre RDV est confirmé", False, 1),
        ("a" * 160, False, 1),
        ("a" * 161, False, 2),
        ("€" * 80, False, 1),
        ("€" * 81, False, 2),
        ("Votre reçu", True, 1),
        ("ç" * 71, True, 2),
        ("😀" * 35, True, 1),
        ("😀" * 36, True, 2),
    ],
)
def test_build_payload_computes_is_unicode_and_credits_from_the_text(text, is_unicode, credits):
    built = build_payload("+33612345678", text, sender="INOCX")
    assert (built.is_unicode, built.credits) == (is_unicode, credits)
    assert built.mismatches() == []
    assert check_document(built.to_json_dict()).valid


def test_build_payload_accepts_the_longest_text_and_the_most_parts():
    assert build_payload("+33612345678", "a" * 39015).credits == 255
    assert build_payload("+33612345678", "ç" * (67 * 255)).credits == 255


# -- E.164 ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("number", "region", "expected"),
    [
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("06.12.34.56.78", "FR", "+33612345678"),
        ("+33 6 12 34 56 78", None, "+33612345678"),
        ("0033612345678", "FR", "+33612345678"),
        ("(415) 555-0123", "US", "+14155550123"),
        ("+44 20 7946 0958", "FR", "+442079460958"),
    ],
)
def test_numbers_are_normalised_to_e164(number, region, expected):
    assert normalize_number(number, region) == expected
    assert build_payload(number, "Hi", default_region=region).to == expected


@pytest.mark.parametrize("number", ["06 12 34 56 78", "+33 12", "not a number", "", "+999 1234567"])
def test_a_number_that_cannot_be_e164_is_a_build_error_on_to(number):
    with pytest.raises(PayloadBuildError) as error:
        build_payload(number, "Hi")
    assert error.value.field == "to"


# -- retId ----------------------------------------------------------------------------------


def test_each_built_payload_gets_a_new_ret_id():
    ret_ids = {build_payload("+33612345678", "Hi").ret_id for _ in range(500)}
    assert len(ret_ids) == 500


def test_a_given_ret_id_is_kept_unchanged():
    assert build_payload("+33612345678", "Hi", ret_id="order-42/sms-1").ret_id == "order-42/sms-1"


@pytest.mark.parametrize("ret_id", ["", "r" * 129])
def test_a_ret_id_out_of_bounds_is_a_build_error_on_ret_id(ret_id):
    with pytest.raises(PayloadBuildError) as error:
        build_payload("+33612345678", "Hi", ret_id=ret_id)
    assert error.value.field == "retId"


# -- build errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("a" * 39016, "more than 39015"),
        ("ç" * (67 * 255 + 1), "256 SMS parts, more than 255"),
        ("😀" * (33 * 255 + 1), "256 SMS parts, more than 255"),
        ("ok \ud800", "lone surrogate"),
    ],
)
def test_a_text_that_cannot_be_sent_is_a_build_error_on_text(text, message):
    with pytest.raises(PayloadBuildError, match=message) as error:
        build_payload("+33612345678", text)
    assert error.value.field == "text"


def test_an_unknown_type_is_a_build_error_on_type():
    with pytest.raises(PayloadBuildError) as error:
        build_payload("+33612345678", "Hi", sender="INOCX", type="PROMO")
    assert error.value.field == "type"


def test_build_error_is_a_value_error_with_field_and_message():
    error = PayloadBuildError("to", "bad")
    assert isinstance(error, ValueError)
    assert (str(error), error.field, error.message) == ("to: bad", "to", "bad")


# -- mismatches -----------------------------------------------------------------------------


def test_mismatches_is_empty_for_a_consistent_payload():
    assert payload().mismatches() == []


def test_mismatches_reports_is_unicode_and_credits_that_disagree_with_the_text():
    inconsistent = payload(text="Votre reçu 😀" + "a" * 70, isUnicode=False, credits=1)
    assert [(m.field, m.declared, m.computed, m.code) for m in inconsistent.mismatches()] == [
        ("isUnicode", False, True, "is_unicode_mismatch"),
        ("credits", 1, 2, "credits_mismatch"),
    ]
    assert inconsistent.mismatches()[1].message == (
        "credits is 1 but the text needs 2 (83 UTF-16 units make 2 parts of up to 67)"
    )


def test_mismatches_reports_an_extension_character_counted_as_one_septet():
    [mismatch] = payload(text="a" * 159 + "€", credits=1).mismatches()
    assert (mismatch.field, mismatch.declared, mismatch.computed) == ("credits", 1, 2)
    assert "161 septets make 2 parts of up to 153" in mismatch.message


# -- building under readings ----------------------------------------------------------------


def test_build_payload_writes_to_without_plus_under_to_digits_only():
    assert build_payload("+33612345678", "Hi").to_json_dict()["to"] == "+33612345678"
    digits = build_payload(
        "06 12 34 56 78", "Hi", default_region="FR", readings=Readings(to="digits")
    )
    assert digits.to_json_dict()["to"] == "33612345678"


def test_build_payload_counts_credits_as_the_credits_reading_says():
    text = "a" * 310
    assert build_payload("+33612345678", text).credits == 3
    assert build_payload("+33612345678", text, readings=Readings(credits="simple")).credits == 2
    assert build_payload("+33612345678", text, readings=Readings(credits="either")).credits == 3


def test_build_payload_declares_ucs2_on_request_and_counts_credits_as_ucs2():
    built = build_payload("+33612345678", "a" * 100, is_unicode=True)
    assert (built.is_unicode, built.credits) == (True, 2)
    assert [m.code for m in built.mismatches()] == ["is_unicode_not_needed"]
    assert [m.code for m in built.mismatches(Readings(unicode="exact"))] == ["is_unicode_mismatch"]


@pytest.mark.parametrize(
    ("text", "is_unicode", "readings", "message"),
    [
        ("Votre reçu", False, Readings(), "GSM-7 cannot carry the text ('ç' U+00E7)"),
        ("Bonjour", True, Readings(unicode="exact"), "unicode=exact refuses isUnicode true"),
    ],
)
def test_build_payload_refuses_an_is_unicode_the_readings_refuse(
    text, is_unicode, readings, message
):
    with pytest.raises(PayloadBuildError, match=re.escape(message)) as error:
        build_payload("+33612345678", text, is_unicode=is_unicode, readings=readings)
    assert error.value.field == "isUnicode"
