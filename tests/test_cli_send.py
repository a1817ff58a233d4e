"""``sms-contract send`` and ``test-connection``: outputs, exit codes, clean failures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.cli import one_error_line
from helpers.raw_http import free_port
from helpers.scripted_server import Reply

from sms_contract.cli import cli
from sms_contract.core.credentials import parse_basic

PASSWORD = "pw-Ünïcode"
NUMBER = ["--to", "+33612345678"]


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI; an exception other than a clean exit fails the test."""
    result = CliRunner().invoke(cli, list(args), input=input, env=env)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


# -- dry run ----------------------------------------------------------------------


def test_dry_run_prints_the_exact_json_and_the_credits_and_sends_nothing(scripted_server):
    server = scripted_server()
    result = run(
        "send", "--dry-run", "--url", server.url, "--to", "06 12 34 56 78", "--region", "FR",
        "--text", "Prix: 10€ 😀", "--sender", "INOCX", "--ret-id", "r-1",
    )  # fmt: skip
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == (
        '{"type":"NOTIFICATION","sender":"INOCX","to":"+33612345678","retId":"r-1",'
        '"isUnicode":true,"text":"Prix: 10€ 😀","credits":1}'
    )
    assert "encoding   UCS-2 (isUnicode: true)" in result.stdout
    assert "credits    1" in result.stdout
    assert "'😀' U+1F600" in result.stdout
    assert "nothing was sent" in result.stdout
    assert server.requests == []


def test_dry_run_json_holds_payload_body_and_analysis():
    result = run("send", "--dry-run", "--json", *NUMBER, "--text", "a" * 161, "--sender", "X")
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["payload"]["credits"] == 2 == document["analysis"]["credits"]
    assert json.loads(document["body"]) == document["payload"]


def test_dry_run_without_sender_notes_the_switch_to_marketing():
    result = run("send", "--dry-run", *NUMBER, "--text", "hi", "--type", "notification")
    assert result.exit_code == 0
    assert json.loads(result.stdout.splitlines()[0])["type"] == "MARKETING"
    assert "type is MARKETING" in result.stderr


def test_dry_run_never_prompts_for_a_password():
    result = run("send", "--dry-run", *NUMBER, "--text", "hi", "--login", "inocx")
    assert result.exit_code == 0
    assert "Password" not in result.output


# -- sending ----------------------------------------------------------------------


def test_send_accepted_exits_0_with_the_provider_id(scripted_server, ca_bundle):
    server = scripted_server(Reply(503), Reply(201, json={"id": "m-7"}))
    result = run(
        "send", "--url", server.url, "--cacert", str(ca_bundle), *NUMBER, "--text", "Bonjour",
        "--sender", "INOCX", "--login", "inocx", "--password-env", "SMS_PW",
        env={"SMS_PW": PASSWORD},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "accepted: HTTP 201, 2 attempt(s)" in result.stdout
    assert "provider id m-7" in result.stdout
    assert "retry: attempt 1" in result.stderr
    assert parse_basic(server.requests[1].headers["Authorization"]) == ("inocx", PASSWORD)
    assert PASSWORD not in result.output


def test_send_asks_for_the_password_at_a_hidden_prompt(scripted_server, ca_bundle):
    server = scripted_server()
    result = run(
        "send", "--url", server.url, "--cacert", str(ca_bundle), *NUMBER, "--text", "hi",
        "--login", "inocx", input=PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Password for inocx" in result.stderr
    assert PASSWORD not in result.output
    assert parse_basic(server.requests[0].headers["Authorization"]) == ("inocx", PASSWORD)


def test_send_json_reports_the_result(scripted_server, ca_bundle):
    server = scripted_server(Reply(200, json={"id": "m-1", "duplicate": True}))
    result = run(
        "send", "--json", "--url", server.url, "--cacert", str(ca_bundle), *NUMBER,
        "--text", "hi", "--ret-id", "r-9",
    )  # fmt: skip
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["outcome"] == "accepted"
    assert (document["messageId"], document["duplicate"], document["retId"]) == ("m-1", True, "r-9")


def test_send_plain_http_to_loopback_with_allow_http(scripted_server):
    server = scripted_server(tls=False)
    result = run("send", "--url", server.url, "--allow-http", *NUMBER, "--text", "hi")
    assert result.exit_code == 0
    assert len(server.requests) == 1


def test_send_rejected_exits_1_with_the_violations(scripted_server, ca_bundle):
    problem = {"detail": "invalid", "violations": [{"pointer": "/to", "code": "pattern"}]}
    server = scripted_server(Reply(422, json=problem))
    args = ["send", "--url", server.url, "--cacert", str(ca_bundle), *NUMBER, "--text", "hi"]
    result = run(*args)
    assert result.exit_code == 1
    assert "rejected the SMS with HTTP 422: invalid" in one_error_line(result)
    server.play([Reply(422, json=problem)])
    document = json.loads(run(*args, "--json").stdout)
    assert document["outcome"] == "rejected"
    assert document["violations"] == [{"pointer": "/to", "code": "pattern", "message": ""}]


def test_send_still_failing_after_the_last_attempt_exits_3(scripted_server, ca_bundle):
    server = scripted_server(default=Reply(503, headers={"Retry-After": "0"}))
    args = ["send", "--url", server.url, "--cacert", str(ca_bundle), *NUMBER, "--text", "hi"]
    result = run(*args, "--max-attempts", "2")
    assert result.exit_code == 3
    assert "after 2 attempt(s)" in result.stderr.splitlines()[-1]
    assert len(server.requests) == 2
    document = json.loads(run(*args, "--max-attempts", "1", "--json").stdout)
    assert (document["outcome"], document["status"], document["attempts"]) == (
        "unavailable",
        503,
        1,
    )


# -- bad input: one line on stderr, the documented exit code ----------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--url", "http://sms.example.com/"], 2, "must start with https://"),
        (["--url", "http://127.0.0.1:9/"], 2, "--allow-http"),
        (["--url", "not a url"], 2, "spaces"),
        (["--url", "https://sms.example.com/", "--login", "bad login"], 2, "letters, digits"),
        (["--url", "https://sms.example.com/", "--cacert", "/nonexistent/ca.pem"], 2, "CA file"),
        (["--url", "https://sms.example.com/", "--password-env", "PW"], 2, "needs --login"),
        (["--url", "https://sms.example.com/", "--login", "x", "--password-env", "NOPE_X"], 2,
         "NOPE_X (--password-env) is not set"),
        ([], 2, "--url is required"),
        (["--url", f"https://127.0.0.1:{free_port()}/", "--max-attempts", "1"], 3,
         "refused the connection"),
        (["--url", "https://no-such-host.invalid/", "--max-attempts", "1"], 3,
         "cannot be resolved"),
    ],
)  # fmt: skip
def test_send_bad_configuration_fails_cleanly(args, code, message):
    result = run("send", *NUMBER, "--text", "hi", *args, env={"NOPE_X": None})
    assert result.exit_code == code
    assert message in one_error_line(result)


