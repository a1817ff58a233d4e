"""The fake provider over real HTTP: answers, idempotency, auth, admin API, inbox."""

from __future__ import annotations

import base64
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from helpers.sends import post, sms

from sms_contract import build_payload
from sms_contract.mock_provider.testing import LiveProvider, SmsProvider, provider_config

LOGIN, PASSWORD = "inocx.platform", "pa55-W0rd-never-stored"
ADMIN_TOKEN = "admin-t0ken-for-tests"


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[Any]:
    """A factory of private plain-HTTP servers (for tests that clear or prune everything)."""
    servers: list[LiveProvider] = []

    def make(**options: Any) -> SmsProvider:
        server = LiveProvider(provider_config(tmp_path / f"s{len(servers)}", **options))
        servers.append(server)
        return server.view()

    yield make
    for server in servers:
        server.stop()


# -- the answer and idempotency ---------------------------------------------------------


def test_an_accepted_send_answers_id_ret_id_status_and_credits_only(sms_provider):
    payload = sms()
    answer = post(sms_provider, payload)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    body = answer.json()
    assert set(body) == {"id", "retId", "status", "credits"}
    assert body["retId"] == payload["retId"]
    assert body["status"] == "accepted"
    assert body["credits"] == payload["credits"]
    assert isinstance(body["id"], int)


def test_a_retry_with_the_same_body_gets_the_same_id_marked_duplicate_and_is_stored_once(
    sms_provider,
):
    payload = sms()
    first = post(sms_provider, payload).json()
    second = post(sms_provider, payload).json()
    third = post(sms_provider, payload).json()
    assert "duplicate" not in first
    assert second["id"] == third["id"] == first["id"]
    assert second["duplicate"] is True and second["attempts"] == 2
    assert third["duplicate"] is True and third["attempts"] == 3
    stored = sms_provider.messages()
    assert len(stored) == 1
    assert stored[0]["attempts"] == 3


def test_a_retry_with_the_fields_in_another_order_is_still_a_retry(sms_provider):
    payload = sms()
    first = post(sms_provider, payload).json()
    reordered = dict(reversed(list(payload.items())))
    again = post(sms_provider, reordered).json()
    assert again["id"] == first["id"]
    assert again["duplicate"] is True


