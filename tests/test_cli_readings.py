"""``--reading`` on the command line: ``readings``, ``validate``, ``count`` and ``send``
take the same readings, from the option or ``SMS_CONTRACT_READINGS``, and refuse a bad one."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner, Result
from helpers.cli import one_error_line
from helpers.readings import ACCENTS_AS_UCS2, SIMPLE_CREDITS, WITHOUT_PLUS

from sms_contract.cli import cli
from sms_contract.cli._common import READINGS_ENV
from sms_contract.core.readings import READINGS

STRICT_FLAGS = [
    "--reading",
    "unicode=exact",
    "--reading",
    "to=e164",
    "--reading",
    "credits=concatenated",
]


def invoke(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Run the CLI in-process, with no readings in the environment unless given."""
    environment = {READINGS_ENV: "", **(env or {})}
    result = CliRunner().invoke(cli, list(args), input=stdin, env=environment)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def validate(document: dict, *args: str, env: dict[str, str] | None = None) -> Result:
    return invoke("validate", *args, "-", stdin=json.dumps(document), env=env)


def usage_error(result: Result) -> str:
    """The one ``error:`` line of a command refused as bad usage (exit 2)."""
    assert result.exit_code == 2, result.output
    return one_error_line(result)


# -- sms-contract readings -------------------------------------------------------------------


def test_readings_lists_every_reading_its_values_default_strict_and_why():
    result = invoke("readings")
    assert result.exit_code == 0
    for reading in READINGS:
        assert f"{reading.name}={reading.default}\n  why: {reading.why}\n" in result.output
        for value in reading.values:
            assert value.meaning in result.output
    assert "exact (strict)" in result.output and "allowed (default)" in result.output


def test_readings_json_holds_the_catalogue_and_the_value_in_force():
    result = invoke("readings", "--json", "--reading", "credits=simple")
    listed = {item["name"]: item for item in json.loads(result.output)["readings"]}
    assert list(listed) == [reading.name for reading in READINGS]
    assert listed["credits"]["inForce"] == "simple"
    assert listed["unicode"] == {
        **READINGS[0].to_dict(),
        "inForce": "allowed",
    }


def test_readings_in_force_come_from_the_environment_then_the_options():
    env = {READINGS_ENV: "credits=simple to=e164"}
    result = invoke("readings", "--json", "--reading", "to=digits", env=env)
    in_force = {item["name"]: item["inForce"] for item in json.loads(result.output)["readings"]}
    assert in_force == {
        "unicode": "allowed",
        "credits": "simple",
        "to": "digits",
        "unknown-fields": "warn",
    }


# -- validate: the three sends of the issue --------------------------------------------------


def test_validate_with_the_defaults_accepts_the_first_two_sends_with_warnings():
    accents = validate(ACCENTS_AS_UCS2)
    assert accents.exit_code == 0
    assert "warning    /isUnicode  is_unicode_not_needed: isUnicode is true: GSM-7 could " in (
        accents.output
    )
    without_plus = validate(WITHOUT_PLUS)
    assert without_plus.exit_code == 0
    assert "warning    /to  to_without_plus: to 33612345678 has no '+'" in without_plus.output


def test_validate_with_the_defaults_refuses_simple_credits():
    result = validate(SIMPLE_CREDITS)
    assert result.exit_code == 1
    assert "violation  /credits  credits_mismatch: credits is 2 but the text needs 3" in (
        result.output
    )


@pytest.mark.parametrize("document", [ACCENTS_AS_UCS2, WITHOUT_PLUS, SIMPLE_CREDITS])
def test_validate_with_the_strict_values_refuses_all_three_sends(document):
    assert validate(document, *STRICT_FLAGS).exit_code == 1


def test_validate_with_credits_either_accepts_simple_credits_with_a_warning():
    result = validate(SIMPLE_CREDITS, "--reading", "credits=either")
    assert result.exit_code == 0
    assert "warning    /credits  credits_reading: credits is 2: the simple reading" in (
        result.output
    )


