"""Fault injection over HTTP: rules added at run time, the magic recipients, what the
inbox records, and the /api/faults admin routes (in-process server, HTTPS)."""

import time
import uuid

import pytest
import requests
from helpers.sends import FAIL_TWICE, FR, post, sms
from openapi_spec_validator import validate

from sms_contract import build_payload
from sms_contract.mock_provider.app import create_app
from sms_contract.mock_provider.faults.magic import MAGIC
from sms_contract.mock_provider.testing import provider_config
from sms_contract.sender.client import ProviderClient, RetryPolicy


def payload(to=FR, text="Votre code est 1234", **fields):
    return sms(text, to=to, **fields)


def statuses(provider, bodies):
    return [post(provider, body).status_code for body in bodies]


# -- status ----------------------------------------------------------------------


def test_a_status_rule_answers_problem_json_with_retry_after_and_the_send_is_not_accepted(
    sms_provider,
):
    rule = sms_provider.add_fault(status=503, retry_after=7, to=FR, detail="maintenance")
    body = payload()
    answer = post(sms_provider, body)
    assert answer.status_code == 503
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert answer.headers["Retry-After"] == "7"
    problem = answer.json()
    assert (problem["status"], problem["detail"], problem["retId"]) == (
        503,
        "maintenance",
        body["retId"],
    )
    assert problem["fault"] == {"rule": rule["id"], "action": "status", "attempt": 1, "status": 503}
    (message,) = sms_provider.messages()
    assert (message["status"], message["httpStatus"]) == ("rejected", 503)
    assert message["faults"] == [problem["fault"]]
    assert message["response"] == problem


@pytest.mark.parametrize("code", [400, 408, 500, 502, 503])
def test_a_magic_status_recipient_answers_that_status_with_no_configuration(sms_provider, code):
    answer = post(sms_provider, payload(to=f"+447700900{code}"))
    assert answer.status_code == code
    assert answer.json()["fault"]["rule"] == f"magic-{code}"
    assert "Retry-After" not in answer.headers


def test_the_magic_429_recipient_is_rate_limited_with_retry_after(sms_provider):
    answer = post(sms_provider, payload(to="+447700900429"))
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "1")


def test_an_injected_401_carries_the_basic_challenge(sms_provider):
    answer = post(sms_provider, payload(to="+447700900401"))
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_a_fault_on_a_payload_that_breaks_the_contract_answers_the_fault_and_keeps_the_violations(
    sms_provider,
):
    sms_provider.add_fault(status=503)
    answer = post(sms_provider, payload(credits=0))
    assert answer.status_code == 503
    (message,) = sms_provider.messages()
    assert message["status"] == "rejected"
    assert any(v["pointer"] == "/credits" for v in message["violations"])


def test_a_fault_that_lets_a_send_through_never_accepts_a_contract_violation(sms_provider):
    sms_provider.add_fault(delay=0.05)
    sms_provider.add_fault(status=503, times=1)
    bad = payload(credits=0)
    assert statuses(sms_provider, [bad, bad]) == [503, 422]


def test_a_body_that_is_not_a_json_object_is_refused_before_any_fault(sms_provider):
    sms_provider.add_fault(status=503)
    not_json = requests.post(
        sms_provider.url,
        data=b"{not json",
        headers={"Content-Type": "application/json"},
        verify=sms_provider.ca_bundle,
        timeout=10,
    )
    assert not_json.status_code == 400
    (message,) = sms_provider.messages()
    assert message["faults"] == []


# -- times, probability, scope -------------------------------------------------------


def test_the_fail_twice_recipient_answers_503_503_then_accepts_and_the_inbox_shows_each_attempt(
    sms_provider,
):
    body = payload(to=FAIL_TWICE)
    assert statuses(sms_provider, [body, body, body, body]) == [503, 503, 200, 200]
    rows = sms_provider.messages(retId=body["retId"])
    assert [(m["status"], m["httpStatus"]) for m in rows] == [
        ("rejected", 503),
        ("rejected", 503),
        ("accepted", 200),
    ]
    assert [f["attempt"] for m in rows for f in m["faults"]] == [1, 2]
    assert {f["rule"] for m in rows for f in m["faults"]} == {"magic-302"}
    assert rows[-1]["attempts"] == 2  # the fourth send is a retry of the accepted one
    assert statuses(sms_provider, [payload(to=FAIL_TWICE)]) == [503]  # a new retId


