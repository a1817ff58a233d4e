"""``/api/verify/runs`` over real sockets: a run against a provider, its progress, its
reports, the messages of bad input (the CLI's), the limits and the password's fate."""

from __future__ import annotations

import base64
import json
import logging
import socket
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.cli import one_error_line
from helpers.reports import check_report
from helpers.scripted_server import Reply
from helpers.verify_cli import CREDENTIALS, ENV, LOGIN, PASSWORD, TO, run_verify
from helpers.verify_page import follow_run, post_from, run_body, start_run
from verify_servers import Served, provider_fixture, tls_files_fixture  # noqa: F401 - fixtures

from sms_contract.contract_tests.catalogue import BY_ID
from sms_contract.contract_tests.reports import RENDERERS, WRITERS
from sms_contract.contract_tests.reports.model import digest
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.testing import LiveProvider
from sms_contract.sender.transport import plain_http_refusal

PageServer = Callable[..., LiveProvider]


def finished(server: LiveProvider, body: dict[str, Any]) -> dict[str, Any]:
    answer = start_run(server.base_url, body)
    assert answer.status_code == 202, answer.text
    follow_run(server.base_url, answer.json()["id"])
    whole = requests.get(server.base_url + answer.json()["links"]["self"], timeout=10)
    run: dict[str, Any] = whole.json()
    assert run["status"] == "done", run
    return run


# -- a run -------------------------------------------------------------------------------


def test_a_run_against_a_conforming_provider_passes_and_its_checks_come_as_they_finish(
    page_server: PageServer, provider: Callable[..., Served]
) -> None:
    server, target = page_server(), provider()
    answer = start_run(server.base_url, run_body(target))
    assert answer.status_code == 202
    run_id = answer.json()["id"]
    assert answer.headers["Location"] == f"/api/verify/runs/{run_id}"
    assert answer.json()["links"]["page"] == f"/verify/runs/{run_id}"
    run, batches = follow_run(server.base_url, run_id)
    assert run["status"] == "done" and run["verdict"]["outcome"] == "pass"
    report = check_report(run["report"])
    # Every check came once, in the report's order, and not all in the last answer.
    arrived = [check_id for batch in batches for check_id in batch]
    assert arrived == [check["id"] for check in report["checks"]]
    assert run["total"] == run["done"] == len(arrived)
    assert len(batches[-1]) < len(arrived)
    assert run["request"] == {
        "url": target.url,
        "to": TO,
        "longTo": None,
        "login": LOGIN,
        "cacert": True,
        "only": [],
        "skip": [],
        "maxSends": 25,
        "allowHttp": False,
    }


def test_a_one_defect_provider_fails_the_check_that_catches_it_with_its_fix(
    page_server: PageServer, provider: Callable[..., Served]
) -> None:
    run = finished(page_server(), run_body(provider("sender-required")))
    assert run["verdict"]["outcome"] == "fail"
    failed = {check["id"]: check for check in run["checks"] if check["status"] == "fail"}
    assert set(failed) == {"payload.marketing-no-sender"}
    assert failed["payload.marketing-no-sender"]["fix"] == BY_ID["payload.marketing-no-sender"].fix


def test_each_download_is_the_file_the_cli_writes_for_the_same_report(
    page_server: PageServer, provider: Callable[..., Served], tmp_path: Path
) -> None:
    server = page_server()
    run = finished(server, run_body(provider(), only=["tls", "auth"]))
    report = run["report"]
    for extension, kind in {
        "html": "html",
        "json": "json",
        "xml": "junit",
        "md": "markdown",
    }.items():
        download = requests.get(server.base_url + run["links"][extension], timeout=10)
        assert download.status_code == 200
        assert download.headers["Content-Disposition"] == (
            f'attachment; filename="verify-{run["id"]}.{extension}"'
        )
        written = tmp_path / f"report.{extension}"
        WRITERS[kind](report, written)
        assert download.content == written.read_bytes() == RENDERERS[kind](report).encode()
    downloaded = requests.get(server.base_url + run["links"]["json"], timeout=10).json()
    assert digest(downloaded) == downloaded["sha256"] == report["sha256"]
    suite = ET.fromstring(requests.get(server.base_url + run["links"]["xml"], timeout=10).content)
    assert suite.find("testsuite").get("tests") == str(len(report["checks"]))  # type: ignore[union-attr]
    html = requests.get(server.base_url + run["links"]["html"], timeout=10)
    assert report["verdict"]["text"] in html.text
    assert "script-src" not in html.headers["Content-Security-Policy"]
    assert "sandbox" in html.headers["Content-Security-Policy"]


