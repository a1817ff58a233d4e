"""Where a Flask app keeps its ``ProviderState`` (and a proxy its upstream client),
and how a request finds them."""

from __future__ import annotations

from flask import Flask, current_app

from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.upstream import UpstreamClient

#: The key of the app's ``ProviderState`` in ``app.extensions``.
EXTENSION = "sms_contract"
#: The key of a proxy's ``UpstreamClient`` (``None`` for the fake provider).
UPSTREAM_EXTENSION = "sms_contract.upstream"


def attach(app: Flask, state: ProviderState) -> None:
    """Make ``state`` the state of ``app``, and give a proxy its upstream client."""
    app.extensions[EXTENSION] = state
    upstream = state.config.upstream
    app.extensions[UPSTREAM_EXTENSION] = None if upstream is None else UpstreamClient(upstream)


def state_of(app: Flask) -> ProviderState:
    """The state of ``app``."""
    found: ProviderState = app.extensions[EXTENSION]
    return found


def provider() -> ProviderState:
    """The state of the app handling the current request."""
    return state_of(current_app)  # type: ignore[arg-type]


def upstream_client_of(app: Flask) -> UpstreamClient | None:
    """The upstream client of ``app`` (a proxy's; ``None`` for the fake provider)."""
    client: UpstreamClient | None = app.extensions.get(UPSTREAM_EXTENSION)
    return client
