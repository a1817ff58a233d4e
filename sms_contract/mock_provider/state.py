"""Where a Flask app keeps its ``ProviderState``, and how a request finds it."""

from __future__ import annotations

from flask import Flask, current_app

from sms_contract.mock_provider.service import ProviderState

#: The key of the app's ``ProviderState`` in ``app.extensions``.
EXTENSION = "sms_contract"


def attach(app: Flask, state: ProviderState) -> None:
    """Make ``state`` the state of ``app``."""
    app.extensions[EXTENSION] = state


def state_of(app: Flask) -> ProviderState:
    """The state of ``app``."""
    found: ProviderState = app.extensions[EXTENSION]
    return found


def provider() -> ProviderState:
    """The state of the app handling the current request."""
    return state_of(current_app)  # type: ignore[arg-type]