def test_times_applies_a_rule_to_the_first_attempts_of_each_ret_id(sms_provider):
    sms_provider.add_fault(status=500, times=1, to=FR)
    first, second = payload(), payload()
    assert statuses(sms_provider, [first, first, second, second]) == [500, 200, 500, 200]


def test_the_sender_client_retries_through_fail_twice_and_succeeds_on_the_third_attempt(
    sms_provider,
):
    message = build_payload(FAIL_TWICE, "hello", sender="INOCX")
    policy = RetryPolicy(max_attempts=4, backoff_base=0.01, backoff_max=0.05)
    with ProviderClient(sms_provider.url, ca_bundle=sms_provider.ca_bundle, retry=policy) as client:
        result = client.send(message)
    assert (result.status, result.attempts) == (200, 3)


def test_the_sender_client_honours_the_retry_after_of_a_429_then_accept_recipient(sms_provider):
    message = build_payload("+447700900311", "hello", sender="INOCX")
    policy = RetryPolicy(max_attempts=3, backoff_base=0.01, backoff_max=0.05)
    with ProviderClient(sms_provider.url, ca_bundle=sms_provider.ca_bundle, retry=policy) as client:
        result = client.send(message)
    assert (result.status, result.attempts) == (200, 2)
    assert result.elapsed >= 0.9


def test_probability_zero_never_applies_and_one_always_does(sms_provider):
    sms_provider.add_fault(status=500, probability=0, to=FR)
    assert statuses(sms_provider, [payload() for _ in range(5)]) == [200] * 5
    sms_provider.add_fault(status=502, probability=1, to=FR)
    assert statuses(sms_provider, [payload() for _ in range(3)]) == [502] * 3


def test_a_rule_is_scoped_to_the_test_namespace_unless_asked_for_all(
    sms_provider, make_sms_provider
):
    other = make_sms_provider()
    sms_provider.add_fault(status=503, text="scoped")
    assert statuses(other, [payload(text="scoped")]) == [200]
    assert statuses(sms_provider, [payload(text="scoped")]) == [503]
    everywhere = sms_provider.add_fault(status=504, text="all-namespaces", all_namespaces=True)
    try:
        assert statuses(other, [payload(text="all-namespaces")]) == [504]
    finally:
        sms_provider.remove_fault(everywhere["id"])


def test_a_rule_matches_on_login_and_type(sms_provider):
    sms_provider.add_fault(status=503, login="inocx", type="MARKETING")
    marketing = build_payload(FR, "Promo", sender=None).to_json_dict()
    assert post(sms_provider, marketing, auth=("inocx", "pw")).status_code == 503
    assert post(sms_provider, marketing, auth=("other", "pw")).status_code == 200
    assert post(sms_provider, payload(), auth=("inocx", "pw")).status_code == 200


def test_the_fault_context_manager_removes_its_rule_on_exit(sms_provider):
    with sms_provider.fault(status=503, times=2, to=FR) as rule:
        assert [r["id"] for r in sms_provider.faults()] == [rule["id"]]
        assert statuses(sms_provider, [payload()]) == [503]
    assert sms_provider.faults() == []
    assert statuses(sms_provider, [payload()]) == [200]


# -- delay ---------------------------------------------------------------------------


def test_a_delay_gives_the_normal_answer_late_and_records_the_seconds(sms_provider):
    sms_provider.add_fault(delay=[0.2, 0.3], to=FR)
    started = time.monotonic()
    assert statuses(sms_provider, [payload()]) == [200]
    assert time.monotonic() - started >= 0.2
    (message,) = sms_provider.messages()
    (entry,) = message["faults"]
    assert entry["action"] == "delay" and 0.2 <= entry["seconds"] <= 0.3


