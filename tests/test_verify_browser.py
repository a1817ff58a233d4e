"""The verify page in a real headless Chromium (Debian's): a run's checks arrive live, a
defect shows with its fix, a loopback target is refused on a public server, the
downloaded report has the page's verdict, and bad input gets the CLI's message."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers.verify_cli import LOGIN, PASSWORD
from ui_screenshots import (
    chromium_path,
    fill_verify_form,
    take_verify,
    verify_target,
)
from verify_servers import Served, provider_fixture, tls_files_fixture  # noqa: F401 - fixtures

from sms_contract.contract_tests.catalogue import BY_ID
from sms_contract.mock_provider.testing import LiveProvider

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        chromium_path() is None, reason="no chromium installed (make browser installs it)"
    ),
]

#: The longest wait for a whole run, in milliseconds.
RUN_MS = 90_000


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(accept_downloads=True)
    tab = context.new_page()
    tab.set_default_timeout(RUN_MS)
    errors: list[str] = []

    def console(message: Any) -> None:
        # A refused run is a 4xx the page shows: the browser logs it, it is no script error.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            errors.append(message.text)

    tab.on("console", console)
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    assert errors == [], errors
    context.close()


def test_a_run_against_the_built_in_fake_provider_shows_each_check_arrive_then_pass(
    page: Any, page_server: Callable[..., LiveProvider], tmp_path: Path
) -> None:
    target = verify_target(tmp_path / "target")
    try:
        partner = target.view("partner")
        partner.add_fault(delay=0.2)  # a pace at which each line can be seen arriving
        page.goto(page_server().base_url + "/verify")
        fill_verify_form(page, partner.url, target.ca_bundle)
        page.click("#verify-button")
        page.wait_for_url(re.compile(r"/verify/runs/[\w-]+$"))
        lines = page.locator("#check-lines li")
        # Lines arrive while the run is on: some shown, no verdict yet.
        lines.nth(2).wait_for()
        assert page.locator("#verdict").count() == 0
        assert page.locator("#run-status").inner_text() == "running"
        page.wait_for_selector("#verdict")
        assert page.get_attribute("#verdict", "data-outcome") == "pass"
        assert page.inner_text("#verdict").startswith("PASS: every MUST check passed")
        total = int(page.inner_text("#run-progress"))
        assert lines.count() == total == 30
        assert page.locator("#check-lines li[data-status=fail]").count() == 0
    finally:
        target.stop()


def test_a_run_against_a_one_defect_provider_shows_the_failing_check_with_its_fix(
    page: Any, page_server: Callable[..., LiveProvider], provider: Callable[..., Served]
) -> None:
    target = provider("sender-required")
    page.goto(page_server().base_url + "/verify")
    fill_verify_form(page, target.url, target.ca, login=LOGIN, password=PASSWORD)
    page.click("#verify-button")
    page.wait_for_selector("#verdict")
    assert page.get_attribute("#verdict", "data-outcome") == "fail"
    failed = page.locator("#check-lines li[data-status=fail]")
    assert failed.count() == 1
    assert failed.get_attribute("data-check") == "payload.marketing-no-sender"
    fix = failed.locator(".fix")
    assert fix.is_visible()
    assert BY_ID["payload.marketing-no-sender"].fix in fix.inner_text()


def test_a_loopback_target_is_refused_on_a_public_server_with_a_clear_message(
    page: Any, page_server: Callable[..., LiveProvider], provider: Callable[..., Served]
) -> None:
    target = provider()
    server = page_server(verify_targets="public")
    page.goto(server.base_url + "/verify")
    assert "public endpoints only" in page.inner_text("#targets-note")
    fill_verify_form(page, target.url, target.ca, login=LOGIN, password=PASSWORD)
    page.click("#verify-button")
    error = page.locator("#verify-error")
    error.wait_for()
    assert error.inner_text() == (
        "localhost (127.0.0.1) is a loopback address: this checker reaches public addresses only"
    )
    assert page.url.endswith("/verify")
    assert target.recorded.requests == []


def test_bad_input_shows_the_message_of_the_cli(
    page: Any, page_server: Callable[..., LiveProvider]
) -> None:
    page.goto(page_server().base_url + "/verify")
    fill_verify_form(page, "https://sms.example/inocx", None, to="06 12 34 56 78")
    page.click("#verify-button")
    page.locator("#verify-error").wait_for()
    assert page.inner_text("#verify-error") == (
        "to must be in E.164: '+', country code and number, no spaces (got '06 12 34 56 78')"
    )
    assert page.is_enabled("#verify-button")


def test_the_downloaded_html_report_shows_the_verdict_of_the_page(
    page: Any, page_server: Callable[..., LiveProvider], provider: Callable[..., Served]
) -> None:
    target = provider("sender-required")
    page.goto(page_server().base_url + "/verify")
    fill_verify_form(page, target.url, target.ca, login=LOGIN, password=PASSWORD, only="payload")
    page.click("#verify-button")
    page.wait_for_selector("#verdict")
    shown = page.inner_text("#verdict")
    with page.expect_download() as download:
        page.click("#downloads a[data-format=HTML]")
    html = Path(download.value.path()).read_text(encoding="utf-8")
    assert download.value.suggested_filename.endswith(".html")
    verdict = re.search(r'<p class="verdict (\w+)" data-outcome="\w+">([^<]+)</p>', html)
    assert verdict is not None and (verdict[1], verdict[2]) == ("fail", shown)
    assert PASSWORD not in html


def test_the_form_keeps_no_password_and_the_screenshots_are_taken(
    page: Any, page_server: Callable[..., LiveProvider], browser: Any, tmp_path: Path
) -> None:
    page.goto(page_server().base_url + "/verify")
    assert page.get_attribute("#password", "autocomplete") == "off"
    assert page.get_attribute("#password", "type") == "password"
    saved = take_verify(tmp_path / "shots", browser)
    assert [path.name for path in saved] == ["verify.png", "verify-run.png", "verify-report.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in saved)