def test_a_report_of_a_run_under_way_or_unknown_is_a_clear_4xx(
    page_server: PageServer,
) -> None:
    server = page_server()
    missing = requests.get(f"{server.base_url}/api/verify/runs/nope/report.html", timeout=10)
    assert missing.status_code == 404 and "no verify run 'nope'" in missing.json()["detail"]
    assert requests.get(f"{server.base_url}/api/verify/runs/nope", timeout=10).status_code == 404


def test_the_send_budget_is_the_servers_to_enforce(
    page_server: PageServer, provider: Callable[..., Served]
) -> None:
    target = provider()
    run = finished(page_server(), run_body(target, maxSends=3))
    assert target.recorded.posts <= 3
    budget = [check for check in run["checks"] if "send budget" in check["summary"]]
    assert budget and {check["status"] for check in budget} == {"skip"}
    over = start_run(page_server().base_url, run_body(target, maxSends=26))
    assert over.status_code == 422
    assert over.json()["detail"] == "maxSends must be between 0 and 25 on this server"


# -- bad input: the CLI's messages --------------------------------------------------------


def api_refusal(server: LiveProvider, body: dict[str, Any]) -> dict[str, Any]:
    answer = start_run(server.base_url, body)
    assert 400 <= answer.status_code < 500, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = answer.json()
    assert problem["status"] == answer.status_code
    return problem


@pytest.mark.parametrize(
    ("fields", "cli_args", "field"),
    [
        ({"to": "0612345678"}, ("--to", "0612345678"), "to"),
        ({"to": "+3361"}, ("--to", "+3361"), "to"),
        ({"longTo": "+33612345678"}, ("--long-to", "+33612345678"), "longTo"),
        ({"login": "in ocx"}, ("--login", "in ocx", "--password-env", "VERIFY_PW"), "login"),
        ({"only": ["nothing"]}, ("--only", "nothing"), "only"),
        ({"skip": ["payload.nope"]}, ("--skip", "payload.nope"), "skip"),
    ],
)
def test_bad_input_gets_the_message_of_the_cli(
    page_server: PageServer,
    fields: dict[str, Any],
    cli_args: tuple[str, ...],
    field: str,
) -> None:
    body = {"url": "https://sms.example/inocx", "to": TO, **fields}
    problem = api_refusal(page_server(), body)
    cli = one_error_line(run_verify("https://sms.example/inocx", "--to", TO, *cli_args, env=ENV))
    option = {"longTo": "--long-to"}.get(field, f"--{field}")
    assert problem["status"] == 422
    assert problem["violations"][0]["pointer"] == f"/{field}"
    assert f"error: {problem['detail']}" == cli.replace(option, field)


@pytest.mark.parametrize(
    "url",
    ["https://a..b/sms", "https://[::1/sms", "ftp://sms.example/", "https://sms.example:99999/"],
)
def test_a_url_that_cannot_be_used_gets_the_message_of_the_cli(
    page_server: PageServer, url: str
) -> None:
    problem = api_refusal(page_server(), {"url": url, "to": TO})
    assert problem["violations"][0]["pointer"] == "/url"
    assert one_error_line(run_verify(url, "--to", TO)) == f"error: {problem['detail']}"


def test_credentials_in_the_url_are_refused_as_the_cli_refuses_them(
    page_server: PageServer,
) -> None:
    problem = api_refusal(page_server(), {"url": "https://inocx:pw@sms.example/", "to": TO})
    cli = one_error_line(run_verify("https://inocx:pw@sms.example/", "--to", TO))
    assert cli == "error: put the credentials in --login and --password-env, not in the URL"
    assert problem["detail"] == "put the credentials in login and password, not in the URL"