def test_delays_add_up_and_a_later_status_rule_still_answers(sms_provider):
    sms_provider.add_fault(delay=0.1)
    sms_provider.add_fault(delay=0.1)
    sms_provider.add_fault(status=503)
    started = time.monotonic()
    assert statuses(sms_provider, [payload()]) == [503]
    assert time.monotonic() - started >= 0.2
    (message,) = sms_provider.messages()
    assert [f["action"] for f in message["faults"]] == ["delay", "delay", "status"]


def test_the_faults_of_a_retry_are_added_to_the_one_accepted_entry(sms_provider):
    body = payload()
    assert statuses(sms_provider, [body]) == [200]
    sms_provider.add_fault(delay=0.01)
    retry = post(sms_provider, body).json()
    assert (retry["duplicate"], retry["attempts"]) == (True, 2)
    (message,) = sms_provider.messages()
    assert [(f["action"], f["attempt"]) for f in message["faults"]] == [("delay", 1)]


# -- rate limit -------------------------------------------------------------------


def test_a_rate_limit_answers_429_with_the_seconds_until_a_slot_frees(sms_provider):
    sms_provider.add_fault(rate_limit={"limit": 2, "window": 60})
    assert statuses(sms_provider, [payload(), payload()]) == [200, 200]
    refused = post(sms_provider, payload())
    assert refused.status_code == 429
    assert 58 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["type"].endswith("/rate-limited")


def test_a_rate_limit_frees_a_slot_after_retry_after(sms_provider):
    sms_provider.add_fault(rate_limit={"limit": 1, "window": 1})
    assert statuses(sms_provider, [payload()]) == [200]
    refused = post(sms_provider, payload())
    assert refused.status_code == 429
    wait = int(refused.headers["Retry-After"])
    assert wait == 1
    time.sleep(wait)
    assert statuses(sms_provider, [payload()]) == [200]


def test_a_rate_limit_per_login_counts_each_login_apart(sms_provider):
    sms_provider.add_fault(rate_limit={"limit": 1, "window": 60, "per": "login"})
    codes = [
        post(sms_provider, payload(), auth=(login, "pw")).status_code
        for login in ("alice", "bob", "alice", "bob")
    ]
    assert codes == [200, 200, 429, 429]


# -- connection faults through requests --------------------------------------------


@pytest.mark.parametrize("to", ["+447700900001", "+447700900002"], ids=["reset", "empty"])
def test_a_connection_fault_gives_the_client_no_answer_and_is_recorded(sms_provider, to):
    # Under TLS, Python's client sees a reset as an early EOF; test_faults_wire tells them apart.
    with pytest.raises(requests.ConnectionError):
        post(sms_provider, payload(to=to))
    (message,) = sms_provider.messages()
    assert (message["status"], message["httpStatus"], message["response"]) == ("rejected", 0, None)


def test_a_truncated_answer_loses_the_acceptance_and_the_retry_is_a_duplicate(sms_provider):
    sms_provider.add_fault(truncate=True, times=1, to=FR)
    body = payload()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        post(sms_provider, body)
    assert post(sms_provider, body).json()["duplicate"] is True
    (message,) = sms_provider.messages()
    assert (message["status"], message["attempts"]) == ("accepted", 2)
    assert message["faults"][0]["action"] == "truncate"


# -- the admin API ---------------------------------------------------------------------


def test_a_rule_posted_to_the_api_gets_201_an_id_and_a_location(sms_provider):
    answer = sms_provider.api("POST", "/api/faults", json={"status": 503, "namespace": "x"})
    assert answer.status_code == 201
    rule = answer.json()
    assert answer.headers["Location"] == f"/api/faults/{rule['id']}"
    assert sms_provider.api("GET", answer.headers["Location"]).json() == rule
    assert sms_provider.api("DELETE", f"/api/faults/{rule['id']}").status_code == 204
    assert sms_provider.api("DELETE", f"/api/faults/{rule['id']}").status_code == 404


