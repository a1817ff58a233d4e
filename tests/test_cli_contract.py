"""``sms-contract count``, ``schema`` and ``validate``: output, exit codes, bad input."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from helpers.payloads import VALID_PAYLOAD as VALID

from sms_contract import schema as documents
from sms_contract.cli import cli
from sms_contract.core.readings import Readings

EXECUTABLE = Path(sys.executable).with_name("sms-contract")


def run(*args: str | bytes, stdin: bytes = b"") -> subprocess.CompletedProcess[str]:
    """Run the installed console script, as a user would; its output must be UTF-8."""
    argv = [os.fsencode(EXECUTABLE), *(os.fsencode(a) if isinstance(a, str) else a for a in args)]
    environment = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    process = subprocess.run(
        argv, input=stdin, capture_output=True, timeout=60, env=environment, check=False
    )
    return subprocess.CompletedProcess(
        process.args,
        process.returncode,
        process.stdout.decode("utf-8"),
        process.stderr.decode("utf-8"),
    )


def invoke(*args: str, stdin: bytes | None = None):
    """Run the click command in-process (fast; stdin as bytes)."""
    return CliRunner().invoke(cli, list(args), input=stdin)


def count_json(text: str) -> dict:
    result = invoke("count", "--json", text)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def assert_clean_failure(process: subprocess.CompletedProcess[str], code: int = 2) -> str:
    """A one-line ``error:`` message on stderr, the exit code, no traceback."""
    assert process.returncode == code, (process.stdout, process.stderr)
    assert "Traceback" not in process.stdout + process.stderr
    lines = process.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), process.stderr
    return lines[0]


# -- count -------------------------------------------------------------------------------------


def test_count_prints_encoding_length_credits_and_offending_characters():
    process = run("count", "Votre RDV est confirmé ç")
    assert process.returncode == 0
    assert process.stdout.splitlines() == [
        "encoding   UCS-2 (isUnicode: true)",
        "length     24 characters, 24 UTF-16 units",
        "credits    1",
        "offending  'ç' U+00E7 at 23",
    ]


def test_count_of_a_plain_gsm_text_says_nothing_offends():
    result = invoke("count", "Votre RDV est confirmé")
    assert result.output.splitlines()[0] == "encoding   GSM-7 (isUnicode: false)"
    assert "offending  none" in result.output


def test_count_lists_each_part_of_a_concatenated_sms():
    lines = invoke("count", "a" * 161).output.splitlines()
    assert "credits    2 (concatenated parts of up to 153 septets)" in lines
    assert "  part 1   characters 0-152" in lines
    assert "  part 2   characters 153-160" in lines


def test_count_json_has_the_payload_keys():
    process = run("count", "--json", "Prix: 10€")
    analysis = json.loads(process.stdout)
    assert {"isUnicode", "encoding", "units", "credits"} <= set(analysis)
    assert (
        analysis["isUnicode"],
        analysis["encoding"],
        analysis["units"],
        analysis["credits"],
    ) == (
        False,
        "GSM-7",
        10,
        1,
    )


def test_count_dash_reads_standard_input_and_drops_one_final_newline():
    process = run("count", "--json", "-", stdin="Où est le café ?\n".encode())
    analysis = json.loads(process.stdout)
    assert (analysis["length"], analysis["encoding"]) == (16, "GSM-7")


def test_count_dash_keeps_inner_newlines():
    assert count_json("a\nb")["units"] == 3
    result = invoke("count", "--json", "-", stdin=b"a\nb\n\n")
    assert json.loads(result.output)["length"] == 4


@pytest.mark.parametrize(
    ("text", "encoding", "units", "credits"),
    [
        ("a" * 160, "GSM-7", 160, 1),
        ("a" * 161, "GSM-7", 161, 2),
        ("a" * 306, "GSM-7", 306, 2),
        ("a" * 307, "GSM-7", 307, 3),
        ("ç" * 70, "UCS-2", 70, 1),
        ("ç" * 71, "UCS-2", 71, 2),
        ("😀" * 35, "UCS-2", 70, 1),
        ("😀" * 36, "UCS-2", 72, 2),
    ],
)
def test_count_boundaries(text, encoding, units, credits):
    analysis = count_json(text)
    assert (analysis["encoding"], analysis["units"], analysis["credits"]) == (
        encoding,
        units,
        credits,
    )


def test_count_moves_an_extension_character_at_the_part_boundary_to_the_next_part():
    analysis = count_json("a" * 152 + "€" + "a" * 10)
    assert analysis["credits"] == 2
    assert [(p["start"], p["end"]) for p in analysis["parts"]] == [(0, 152), (152, 163)]
    assert analysis["parts"][1]["text"].startswith("€")


def test_count_moves_an_emoji_across_the_67_unit_boundary_whole():
    analysis = count_json("a" * 66 + "😀" + "b" * 10)
    assert (analysis["units"], analysis["credits"]) == (78, 2)
    assert [p["text"] for p in analysis["parts"]] == ["a" * 66, "😀" + "b" * 10]


def test_count_reports_every_offending_character_with_its_code_point():
    offending = count_json("L’été ç 😀")["offending"]
    assert [(o["index"], o["codepoint"]) for o in offending] == [
        (1, "U+2019"),
        (6, "U+00E7"),
        (8, "U+1F600"),
    ]


# -- count: bad input --------------------------------------------------------------------------


def test_count_of_an_empty_text_fails_cleanly():
    assert "empty" in assert_clean_failure(run("count", ""))


def test_count_of_empty_standard_input_fails_cleanly():
    assert "empty" in assert_clean_failure(run("count", "-", stdin=b""))


def test_count_of_invalid_utf8_on_standard_input_fails_cleanly():
    message = assert_clean_failure(run("count", "-", stdin=b"caf\xe9"))
    assert "not valid UTF-8 (byte 3: 0xe9)" in message


def test_count_of_an_argument_with_undecodable_bytes_fails_cleanly():
    message = assert_clean_failure(run("count", b"caf\xe9 ok"))
    assert "position 3" in message


def test_count_without_a_text_is_a_usage_error():
    process = run("count")
    assert process.returncode == 2
    assert "Missing argument" in process.stderr and "Traceback" not in process.stderr


# -- schema ------------------------------------------------------------------------------------


def test_schema_prints_the_json_schema():
    process = run("schema")
    assert process.returncode == 0
    assert json.loads(process.stdout) == documents.load_schema()


def test_schema_openapi_prints_the_provider_openapi():
    result = invoke("schema", "--openapi")
    assert yaml.safe_load(result.output)["paths"]["/sms"]["post"]["operationId"] == "sendSms"


def test_schema_spec_prints_the_partner_specification():
    result = invoke("schema", "--spec")
    assert result.output == documents.read_text(documents.SPEC_FILE)
    assert "## Readings" in result.output


@pytest.mark.parametrize(
    ("options", "name"),
    [
        ([], documents.SCHEMA_FILE),
        (["--openapi"], documents.OPENAPI_FILE),
        (["--spec"], documents.SPEC_FILE),
    ],
)
def test_schema_path_prints_where_the_shipped_file_is(options, name):
    result = invoke("schema", *options, "--path")
    path = Path(result.output.strip())
    assert path.name == name and path.is_file()


# -- validate ----------------------------------------------------------------------------------


def test_validate_exits_0_for_a_valid_payload(tmp_path):
    source = tmp_path / "payload.json"
    source.write_text(json.dumps(VALID))
    process = run("validate", str(source))
    assert (process.returncode, process.stdout) == (0, "valid (0 warning(s))\n")


def test_validate_exits_1_and_lists_every_violation():
    document = {**VALID, "to": "0612", "credits": 2, "retId": ""}
    del document["sender"]
    process = run("validate", "-", stdin=json.dumps(document).encode())
    assert process.returncode == 1
    assert process.stdout.splitlines() == [
        "violation  /retId  min_length: retId must have at least 1 character(s)",
        "violation  /to  pattern: to must be in E.164 ('+', country code, 7 to 15 digits, "
        "no spaces), or the same digits without '+' forming a valid international number, "
        'got "0612"',
        "violation  /type  type_rule: type must be MARKETING when sender is absent, null or empty",
        "violation  /credits  credits_mismatch: credits is 2 but the text needs 1 "
        "(5 septets fit one SMS of 160)",
        "invalid: 4 violation(s)",
    ]


def test_validate_json_lists_violations_and_warnings():
    document = {**VALID, "isUnicode": True, "extra": 1}
    stdin = json.dumps(document).encode()
    result = invoke("validate", "--json", "--reading", "unicode=exact", "-", stdin=stdin)
    assert result.exit_code == 1
    verdict = json.loads(result.output)
    assert verdict["valid"] is False
    assert [(v["pointer"], v["code"]) for v in verdict["violations"]] == [
        ("/isUnicode", "is_unicode_mismatch")
    ]
    assert [(w["pointer"], w["code"]) for w in verdict["warnings"]] == [("/extra", "unknown_field")]


def test_validate_unknown_field_is_a_warning_unless_strict_fields():
    body = json.dumps({**VALID, "extra": 1}).encode()
    tolerant = invoke("validate", "-", stdin=body)
    assert tolerant.exit_code == 0
    assert "warning    /extra  unknown_field" in tolerant.output
    strict = invoke("validate", "--strict-fields", "-", stdin=body)
    assert strict.exit_code == 1
    assert "violation  /extra  unknown_field" in strict.output


@pytest.mark.parametrize("stem", sorted(documents.examples("valid")))
def test_validate_accepts_every_shipped_valid_example(stem):
    path = documents.path("examples") / "valid" / f"{stem}.json"
    assert invoke("validate", str(path)).exit_code == 0


@pytest.mark.parametrize("stem", sorted(set(documents.examples("invalid")) - {"not-an-object"}))
def test_validate_refuses_every_shipped_invalid_example_under_the_strict_readings(stem):
    path = documents.path("examples") / "invalid" / f"{stem}.json"
    strict = [f"--reading={item}" for item in str(Readings.strict()).split()]
    assert invoke("validate", *strict, str(path)).exit_code == 1


# -- validate: bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\xff\xfe{}", "invalid_utf8"),
        (b"", "empty_body"),
        (b"  \n", "empty_body"),
        (b"{", "invalid_json"),
        (b"[1, 2]", "not_an_object"),
        (b"42", "not_an_object"),
        (b'"text"', "not_an_object"),
        (b'{"text": "\\ud800"}', "lone_surrogate at /text"),
        (b'{"a": 1, "a": 2}', "duplicate_key at /a"),
        (b'{"credits": NaN}', "non_finite_number"),
        (b"[" * 100 + b"]" * 100, "too_deep"),
    ],
)
def test_validate_of_a_file_that_is_not_a_json_object_fails_cleanly(tmp_path, content, code):
    source = tmp_path / "body.json"
    source.write_bytes(content)
    message = assert_clean_failure(run("validate", str(source)))
    assert f"cannot be read as a payload ({code}" in message
    assert str(source) in message


def test_validate_of_invalid_utf8_on_standard_input_fails_cleanly():
    message = assert_clean_failure(run("validate", "-", stdin=b'{"text": "caf\xe9"}'))
    assert message.startswith("error: standard input cannot be read as a payload (invalid_utf8)")


def test_validate_json_still_prints_a_verdict_for_unreadable_input():
    result = invoke("validate", "--json", "-", stdin=b"[]")
    assert result.exit_code == 2
    verdict = json.loads(result.stdout)
    assert verdict["violations"] == [
        {
            "pointer": "",
            "code": "not_an_object",
            "message": "the body is a JSON array; a JSON object is expected",
        }
    ]


def test_validate_of_a_missing_file_fails_cleanly(tmp_path):
    message = assert_clean_failure(run("validate", str(tmp_path / "missing.json")))
    assert "no such file" in message


def test_validate_of_a_directory_fails_cleanly(tmp_path):
    assert "is a directory" in assert_clean_failure(run("validate", str(tmp_path)))


def test_validate_of_a_file_name_with_undecodable_bytes_fails_cleanly(tmp_path):
    assert_clean_failure(run("validate", os.fsencode(tmp_path) + b"/caf\xe9.json"))


def test_console_script_is_the_installed_entry_point():
    assert EXECUTABLE.is_file()
    process = run("--help")
    assert process.returncode == 0
    assert {"count", "schema", "validate"} <= set(process.stdout.split())
