"""What one app instance holds: its configuration, its inbox, its fault store, its
UI sessions and the caps on requests that stay open."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.limits import Slots
from sms_contract.mock_provider.storage.faults import FaultStore
from sms_contract.mock_provider.storage.inbox import Inbox
from sms_contract.mock_provider.storage.sessions import SessionStore

EXTENSION = "sms_contract"


@dataclass(frozen=True)
class ProviderState:
    """The configuration, the inbox and the fault store of the running app."""

    config: ProviderConfig
    inbox: Inbox
    faults: FaultStore
    sessions: SessionStore
    #: Open event streams and waits of this process (``config.max_streams``, ``max_waits``).
    streams: Slots = field(init=False)
    waits: Slots = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "streams", Slots(self.config.max_streams))
        object.__setattr__(self, "waits", Slots(self.config.max_waits))


def provider() -> ProviderState:
    """The state of the app handling the current request."""
    state: ProviderState = current_app.extensions[EXTENSION]
    return state
