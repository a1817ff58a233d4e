"""Hostile requests, over real sockets: against the in-process server (werkzeug) and,
where the server's own code is involved, against ``sms-contract serve`` (gunicorn,
gevent). Each test is named for the attack it stops."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from helpers.raw_http import RawConnection, serve_process
from helpers.sends import sms

from sms_contract.mock_provider.config import ConfigError, ProviderConfig
from sms_contract.mock_provider.testing import LiveProvider, SmsProvider, provider_config
from sms_contract.mock_provider.ui.security import SESSION_COOKIE, SIGN_IN_DELAYS

TOKEN = "admin-t0ken"
LOGIN, PASSWORD = "inocx", "pw"


def _raw(base_url: str, ca: str | None, head: bytes, body: bytes = b"") -> tuple[int, bytes, str]:
    """Send ``head`` (without its blank line) and ``body``; the status, body and headers."""
    with RawConnection(base_url, ca, timeout=10) as connection:
        connection.sendall(head + b"\r\n\r\n" + body)
        answer = connection.read_all(timeout=10)
    head_text = answer.head.decode("latin-1")
    return int(head_text.split(" ", 2)[1]), answer.body, head_text


def _sms_head(path: str, body: bytes, *extra: bytes) -> bytes:
    lines = [
        f"POST {path} HTTP/1.1".encode(),
        b"Host: localhost",
        b"Connection: close",
        b"Content-Type: application/json",
        f"Content-Length: {len(body)}".encode(),
        *extra,
    ]
    return b"\r\n".join(lines)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``serve`` over HTTPS, auth strict: the gunicorn side of the header rules."""
    state = tmp_path_factory.mktemp("serve-requests")
    options = ["--auth", "strict", "--credential", f"{LOGIN}:{PASSWORD}"]
    with serve_process(state, *options, workers=1, tls=True) as base_url:
        yield base_url, str(state / "tls" / "ca.pem")


# -- 2. fault rules cannot freeze a worker ------------------------------------------------


def test_a_catastrophic_backtracking_regex_rule_is_refused_with_a_422_that_says_why(
    sms_provider: SmsProvider,
) -> None:
    answer = sms_provider.api("POST", "/api/faults", json={"textRegex": "(a+)+$", "status": 500})
    assert answer.status_code == 422
    problem = answer.json()
    assert problem["violations"][0]["pointer"] == "/textRegex"
    assert "repeats a group that itself repeats" in problem["detail"]
    assert sms_provider.faults() == []


def test_a_backtracking_regex_that_passes_the_check_cannot_hold_a_send(
    sms_provider: SmsProvider,
) -> None:
    sms_provider.add_fault(textRegex="(a|aa)+$", status=500)
    started = time.monotonic()
    answer = requests.post(
        sms_provider.url, json=sms("a" * 40 + "!"), verify=sms_provider.server.verify, timeout=10
    )
    assert time.monotonic() - started < 2
    assert answer.status_code == 200  # the search ran out of time: no match


def test_a_50_mb_fault_rule_is_refused_413_before_its_body_is_read(
    sms_provider: SmsProvider,
) -> None:
    head = (
        b"POST /api/faults HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000"
    )
    status, body, headers = _raw(sms_provider.base_url, sms_provider.ca_bundle, head, b'{"st')
    assert status == 413
    assert json.loads(body)["type"].endswith("/payload-too-large")
    assert "application/problem+json" in headers


# -- 3. cross-site writes -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Content-Type": "text/plain"}, 415),
        ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"Content-Type": "application/json", "Origin": "https://evil.example"}, 403),
        ({"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"Content-Type": "application/json", "Origin": "null"}, 403),
    ],
)
def test_a_web_page_on_another_site_cannot_plant_a_fault_rule(
    sms_provider: SmsProvider, headers: dict[str, str], status: int
) -> None:
    rule = json.dumps({"status": 503, "namespace": sms_provider.namespace})
    answer = requests.post(
        sms_provider.base_url + "/api/faults",
        data=rule,
        headers=headers,
        verify=sms_provider.server.verify,
        timeout=10,
    )
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert sms_provider.faults() == []


def test_a_web_page_on_another_site_cannot_clear_the_inbox(sms_provider: SmsProvider) -> None:
    assert sms_provider.send(sms()).status_code == 200
    answer = requests.delete(
        sms_provider.base_url + "/api/messages",
        headers={"Origin": "https://evil.example"},
        verify=sms_provider.server.verify,
        timeout=10,
    )
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/cross-site")
    assert len(sms_provider.messages()) == 1