@pytest.mark.parametrize(
    ("to", "text", "message"),
    [
        ("+33612345678", "", "the text is empty"),
        ("+33612345678", "a" * 40_000, "more than 39015"),
        ("+33612345678", "\ud800", "invalid character"),
        ("0612345678", "hi", "cannot read '0612345678' as a phone number"),
        ("+3361", "hi", "not a possible phone number"),
        ("hello", "hi", "cannot read"),
    ],
)
def test_send_bad_number_or_text_fails_cleanly_with_exit_2(to, text, message):
    result = run("send", "--dry-run", "--to", to, "--text", text)
    assert result.exit_code == 2
    assert message in one_error_line(result)


def test_send_self_signed_certificate_without_cacert_exits_3(scripted_server):
    server = scripted_server()
    result = run("send", "--url", server.url, *NUMBER, "--text", "hi")
    assert result.exit_code == 3
    assert "--cacert" in one_error_line(result)
    assert server.requests == []


def test_send_closed_prompt_fails_cleanly(scripted_server, ca_bundle):
    server = scripted_server()
    result = run("send", "--url", server.url, *NUMBER, "--text", "hi", "--login", "x", input="")
    assert result.exit_code == 2
    assert "no password given" in result.stderr


@pytest.mark.parametrize(
    "args", [["--type", "PROMO"], ["--timeout", "0"], ["--max-attempts", "0"], ["--bogus"]]
)
def test_send_bad_options_are_usage_errors(args):
    result = run("send", "--dry-run", *NUMBER, "--text", "hi", *args)
    assert result.exit_code == 2


# -- test-connection --------------------------------------------------------------


def test_connection_ok_exits_0(scripted_server, ca_bundle):
    server = scripted_server()
    result = run(
        "test-connection", "--url", server.url, "--cacert", str(ca_bundle), "--login", "inocx",
        "--password-env", "SMS_PW", env={"SMS_PW": PASSWORD},
    )  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout.startswith("ok: The provider accepted the login 'inocx'")


def test_connection_bad_credentials_exits_1(scripted_server, ca_bundle):
    server = scripted_server(Reply(401))
    result = run(
        "test-connection", "--url", server.url, "--cacert", str(ca_bundle), "--login", "inocx",
        input="wrong\n",
    )  # fmt: skip
    assert result.exit_code == 1
    assert "refused the login 'inocx'" in result.stderr
    assert "wrong" not in result.output


def test_connection_unexpected_status_exits_1(scripted_server, ca_bundle):
    server = scripted_server(Reply(404))
    result = run("test-connection", "--url", server.url, "--cacert", str(ca_bundle))
    assert result.exit_code == 1
    assert "404" in one_error_line(result)


def test_connection_unreachable_exits_3():
    result = run("test-connection", "--url", f"https://127.0.0.1:{free_port()}/")
    assert result.exit_code == 3
    assert "Cannot reach the provider" in one_error_line(result)


def test_connection_tls_problem_exits_3_and_json_says_so(scripted_server):
    server = scripted_server()
    result = run("test-connection", "--url", server.url)
    assert result.exit_code == 3
    assert "not trusted" in one_error_line(result)
    result = run("test-connection", "--url", server.url, "--json")
    assert result.exit_code == 3
    assert json.loads(result.stdout)["outcome"] == "tls_problem"


def test_connection_http_url_is_a_usage_error():
    result = run("test-connection", "--url", "http://sms.example.com/")
    assert result.exit_code == 2
    assert "https://" in one_error_line(result)


# -- the installed entry point ----------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["send", "--url", "http://sms.example.com/", *NUMBER, "--text", "hi"], 2),
        (["test-connection", "--url", f"https://127.0.0.1:{free_port()}/"], 3),
    ],
)
def test_entry_point_fails_with_one_line_and_no_traceback(args, code):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMS_")}
    completed = subprocess.run(
        [str(Path(sys.executable).with_name("sms-contract")), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert completed.returncode == code
    assert "Traceback" not in completed.stderr
    assert len(completed.stderr.strip().splitlines()) == 1


def test_help_documents_the_exit_codes():
    for command in ("send", "test-connection"):
        text = run(command, "--help").stdout
        assert "Exit codes:" in text
        assert "3  unreachable" in text
