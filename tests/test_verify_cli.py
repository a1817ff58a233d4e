"""``sms-contract verify`` from the command line: exit codes, safety, reports, secrets."""

from __future__ import annotations

import base64
import json
import socket
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from helpers.reports import read_report, statuses
from helpers.verify_cli import ENV, LOGIN, PASSWORD, TO, run_verify
from verify_servers import provider_fixture, tls_files_fixture  # noqa: F401 - fixtures

from sms_contract.contract_tests.catalogue import CATALOGUE
from sms_contract.schema import load_schema

SECRET_FORMS = (PASSWORD, base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode())


def live(served: Any, *args: str) -> list[str]:
    """The arguments for a live run against a test provider."""
    base = [served.url, "--to", TO, "--login", LOGIN, "--password-env", "VERIFY_PW"]
    if served.ca:
        base += ["--cacert", served.ca]
    return [*base, "--timeout", "5", *args]


def test_exit_code_is_0_when_no_must_check_fails(provider, tmp_path):
    served = provider()
    result = run_verify(*live(served, "--json", str(tmp_path / "r.json")), env=ENV)
    assert result.exit_code == 0, result.output
    report = read_report(tmp_path / "r.json")
    verdict = report["verdict"]
    assert (verdict["outcome"], verdict["exitCode"], verdict["unreachable"]) == ("pass", 0, None)
    assert verdict["text"].startswith("PASS: every MUST check passed")
    assert sum(counts["fail"] for counts in report["summary"].values()) == 0
    assert "PASS: every MUST check passed" in result.stdout


def test_exit_code_is_1_when_a_must_check_fails_and_the_failure_is_explained(provider):
    served = provider("no-auth")
    result = run_verify(*live(served), env=ENV)
    assert result.exit_code == 1
    assert "FAIL: 2 MUST check(s) failed" in result.stdout
    assert "auth.required" in result.stdout
    assert "anyone can send SMS" in result.stdout
    assert "docs/verify.md#authrequired" in result.stdout


def test_exit_code_is_0_when_only_should_checks_fail(provider):
    served = provider("strict-fields")
    result = run_verify(*live(served), env=ENV)
    assert result.exit_code == 0
    assert "1 SHOULD advice" in result.stdout


def test_exit_code_is_3_when_the_endpoint_is_unreachable_and_reports_are_still_written(tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    result = run_verify(
        f"https://127.0.0.1:{port}/sms",
        "--to",
        TO,
        "--json",
        str(json_path),
        "--junit",
        str(junit_path),
    )
    assert result.exit_code == 3
    assert "UNREACHABLE" in result.stdout
    assert read_report(json_path)["verdict"]["exitCode"] == 3
    assert ET.parse(junit_path).getroot().find("testsuite") is not None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "--to NUMBER is required"),
        (["--to", "0612345678"], "E.164"),
        (["--to", "+33 6 12 34 56 78"], "E.164"),
        (["--to", "+1234"], "E.164"),
        (["--to", TO, "--long-to", "+33612345678"], "exactly 15 digits"),
        (["--to", TO, "--only", "nosuch"], "names no check"),
        (["--to", TO, "--skip", "payload.nosuch"], "names no check"),
        (["--to", TO, "--login", "bad login"], "--login"),
        (["--to", TO, "--login", "inocx", "--password-env", "UNSET_VAR"], "is not set"),
        (["--to", TO, "--password-env", "VERIFY_PW"], "needs --login"),
        (["--to", TO, "--max-sends", "-1"], "max-sends"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args, message):
    result = run_verify("https://sms.example/send", *args, env={"UNSET_VAR": None})  # type: ignore[dict-item]
    assert result.exit_code == 2
    assert message in result.output


@pytest.mark.parametrize(
    "url", ["ftp://sms.example/send", "sms.example/send", "https://user:pw@sms.example/send"]
)
def test_a_url_that_is_not_http_or_holds_credentials_is_a_usage_error(url):
    result = run_verify(url, "--to", TO)
    assert result.exit_code == 2
    assert "pw@" not in result.output


