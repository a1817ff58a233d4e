"""The admin API and the operational routes, one module per resource."""

from __future__ import annotations

from flask import Flask

from sms_contract.mock_provider.api import faults, messages, meta, verify
from sms_contract.mock_provider.config import ProviderConfig


def register(app: Flask, config: ProviderConfig) -> None:
    """Add every API blueprint to ``app`` (``/api/verify`` unless ``verify_targets`` is off)."""
    app.url_map.converters["rule_id"] = faults.RuleIdConverter
    modules = [messages, faults, meta]
    if config.verify_targets != "off":
        modules.append(verify)
    for module in modules:
        app.register_blueprint(module.blueprint)
