"""The admin API and the operational routes, one module per resource."""

from __future__ import annotations

from flask import Flask

from sms_contract.mock_provider.api import faults, messages, meta


def register(app: Flask) -> None:
    """Add every API blueprint to ``app``."""
    for module in (messages, faults, meta):
        app.register_blueprint(module.blueprint)
