"""The verify page's HTML without a browser: the form's own POST (no script), what a
refused form shows (never the password), the run and list pages, the sign-in guard."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests
from helpers.scripted_server import Reply
from helpers.verify_cli import PASSWORD, TO
from helpers.verify_page import follow_run, run_body
from verify_servers import Served, provider_fixture, tls_files_fixture  # noqa: F401 - fixtures

from sms_contract.mock_provider.testing import LiveProvider

TOKEN = "verify-page-token"


def form(target: Served, **fields: str) -> dict[str, str]:
    """The page's form for a run against ``target``, as a browser posts it (text fields)."""
    return {**run_body(target), "maxSends": "25", **fields}


def test_the_form_posted_without_its_script_starts_the_run_and_opens_its_page(
    page_server: Callable[..., LiveProvider], provider: Callable[..., Served]
) -> None:
    server = page_server()
    posted = requests.post(
        f"{server.base_url}/verify",
        data=form(provider(), only="tls, auth"),
        timeout=60,
        allow_redirects=False,
    )
    assert posted.status_code == 303
    page_path = posted.headers["Location"]
    run_id = page_path.rsplit("/", 1)[1]
    assert page_path == f"/verify/runs/{run_id}"
    run, _batches = follow_run(server.base_url, run_id)
    assert run["request"]["only"] == ["tls", "auth"]
    html = requests.get(server.base_url + page_path, timeout=10).text
    assert 'data-outcome="pass"' in html
    for extension in ("html", "json", "xml", "md"):
        assert f'href="/api/verify/runs/{run_id}/report.{extension}"' in html
    listing = requests.get(f"{server.base_url}/verify/runs", timeout=10).text
    assert f'href="/verify/runs/{run_id}"' in listing


def test_a_refused_form_says_why_keeps_the_fields_and_never_the_password(
    page_server: Callable[..., LiveProvider], provider: Callable[..., Served]
) -> None:
    server = page_server()
    answer = requests.post(
        f"{server.base_url}/verify", data=form(provider(), to="0612345678"), timeout=60
    )
    assert answer.status_code == 422
    assert "to must be in E.164" in answer.text
    assert 'value="0612345678"' in answer.text
    assert PASSWORD not in answer.text
    password_field = re.search(r"<input[^>]*id=\"password\"[^>]*>", answer.text)
    assert password_field is not None
    assert "value" not in password_field[0] and 'autocomplete="off"' in password_field[0]


def test_a_second_run_from_the_same_browser_waits_its_turn(
    page_server: Callable[..., LiveProvider], scripted_server: Any, ca_bundle: Path
) -> None:
    endpoint = scripted_server(default=Reply(200, json={"id": "m1"}, delay=0.5))
    server = page_server()
    fields = {"url": endpoint.url, "to": TO, "cacert": ca_bundle.read_text(encoding="utf-8")}
    first = requests.post(
        f"{server.base_url}/verify", data=fields, timeout=60, allow_redirects=False
    )
    assert first.status_code == 303
    second = requests.post(f"{server.base_url}/verify", data=fields, timeout=60)
    assert second.status_code == 429 and second.headers["Retry-After"] == "5"
    assert "one run at a time per client" in second.text
    endpoint.stop()
    follow_run(server.base_url, first.headers["Location"].rsplit("/", 1)[1])


def test_the_pages_load_their_script_from_the_site_only(
    page_server: Callable[..., LiveProvider],
) -> None:
    server = page_server()
    answer = requests.get(f"{server.base_url}/verify", timeout=10)
    assert "script-src 'self'" in answer.headers["Content-Security-Policy"]
    scripts = re.findall(r"<script[^>]*>", answer.text)
    assert scripts and all(re.fullmatch(r'<script src="/static/[\w.]+" defer>', s) for s in scripts)
    assert '<script src="/static/verify.js" defer>' in scripts
    assert '<a href="/verify" class="active" aria-current="page">Verify</a>' in answer.text


def test_an_unknown_run_is_a_404_page(page_server: Callable[..., LiveProvider]) -> None:
    answer = requests.get(f"{page_server().base_url}/verify/runs/nope", timeout=10)
    assert answer.status_code == 404 and "No verify run nope" in answer.text


def test_with_an_admin_token_the_page_asks_for_a_sign_in_whose_session_the_api_takes(
    page_server: Callable[..., LiveProvider],
) -> None:
    server = page_server(admin_token=TOKEN)
    base = server.base_url
    page = requests.get(f"{base}/verify", timeout=10, allow_redirects=False)
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    browser = requests.Session()
    signed = browser.post(f"{base}/login", data={"token": TOKEN, "next": "/verify"}, timeout=10)
    assert signed.status_code == 200 and 'id="verify-form"' in signed.text
    # The page's script posts with the session cookie, from the page's own origin.
    started = browser.post(
        f"{base}/api/verify/runs",
        json={"url": "https://sms.example/", "to": "0612"},
        headers={"Origin": base, "Sec-Fetch-Site": "same-origin"},
        timeout=10,
    )
    assert started.status_code == 422  # past the guard: the number is what is refused
    refused = requests.post(
        f"{base}/api/verify/runs", json={"url": "https://sms.example/", "to": TO}, timeout=10
    )
    assert refused.status_code == 401
