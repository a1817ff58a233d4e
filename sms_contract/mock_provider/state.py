"""What one app instance holds: its configuration, its inbox and its fault store."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.storage.faults import FaultStore
from sms_contract.mock_provider.storage.inbox import Inbox

EXTENSION = "sms_contract"


@dataclass(frozen=True)
class ProviderState:
    """The configuration, the inbox and the fault store of the running app."""

    config: ProviderConfig
    inbox: Inbox
    faults: FaultStore


def provider() -> ProviderState:
    """The state of the app handling the current request."""
    state: ProviderState = current_app.extensions[EXTENSION]
    return state
