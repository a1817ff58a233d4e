"""The sender against the fake provider, over real HTTPS with certificate checks."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sms_contract import build_payload
from sms_contract.exceptions import ProviderRejected
from sms_contract.sender.client import ConnectionOutcome, ProviderClient

PARTNER = ("partner", "s3cret-pass")


@pytest.fixture
def strict_provider(make_sms_provider):
    return make_sms_provider(auth="strict", credentials=(PARTNER,))


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=400))
def test_any_unicode_text_built_by_the_sender_is_accepted_without_violation_or_warning(
    sms_provider, text
):
    payload = build_payload("+33612345678", text, sender="INOCX")
    with ProviderClient(sms_provider.url, ca_bundle=sms_provider.ca_bundle) as client:
        result = client.send(payload)
    assert result.status == 200
    message = sms_provider.wait_for(payload.ret_id)
    assert (message["status"], message["violations"], message["warnings"]) == ("accepted", [], [])
    assert message["payload"]["credits"] == payload.credits


@pytest.mark.parametrize("sender", [None, ""])
def test_a_send_without_sender_reaches_the_provider_as_marketing(sms_provider, sender):
    payload = build_payload("+33612345678", "Promo -20%", sender=sender, type="NOTIFICATION")
    with ProviderClient(sms_provider.url, ca_bundle=sms_provider.ca_bundle) as client:
        client.send(payload)
    assert sms_provider.wait_for(payload.ret_id)["type"] == "MARKETING"


def test_a_national_number_reaches_the_provider_in_e164(sms_provider):
    payload = build_payload("06 12 34 56 78", "RDV demain", sender="INOCX", default_region="FR")
    with ProviderClient(sms_provider.url, ca_bundle=sms_provider.ca_bundle) as client:
        client.send(payload)
    assert sms_provider.wait_for(payload.ret_id)["to"] == "+33612345678"


def test_a_resend_of_the_same_payload_is_recognised_as_a_retry(sms_provider):
    payload = build_payload("+33612345678", "hello", sender="INOCX")
    with ProviderClient(sms_provider.url, ca_bundle=sms_provider.ca_bundle) as client:
        first, second = client.send(payload), client.send(payload)
    assert second.message_id == first.message_id
    assert second.duplicate is True
    assert len(sms_provider.messages()) == 1


def test_the_right_credentials_are_accepted_by_a_strict_provider(strict_provider):
    payload = build_payload("+33612345678", "hello", sender="INOCX")
    client = ProviderClient(strict_provider.url, *PARTNER, ca_bundle=strict_provider.ca_bundle)
    assert client.send(payload).status == 200
    assert strict_provider.wait_for(payload.ret_id)["login"] == "partner"


def test_a_wrong_password_is_a_permanent_rejection_sent_once(strict_provider):
    payload = build_payload("+33612345678", "hello", sender="INOCX")
    client = ProviderClient(
        strict_provider.url, "partner", "Xy9-bad-secret", ca_bundle=strict_provider.ca_bundle
    )
    with pytest.raises(ProviderRejected) as refused:
        client.send(payload)
    assert refused.value.status == 401
    assert "Xy9-bad-secret" not in str(refused.value)


def test_test_connection_tells_good_from_bad_credentials(strict_provider):
    good = ProviderClient(strict_provider.url, *PARTNER, ca_bundle=strict_provider.ca_bundle)
    bad = ProviderClient(
        strict_provider.url, "partner", "nope", ca_bundle=strict_provider.ca_bundle
    )
    assert good.test_connection().outcome is ConnectionOutcome.OK
    assert bad.test_connection().outcome is ConnectionOutcome.BAD_CREDENTIALS


def test_the_fake_provider_certificate_is_refused_without_its_ca(sms_provider):
    check = ProviderClient(sms_provider.url).test_connection()
    assert check.outcome is ConnectionOutcome.TLS_PROBLEM