def test_rules_are_listed_in_the_order_they_are_tried(sms_provider):
    ids = [
        sms_provider.add_fault(delay=0.01, id=f"r{uuid.uuid4().hex[:6]}-{n}")["id"]
        for n in range(3)
    ]
    assert [rule["id"] for rule in sms_provider.faults()] == ids
    assert sms_provider.clear_faults() == 3
    assert sms_provider.faults() == []


@pytest.mark.parametrize(
    ("body", "status", "pointer"),
    [
        ({"status": 200}, 422, "/status"),
        ({"to": FR}, 422, ""),
        ({"delay": [1, -2]}, 422, "/delay"),
        ({"delay": 3600}, 422, ""),
        ({"status": 503, "id": "magic-400"}, 422, "/id"),
        ({"status": 503, "hello": 1}, 422, "/hello"),
        ([{"status": 503}], 400, ""),
    ],
)
def test_a_bad_rule_is_refused_with_a_problem_naming_the_field(sms_provider, body, status, pointer):
    answer = sms_provider.api("POST", "/api/faults", json=body)
    assert answer.status_code == status
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert pointer in [v["pointer"] for v in answer.json()["violations"]]


def test_a_body_that_is_not_json_is_a_400_and_a_taken_id_a_409(sms_provider):
    raw = sms_provider.api(
        "POST", "/api/faults", data=b"status: 503", headers={"Content-Type": "application/json"}
    )
    assert raw.status_code == 400
    rule_id = f"unique-{uuid.uuid4().hex[:8]}"
    sms_provider.add_fault(status=503, id=rule_id)
    again = sms_provider.api("POST", "/api/faults", json={"status": 500, "id": rule_id})
    assert again.status_code == 409


def test_the_magic_rules_are_listed_and_cannot_be_deleted(sms_provider):
    listed = sms_provider.api("GET", "/api/faults/magic").json()["magic"]
    assert [rule["id"] for rule in listed] == [rule.id for rule in MAGIC]
    assert sms_provider.api("DELETE", "/api/faults/magic-503").status_code == 403
    assert sms_provider.api("GET", "/api/faults/magic-503").json()["status"] == 503


def test_the_faults_api_needs_the_admin_token_when_one_is_set(make_sms_provider):
    guarded = make_sms_provider(admin_token="t0ken")
    anonymous = requests.get(guarded.base_url + "/api/faults", verify=guarded.ca_bundle, timeout=10)
    assert anonymous.status_code == 401
    assert guarded.add_fault(status=503)["namespace"] == guarded.namespace


def test_rules_given_in_the_configuration_apply_from_the_start(make_sms_provider):
    started = make_sms_provider(faults=({"id": "from-config", "text": "BOOM", "status": 507},))
    assert [r["id"] for r in started.api("GET", "/api/faults").json()["faults"]] == ["from-config"]
    assert statuses(started, [payload(text="BOOM")]) == [507]


def test_clearing_the_inbox_starts_the_attempts_of_a_ret_id_again(sms_provider):
    body = payload(to="+447700900301")
    assert statuses(sms_provider, [body, body]) == [503, 200]
    sms_provider.clear()
    assert statuses(sms_provider, [body]) == [503]


def test_without_access_to_the_socket_a_connection_fault_answers_502(tmp_path):
    app = create_app(provider_config(tmp_path))
    answer = app.test_client().post("/sms", json=payload(to="+447700900001"))
    assert answer.status_code == 502
    assert "fallback" in answer.get_json()["fault"]


def test_the_served_openapi_describes_the_faults_api_and_stays_valid(sms_provider):
    document = sms_provider.api("GET", "/openapi.json").json()
    validate(document)
    assert {"/api/faults", "/api/faults/magic", "/api/faults/{id}"} <= set(document["paths"])
    assert "FaultRule" in document["components"]["schemas"]
    assert "5XX" in document["paths"]["/sms"]["post"]["responses"]
