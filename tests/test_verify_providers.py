"""``verify`` against the fake provider (passes) and providers with one defect each (caught
by the right checks, and only by them)."""

from __future__ import annotations

import socket
import ssl
from typing import Any

import pytest
from helpers.reports import check_report
from verify_servers import (  # noqa: F401 - fixtures
    DEFECTS,
    LOGIN,
    PASSWORD,
    SLOW_DELAY,
    SLOW_THRESHOLD,
    provider_fixture,
    tls_files_fixture,
)

from sms_contract.contract_tests.catalogue import Level
from sms_contract.contract_tests.checks import Status
from sms_contract.contract_tests.evidence import Redactor
from sms_contract.contract_tests.reports import build
from sms_contract.contract_tests.runner import Options, Report, Runner

TO, LONG_TO = "+33612345678", "+882123456789012"


def verify(url: str, cacert: str | None = None, **overrides: Any) -> Report:
    """Run every check against ``url`` with the test credentials and numbers; its report
    model must follow the report schema."""
    settings: dict[str, Any] = {
        "long_to": LONG_TO,
        "login": LOGIN,
        "password": PASSWORD,
        "cacert": cacert,
        "timeout": 5.0,
        **overrides,
    }
    report = Runner(Options(url, TO, **settings)).run()
    check_report(build(report, Redactor(LOGIN, (PASSWORD,))))
    return report


def statuses(report: Report) -> dict[str, str]:
    return {result.spec.id: result.status.value for result in report.results}


def test_the_fake_provider_under_credits_either_passes_every_must_and_should_check(
    make_sms_provider,
):
    fake = make_sms_provider(
        auth="strict", credentials=((LOGIN, PASSWORD),), readings="credits=either"
    )
    report = verify(fake.url, fake.ca_bundle)
    ran = {
        result.spec.id: result.status
        for result in report.results
        if result.spec.level in (Level.MUST, Level.SHOULD) and not result.spec.id.startswith("fuzz")
    }
    assert set(ran.values()) == {Status.PASS}, statuses(report)
    assert report.exit_code == 0
    assert report.sends == 21
    assert {m["retId"] for m in fake.accepted()} >= {f"sms-contract-verify-{report.run_id}-retry"}


def test_the_fake_provider_under_its_defaults_gets_the_simple_credits_advice_only(
    make_sms_provider,
):
    fake = make_sms_provider(auth="strict", credentials=((LOGIN, PASSWORD),))
    report = verify(fake.url, fake.ca_bundle)
    failed = {r.spec.id for r in report.results if r.status is Status.FAIL}
    assert failed == {"payload.credits-simple"} and report.exit_code == 0


def test_a_correct_test_provider_passes_every_check(provider):
    served = provider()
    report = verify(served.url, served.ca)
    assert report.failed_ids == set(), statuses(report)
    assert statuses(report)["idempotency.retry"] == "pass"


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_each_defect_is_caught_by_its_checks_and_only_by_them(provider, defect):
    served = provider(defect)
    latency = SLOW_THRESHOLD if defect == "slow" else 5.0
    report = verify(served.url, served.ca, latency=latency)
    assert report.failed_ids == DEFECTS[defect], statuses(report)
    must = any(r.must_failed for r in report.results)
    assert report.exit_code == (1 if must else 0)


def test_the_slow_provider_is_slower_than_the_threshold_used():
    assert SLOW_DELAY > SLOW_THRESHOLD * 1.5


def test_a_self_signed_certificate_fails_tls_certificate_and_stops_the_http_checks(provider):
    served = provider(tls="self-signed")
    report = verify(served.url)
    assert report.failed_ids == {"tls.certificate"}
    assert report.exit_code == 1
    assert served.recorded.requests == []
    http_checks = [r for r in report.results if r.spec.requires == ("http",)]
    assert http_checks
    assert all("--insecure" in r.verdict.summary for r in http_checks)


def test_insecure_goes_on_past_a_bad_certificate_and_still_fails_tls_certificate(provider):
    served = provider(tls="self-signed")
    report = verify(served.url, insecure=True)
    assert report.failed_ids == {"tls.certificate"}
    assert report.exit_code == 1
    assert statuses(report)["payload.notification"] == "pass"


def test_plain_http_to_loopback_with_allow_http_fails_tls_https_only_and_checks_the_rest(
    provider,
):
    served = provider(tls="none")
    report = verify(served.url, allow_http=True)
    assert report.failed_ids == {"tls.https"}
    assert report.exit_code == 1
    assert statuses(report)["tls.certificate"] == "skip"
    assert statuses(report)["payload.notification"] == "pass"


def _client_offers_tls_1_0() -> bool:
    try:
        from sms_contract.contract_tests.tls import _legacy_context

        _legacy_context(ssl.TLSVersion.TLSv1)
    except (ValueError, ssl.SSLError):
        return False
    return True


@pytest.mark.skipif(not _client_offers_tls_1_0(), reason="this OpenSSL cannot offer TLS 1.0")
def test_a_provider_accepting_tls_1_0_fails_tls_legacy_refused_only(provider):
    served = provider(tls="legacy")
    report = verify(served.url, served.ca)
    assert report.failed_ids == {"tls.legacy-refused"}
    assert report.exit_code == 0
    legacy = next(r for r in report.results if r.spec.id == "tls.legacy-refused")
    assert legacy.verdict.facts["TLS 1.0"].startswith("accepted")


def test_a_retry_whose_answer_says_nothing_is_info_not_a_failure(provider, monkeypatch):
    served = provider("new-id-on-retry")
    from sms_contract.contract_tests import checks

    monkeypatch.setattr(checks, "_ID_KEYS", ())
    report = verify(served.url, served.ca, only=("idempotency",))
    assert statuses(report) == {"idempotency.retry": "info"}


def test_a_closed_port_is_unreachable_and_every_check_skipped():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    report = verify(f"https://127.0.0.1:{port}/sms")
    assert report.exit_code == 3
    assert "refused" in (report.unreachable or "")
    assert {r.status for r in report.results} == {Status.SKIP}


def test_a_server_that_never_finishes_the_handshake_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        report = verify(f"https://127.0.0.1:{sock.getsockname()[1]}/sms", timeout=0.3)
    assert report.exit_code == 3
    assert "handshake" in (report.unreachable or "")


def test_without_login_the_auth_checks_are_skipped_not_failed(provider):
    served = provider("no-auth")
    report = verify(served.url, served.ca, login=None, password=None)
    assert report.failed_ids == set()
    assert {statuses(report)[i] for i in statuses(report) if i.startswith("auth.")} == {"skip"}


def test_the_budget_skips_the_checks_that_do_not_fit_and_is_never_exceeded(provider):
    served = provider()
    report = verify(served.url, served.ca, max_sends=5)
    assert served.recorded.posts == report.sends <= 5
    budget = [r for r in report.results if r.verdict.summary.startswith("send budget")]
    assert budget and all(r.status == Status.SKIP for r in budget)
    assert report.exit_code == 0


def test_a_name_that_does_not_resolve_is_unreachable(monkeypatch):
    def no_dns(*args: Any, **kwargs: Any) -> socket.socket:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr("sms_contract.contract_tests.tls.socket.create_connection", no_dns)
    report = verify("https://sms.invalid/send")
    assert report.exit_code == 3
    assert report.unreachable == "cannot resolve sms.invalid: Name or service not known"
