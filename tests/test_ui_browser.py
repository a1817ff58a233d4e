"""The web UI in a real headless Chromium (Debian's), against a live fake provider."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helpers.sends
import pytest
from ui_screenshots import chromium_path, take

from sms_contract import analyze
from sms_contract.mock_provider.testing import LiveProvider, SmsProvider, provider_config

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        chromium_path() is None, reason="no chromium installed (make browser installs it)"
    ),
]

XSS = "<img src=x onerror=alert(1)>"
WAIT_MS = 5000


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveProvider]:
    live = LiveProvider(provider_config(tmp_path_factory.mktemp("ui")))
    yield live
    live.stop()


@pytest.fixture
def sms(server: LiveProvider) -> SmsProvider:
    return server.view()


class Tab:
    """A browser page that records dialogs and console errors."""

    def __init__(self, page: Any, base_url: str) -> None:
        self.page = page
        self.base_url = base_url
        self.dialogs: list[str] = []
        self.console_errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.console_errors.append(str(error)))
        page.set_default_timeout(WAIT_MS)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def _console(self, message: Any) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def open(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def open_live_inbox(self, namespace: str) -> None:
        self.open(f"/?namespace={namespace}")
        self.page.wait_for_selector("#live-status[data-state=live]")


@pytest.fixture
def tab(browser: Any, server: LiveProvider) -> Iterator[Tab]:
    context = browser.new_context()
    yield Tab(context.new_page(), server.base_url)
    context.close()


def sms_body(text: str, **fields: Any) -> dict[str, Any]:
    return helpers.sends.sms(text, **fields)


def rows(tab: Tab) -> Any:
    return tab.page.locator("#rows tr")


def test_a_send_appears_in_the_open_inbox_without_a_reload(tab: Tab, sms: SmsProvider) -> None:
    tab.open_live_inbox(sms.namespace)
    tab.page.evaluate("window.notReloaded = true")
    body = sms_body("Votre rendez-vous est confirmé")
    assert sms.send(body).status_code == 200
    row = rows(tab).filter(has_text=body["retId"])
    row.wait_for()
    assert "Votre rendez-vous est confirmé" in row.inner_text()
    assert tab.page.text_content("[data-count=all]") == "1"
    assert tab.page.evaluate("window.notReloaded") is True
    assert tab.page.is_hidden("#empty")


def test_a_proxied_send_appears_live_with_its_upstream_outcome_and_filters_by_it(
    browser: Any, server: LiveProvider, tmp_path: Path
) -> None:
    upstream = server.view()
    proxy = LiveProvider(provider_config(tmp_path, upstream=upstream.as_upstream()))
    context = browser.new_context()
    try:
        tab = Tab(context.new_page(), proxy.base_url)
        view = proxy.view()
        tab.open_live_inbox(view.namespace)
        body = sms_body("Votre rendez-vous est confirmé", credits=2)
        assert view.send(body).status_code == 422  # the upstream's answer: it refuses too
        row = rows(tab).filter(has_text=body["retId"])
        row.wait_for()
        # The entry is stored pending before it goes upstream: the row may show
        # "forwarding…" first, then the upstream's answer as the live view catches up.
        badge = row.locator("[data-outcome-field]", has_text="422 permanent")
        badge.wait_for()
        assert badge.get_attribute("data-outcome") == "permanent"
        tab.page.locator("[data-count=upstream-permanent]", has_text="1").wait_for()
        assert tab.page.text_content("[data-count=upstream-permanent]") == "1"
        tab.page.select_option("select[name=upstream]", "accepted")
        tab.page.wait_for_url("**upstream=accepted**")
        assert rows(tab).count() == 0
        assert tab.console_errors == []
    finally:
        context.close()
        proxy.stop()


def test_the_status_filter_and_the_to_filter_narrow_the_list(tab: Tab, sms: SmsProvider) -> None:
    sms.send(sms_body("accepted one"))
    sms.send({"type": "NOTIFICATION", "to": "+33699999999", "text": "rejected one"})
    tab.open(f"/?namespace={sms.namespace}")
    assert rows(tab).count() == 2
    tab.page.select_option("select[name=status]", "rejected")
    tab.page.wait_for_url("**status=rejected**")
    assert rows(tab).count() == 1 and "rejected one" in rows(tab).inner_text()
    assert tab.page.text_content("[data-count=accepted]") == "1"
    tab.page.select_option("select[name=status]", "")
    tab.page.wait_for_url(lambda url: "status=rejected" not in url)
    tab.page.fill("input[name=to]", "+33612345678")
    tab.page.press("input[name=to]", "Enter")
    tab.page.wait_for_url("**to=%2B33612345678**")
    assert rows(tab).count() == 1 and "accepted one" in rows(tab).inner_text()


def test_the_detail_view_highlights_non_gsm_text_and_shows_three_parts(
    tab: Tab, sms: SmsProvider
) -> None:
    text = "Soldes d’été " + "😀" * 62
    assert analyze(text).credits == 3
    body = sms_body(text, type="MARKETING")
    message_id = sms.send(body).json()["id"]
    tab.open(f"/?namespace={sms.namespace}")
    tab.page.click(f"#rows tr[data-id='{message_id}'] a[data-link] >> nth=0")
    tab.page.wait_for_url(f"**/messages/{message_id}")
    parts = tab.page.locator("ol.parts > li.part")
    assert parts.count() == 3
    assert "Part 3" in parts.nth(2).inner_text()
    first_mark = tab.page.locator(".part-text mark.non-gsm").first
    assert first_mark.text_content() == "’" and first_mark.get_attribute("title") == "U+2019"
    assert tab.page.locator("tr[data-compare=credits]").inner_text().endswith("✓ matches")
    assert "3" in tab.page.locator("tr[data-compare=credits]").inner_text()


def test_an_xss_text_stays_inert_and_visible_as_text(tab: Tab, sms: SmsProvider) -> None:
    tab.open_live_inbox(sms.namespace)
    answer = sms.send({**sms_body(XSS), XSS: XSS})
    row = rows(tab).filter(has_text=XSS)
    row.wait_for()
    assert tab.page.locator("img").count() == 0
    tab.open(f"/messages/{answer.json()['id']}")
    assert tab.page.get_by_text(XSS, exact=True).first.is_visible()
    assert tab.page.locator(".finding", has_text=XSS).count() >= 1
    assert tab.page.locator("img").count() == 0
    tab.page.wait_for_timeout(300)
    assert tab.dialogs == []


def test_clearing_a_namespace_empties_it_and_keeps_the_others(
    tab: Tab, sms: SmsProvider, server: LiveProvider
) -> None:
    other = server.view()
    sms.send(sms_body("to clear"))
    other.send(sms_body("to keep"))
    tab.open_live_inbox(sms.namespace)
    assert rows(tab).count() == 1
    tab.page.click("#clear-button")
    tab.page.wait_for_selector(".notice")
    assert "Deleted 1 message(s)." in tab.page.inner_text(".notice")
    assert rows(tab).count() == 0 and tab.page.is_visible("#empty")
    assert sms.messages() == [] and len(other.messages()) == 1


def test_the_checker_shows_every_violation(tab: Tab) -> None:
    tab.open("/check")
    tab.page.fill("#body", '{"type": "NOTIFICATION", "to": "06 12", "text": "â", "credits": 0}')
    tab.page.click("#check-button")
    verdict = tab.page.wait_for_selector(".verdict.invalid")
    assert verdict is not None and "Invalid" in verdict.inner_text()
    pointers = tab.page.locator("#verdict > ul.findings .pointer").all_inner_texts()
    assert {"/to", "/retId", "/isUnicode", "/credits"} <= set(pointers)
    assert tab.page.locator(".json-line.violation").count() >= 2


def test_ui_pages_send_the_csp_and_nosniff_and_break_neither(tab: Tab, sms: SmsProvider) -> None:
    message_id = sms.send(sms_body("Bonjour")).json()["id"]
    for path in ["/", f"/messages/{message_id}", "/check", "/faults", "/spec", "/verify"]:
        response = tab.open(path)
        headers = response.headers
        assert "default-src 'self'" in headers["content-security-policy"], path
        assert "unsafe-inline" not in headers["content-security-policy"]
        assert headers["x-content-type-options"] == "nosniff"
    tab.page.wait_for_timeout(200)
    assert tab.console_errors == []


def test_the_screenshot_module_writes_one_png_per_main_view(tmp_path: Path, browser: Any) -> None:
    saved = take(tmp_path, browser)
    assert [path.name for path in saved] == ["inbox.png", "detail.png", "checker.png", "faults.png"]
    assert all(path.read_bytes().startswith(b"\x89PNG") for path in saved)
