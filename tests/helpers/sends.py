"""Payloads and sends shared by the tests: one place for ``sms`` and ``post``."""

from __future__ import annotations

from typing import Any

import requests

from sms_contract import build_payload

#: A French mobile number, valid for every region check.
FR = "+33612345678"
#: The magic recipient that answers 503 to the first two attempts of each retId.
FAIL_TWICE = "+447700900302"


def sms(text: str = "Votre RDV est confirmé", **fields: Any) -> dict[str, Any]:
    """A valid payload to ``FR`` from the sender (fresh retId, sender INOCX), with
    ``fields`` overriding any field (``to=...`` included, taken as written)."""
    body = build_payload(FR, text, sender="INOCX").to_json_dict()
    return {**body, **fields}


def post(provider: Any, body: Any, **kwargs: Any) -> requests.Response:
    """POST ``body`` as JSON to a provider view's send URL, trusting its CA."""
    kwargs.setdefault("verify", provider.ca_bundle or True)
    kwargs.setdefault("timeout", 30)
    return requests.post(provider.url, json=body, **kwargs)