def test_dry_run_lists_the_planned_requests_and_sends_nothing(provider):
    served = provider()
    result = run_verify(*live(served, "--dry-run"), env=ENV)
    assert result.exit_code == 0
    assert served.recorded.requests == []
    assert "DRY RUN: 20 send(s) planned, nothing sent" in result.stdout
    assert 'type="MARKETING" sender=null' in result.stdout


def test_max_sends_is_respected_and_the_rest_is_skipped_for_budget(provider, tmp_path):
    served = provider()
    json_path = tmp_path / "r.json"
    result = run_verify(*live(served, "--max-sends", "4", "--json", str(json_path)), env=ENV)
    assert result.exit_code == 0
    assert served.recorded.posts <= 4
    report = read_report(json_path)
    assert report["run"]["sends"] == served.recorded.posts
    budget = [c for c in report["checks"] if c["summary"].startswith("send budget")]
    assert budget and {c["status"] for c in budget} == {"skip"}


def test_junit_and_json_reports_are_well_formed_one_testcase_per_check(provider, tmp_path):
    served = provider("no-auth")
    json_path, junit_path = tmp_path / "r.json", tmp_path / "r.xml"
    args = live(served, "--json", str(json_path), "--junit", str(junit_path))
    result = run_verify(*args, env=ENV)
    assert result.exit_code == 1
    report = read_report(json_path)
    assert [c["id"] for c in report["checks"]] == [spec.id for spec in CATALOGUE]
    suite = ET.parse(junit_path).getroot().find("testsuite")
    assert suite is not None
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert list(cases) == [spec.id for spec in CATALOGUE]
    assert suite.get("tests") == str(len(CATALOGUE))
    assert suite.get("failures") == "3"
    must = cases["auth.required"].find("failure")
    should = cases["connection.test"].find("failure")
    assert must is not None and must.get("type") == "MUST"
    assert should is not None and should.get("type") == "SHOULD"
    assert cases["fuzz.no-5xx"].find("skipped") is not None
    levels = {
        name: case.find("properties/property[@name='level']").get("value")  # type: ignore[union-attr]
        for name, case in cases.items()
    }
    assert levels == {spec.id: spec.level.value for spec in CATALOGUE}


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRET_FORMS:
            assert secret not in text
            assert secret.rstrip("=") not in text


def test_the_password_never_appears_in_output_or_any_report_even_when_echoed(provider, tmp_path):
    served = provider("echo-secrets+strict-fields")
    paths = {kind: tmp_path / f"report.{kind}" for kind in ("json", "junit", "html", "markdown")}
    options = [item for kind, path in paths.items() for item in (f"--{kind}", str(path))]
    result = run_verify(*live(served, *options), env=ENV)
    assert result.exit_code == 0
    assert "echo" in result.stdout  # the echoing answer is shown, redacted
    files = {kind: path.read_text(encoding="utf-8") for kind, path in paths.items()}
    for kind in ("json", "junit", "html"):  # the formats that carry the evidence
        assert "echo" in files[kind] and "***" in files[kind], kind
    _assert_no_secret(result.stdout, result.stderr, *files.values())


