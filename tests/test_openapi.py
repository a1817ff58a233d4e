"""The provider OpenAPI: a valid 3.1 document that tools load, matching the readings."""

import re

import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator

from sms_contract import schema as documents
from sms_contract.core.validation import check_document

PROBLEM_STATUSES = ["400", "409", "413", "415", "422"]
RETRYABLE_STATUSES = ["408", "429", "5XX"]


@pytest.fixture(scope="module")
def raw():
    return yaml.safe_load(documents.read_text(documents.OPENAPI_FILE))


@pytest.fixture(scope="module")
def openapi():
    return documents.load_openapi()


@pytest.fixture(scope="module")
def operations(openapi):
    return openapi["paths"]["/sms"]


def _resolve(openapi, node):
    while "$ref" in node:
        target = openapi
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def test_openapi_is_a_valid_openapi_3_1_document(openapi):
    assert openapi["openapi"].startswith("3.1")
    OpenAPIV31SpecValidator(openapi).validate()


def test_openapi_version_is_the_schema_version(openapi):
    assert openapi["info"]["version"] == documents.schema_version() == "1.0.0"


def test_request_body_refers_to_the_schema_file_by_exact_ref(raw):
    body = raw["paths"]["/sms"]["post"]["requestBody"]
    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {"$ref": documents.SCHEMA_FILE}


def test_load_openapi_inlines_the_payload_schema(operations):
    schema = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
    expected = documents.load_schema()
    del expected["$schema"], expected["$id"]
    assert schema == expected


def test_schemathesis_loads_post_get_and_head_on_the_provider_path(openapi):
    loaded = schemathesis.openapi.from_dict(openapi)
    found = {(op.ok().method.upper(), op.ok().path) for op in loaded.get_all_operations()}
    assert found == {("POST", "/sms"), ("GET", "/sms"), ("HEAD", "/sms")}


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(data=schemathesis.openapi.from_dict(documents.load_openapi())["/sms"]["POST"].as_strategy())
def test_schemathesis_generates_bodies_the_json_schema_accepts(data):
    Draft202012Validator(documents.load_schema()).validate(data.body)


def test_http_basic_security_is_optional(openapi):
    assert openapi["security"] == [{"basicAuth": []}, {}]
    scheme = openapi["components"]["securitySchemes"]["basicAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "basic")


def test_path_documents_that_the_real_url_is_the_configured_one(operations):
    assert "administrator" in operations["description"]
    assert "https://" in operations["description"]


@pytest.mark.parametrize("method", ["get", "head"])
def test_test_connection_answers_2xx_or_401_403(operations, method):
    assert set(operations[method]["responses"]) == {"2XX", "401", "403"}
    assert operations[method]["x-contract-reading"] == 3
    assert "requestBody" not in operations[method]


def test_post_documents_every_answer_the_readings_expect(operations):
    assert set(operations["post"]["responses"]) == {
        "2XX", "400", "401", "403", "408", "409", "413", "415", "422", "429", "5XX",
    }  # fmt: skip


def test_accepted_answer_suggests_a_body_but_allows_any(openapi, operations):
    accepted = _resolve(openapi, operations["post"]["responses"]["2XX"])
    assert accepted["content"]["application/json"]["schema"] == {}
    assert accepted["content"]["*/*"]["schema"] == {}
    example = accepted["content"]["application/json"]["examples"]["accepted"]["value"]
    assert set(example) == {"id", "retId", "status", "credits"}
    assert example["status"] == "accepted"


@pytest.mark.parametrize("status", PROBLEM_STATUSES)
def test_rejections_are_problem_json_with_violations(openapi, operations, status):
    response = _resolve(openapi, operations["post"]["responses"][status])
    problem = _resolve(openapi, response["content"]["application/problem+json"]["schema"])
    violation = _resolve(openapi, problem["properties"]["violations"]["items"])
    assert {"type", "title", "status", "detail", "instance"} <= set(problem["properties"])
    assert violation["required"] == ["pointer", "code", "message"]


def test_problem_example_matches_the_problem_schema(openapi):
    problem = openapi["components"]["schemas"]["Problem"]
    validator = Draft202012Validator({**problem, "components": openapi["components"]})
    for example in problem["examples"]:
        validator.validate(example)


def test_unauthorized_carries_a_basic_challenge(openapi, operations):
    for method in ("post", "get", "head"):
        response = _resolve(openapi, operations[method]["responses"]["401"])
        header = _resolve(openapi, response["headers"]["WWW-Authenticate"])
        assert header["required"] is True
        assert re.match(header["schema"]["pattern"], 'Basic realm="sms", charset="UTF-8"')


@pytest.mark.parametrize("status", RETRYABLE_STATUSES)
def test_retryable_answers_carry_retry_after(openapi, operations, status):
    response = _resolve(openapi, operations["post"]["responses"][status])
    header = _resolve(openapi, response["headers"]["Retry-After"])
    validator = Draft202012Validator(header["schema"])
    assert validator.is_valid("120")
    assert validator.is_valid("Wed, 21 Oct 2026 07:28:00 GMT")


def test_request_examples_are_valid_payloads(operations):
    examples = operations["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert examples
    for example in examples.values():
        assert check_document(example["value"]).valid, example["summary"]