def test_a_dns_rebinding_page_naming_another_host_reaches_nothing(
    sms_provider: SmsProvider,
) -> None:
    for path in ("/api/messages", "/", sms_provider.url.split("localhost:", 1)[1].split("/", 1)[1]):
        answer = requests.get(
            sms_provider.base_url + "/" + path.lstrip("/"),
            headers={"Host": "rebind.evil.example"},
            verify=sms_provider.server.verify,
            timeout=10,
        )
        assert answer.status_code == 403, path
        assert answer.json()["type"].endswith("/unknown-host")
    assert sms_provider.api("GET", "/api/messages").status_code == 200


def test_a_dns_rebinding_page_reaches_nothing_on_serve_either(served: tuple[str, str]) -> None:
    base_url, ca = served
    answer = requests.get(
        base_url + "/healthz", headers={"Host": "rebind.evil.example"}, verify=ca, timeout=10
    )
    assert answer.status_code == 403
    assert requests.get(base_url + "/healthz", verify=ca, timeout=10).status_code == 200


# -- 4. malformed headers are 4xx ---------------------------------------------------------


def test_a_raw_non_ascii_byte_in_authorization_is_no_credentials_not_a_500(
    sms_provider: SmsProvider, make_sms_provider: Callable[..., SmsProvider]
) -> None:
    body = json.dumps(sms()).encode()
    path = "/ns/" + sms_provider.namespace + sms_provider.server.config.send_path
    head = _sms_head(path, body, b"Authorization: Basic \xc3\xa9")
    status, _body, _headers = _raw(sms_provider.base_url, sms_provider.ca_bundle, head, body)
    assert status == 200  # auth none: no login, and the send is recorded
    assert sms_provider.messages()[0]["login"] is None
    strict = make_sms_provider(auth="strict", credentials=((LOGIN, PASSWORD),))
    path = "/ns/" + strict.namespace + strict.server.config.send_path
    for value in (b"Basic \xc3\xa9", b"Basic " + base64.b64encode(b"\xff\xfe:\xfa")):
        head = _sms_head(path, body, b"Authorization: " + value)
        status, problem, headers = _raw(strict.base_url, strict.ca_bundle, head, body)
        assert status == 401
        assert "WWW-Authenticate: Basic" in headers
        assert json.loads(problem)["type"].endswith("/unauthorized")


def test_a_raw_non_ascii_authorization_on_serve_is_a_401_with_the_challenge(
    served: tuple[str, str],
) -> None:
    base_url, ca = served
    body = json.dumps(sms()).encode()
    status, problem, headers = _raw(
        base_url, ca, _sms_head("/sms", body, b"Authorization: Basic \xc3\xa9"), body
    )
    assert status == 401
    assert "WWW-Authenticate: Basic" in headers
    assert json.loads(problem)["status"] == 401


def test_a_header_too_large_is_a_problem_json_431_with_the_challenge(
    served: tuple[str, str],
) -> None:
    base_url, ca = served
    huge = b"Authorization: Basic " + b"A" * 20000
    status, problem, headers = _raw(base_url, ca, _sms_head("/sms", b"{}", huge), b"{}")
    assert status == 431
    assert "application/problem+json" in headers
    assert "WWW-Authenticate: Basic" in headers
    assert json.loads(problem)["type"].endswith("/header-too-large")


@pytest.mark.parametrize(
    "header",
    [b"X-Admin-Token", b"Cookie", b"Origin", b"Sec-Fetch-Site", b"Last-Event-ID", b"Accept"],
)
def test_raw_bytes_in_any_header_never_make_a_5xx(
    make_sms_provider: Callable[..., SmsProvider], header: bytes
) -> None:
    provider = make_sms_provider(admin_token=TOKEN)
    for path in (b"/api/messages", b"/api/events?once=1", b"/", b"/login"):
        head = b"GET " + path + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
        head += header + b": \xc3\xa9\xff\x80 x"
        status, _body, _headers = _raw(provider.base_url, provider.ca_bundle, head)
        assert 200 <= status < 500, (path, status)


# -- 5. sign-in ---------------------------------------------------------------------------