def test_the_password_is_prompted_for_without_echo_when_no_env_var_is_given(provider):
    served = provider()
    args = [served.url, "--to", TO, "--login", LOGIN, "--cacert", str(served.ca)]
    result = run_verify(*args, "--only", "auth", input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert f"Password for {LOGIN}" in result.stderr
    _assert_no_secret(result.stdout, result.stderr)


def test_only_and_skip_select_checks_by_id_or_prefix(provider, tmp_path):
    served = provider()
    json_path = tmp_path / "r.json"
    args = ("--only", "payload", "--skip", "payload.e164-15-digits", "--json", str(json_path))
    result = run_verify(*live(served, *args), env=ENV)
    assert result.exit_code == 0
    ids = [c["id"] for c in read_report(json_path)["checks"]]
    expected = [s.id for s in CATALOGUE if s.id.startswith("payload.")]
    assert ids == [i for i in expected if i != "payload.e164-15-digits"]


def test_help_shows_examples_the_reports_and_the_exit_codes():
    result = run_verify("--help")
    assert result.exit_code == 0
    assert "Examples:" in result.stdout
    assert "--dry-run" in result.stdout
    assert "3 the endpoint is unreachable" in result.stdout
    assert "--html verify.html --json verify.json --markdown" in result.stdout
    assert "--allow-http" in result.stdout
    assert "an integrity check, not a signature" in " ".join(result.stdout.split())


def test_list_checks_prints_every_check_id():
    result = run_verify("--list-checks")
    assert result.exit_code == 0
    for spec in CATALOGUE:
        assert spec.id in result.stdout


def test_without_a_url_the_built_in_fake_provider_is_checked_and_passes():
    result = run_verify("--skip", "tls.legacy-refused")
    assert result.exit_code == 0, result.output
    assert "PASS: every MUST check passed; 0 SHOULD advice" in result.stdout


def test_fuzz_fails_with_a_clear_message_when_the_openapi_is_not_shipped(monkeypatch):
    def missing() -> dict[str, Any]:
        raise FileNotFoundError("provider.openapi.yaml")

    monkeypatch.setattr("sms_contract.schema.load_openapi", missing)
    result = run_verify("https://sms.example/send", "--to", TO, "--fuzz", "5")
    assert result.exit_code == 2
    assert "--fuzz needs the provider OpenAPI (provider.openapi.yaml)" in result.stderr


def _openapi() -> dict[str, Any]:
    """A minimal provider OpenAPI: POST the payload schema, answers 2XX/4XX/5XX."""
    payload = load_schema()
    for key in ("$schema", "$id"):
        payload.pop(key)
    answers = {code: {"description": code} for code in ("2XX", "4XX", "5XX")}
    operation = {
        "requestBody": {"required": True, "content": {"application/json": {"schema": payload}}},
        "responses": answers,
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "provider", "version": "1"},
        "paths": {"/sms": {"post": operation}},
    }


def _fuzz(provider_url: str, ca: str | None, tmp_path: Path, *args: str) -> tuple[Result, dict]:
    json_path = tmp_path / "r.json"
    result = run_verify(
        provider_url,
        "--to",
        TO,
        "--login",
        LOGIN,
        "--password-env",
        "VERIFY_PW",
        "--cacert",
        str(ca),
        "--only",
        "fuzz",
        "--fuzz-seed",
        "7",
        "--json",
        str(json_path),
        *args,
        env=ENV,
    )
    return result, read_report(json_path)


def test_fuzz_finds_a_5xx_within_the_send_budget(provider, monkeypatch, tmp_path):
    monkeypatch.setattr("sms_contract.contract_tests.fuzz.load_provider_openapi", _openapi)
    served = provider("unicode-500")
    result, report = _fuzz(served.url, served.ca, tmp_path, "--fuzz", "30", "--max-sends", "25")
    assert served.recorded.posts <= 25
    assert statuses(report)["fuzz.no-5xx"] == "fail", result.output
    assert result.exit_code == 1
    assert "500 server error" in json.dumps(report)


def test_fuzz_against_a_conforming_provider_finds_nothing(provider, monkeypatch, tmp_path):
    monkeypatch.setattr("sms_contract.contract_tests.fuzz.load_provider_openapi", _openapi)
    served = provider()
    result, report = _fuzz(served.url, served.ca, tmp_path, "--fuzz", "25")
    assert statuses(report) == {"fuzz.no-5xx": "pass", "fuzz.conformance": "pass"}, result.output
    assert result.exit_code == 0
    assert 0 < served.recorded.posts <= 25
