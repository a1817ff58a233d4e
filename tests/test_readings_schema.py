"""The JSON Schema under readings: the shipped one stays strict and says which rules are
readings; ``payload_schema`` never accepts less than ``check_document`` under the same readings."""

from __future__ import annotations

import pytest
from helpers.readings import BASE, documents, readings
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator

from sms_contract.core.readings import READING_NOTE, READINGS, Readings, payload_schema
from sms_contract.core.validation import SchemaValidator, check_document, schema_validator
from sms_contract.schema import load_schema

PROPERTY = settings(
    max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow]
)


def _described(schema: dict, path: tuple[str, ...]) -> str:
    node = schema
    for key in path:
        node = node[key]
    return node["description"]


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_the_shipped_schema_says_which_rule_is_a_reading_and_its_values(reading):
    description = _described(load_schema(), reading.schema_path)
    note = description.split(READING_NOTE, 1)[1]
    assert note.startswith(f"`{reading.name}`")
    assert f"`{reading.strict}`" in note and f"`{reading.default}`" in note


def test_the_shipped_schema_is_the_strict_one():
    shipped = load_schema()
    assert shipped["additionalProperties"] is False
    assert shipped["properties"]["to"]["pattern"] == r"^\+[1-9][0-9]{6,14}$"


@pytest.mark.parametrize("chosen", [Readings(), Readings.strict(), Readings(to="digits")], ids=str)
def test_payload_schema_is_a_valid_schema_whose_examples_it_accepts(chosen):
    schema = payload_schema(chosen)
    Draft202012Validator.check_schema(schema)
    validator = SchemaValidator(schema)
    assert all(validator.is_valid(example) for example in schema["examples"])
    for example in schema["properties"]["to"]["examples"]:
        assert validator.is_valid({**BASE, "to": example})
    assert "$id" not in schema
    assert schema["x-readings"] == chosen.to_dict()


@pytest.mark.parametrize("reading", READINGS, ids=lambda r: r.name)
def test_payload_schema_describes_the_value_in_force(reading):
    for value in reading.values:
        chosen = Readings.from_mapping({reading.name: value.name})
        description = _described(payload_schema(chosen), reading.schema_path)
        note = description.split(READING_NOTE, 1)[1]
        assert note.startswith(f"`{reading.name}={value.name}` is in force: {value.meaning}.")


def test_payload_schema_allows_unknown_fields_only_under_warn():
    assert payload_schema(Readings())["additionalProperties"] is True
    assert payload_schema(Readings(unknown_fields="reject"))["additionalProperties"] is False


@PROPERTY
@given(document=documents(), chosen=readings)
def test_a_document_payload_schema_refuses_is_refused_by_check_document(document, chosen):
    if not SchemaValidator(payload_schema(chosen)).is_valid(document):
        assert not check_document(document, readings=chosen).valid


@PROPERTY
@given(documents())
def test_payload_schema_under_the_strict_readings_judges_as_the_shipped_schema(document):
    strict = SchemaValidator(payload_schema(Readings.strict()))
    assert strict.is_valid(document) == schema_validator().is_valid(document)
