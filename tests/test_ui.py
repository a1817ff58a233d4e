"""The web UI without a browser: routes, escaping, headers, sign-in, event stream."""

from __future__ import annotations

import html
import json
import re
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sms_contract import build_payload
from sms_contract.mock_provider.app import create_app
from sms_contract.mock_provider.testing import provider_config
from sms_contract.mock_provider.ui import check as ui_check
from sms_contract.mock_provider.ui import inbox as ui_inbox
from sms_contract.mock_provider.ui.render import annotate, findings, safe_headers, text_view
from sms_contract.mock_provider.ui.security import SIGN_IN_DELAYS

XSS = "<img src=x onerror=alert(1)>"
PAGES = ["/", "/messages", "/check", "/faults", "/spec", "/messages/1"]


def make_app(tmp_path: Path, **options: object) -> Flask:
    return create_app(provider_config(tmp_path, **options))


@pytest.fixture
def app(tmp_path: Path) -> Flask:
    return make_app(tmp_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def send(client: FlaskClient, text: str = "Bonjour", namespace: str = "default", **kw: object):
    body = build_payload("+33612345678", text, sender="INOCX", **kw).to_json_dict()  # type: ignore[arg-type]
    return client.post(f"/ns/{namespace}/sms", json=body)


# -- headers and escaping -------------------------------------------------------------


def test_every_ui_page_and_static_file_has_a_strict_csp_and_nosniff(client: FlaskClient) -> None:
    send(client)
    for path in [*PAGES, "/static/ui.js", "/static/ui.css"]:
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_pages_have_no_inline_script_or_style(client: FlaskClient) -> None:
    send(client, XSS)
    for path in PAGES:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "<style" not in html and not re.search(r"<[a-z][^>]*\s(style|on[a-z]+)=", html)


def test_user_data_is_html_escaped_everywhere(client: FlaskClient) -> None:
    answer = client.post(
        "/ns/default/sms",
        json={"to": XSS, "retId": XSS, "text": XSS, XSS: 1, "sender": XSS},
    )
    message_id = answer.get_json()["id"]
    for path in ["/", f"/messages/{message_id}"]:
        html = client.get(path).get_data(as_text=True)
        assert XSS not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_api_json_is_not_touched_by_the_ui_headers(client: FlaskClient) -> None:
    response = client.get("/api/messages")
    assert "Content-Security-Policy" not in response.headers


def test_the_detail_view_redacts_credentials_and_never_shows_the_password(tmp_path: Path) -> None:
    app = make_app(tmp_path, auth="strict", credentials=(("inocx", "pass-w0rd-42"),))
    client = app.test_client()
    body = build_payload("+33612345678", "Bonjour", sender="INOCX").to_json_dict()
    headers = {"Authorization": "Basic aW5vY3g6cGFzcy13MHJkLTQy"}
    message_id = client.post("/sms", json=body, headers=headers).get_json()["id"]
    html = client.get(f"/messages/{message_id}").get_data(as_text=True)
    assert "Basic [redacted]" in html
    assert "aW5vY3g6cGFzcy13MHJkLTQy" not in html and "pass-w0rd-42" not in html


def test_safe_headers_blank_secrets_the_inbox_might_have_kept() -> None:
    shown = dict(safe_headers({"Authorization": "Bearer abc", "Cookie": "a=b", "X-Other": "1"}))
    assert shown == {"Authorization": "Bearer [redacted]", "Cookie": "[redacted]", "X-Other": "1"}


# -- pages ----------------------------------------------------------------------------


def test_the_inbox_filters_by_status_and_counts_both(client: FlaskClient) -> None:
    send(client, "ok", namespace="a")
    client.post("/ns/a/sms", json={"text": "bad"})
    html = client.get("/?namespace=a&status=rejected").get_data(as_text=True)
    assert html.count('class="status-rejected"') == 1 and 'class="status-accepted"' not in html
    assert 'data-count="all">2<' in html
    assert 'data-count="accepted">1<' in html and 'data-count="rejected">1<' in html


def test_the_inbox_ignores_a_bad_filter_and_says_so(client: FlaskClient) -> None:
    html = client.get("/?status=maybe&namespace=no/slash").get_data(as_text=True)
    assert "status is accepted or rejected; ignored" in html
    assert "a namespace is 1 to 64" in html


def test_the_inbox_pages_back_with_an_offset_and_clamps_a_huge_one(client: FlaskClient) -> None:
    send(client)
    huge = client.get("/?offset=99999999999999999999")
    assert huge.status_code == 200 and "0 of 1" in huge.get_data(as_text=True)
    assert "Showing 1–1 of 1" in client.get("/?offset=-5").get_data(as_text=True)


def test_the_detail_view_of_an_unknown_message_is_a_404_page(client: FlaskClient) -> None:
    response = client.get("/messages/424242")
    assert response.status_code == 404
    assert "No message 424242" in response.get_data(as_text=True)


def test_clearing_a_namespace_keeps_the_others(client: FlaskClient) -> None:
    send(client, namespace="a")
    send(client, namespace="b")
    response = client.post("/clear", data={"namespace": "a"})
    assert response.status_code == 302 and "cleared=1" in response.headers["Location"]
    names = client.get("/api/namespaces").get_json()["namespaces"]
    assert names == ["b"]


def test_a_cross_site_post_is_refused_and_deletes_nothing(client: FlaskClient) -> None:
    send(client)
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        assert client.post("/clear", data={}, headers=headers).status_code == 403
    assert client.get("/api/messages").get_json()["total"] == 1


def test_the_checker_lists_violations_and_warnings_with_their_pointers(
    client: FlaskClient,
) -> None:
    body = json.dumps({"type": "NOTIFICATION", "to": "06", "text": "é", "extra": 1})
    html = client.post("/check", data={"body": body}).get_data(as_text=True)
    assert "Invalid" in html
    for expected in ("/to", "/retId", "/credits", "/isUnicode", "unknown_field", "/extra"):
        assert expected in html


def test_the_checker_reports_unreadable_json_as_a_violation(client: FlaskClient) -> None:
    html = client.post("/check", data={"body": "{nope"}).get_data(as_text=True)
    assert "invalid_json" in html and "Invalid" in html


def test_the_checker_reading_unknown_fields_reject_turns_unknown_fields_into_violations(
    client: FlaskClient,
) -> None:
    body = build_payload("+33612345678", "Bonjour", sender="INOCX").to_json_dict()
    text = json.dumps({**body, "extra": 1})
    assert "✓ Valid" in client.post("/check", data={"body": text}).get_data(as_text=True)
    strict = client.post(
        "/check", data={"body": text, "reading-unknown-fields": "reject"}
    ).get_data(as_text=True)
    assert "✗ Invalid: 1 violation(s)" in strict


def test_the_checker_takes_the_servers_readings_and_refuses_an_unknown_value(
    tmp_path: Path,
) -> None:
    client = make_app(tmp_path, readings="unicode=exact").test_client()
    page = client.get("/check").get_data(as_text=True)
    assert '<option value="exact" selected' in page
    answer = client.post("/check", data={"body": "{}", "reading-credits": "lots"})
    assert answer.status_code == 400
    shown = html.unescape(answer.get_data(as_text=True))
    assert "unknown value 'lots' for the reading credits" in shown and "concatenated" in shown


def test_the_spec_page_says_so_when_the_spec_is_missing(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui_check.documents, "path", lambda name: tmp_path / "absent" / name)
    html = client.get("/spec").get_data(as_text=True)
    assert "is not in this version of the package" in html


def test_the_spec_page_renders_markdown_and_escapes_raw_html(
    client: FlaskClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = tmp_path / "SPEC.md"
    spec.write_text(f"# Partner spec\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n{XSS}\n", "utf-8")
    monkeypatch.setattr(ui_check.documents, "path", lambda name: spec)
    html = client.get("/spec").get_data(as_text=True)
    assert '<h1 id="partner-spec">Partner spec</h1>' in html and "<table>" in html
    assert XSS not in html and "&lt;img" in html


# -- admin token ------------------------------------------------------------------------


def test_with_an_admin_token_the_ui_asks_to_sign_in_and_never_shows_the_token(
    tmp_path: Path,
) -> None:
    token = "admin-t0ken-secret"
    client = make_app(tmp_path, admin_token=token).test_client()
    assert client.get("/messages/1").headers["Location"].startswith("/login?next=/messages/1")
    assert client.get("/api/events").status_code == 401
    wrong = client.post("/login", data={"token": "nope", "next": "/check"})
    assert "That is not the admin token." in wrong.get_data(as_text=True)
    time.sleep(SIGN_IN_DELAYS[0])  # the wait after one failed sign-in
    signed = client.post("/login", data={"token": token, "next": "/check"})
    assert signed.status_code == 302 and signed.headers["Location"] == "/check"
    cookie = signed.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and token not in cookie
    for path in PAGES[:-1]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert token not in response.get_data(as_text=True)
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_sign_in_never_redirects_off_site(tmp_path: Path) -> None:
    client = make_app(tmp_path, admin_token="t").test_client()
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        answer = client.post("/login", data={"token": "t", "next": target})
        assert answer.headers["Location"] == "/"


# -- event stream -----------------------------------------------------------------------


def _events(raw: str) -> list[dict[str, str]]:
    found = []
    for block in raw.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in fields:
            found.append(fields)
    return found


def test_the_event_stream_sends_the_page_then_ends_by_itself(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui_inbox, "STREAM_SECONDS", 0.3)
    send(client, "first", namespace="ev")
    response = client.get("/api/events?namespace=ev")
    assert response.mimetype == "text/event-stream"
    raw = response.get_data(as_text=True)
    assert raw.startswith("retry: ")
    (event,) = _events(raw)
    data = json.loads(event["data"])
    assert event["event"] == "inbox" and data["counts"]["all"] == 1
    assert data["messages"][0]["text"] == "first"


def test_the_event_stream_is_silent_when_the_browser_is_up_to_date(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui_inbox, "STREAM_SECONDS", 0.3)
    send(client, namespace="ev")
    first = _events(client.get("/api/events?namespace=ev").get_data(as_text=True))[0]
    again = client.get("/api/events?namespace=ev", headers={"Last-Event-ID": first["id"]})
    assert _events(again.get_data(as_text=True)) == []


# -- what the pages compute ---------------------------------------------------------------


def test_text_view_marks_non_gsm_characters_and_parts() -> None:
    text = "â" + "😀" * 70
    view = text_view(text, {"isUnicode": True, "credits": 2})
    assert view.encoding == "UCS-2" and len(view.parts) == 3
    assert [part.units for part in view.parts] == [67, 66, 8]
    assert view.parts[0].runs[0].codepoint == "U+00E2"
    assert ("😀", "U+1F600", 70) in view.offending
    assert [(c.name, c.matches) for c in view.comparisons] == [
        ("isUnicode", True),
        ("credits", False),
    ]


def test_text_view_counts_extension_characters_as_two_septets() -> None:
    view = text_view("€ {}", None)
    assert view.encoding == "GSM-7" and view.units == 7 and view.offending == []


def test_annotate_puts_each_finding_beside_its_field() -> None:
    found = findings(
        [{"pointer": "/to", "code": "pattern", "message": "bad"}],
        [{"pointer": "/credits", "code": "required", "message": "missing"}],
    )
    annotated = annotate({"type": "MARKETING", "to": "06"}, found)
    lines = {line.code.strip(): line for line in annotated.lines}
    assert lines['"to": "06"'].level == "violation"
    assert lines['"type": "MARKETING",'].findings == []
    assert [f.pointer for f in annotated.elsewhere] == ["/credits"]


def test_every_ui_template_and_static_file_is_shipped_as_package_data() -> None:
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parent.parent
    config = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    globs = config["tool"]["setuptools"]["package-data"]["sms_contract.mock_provider.ui"]
    folder = root / "sms_contract" / "mock_provider" / "ui"
    assets = [
        path.relative_to(folder).as_posix()
        for sub in ("templates", "static")
        for path in (folder / sub).rglob("*")
        if path.is_file()
    ]
    assert {"templates/inbox.html", "static/ui.js", "static/ui.css"} <= set(assets)
    # setuptools globs do not descend into sub-folders, so neither may the assets.
    unshipped = [
        a for a in assets if a.count("/") > 1 or not any(fnmatch.fnmatch(a, g) for g in globs)
    ]
    assert unshipped == []