def test_an_http_url_is_refused_with_the_senders_rule(page_server: PageServer) -> None:
    server = page_server()
    remote = api_refusal(server, {"url": "http://sms.example/inocx", "to": TO})
    assert remote["detail"] == plain_http_refusal("http://sms.example/inocx")
    local = "http://127.0.0.1:9/sms"
    assert api_refusal(server, {"url": local, "to": TO})["detail"] == plain_http_refusal(local)
    with_login = {"url": local, "to": TO, "allowHttp": True, "login": LOGIN, "password": "x"}
    assert api_refusal(server, with_login)["detail"] == (
        "credentials never travel over plain http: give an https:// URL, "
        "or leave login and password out"
    )


def test_plain_http_to_a_local_test_server_runs_with_allow_http_and_no_credentials(
    page_server: PageServer, provider: Callable[..., Served]
) -> None:
    target = provider("no-auth", tls="none")
    run = finished(page_server(), {"url": target.url, "to": TO, "allowHttp": True})
    statuses = {check["id"]: check["status"] for check in run["checks"]}
    assert statuses["tls.https"] == "fail" and statuses["payload.notification"] == "pass"


def test_an_unreachable_endpoint_is_a_4xx_with_the_clis_message(
    page_server: PageServer, tmp_path: Path
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"https://127.0.0.1:{port}/sms"
    problem = api_refusal(page_server(), {"url": url, "to": TO})
    assert problem["status"] == 422
    assert problem["type"].endswith("/target-unreachable")
    assert problem["detail"] == f"127.0.0.1:{port} refused the connection"
    report = tmp_path / "r.json"
    result = run_verify(url, "--to", TO, "--json", str(report))
    assert result.exit_code == 3
    assert json.loads(report.read_text())["verdict"]["unreachable"] == problem["detail"]


def test_a_tls_failure_is_a_4xx_with_the_message_of_the_check(
    page_server: PageServer, provider: Callable[..., Served], tmp_path: Path
) -> None:
    target = provider(tls="self-signed")
    problem = api_refusal(page_server(), {"url": target.url, "to": TO})
    assert problem["status"] == 422 and problem["type"].endswith("/target-tls")
    report = tmp_path / "r.json"
    run_verify(target.url, "--to", TO, *CREDENTIALS, "--json", str(report), env=ENV)
    certificate = next(
        c for c in json.loads(report.read_text())["checks"] if c["id"] == "tls.certificate"
    )
    assert problem["detail"].startswith(certificate["summary"])
    assert "cacert" in problem["detail"]


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"to": TO}, "url", "required"),
        ({"url": "https://sms.example/"}, "to", "required"),
        ({"url": "https://sms.example/", "to": 33612345678}, "to", "type"),
        ({"url": "https://sms.example/", "to": TO, "maxSends": "5"}, "maxSends", "type"),
        ({"url": "https://sms.example/", "to": TO, "maxSends": True}, "maxSends", "type"),
        ({"url": "https://sms.example/", "to": TO, "login": LOGIN}, "password", "required"),
        ({"url": "https://sms.example/", "to": TO, "password": "pw"}, "password", "required"),
        ({"url": "https://sms.example/", "to": TO, "cacert": "not a PEM"}, "cacert", "pem"),
        ({"url": "https://sms.example/", "to": TO, "debug": True}, "debug", "unknown_field"),
        ({"url": "https://sms.example/", "to": TO, "only": "payload"}, "only", "type"),
    ],
)
def test_a_malformed_request_names_the_field_at_fault(
    page_server: PageServer, body: dict[str, Any], field: str, code: str
) -> None:
    problem = api_refusal(page_server(), body)
    assert problem["status"] == 422 and problem["type"].endswith("/invalid-verify-run")
    assert problem["violations"] == [
        {"pointer": f"/{field}", "code": code, "message": problem["detail"]}
    ]