def test_the_same_ret_id_with_a_different_body_is_a_409_problem(sms_provider):
    payload = sms()
    first = post(sms_provider, payload).json()
    changed = sms("Another text", retId=payload["retId"])
    answer = post(sms_provider, changed)
    assert answer.status_code == 409
    assert answer.headers["Content-Type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 409
    assert problem["type"].endswith("/ret-id-conflict")
    assert problem["retId"] == payload["retId"]
    assert {"pointer": "/retId", "code": "ret_id_conflict"}.items() <= problem["violations"][
        0
    ].items()
    accepted = sms_provider.accepted()
    assert [m["id"] for m in accepted] == [first["id"]]
    assert accepted[0]["text"] == payload["text"]
    assert [m["httpStatus"] for m in sms_provider.rejected()] == [409]


def test_namespaces_isolate_messages_and_ret_ids(make_sms_provider):
    one, two = make_sms_provider(), make_sms_provider()
    payload = sms()
    first, second = post(one, payload).json(), post(two, payload).json()
    assert first["id"] != second["id"]
    assert "duplicate" not in second
    assert [m["id"] for m in one.messages()] == [first["id"]]
    assert [m["id"] for m in two.messages()] == [second["id"]]
    assert all(m["namespace"] == one.namespace for m in one.messages())


# -- auth modes --------------------------------------------------------------------------


def test_auth_none_accepts_sends_with_or_without_credentials(sms_provider):
    assert post(sms_provider, sms()).status_code == 200
    assert post(sms_provider, sms(), auth=("anyone", "anything")).status_code == 200
    assert {m["login"] for m in sms_provider.messages()} == {None, "anyone"}


def test_auth_any_requires_basic_credentials_but_accepts_any(make_sms_provider):
    provider = make_sms_provider(auth="any")
    refused = post(provider, sms())
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert post(provider, sms(), auth=("whoever", "whatever")).status_code == 200


@pytest.fixture
def strict_provider(make_sms_provider) -> SmsProvider:
    """A provider that only lets ``LOGIN:PASSWORD`` in."""
    return make_sms_provider(auth="strict", credentials=((LOGIN, PASSWORD),))


@pytest.mark.parametrize(
    "auth",
    [None, (LOGIN, "wrong"), ("someone-else", PASSWORD)],
    ids=["none", "bad-password", "bad-login"],
)
def test_auth_strict_refuses_missing_or_wrong_credentials_with_a_basic_challenge(
    strict_provider, auth
):
    refused = post(strict_provider, sms(), auth=auth)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert refused.json()["type"].endswith("/unauthorized")
    assert strict_provider.messages() == []


def test_auth_strict_accepts_the_configured_pair(strict_provider):
    assert post(strict_provider, sms(), auth=(LOGIN, PASSWORD)).status_code == 200
    assert [m["login"] for m in strict_provider.messages()] == [LOGIN]


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_test_connection_is_200_with_good_credentials_and_401_without(strict_provider, method):
    def call(auth: tuple[str, str] | None) -> requests.Response:
        return requests.request(
            method, strict_provider.url, auth=auth, verify=strict_provider.ca_bundle, timeout=10
        )

    assert call((LOGIN, PASSWORD)).status_code == 200
    for auth in (None, (LOGIN, "nope")):
        refused = call(auth)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith('Basic realm="')
    assert strict_provider.messages() == []


def test_serve_refuses_a_strict_login_outside_the_contract_characters_in_one_line(tmp_path):
    command = [str(Path(sys.executable).with_name("sms-contract")), "serve", "--port", "0"]
    result = subprocess.run(
        [
            *command,
            "--state-dir",
            str(tmp_path),
            "--auth",
            "strict",
            "--credential",
            "bad login:pw",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "bad login" in lines[0]
    assert "_ + . @ -" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "inbox.sqlite3").exists()


# -- admin API ---------------------------------------------------------------------------


def test_admin_filters_select_by_namespace_to_ret_id_type_status_and_since(sms_provider):
    notification = sms(to="+33611111111")
    marketing = build_payload("+33622222222", "Promo -20%", type="MARKETING").to_json_dict()
    post(sms_provider, notification)
    midpoint = time.time()
    post(sms_provider, marketing)
    post(sms_provider, sms(credits=2))  # rejected: the text needs one credit
    assert len(sms_provider.messages()) == 3

    def ret_ids(**filters: Any) -> list[str]:
        return [m["retId"] for m in sms_provider.messages(**filters)]

    assert ret_ids(to="+33611111111") == [notification["retId"]]
    assert ret_ids(retId=marketing["retId"]) == [marketing["retId"]]
    assert ret_ids(type="MARKETING") == [marketing["retId"]]
    assert len(ret_ids(type="NOTIFICATION")) == 2
    assert ret_ids(status="accepted") == [notification["retId"], marketing["retId"]]
    assert len(ret_ids(status="rejected")) == 1
    since_iso = datetime.fromtimestamp(midpoint, UTC).isoformat()
    assert notification["retId"] not in ret_ids(since=since_iso)
    assert notification["retId"] not in ret_ids(since=str(midpoint))
    assert marketing["retId"] in ret_ids(since=since_iso)
    other = sms_provider.server.view()
    assert other.messages() == []


def test_admin_list_pages_newest_first_with_the_total(sms_provider):
    sent = [post(sms_provider, sms()).json()["id"] for _ in range(5)]
    params = {"namespace": sms_provider.namespace, "limit": 2, "offset": 1}
    page = sms_provider.api("GET", "/api/messages", params=params).json()
    assert page["total"] == 5
    assert [m["id"] for m in page["messages"]] == [sent[3], sent[2]]


def test_admin_get_one_message_by_id_and_404_for_an_unknown_id(sms_provider):
    message_id = post(sms_provider, sms()).json()["id"]
    message = sms_provider.api("GET", f"/api/messages/{message_id}").json()
    assert message["id"] == message_id
    assert message["namespace"] == sms_provider.namespace
    missing = sms_provider.api("GET", "/api/messages/99999999999")
    assert missing.status_code == 404
    assert missing.headers["Content-Type"] == "application/problem+json"


def test_admin_clear_one_namespace_leaves_the_others(own_server):
    one = own_server()
    two = one.server.view()
    for provider in (one, one, two):
        post(provider, sms())
    assert one.clear() == 2
    assert one.messages() == []
    assert len(two.messages()) == 1
    namespaces = one.api("GET", "/api/namespaces").json()["namespaces"]
    assert namespaces == [two.namespace]


def test_admin_clear_without_namespace_empties_every_namespace(own_server):
    one = own_server()
    two = one.server.view()
    for provider in (one, two):
        post(provider, sms())
    deleted = one.api("DELETE", "/api/messages").json()["deleted"]
    assert deleted == 2
    assert one.messages() == [] and two.messages() == []
    assert one.api("GET", "/api/namespaces").json()["namespaces"] == []


def test_admin_wait_answers_when_the_message_arrives_from_another_thread(sms_provider):
    payload = sms()
    started = time.time()

    def send_later() -> None:
        time.sleep(0.3)
        post(sms_provider, payload)

    sender = threading.Thread(target=send_later)
    sender.start()
    try:
        message = sms_provider.wait_for(payload["retId"], timeout=30)
    finally:
        sender.join()
    assert message["retId"] == payload["retId"]
    assert message["status"] == "accepted"
    received = datetime.fromisoformat(message["receivedAt"]).timestamp()
    assert received >= started  # it was not there yet when the wait began


def test_admin_wait_is_a_404_problem_when_nothing_arrives_in_time(sms_provider):
    answer = sms_provider.api(
        "GET",
        "/api/messages/wait",
        params={"retId": "never-sent", "namespace": sms_provider.namespace, "timeout": 0.2},
    )
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.json()["type"].endswith("/wait-timeout")


def test_admin_token_is_required_on_the_api_but_not_on_sends_or_health(make_sms_provider):
    provider = make_sms_provider(admin_token=ADMIN_TOKEN)
    url = provider.base_url + "/api/messages"
    verify = provider.ca_bundle

    def get(headers: dict[str, str]) -> requests.Response:
        return requests.get(url, headers=headers, verify=verify, timeout=10)

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"X-Admin-Token": "wrong"}):
        refused = get(headers)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    assert get({"Authorization": f"Bearer {ADMIN_TOKEN}"}).status_code == 200
    assert get({"X-Admin-Token": ADMIN_TOKEN}).status_code == 200
    assert post(provider, sms()).status_code == 200
    health = requests.get(provider.base_url + "/healthz", verify=verify, timeout=10)
    assert health.status_code == 200


