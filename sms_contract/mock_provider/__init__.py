"""The fake SMS provider: a Flask app over one SQLite inbox, served by gunicorn.

The public API::

    from sms_contract.mock_provider import LiveProvider, ProviderConfig, UpstreamConfig, create_app

Names are imported on first use, so that loading the pytest plugin (a module of
this package) stays cheap.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sms_contract.mock_provider.app import create_app
    from sms_contract.mock_provider.config import ProviderConfig
    from sms_contract.mock_provider.testing import LiveProvider
    from sms_contract.mock_provider.upstream import UpstreamConfig

__all__ = ["LiveProvider", "ProviderConfig", "UpstreamConfig", "create_app"]

_HOMES = {
    "create_app": "sms_contract.mock_provider.app",
    "ProviderConfig": "sms_contract.mock_provider.config",
    "LiveProvider": "sms_contract.mock_provider.testing",
    "UpstreamConfig": "sms_contract.mock_provider.upstream",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(_HOMES[name]), name)