def test_a_body_that_is_not_a_json_object_is_a_400(page_server: PageServer) -> None:
    server = page_server()
    answer = requests.post(
        f"{server.base_url}/api/verify/runs",
        data=b"[1]",
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400 and answer.json()["type"].endswith("/malformed-body")


# -- limits --------------------------------------------------------------------------------


@pytest.fixture
def slow_endpoint(scripted_server: Any, ca_bundle: Path) -> Iterator[dict[str, Any]]:
    """An https endpoint that takes half a second per answer (a run lasts), as a run body."""
    server = scripted_server(default=Reply(200, json={"id": "m1"}, delay=0.5))
    yield {"url": server.url, "to": TO, "cacert": ca_bundle.read_text(encoding="utf-8")}
    # Closed: the runs still under way end at once on refused connections.
    server.stop()


def test_one_run_at_a_time_per_client_and_the_servers_cap_answer_429_with_retry_after(
    page_server: PageServer, slow_endpoint: dict[str, Any]
) -> None:
    server = page_server(verify_max_runs=2)
    first = start_run(server.base_url, slow_endpoint)
    assert first.status_code == 202
    again = start_run(server.base_url, slow_endpoint)
    assert again.status_code == 429 and again.headers["Retry-After"] == "5"
    assert "one run at a time per client" in again.json()["detail"]
    status, _headers, _body = post_from(
        server.base_url, "127.0.0.2", "/api/verify/runs", slow_endpoint
    )
    assert status == 202
    status, headers, body = post_from(
        server.base_url, "127.0.0.3", "/api/verify/runs", slow_endpoint
    )
    assert status == 429 and headers["Retry-After"] == "10"
    assert "the most this server runs at once" in body["detail"]


def test_a_refused_run_takes_no_place(
    page_server: PageServer, slow_endpoint: dict[str, Any]
) -> None:
    server = page_server(verify_max_runs=1)
    bad = start_run(server.base_url, {**slow_endpoint, "url": "https://127.0.0.1:9/sms"})
    assert bad.status_code == 422
    assert start_run(server.base_url, slow_endpoint).status_code == 202
    listed = requests.get(f"{server.base_url}/api/verify/runs", timeout=10).json()
    assert listed["total"] == 1


# -- the password ------------------------------------------------------------------------


def test_the_password_is_never_stored_answered_rendered_or_logged(
    page_server: PageServer,
    provider: Callable[..., Served],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    server = page_server()
    # This endpoint echoes the credentials it receives in every answer.
    run = finished(server, run_body(provider("echo-secrets")))
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    secrets = (PASSWORD, token, token.rstrip("="))
    base = server.base_url
    answers = [
        requests.get(f"{base}/api/verify/runs/{run['id']}", timeout=10).text,
        requests.get(f"{base}/api/verify/runs", timeout=10).text,
        requests.get(f"{base}/verify/runs/{run['id']}", timeout=10).text,
        requests.get(f"{base}/verify/runs", timeout=10).text,
        *(
            requests.get(base + run["links"][f], timeout=10).text
            for f in ("html", "json", "xml", "md")
        ),
        caplog.text,
    ]
    assert "***" in answers[0], "the echoed credentials were redacted"
    for text in answers:
        assert not any(secret in text for secret in secrets)
    database = server.config.db_path
    stored = b"".join(
        path.read_bytes()
        for path in database.parent.iterdir()
        if path.name.startswith(database.name)
    )
    assert not any(secret.encode() in stored for secret in secrets)


# -- where a run may connect ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "refusal"),
    [
        ("localhost", "localhost (127.0.0.1) is a loopback address"),
        ("127.0.0.1", "127.0.0.1 is a loopback address"),
        ("[::1]", "::1 is a loopback address"),
        ("10.1.2.3", "10.1.2.3 is a private address"),
        ("169.254.169.254", "169.254.169.254 is a link-local address"),
    ],
)
def test_a_public_server_refuses_an_endpoint_that_is_not_public_before_connecting(
    page_server: PageServer, scripted_server: Any, host: str, refusal: str
) -> None:
    endpoint = scripted_server()
    server = page_server(verify_targets="public")
    url = f"https://{host}:{endpoint.port}/sms"
    problem = api_refusal(server, {"url": url, "to": TO})
    assert problem["status"] == 422 and problem["type"].endswith("/target-refused")
    assert problem["detail"] == f"{refusal}: this checker reaches public addresses only"
    assert endpoint.requests == []


def test_a_public_server_refuses_a_name_that_resolves_to_loopback(
    page_server: PageServer, scripted_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = scripted_server(hosts=("partner.test",))
    system = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "partner.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port)))]
        return system(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    server = page_server(verify_targets="public")
    url = f"https://partner.test:{endpoint.port}/sms"
    problem = api_refusal(server, {"url": url, "to": TO})
    assert problem["detail"].startswith("partner.test (127.0.0.1) is a loopback address")
    assert endpoint.requests == []


# -- listing, guards, off --------------------------------------------------------------------


def test_without_an_admin_token_a_client_lists_its_own_runs_only(
    page_server: PageServer, slow_endpoint: dict[str, Any]
) -> None:
    server = page_server()
    status, _headers, started = post_from(
        server.base_url, "127.0.0.2", "/api/verify/runs", slow_endpoint
    )
    assert status == 202
    mine = requests.get(f"{server.base_url}/api/verify/runs", timeout=10).json()
    assert mine == {"total": 0, "runs": []}
    # The link is the key: whoever has it sees the run.
    assert requests.get(f"{server.base_url}/api/verify/runs/{started['id']}", timeout=10).ok


def test_an_admin_token_guards_the_api_and_lists_every_run(
    page_server: PageServer, slow_endpoint: dict[str, Any]
) -> None:
    server = page_server(admin_token="verify-admin")
    assert start_run(server.base_url, slow_endpoint).status_code == 401
    assert requests.get(f"{server.base_url}/api/verify/runs", timeout=10).status_code == 401
    token = {"Authorization": "Bearer verify-admin"}
    assert start_run(server.base_url, slow_endpoint, headers=token).status_code == 202
    listed = requests.get(f"{server.base_url}/api/verify/runs", headers=token, timeout=10)
    assert listed.json()["total"] == 1


def test_a_cross_site_start_is_refused(page_server: PageServer) -> None:
    server = page_server()
    answer = start_run(
        server.base_url,
        {"url": "https://sms.example/", "to": TO},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert answer.status_code == 403 and answer.json()["type"].endswith("/cross-site")


def test_verify_targets_off_removes_the_page_the_api_and_their_documentation(
    page_server: PageServer,
) -> None:
    server = page_server(verify_targets="off")
    base = server.base_url
    assert requests.get(f"{base}/verify", timeout=10).status_code == 404
    assert requests.get(f"{base}/verify/runs", timeout=10).status_code == 404
    assert start_run(base, {"url": "https://sms.example/", "to": TO}).status_code == 404
    document = requests.get(f"{base}/openapi.json", timeout=10).json()
    assert not [path for path in document["paths"] if "verify" in path]
    assert 'href="/verify"' not in requests.get(f"{base}/", timeout=10).text


def test_every_route_is_in_the_openapi_document(page_server: PageServer) -> None:
    document = requests.get(f"{page_server().base_url}/openapi.json", timeout=10).json()
    paths = document["paths"]
    assert set(paths["/api/verify/runs"]) == {"get", "post"}
    assert set(paths["/api/verify/runs/{id}"]) == {"parameters", "get"}
    for extension in ("html", "json", "xml", "md"):
        assert "get" in paths[f"/api/verify/runs/{{id}}/report.{extension}"]
    post = paths["/api/verify/runs"]["post"]
    assert set(post["responses"]) >= {"202", "400", "403", "413", "415", "422", "429"}
    assert document["components"]["schemas"]["VerifyRunRequest"]["required"] == ["url", "to"]


def test_the_config_refuses_an_unknown_verify_mode_and_a_cap_out_of_range(tmp_path: Path) -> None:
    base = ProviderConfig(db_path=tmp_path / "db")
    with pytest.raises(ValueError, match="verify targets must be public, any or off"):
        replace(base, verify_targets="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="between 1 and 100"):
        replace(base, verify_max_runs=0)
