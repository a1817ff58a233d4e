"""What one app instance holds: its configuration and its inbox."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.inbox import Inbox

EXTENSION = "sms_contract"


@dataclass(frozen=True)
class ProviderState:
    """The configuration and the inbox of the running app."""

    config: ProviderConfig
    inbox: Inbox


def provider() -> ProviderState:
    """The state of the app handling the current request."""
    state: ProviderState = current_app.extensions[EXTENSION]
    return state
