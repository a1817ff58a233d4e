"""The web UI's faults page: rules added, refused and removed through the service layer."""

import html

from sms_contract.mock_provider.app import create_app
from sms_contract.mock_provider.testing import provider_config


def test_the_faults_page_lists_adds_refuses_and_removes_rules_of_the_real_api(tmp_path):
    client = create_app(provider_config(tmp_path)).test_client()
    added = client.post(
        "/faults", data={"rule": '{"status": 503, "times": 2, "to": "+33612345678"}'}
    )
    assert added.status_code == 302
    page = html.unescape(client.get("/faults").get_data(as_text=True))
    assert 'data-fault="f1"' in page and '"status": 503' in page and '"times": 2' in page
    refused = html.unescape(
        client.post("/faults", data={"rule": '{"status": 200}'}).get_data(as_text=True)
    )
    assert "The rule was refused (422)" in refused and "/status" in refused
    client.post("/faults/f1/delete")
    assert "No rules" in client.get("/faults").get_data(as_text=True)


def test_the_faults_page_goes_through_the_admin_token(tmp_path):
    client = create_app(provider_config(tmp_path, admin_token="t0ken")).test_client()
    assert client.post("/login", data={"token": "t0ken", "next": "/faults"}).status_code == 302
    assert client.post("/faults", data={"rule": '{"reset": true}'}).status_code == 302
    assert 'data-fault="f1"' in client.get("/faults").get_data(as_text=True)
