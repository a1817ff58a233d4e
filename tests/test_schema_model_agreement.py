"""The JSON Schema and the pydantic model accept and reject exactly the same documents."""

import copy

import pytest
from helpers.payloads import VALID_PAYLOAD as BASE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.internal.conjecture import utils as conjecture_utils
from hypothesis_jsonschema import _from_schema, from_schema
from jsonschema import Draft202012Validator
from pydantic import ValidationError

from sms_contract.core.model import SmsPayload
from sms_contract.core.validation import ecma_regex, schema_validator
from sms_contract.schema import load_schema


class _LegacyMany:
    """``many`` with the ``more()`` loop hypothesis-jsonschema 0.23 drives it with.

    Hypothesis 6.1xx turned ``many`` into a context manager iterated with
    ``for``; this adapter runs that protocol behind the old method.
    """

    _END = object()

    def __init__(self, data, min_size, max_size, average_size):
        self._many = conjecture_utils.many(
            data, min_size=min_size, max_size=max_size, average_size=average_size
        )
        self._many.__enter__()
        self._elements = iter(self._many)

    def more(self) -> bool:
        if next(self._elements, self._END) is self._END:
            self._many.__exit__(None, None, None)
            return False
        return True

    def reject(self, why=None) -> None:
        self._many.reject(why)


class _ConjectureUtils:
    many = _LegacyMany

    def __getattr__(self, name):
        return getattr(conjecture_utils, name)


if not hasattr(conjecture_utils.many, "more"):
    _from_schema.cu = _ConjectureUtils()

SCHEMA = load_schema()
FIELDS = list(SCHEMA["properties"])
#: hypothesis-jsonschema knows drafts 4 to 7; the payload schema uses nothing newer.
GENERATOR_SCHEMA = {key: value for key, value in SCHEMA.items() if key not in ("$schema", "$id")}

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def schema_accepts(document: object) -> bool:
    return schema_validator().is_valid(document)


def model_accepts(document: object) -> bool:
    try:
        SmsPayload.model_validate(document)
    except ValidationError:
        return False
    return True


def assert_same_verdict(document: object) -> None:
    schema, model = schema_accepts(document), model_accepts(document)
    assert schema == model, f"schema accepts: {schema}, model accepts: {model}, for {document!r}"


# -- strategies -------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, 2, 254, 255, 256, -1, 0.0, -0.0, 1.0, 2.0, 255.0, 256.0, 1.5, 1e300]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["", "1", "true", "false", "NOTIFICATION", "MARKETING", "null"]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=5,
)

boundary_values = {
    "type": st.sampled_from(["NOTIFICATION", "MARKETING", "notification", "Marketing", "", "SMS"]),
    "sender": st.sampled_from([None, "", "I", "INOCX", "x" * 11, "x" * 12, " ", "0"]),
    "to": st.sampled_from(
        [
            "+" + "1" * 6,
            "+" + "1" * 7,
            "+" + "1" * 15,
            "+" + "1" * 16,
            "+0612345678",
            "0612345678",
            "+33612345678\n",
            "\n+33612345678",
            " +33612345678",
            "+33 612345678",
            "+３３６１２３４５６７８",
            "+٣٣٦١٢٣٤٥٦٧٨",
            "33612345678",
        ]
    ),
    "retId": st.sampled_from(["", "r", "r" * 128, "r" * 129, " ", "é" * 128, "😀" * 128]),
    "text": st.sampled_from(["", "a", "😀", "a" * 39015, "a" * 39016, "😀" * 39015, "\n"]),
    "credits": st.sampled_from([0, 1, 255, 256, 1.0, 255.0, 255.5, True, False, "1", None]),
    "isUnicode": st.sampled_from([True, False, 0, 1, "true", None, 0.0]),
}

