"""``sms-contract healthcheck``: over real sockets, against the fake provider and worse."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner, Result
from helpers.cli import one_error_line
from helpers.raw_http import free_port
from helpers.scripted_server import Reply

from sms_contract.cli import cli
from sms_contract.cli.healthcheck import default_url


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    """Invoke the CLI; anything but a clean exit fails the test."""
    result = CliRunner().invoke(cli, ["healthcheck", *args], env=env)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit | None), repr(result.exception)
    return result


@pytest.fixture
def provider(make_sms_provider):
    """The in-process fake provider over HTTPS with its own CA."""
    return make_sms_provider()


def test_a_healthy_provider_exits_0_with_one_line_naming_its_version(provider):
    result = run("--url", provider.base_url + "/healthz", "--cacert", provider.ca_bundle)
    assert result.exit_code == 0, result.output
    [line] = result.stdout.splitlines()
    assert line.startswith(f"healthy: {provider.base_url}/healthz (sms-contract 0.1.0, schema ")


def test_without_url_the_address_and_ca_come_from_the_serve_variables(provider):
    port = urlsplit(provider.base_url).port
    state_dir = Path(provider.ca_bundle).parent.parent  # the CA is STATE_DIR/tls/ca.pem
    env = {"SMS_CONTRACT_PORT": str(port), "SMS_CONTRACT_STATE_DIR": str(state_dir)}
    result = run(env=env)
    assert result.exit_code == 0, result.output
    assert f"https://127.0.0.1:{port}/healthz" in result.stdout


def test_with_a_certificate_of_its_own_the_loopback_check_does_not_verify_it(provider, tmp_path):
    port = urlsplit(provider.base_url).port
    env = {
        "SMS_CONTRACT_PORT": str(port),
        "SMS_CONTRACT_STATE_DIR": str(tmp_path),  # no local CA there
        "SMS_CONTRACT_CERT": "/etc/ssl/own-server.pem",
    }
    assert run(env=env).exit_code == 0
    assert run(env={**env, "SMS_CONTRACT_CERT": ""}).exit_code == 3


def test_a_bind_all_host_is_checked_through_the_loopback_and_plain_http_is_honoured():
    assert default_url("0.0.0.0", 8443, False) == "https://127.0.0.1:8443/healthz"
    assert default_url("::", 8443, False) == "https://[::1]:8443/healthz"
    assert default_url("localhost", 9000, True) == "http://localhost:9000/healthz"


def test_a_closed_port_is_unreachable_exit_3_with_one_line():
    result = run("--url", f"http://127.0.0.1:{free_port()}/healthz")
    assert result.exit_code == 3
    assert "connection refused" in one_error_line(result)


def test_wait_retries_until_its_deadline_then_reports_the_attempts():
    started = time.monotonic()
    result = run("--url", f"http://127.0.0.1:{free_port()}/healthz", "--wait", "1")
    elapsed = time.monotonic() - started
    assert result.exit_code == 3
    assert "attempts in 1 s" in one_error_line(result)
    assert 0.9 <= elapsed < 5


class _Healthy(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"status": "ok", "version": "9.9.9", "schemaVersion": "1.0.0"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def late_server() -> Iterator[int]:
    """A port where a healthy plain-HTTP server starts listening only after 0.8 s."""
    port = free_port()
    servers: list[ThreadingHTTPServer] = []

    def start_later() -> None:
        time.sleep(0.8)
        server = ThreadingHTTPServer(("127.0.0.1", port), _Healthy)
        servers.append(server)
        server.serve_forever()

    thread = threading.Thread(target=start_later, daemon=True)
    thread.start()
    yield port
    for server in servers:
        server.shutdown()
        server.server_close()
    thread.join(timeout=5)


def test_wait_succeeds_as_soon_as_a_late_server_answers(late_server):
    env = {"SMS_CONTRACT_PORT": str(late_server), "SMS_CONTRACT_HTTP": "1"}
    started = time.monotonic()
    result = run("--wait", "20", env=env)
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 10
    assert f"healthy: http://127.0.0.1:{late_server}/healthz (sms-contract 9.9.9" in result.stdout


@pytest.mark.parametrize(
    "reply",
    [Reply(503, json={"status": "starting"}), Reply(200, body="hello"), Reply(200, json=[])],
    ids=["503", "not-json", "not-an-object"],
)
def test_a_server_that_answers_but_not_ok_is_unhealthy_exit_1(scripted_server, reply):
    server = scripted_server(default=reply, tls=False)
    result = run("--url", server.url)
    assert result.exit_code == 1
    assert "not healthy" in one_error_line(result)


def test_an_untrusted_certificate_is_unreachable_and_says_so(provider):
    result = run("--url", provider.base_url + "/healthz")
    assert result.exit_code == 3
    assert "certificate is not trusted" in one_error_line(result)


def test_insecure_skips_the_certificate_check(provider):
    result = run("--url", provider.base_url + "/healthz", "--insecure")
    assert result.exit_code == 0, result.output


def test_https_to_a_plain_http_server_hints_at_the_scheme(scripted_server):
    server = scripted_server(default=Reply(200, json={"status": "ok"}), tls=False)
    result = run("--url", server.url.replace("http://", "https://"))
    assert result.exit_code == 3
    assert "plain HTTP" in one_error_line(result)


def test_a_bad_serve_variable_is_a_usage_error_exit_2():
    result = run(env={"SMS_CONTRACT_PORT": "abc"})
    assert result.exit_code == 2
    assert "SMS_CONTRACT_PORT" in result.output or "--port" in result.output


def test_a_url_that_is_not_http_is_a_usage_error_exit_2():
    result = run("--url", "ftp://example.com/healthz")
    assert result.exit_code == 2
    assert "http://" in one_error_line(result)


def test_a_missing_cacert_is_a_usage_error_exit_2(tmp_path):
    result = run("--url", "https://127.0.0.1:1/healthz", "--cacert", str(tmp_path / "no.pem"))
    assert result.exit_code == 2
    assert "no such file" in one_error_line(result)
