"""The send URL is answered in front of Flask (``send.SendRoute``): it must still
behave as one of the app's routes for everything around the pipeline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from sms_contract.mock_provider import pipeline, send
from sms_contract.mock_provider.app import create_app
from sms_contract.mock_provider.config import ProviderConfig
from tests.helpers.sends import sms

JSON_HEADERS = {"Content-Type": "application/json"}


@pytest.fixture
def client(tmp_path: Path) -> FlaskClient:
    app = create_app(ProviderConfig(db_path=tmp_path / "inbox.sqlite3"))
    yield app.test_client()
    app.extensions["sms_contract"].close()


def test_options_on_the_send_url_lists_its_methods_as_any_flask_route(client):
    answer = client.options("/ns/route/sms")
    assert answer.status_code == 200
    assert answer.headers["Allow"] == "GET, HEAD, OPTIONS, POST"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_another_method_is_a_405_problem_naming_the_allowed_ones(client, method):
    answer = client.open("/sms", method=method)
    assert answer.status_code == 405
    assert answer.headers["Allow"] == "GET, HEAD, OPTIONS, POST"
    assert answer.json["type"].endswith("/method-not-allowed")


def test_a_path_below_the_send_url_is_not_the_send_url(client):
    assert client.post("/ns/a/b/sms", data="{}", headers=JSON_HEADERS).status_code == 404
    assert client.post("/sms/", data="{}", headers=JSON_HEADERS).status_code == 404
    assert client.post("/ns//sms", data="{}", headers=JSON_HEADERS).status_code == 404


def test_a_namespace_outside_the_rule_is_a_404_problem_even_in_utf8(client):
    answer = client.post("/ns/%C3%A9t%C3%A9/sms", data=json.dumps(sms()), headers=JSON_HEADERS)
    assert answer.status_code == 404
    assert "namespace" in answer.json["detail"]


def test_a_head_test_connection_has_no_body(client):
    answer = client.head("/ns/route/sms")
    assert answer.status_code == 200
    assert answer.data == b""


def test_a_failure_in_the_pipeline_is_a_logged_500_problem_not_a_traceback(
    client, monkeypatch, caplog
):
    def broken(*_args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(send, "handle_send", broken)
    with caplog.at_level(logging.ERROR):
        answer = client.post("/sms", data=json.dumps(sms()), headers=JSON_HEADERS)
    assert answer.status_code == 500
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert "boom" not in answer.get_data(as_text=True)
    assert any("unexpected error" in r.getMessage() for r in caplog.records)


def test_other_paths_still_reach_flask(client):
    assert client.get("/api/messages").status_code == 200
    assert client.get("/healthz").status_code == 200
    assert pipeline.handle_send is send.handle_send  # the one pipeline, no copy
