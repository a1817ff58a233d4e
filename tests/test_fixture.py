"""The ``sms_provider`` pytest fixture, as its users write tests with it."""

import requests

from sms_contract import build_payload


def test_a_send_to_the_fixture_url_is_waited_for_and_listed(sms_provider):
    payload = build_payload("+33612345678", "Votre RDV est confirmé", sender="INOCX")
    answer = requests.post(
        sms_provider.url, json=payload.to_json_dict(), verify=sms_provider.ca_bundle, timeout=10
    )
    assert answer.status_code == 200
    message = sms_provider.wait_for(payload.ret_id, timeout=5)
    assert message["status"] == "accepted"
    assert message["payload"] == payload.to_json_dict()
    assert [m["retId"] for m in sms_provider.messages()] == [payload.ret_id]


def test_each_test_gets_an_empty_namespace_of_its_own(sms_provider):
    assert sms_provider.messages() == []


def test_wait_for_raises_timeout_error_when_nothing_arrives(sms_provider):
    try:
        sms_provider.wait_for("never-sent", timeout=0.2)
    except TimeoutError as error:
        assert "never-sent" in str(error)
    else:
        raise AssertionError("wait_for returned without a message")


def test_clear_empties_only_this_namespace(sms_provider, make_sms_provider):
    other = make_sms_provider()
    for provider in (sms_provider, other):
        provider.send(build_payload("+33612345678", "hello", sender="INOCX"))
    assert sms_provider.clear() == 1
    assert sms_provider.messages() == []
    assert len(other.messages()) == 1


def test_strict_auth_provider_refuses_a_send_without_credentials(make_sms_provider):
    provider = make_sms_provider(auth="strict", credentials=(("inocx", "s3cret"),))
    payload = build_payload("+33612345678", "hello", sender="INOCX").to_json_dict()
    refused = requests.post(provider.url, json=payload, verify=provider.ca_bundle, timeout=10)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert provider.send(payload).status_code == 200
