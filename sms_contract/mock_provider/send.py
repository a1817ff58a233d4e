"""The send URL: ``POST`` one SMS, ``GET``/``HEAD`` to test the connection.

A thin front over the send pipeline (``pipeline.py``), which lists the steps
and the status each one can answer with.
"""

from __future__ import annotations

from flask import Flask, Request, Response, request

from sms_contract.mock_provider.namespaces import DEFAULT_NAMESPACE
from sms_contract.mock_provider.pipeline import handle_send
from sms_contract.mock_provider.state import provider


def register(app: Flask, send_path: str) -> None:
    """Add the send endpoint at ``send_path`` and ``/ns/<namespace><send_path>``."""
    methods = ["POST", "GET", "HEAD"]
    app.add_url_rule(send_path, "send", receive, methods=methods)
    app.add_url_rule(f"/ns/<namespace>{send_path}", "send_ns", receive, methods=methods)


def receive(namespace: str = DEFAULT_NAMESPACE) -> Response:
    """POST one SMS; GET or HEAD is the test connection."""
    # The request itself, not its context-local proxy: the pipeline reads it often.
    req: Request = request._get_current_object()  # type: ignore[attr-defined]
    return handle_send(provider(), req, namespace)
