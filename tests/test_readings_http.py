"""The readings over HTTP against ``sms-contract serve``: the issue's three sends,
under the defaults, under the strict values and under ``credits=either``; and
the readings in force shown by the banner, ``/healthz``, each message and the
served OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.raw_http import serve_process
from helpers.readings import ACCENTS_AS_UCS2, WITHOUT_PLUS
from helpers.readings import SIMPLE_CREDITS as SIMPLE

from sms_contract.core.readings import Readings

UNICODE_FOR_ACCENTS = ACCENTS_AS_UCS2
DIGITS_ONLY = {**WITHOUT_PLUS, "retId": "r2"}
SIMPLE_CREDITS = {**SIMPLE, "retId": "r3"}


@pytest.fixture(scope="module", params=["defaults", "strict", "credits-either"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Any]:
    options = {
        "defaults": (),
        "strict": (
            "--reading",
            "unicode=exact",
            "--reading",
            "to=e164",
            "--reading",
            "credits=concatenated",
        ),
        "credits-either": ("--reading", "credits=either"),
    }[request.param]
    state = tmp_path_factory.mktemp(f"readings-{request.param}")
    with serve_process(state, *options) as base_url:
        yield request.param, base_url, state


def post(base_url: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{base_url}/sms", json=body, timeout=10)


def codes(found: list[dict[str, str]]) -> list[str]:
    return [item["code"] for item in found]


def test_the_three_sends_of_the_issue_get_the_verdicts_of_the_readings_in_force(served):
    mode, base_url, _state = served
    accents, digits, simple = (
        post(base_url, body) for body in (UNICODE_FOR_ACCENTS, DIGITS_ONLY, SIMPLE_CREDITS)
    )
    if mode == "strict":
        assert [r.status_code for r in (accents, digits, simple)] == [422, 422, 422]
        assert "is_unicode_mismatch" in codes(accents.json()["violations"])
        return
    assert accents.status_code == digits.status_code == 200
    assert "is_unicode_not_needed" in codes(accents.json()["warnings"])
    assert "to_without_plus" in codes(digits.json()["warnings"])
    if mode == "defaults":
        assert simple.status_code == 422
        assert "credits_mismatch" in codes(simple.json()["violations"])
    else:
        assert simple.status_code == 200
        assert "credits_reading" in codes(simple.json()["warnings"])


def test_the_readings_in_force_are_shown_by_healthz_each_message_and_the_openapi(served):
    mode, base_url, _state = served
    expected = {
        "defaults": Readings(),
        "strict": Readings(unicode="exact", to="e164"),
        "credits-either": Readings(credits="either"),
    }[mode].to_dict()
    assert requests.get(f"{base_url}/healthz", timeout=10).json()["readings"] == expected
    sent = post(base_url, {**DIGITS_ONLY, "retId": f"shown-{mode}", "to": "+33612345678"})
    message = requests.get(f"{base_url}/api/messages/{sent.json()['id']}", timeout=10).json()
    assert message["readings"] == expected
    page = requests.get(f"{base_url}/messages/{sent.json()['id']}", timeout=10).text
    assert " ".join(f"{name}={value}" for name, value in expected.items()) in page
    document = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    assert document["components"]["schemas"]["SmsSend"]["x-readings"] == expected


def test_the_banner_names_the_readings_in_force(served):
    mode, _base_url, state = served
    banner = state.with_name(state.name + ".log").read_text(encoding="utf-8")
    (line,) = [line for line in banner.splitlines() if line.strip().startswith("readings")]
    assert ("(the defaults)" in line) == (mode == "defaults")
    assert ("credits=either" in line) == (mode == "credits-either")
    assert ("unicode=exact" in line) == (mode == "strict")


def test_an_unknown_reading_stops_serve_at_start_with_the_valid_ones(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from sms_contract.cli import cli

    result = CliRunner().invoke(
        cli, ["serve", "--http", "--state-dir", str(tmp_path), "--reading", "unicode=maybe"]
    )
    assert result.exit_code == 2
    assert "unicode" in result.output and "allowed" in result.output and "exact" in result.output
