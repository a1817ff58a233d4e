"""The provider's fast path: the pydantic model and the JSON Schema agree on every payload.

``check_document`` asks the compiled pydantic model first and runs jsonschema
only to explain a refusal, which is sound only while both accept exactly the
same documents.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from sms_contract import build_payload
from sms_contract.core.validation import _model_accepts, check_document, schema_validator
from sms_contract.schema import load_schema

SCHEMA = load_schema()
FIELDS = SCHEMA["properties"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=5,
)

#: Values near each rule's edge, which random data rarely hits.
EDGES: dict[str, list[Any]] = {
    "type": ["NOTIFICATION", "MARKETING", "notification", "", None],
    "sender": ["INOCX", "", None, " ", 0],
    "to": [
        *("+33612345678", "+33612345678\n", "+1234567", "+123456", "+123456789012345"),
        *("+1234567890123456", "+0612345678", "33612345678", "+33 612345678", "\n+3361234567"),
    ],
    "retId": ["a", "", "r" * 128, "r" * 129, 1],
    "isUnicode": [True, False, 0, 1, "true"],
    "text": ["a", "", "é" * 70, "x" * 39_015, "x" * 39_016],
    "credits": [1, 255, 0, 256, 1.0, 2.5, True, "1", 10**30],
}


def field_value(name: str) -> st.SearchStrategy[Any]:
    """A valid value, an edge value or any JSON value for ``name``."""
    return from_schema(FIELDS[name]) | st.sampled_from(EDGES[name]) | json_values


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A valid payload with one to three fields replaced (any value) or removed."""
    document = build_payload(
        "+33612345678",
        draw(st.sampled_from(["Bonjour", "Привет", "a" * 161])),
        sender=draw(st.sampled_from([None, "INOCX"])),
        type=draw(st.sampled_from(["NOTIFICATION", "MARKETING"])),
    ).to_json_dict()
    for name in draw(st.lists(st.sampled_from(list(FIELDS)), min_size=1, max_size=3)):
        if draw(st.integers(0, 5)) == 0:
            document.pop(name, None)
        else:
            document[name] = draw(field_value(name))
    return document


def schema_accepts(document: dict[str, Any]) -> bool:
    return bool(schema_validator().is_valid(document))


@settings(max_examples=600, deadline=None)
@given(documents())
def test_the_model_accepts_exactly_what_the_schema_accepts(document):
    assert _model_accepts(document) == schema_accepts(document)


texts = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=400)


@settings(max_examples=150, deadline=None)
@given(texts, st.sampled_from([None, "", "INOCX"]), st.sampled_from(["NOTIFICATION", "MARKETING"]))
def test_every_payload_the_builder_makes_passes_both(text, sender, kind):
    document = build_payload("+33612345678", text, sender=sender, type=kind).to_json_dict()
    assert schema_accepts(document)
    assert _model_accepts(document)


def test_a_recipient_with_a_final_newline_breaks_the_pattern_both_ways():
    document = {
        "type": "NOTIFICATION",
        "sender": "INOCX",
        "to": "+33612345678\n",
        "retId": "r-1",
        "isUnicode": False,
        "text": "hi",
        "credits": 1,
    }
    assert not schema_accepts(document)
    assert not _model_accepts(document)
    assert [(v.pointer, v.code) for v in check_document(document).violations] == [
        ("/to", "pattern")
    ]