def test_validate_json_names_the_readings_the_payload_was_judged_under():
    result = validate(WITHOUT_PLUS, "--json", "--reading", "credits=either")
    assert json.loads(result.output)["readings"] == {
        "unicode": "allowed",
        "credits": "either",
        "to": "either",
        "unknown-fields": "warn",
    }


def test_validate_follows_the_readings_of_the_environment():
    assert validate(WITHOUT_PLUS, env={READINGS_ENV: "unicode=exact to=e164"}).exit_code == 1
    options_win = validate(WITHOUT_PLUS, "--reading", "to=either", env={READINGS_ENV: "to=e164"})
    assert options_win.exit_code == 0


def test_validate_strict_fields_is_the_same_as_unknown_fields_reject():
    document = {**WITHOUT_PLUS, "campaign": "spring"}
    assert validate(document).exit_code == 0
    assert validate(document, "--strict-fields").exit_code == 1
    assert validate(document, "--reading", "unknown-fields=reject").exit_code == 1


# -- count and send ------------------------------------------------------------------------


def test_count_counts_credits_as_the_credits_reading_says():
    text = SIMPLE_CREDITS["text"]
    concatenated = json.loads(invoke("count", "--json", text).output)
    simple = json.loads(invoke("count", "--json", "--reading", "credits=simple", text).output)
    either = json.loads(invoke("count", "--json", "--reading", "credits=either", text).output)
    assert (concatenated["credits"], concatenated["acceptedCredits"]) == (3, [3])
    assert (simple["credits"], simple["acceptedCredits"]) == (2, [2])
    assert (either["credits"], either["acceptedCredits"]) == (3, [3, 2])
    assert len(simple["parts"]) == 3  # the text still travels as three parts
    table = invoke("count", "--reading", "credits=simple", text).output
    assert "credits    2 (the simple reading, units / 160 rounded up; sent as 3 " in table


def test_send_builds_the_payload_under_the_readings():
    result = invoke(
        "send", "--dry-run", "--json", "--to", "+33612345678", "--text", "a" * 310,
        "--sender", "INOCX", "--reading", "to=digits", "--reading", "credits=simple",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    dry_run = json.loads(result.output)
    assert (dry_run["payload"]["to"], dry_run["payload"]["credits"]) == ("33612345678", 2)
    assert dry_run["readings"]["to"] == "digits"


def test_send_refuses_a_number_that_cannot_be_written_without_plus_under_to_digits():
    result = invoke(
        "send", "--dry-run", "--to", "+15555555555", "--text", "hi", "--reading", "to=digits"
    )
    assert "cannot be written without '+'" in usage_error(result)


# -- bad readings ----------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["readings", "validate", "count", "send"])
@pytest.mark.parametrize(
    ("reading", "message"),
    [
        ("unicod=exact", "error: --reading: unknown reading 'unicod'; the readings are: "
         "unicode, credits, to, unknown-fields"),
        ("credits=some", "error: --reading: unknown value 'some' for the reading credits; "
         "its values are: concatenated, simple, either"),
    ],
)  # fmt: skip
def test_a_bad_reading_is_one_error_line_and_exit_2_before_anything_runs(command, reading, message):
    arguments = {
        "readings": [],
        "validate": ["-"],
        "count": ["hi"],
        "send": ["--dry-run", "--to", "+33612345678", "--text", "hi"],
    }[command]
    result = invoke(command, "--reading", reading, *arguments, stdin="{}")
    assert usage_error(result) == message
    assert result.stdout == ""


def test_a_bad_reading_in_the_environment_names_the_variable():
    result = invoke("validate", "-", stdin="{}", env={READINGS_ENV: "to=plus"})
    assert usage_error(result) == (
        f"error: {READINGS_ENV}: unknown value 'plus' for the reading to; "
        "its values are: either, e164, digits"
    )
