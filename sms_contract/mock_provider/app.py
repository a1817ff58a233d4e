"""The Flask app factory of the fake provider."""

from __future__ import annotations

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from sms_contract.mock_provider import api, send, ui
from sms_contract.mock_provider.api import meta
from sms_contract.mock_provider.api.guard import check_host
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.openapi import mock_openapi
from sms_contract.mock_provider.problems import problem, unexpected_error
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.state import attach, upstream_client_of

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    413: "payload-too-large",
    415: "unsupported-media-type",
}


def create_app(config: ProviderConfig | None = None) -> Flask:
    """Build the fake provider for ``config`` (defaults when ``None``).

    The app applies the fault rules already in its database; a server start
    replaces them with the configuration's (``ProviderState.install_start_rules``).
    """
    config = config or ProviderConfig()
    app = Flask(__name__, static_folder="ui/static")
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    state = ProviderState(config)
    attach(app, state)
    # The send URL is answered in front of Flask (send.py says why).
    app.wsgi_app = send.SendRoute(app.wsgi_app, state, upstream_client_of(app))  # type: ignore[method-assign]
    app.extensions[meta.OPENAPI_EXTENSION] = mock_openapi(config)
    app.before_request(check_host)
    api.register(app, config)
    app.register_blueprint(ui.blueprint)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, unexpected_error)
    return app


def _http_error(error: HTTPException) -> Response:
    slug = _HTTP_SLUGS.get(error.code or 400, "bad-request")
    response = problem(slug, error.description or slug)
    if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
        response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
    return response