@pytest.fixture
def ui(tmp_path: Path) -> Iterator[SmsProvider]:
    """A provider of this test's own with an admin token (so the UI asks to sign in,
    and no other test's failed sign-ins count)."""
    server = LiveProvider(provider_config(tmp_path, admin_token=TOKEN))
    try:
        yield server.view()
    finally:
        server.stop()


def _login(provider: SmsProvider, token: str, next_path: str = "/") -> requests.Response:
    return requests.post(
        provider.base_url + "/login",
        data={"token": token, "next": next_path},
        allow_redirects=False,
        verify=provider.server.verify,
        timeout=10,
    )


@pytest.mark.parametrize(
    "target",
    ["/\t/evil.example", "/\\evil.example", "//evil.example", "https://evil.example/", "/\r\nX: y"],
)
def test_sign_in_next_cannot_send_the_browser_to_another_site(ui: SmsProvider, target: str) -> None:
    answer = _login(ui, TOKEN, target)
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/"


def test_the_percent_encoded_tab_of_the_issue_cannot_redirect_off_site(ui: SmsProvider) -> None:
    answer = requests.get(
        ui.base_url + "/login?next=/%09/evil.example",
        allow_redirects=False,
        verify=ui.server.verify,
        timeout=10,
    )
    assert answer.status_code == 200
    assert "evil.example" not in answer.text


def test_guessing_the_admin_token_is_slowed_by_a_growing_delay(ui: SmsProvider) -> None:
    assert _login(ui, "guess-1").status_code == 401
    refused = _login(ui, TOKEN)  # even the right token waits its turn
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= SIGN_IN_DELAYS[0]
    time.sleep(SIGN_IN_DELAYS[0])
    assert _login(ui, "guess-2").status_code == 401
    second = _login(ui, "guess-3")
    assert second.status_code == 429
    assert int(second.headers["Retry-After"]) == SIGN_IN_DELAYS[1]


def test_a_session_cookie_copied_before_sign_out_is_worthless_after_it(ui: SmsProvider) -> None:
    first, second = _login(ui, TOKEN), _login(ui, TOKEN)
    cookie = first.cookies[SESSION_COOKIE]
    assert cookie != second.cookies[SESSION_COOKIE]  # a fresh session each time
    assert TOKEN not in cookie
    jar = {SESSION_COOKIE: cookie}
    page = requests.get(
        ui.base_url + "/", cookies=jar, allow_redirects=False, verify=ui.server.verify, timeout=10
    )
    assert page.status_code == 200
    requests.post(
        ui.base_url + "/logout",
        cookies=jar,
        allow_redirects=False,
        verify=ui.server.verify,
        timeout=10,
    )
    again = requests.get(
        ui.base_url + "/", cookies=jar, allow_redirects=False, verify=ui.server.verify, timeout=10
    )
    assert again.status_code == 302 and again.headers["Location"].startswith("/login")


def test_a_non_ascii_admin_token_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="printable ASCII"):
        ProviderConfig(db_path=tmp_path / "inbox.sqlite3", admin_token="clé")


def test_the_admin_token_file_keeps_the_token_out_of_the_process_list(tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    state = tmp_path / "state"
    with serve_process(state, "--admin-token-file", str(token_file), workers=1) as base_url:
        master = [
            path
            for path in Path("/proc").glob("[0-9]*/cmdline")
            if str(token_file).encode() in _read(path)
        ]
        assert master, "serve is not running"
        assert all(TOKEN.encode() not in _read(path) for path in master)
        assert requests.get(base_url + "/api/messages", timeout=10).status_code == 401
        headers = {"Authorization": f"Bearer {TOKEN}"}
        assert requests.get(base_url + "/api/messages", headers=headers, timeout=10).ok


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


# -- 1. streams and waits on the in-process server ------------------------------------------


def test_inbox_tabs_past_the_cap_cannot_starve_the_in_process_server(tmp_path: Path) -> None:
    server = LiveProvider(provider_config(tmp_path, max_streams=2, max_waits=1))
    provider = server.view()
    streams = [
        requests.get(provider.base_url + "/api/events", stream=True, timeout=10) for _ in range(2)
    ]
    try:
        assert [stream.status_code for stream in streams] == [200, 200]
        refused = requests.get(provider.base_url + "/api/events", timeout=10)
        assert refused.status_code == 503 and refused.headers["Retry-After"].isdigit()
        assert provider.send(sms()).status_code == 200
    finally:
        for stream in streams:
            stream.close()
        server.stop()