def test_healthz_reports_ok_and_the_versions(sms_provider):
    health = requests.get(
        sms_provider.base_url + "/healthz", verify=sms_provider.ca_bundle, timeout=10
    )
    assert health.status_code == 200
    body = health.json()
    assert body["status"] == "ok"
    assert body["version"] and body["schemaVersion"]


def _metric(text: str, name: str, namespace: str) -> int:
    wanted = f'sms_contract_{name}_total{{namespace="{namespace}"}} '
    values = [line[len(wanted) :] for line in text.splitlines() if line.startswith(wanted)]
    return int(values[0]) if values else 0


def test_metrics_count_per_namespace_in_the_prometheus_format(sms_provider, make_sms_provider):
    other = make_sms_provider()
    payload = sms()
    post(sms_provider, payload)
    post(sms_provider, payload)  # a retry
    post(sms_provider, sms(credits=9))  # rejected
    post(other, sms())
    text = requests.get(
        sms_provider.base_url + "/metrics", verify=sms_provider.ca_bundle, timeout=10
    ).text
    assert "# TYPE sms_contract_received_total counter" in text
    namespace = sms_provider.namespace
    assert _metric(text, "received", namespace) == 3
    assert _metric(text, "accepted", namespace) == 2
    assert _metric(text, "rejected", namespace) == 1
    assert _metric(text, "duplicates", namespace) == 1
    assert _metric(text, "received", other.namespace) == 1