unknown_names = st.one_of(
    st.sampled_from(["ret_id", "is_unicode", "Type", "TO", "extra", "", "retid"]),
    st.text(max_size=8).filter(lambda name: name not in FIELDS),
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> dict:
    document = copy.deepcopy(draw(st.sampled_from([BASE, {**BASE, "type": "MARKETING"}])))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        mutation = draw(
            st.sampled_from(["drop", "retype", "boundary", "unknown", "rename", "sender"])
        )
        name = draw(st.sampled_from(FIELDS))
        if mutation == "drop":
            document.pop(name, None)
        elif mutation == "rename" and name in document:
            document[draw(unknown_names)] = document.pop(name)
        elif mutation == "retype":
            document[name] = draw(json_values)
        elif mutation == "boundary":
            document[name] = draw(boundary_values[name])
        elif mutation == "unknown":
            document[draw(unknown_names)] = draw(json_values)
        else:
            sender = draw(st.sampled_from(["absent", None, "", "INOCX"]))
            document.pop("sender", None)
            if sender != "absent":
                document["sender"] = sender
            document["type"] = draw(st.sampled_from(["NOTIFICATION", "MARKETING"]))
    return document


# -- properties ----------------------------------------------------------------------------


@SETTINGS
@given(from_schema(GENERATOR_SCHEMA))
def test_documents_generated_from_the_schema_are_accepted_by_schema_and_model(document):
    # hypothesis-jsonschema reads '$' the Python way, so it may end `to` with a
    # newline, which JSON Schema's '$' (and the model) refuse.
    assert_same_verdict(document)
    assert model_accepts(document) is not document["to"].endswith("\n")


@SETTINGS
@given(mutated_documents())
def test_mutated_documents_get_the_same_verdict_from_schema_and_model(document):
    assert_same_verdict(document)


@SETTINGS
@given(json_values)
def test_any_json_value_gets_the_same_verdict_from_schema_and_model(value):
    assert_same_verdict(value)


@SETTINGS
@given(mutated_documents())
def test_stock_jsonschema_differs_from_the_contract_only_on_a_final_newline(document):
    # Python's re reads '$' as "end, or before a final newline"; JSON Schema's
    # ECMA-262 '$' is the end only. schema_validator() applies the latter.
    stock = Draft202012Validator(SCHEMA).is_valid(document)
    if stock != schema_accepts(document):
        assert stock and document["to"].endswith("\n")


# -- the tricky cases, spelled out ------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "accepted"),
    [
        ({"credits": 2.0}, True),
        ({"credits": 1.5}, False),
        ({"credits": True}, False),
        ({"credits": "1"}, False),
        ({"isUnicode": 0}, False),
        ({"isUnicode": "false"}, False),
        ({"sender": None, "type": "MARKETING"}, True),
        ({"sender": "", "type": "NOTIFICATION"}, False),
        ({"sender": None, "type": "NOTIFICATION"}, False),
        ({"to": "+33612345678\n"}, False),
        ({"to": "+" + "1" * 15}, True),
        ({"to": "+" + "1" * 16}, False),
        ({"retId": "r" * 128}, True),
        ({"retId": "r" * 129}, False),
        ({"text": "😀" * 39015}, True),
        ({"text": "a" * 39016}, False),
        ({"ret_id": "r-1"}, False),
        ({"is_unicode": False}, False),
    ],
)
def test_schema_and_model_agree_on_tricky_case(change, accepted):
    document = {**BASE, **change}
    assert (schema_accepts(document), model_accepts(document)) == (accepted, accepted)


def test_model_refuses_python_field_names_in_place_of_wire_names():
    document = {name: value for name, value in BASE.items() if name != "retId"}
    document["ret_id"] = "r-1"
    assert not model_accepts(document)
    assert not schema_accepts(document)


def test_sender_absent_means_marketing_in_both():
    document = {name: value for name, value in BASE.items() if name != "sender"}
    assert not schema_accepts(document) and not model_accepts(document)
    document["type"] = "MARKETING"
    assert schema_accepts(document) and model_accepts(document)


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        (r"^\+[1-9][0-9]{6,14}$", "+33612345678", True),
        (r"^\+[1-9][0-9]{6,14}$", "+33612345678\n", False),
        (r"^a[$]$", "a$", True),
        (r"^a\$$", "a$", True),
        (r"^a\$$", "a$\n", False),
    ],
)
def test_pattern_dollar_means_end_of_string_as_in_ecma_262(pattern, text, matches):
    assert (ecma_regex(pattern).search(text) is not None) is matches