# -- what the inbox records --------------------------------------------------------------


def test_the_inbox_records_a_rejected_send_without_ever_keeping_the_password(make_sms_provider):
    provider = make_sms_provider(auth="any")
    token = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    payload = sms(isUnicode=True, extra="x")
    answer = post(provider, payload, auth=(LOGIN, PASSWORD), headers={"X-Trace": "t-1"})
    assert answer.status_code == 422
    (message,) = provider.messages()
    assert message["status"] == "rejected"
    assert message["httpStatus"] == 422
    assert {"pointer": "/isUnicode", "code": "is_unicode_mismatch"}.items() <= message[
        "violations"
    ][0].items()
    assert [w["code"] for w in message["warnings"]] == ["unknown_field"]
    assert message["headers"]["Authorization"] == "Basic [redacted]"
    assert message["headers"]["X-Trace"] == "t-1"
    assert message["login"] == LOGIN
    assert message["client"] == "127.0.0.1"
    assert isinstance(message["durationMs"], float) and message["durationMs"] >= 0
    assert message["response"] == answer.json()
    outputs = [
        answer.text,
        provider.api("GET", "/api/messages", params={"namespace": provider.namespace}).text,
        provider.api("GET", f"/api/messages/{message['id']}").text,
        provider.api(
            "GET", "/api/messages/wait", params={"retId": payload["retId"], "timeout": 1}
        ).text,
        requests.get(provider.base_url + "/metrics", verify=provider.ca_bundle, timeout=10).text,
        _database_dump(provider),
    ]
    for output in outputs:
        assert PASSWORD not in output
        assert token not in output


def test_a_bare_token_without_a_scheme_is_redacted_whole(sms_provider):
    provider = sms_provider
    secret = base64.b64encode(f"{LOGIN}:{PASSWORD}".encode()).decode()
    post(provider, sms(), headers={"Authorization": secret, "Proxy-Authorization": secret})
    (message,) = provider.messages()
    assert message["headers"]["Authorization"] == "[redacted]"
    assert message["headers"]["Proxy-Authorization"] == "[redacted]"
    assert secret not in _database_dump(provider)


def _database_dump(provider: SmsProvider) -> str:
    db = sqlite3.connect(f"file:{provider.server.config.db_path}?mode=ro", uri=True)
    try:
        return "\n".join(repr(row) for row in db.execute("SELECT * FROM messages"))
    finally:
        db.close()


def test_the_inbox_prunes_the_oldest_messages_beyond_max_messages(own_server):
    provider = own_server(max_messages=5)
    sent = [post(provider, sms()).json()["id"] for _ in range(12)]
    kept = provider.messages()
    assert [m["id"] for m in kept] == sent[-5:]


# -- warnings and strict fields ---------------------------------------------------------


def _warning_codes(answer: requests.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [w["code"] for w in answer.json().get("warnings", [])]


def test_an_unknown_field_is_accepted_with_a_warning(sms_provider):
    answer = post(sms_provider, sms(campaign="spring"))
    assert _warning_codes(answer) == ["unknown_field"]
    assert answer.json()["warnings"][0]["pointer"] == "/campaign"


def test_a_number_phonenumbers_calls_invalid_is_accepted_with_a_warning(sms_provider):
    assert _warning_codes(post(sms_provider, sms(to="+99912345678"))) == ["number_not_valid"]


def test_a_sender_longer_than_operators_allow_is_accepted_with_a_warning(sms_provider):
    answer = post(sms_provider, sms(sender="AVeryLongSenderName"))
    assert _warning_codes(answer) == ["sender_too_long"]


def test_strict_fields_turns_an_unknown_field_into_a_422(make_sms_provider):
    provider = make_sms_provider(strict_fields=True)
    answer = post(provider, sms(campaign="spring"))
    assert answer.status_code == 422
    (violation,) = answer.json()["violations"]
    assert violation["pointer"] == "/campaign"
    assert violation["code"] == "unknown_field"
