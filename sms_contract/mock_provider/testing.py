"""Run the fake provider in-process for tests, and talk to it like a test would.

``LiveProvider`` is a real threaded HTTP(S) server on a free loopback port;
``SmsProvider`` is one test's view of it (its own namespace). The pytest
plugin builds both; they can also be used without pytest.
"""

from __future__ import annotations

import ssl
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import requests
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from sms_contract.mock_provider.app import create_app
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.state import state_of
from sms_contract.mock_provider.tls import LOCAL_HOSTS, ensure_local_tls
from sms_contract.mock_provider.upstream import UpstreamConfig


class LiveProvider:
    """The fake provider served from a background thread until ``stop()``."""

    def __init__(self, config: ProviderConfig, *, tls_dir: Path | None = None) -> None:
        if config.allowed_hosts is None:
            # Bound to the loopback, like serve's default: a rebinding page reaches nothing.
            config = replace(config, allowed_hosts=LOCAL_HOSTS)
        self.config = config
        self.ca_bundle: str | None = None
        context = None
        if tls_dir is not None:
            files = ensure_local_tls(tls_dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(files.cert, files.key)
            # As under serve: a TCP end without close_notify ends the body, not the session.
            context.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
            self.ca_bundle = str(files.ca_cert)
        self.app = create_app(config)
        self.state = state_of(self.app)
        self.state.install_start_rules()
        # A client that stops sending (even mid-headers) frees its thread in time.
        handler = type("Handler", (WSGIRequestHandler,), {"timeout": config.read_timeout})
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.app, threaded=True, ssl_context=context, request_handler=handler
        )
        scheme = "https" if context else "http"
        self.base_url = f"{scheme}://localhost:{self._server.server_port}"
        # A short poll: ``stop`` returns within it (a test that starts its own
        # servers stops each one).
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving, wait for the server thread, and close every connection opened."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self.state.close()

    @property
    def verify(self) -> str | bool:
        """The ``verify`` argument of requests for this server.

        Pass it on each request: requests lets ``REQUESTS_CA_BUNDLE`` override a
        session-level ``verify``.
        """
        return self.ca_bundle or True

    def view(self, namespace: str | None = None) -> SmsProvider:
        """A view of this server limited to ``namespace`` (a fresh one by default)."""
        return SmsProvider(self, namespace or f"t-{uuid.uuid4().hex[:12]}")


@dataclass
class SmsProvider:
    """One test's fake provider: its own namespace on a shared live server.

    Send to ``url`` (trusting ``ca_bundle``), then read what arrived with
    ``messages()`` or ``wait_for(ret_id)``.
    """

    server: LiveProvider
    namespace: str

    def __post_init__(self) -> None:
        self._http = requests.Session()

    @property
    def url(self) -> str:
        """The send URL of this namespace (give it to the code under test)."""
        return f"{self.server.base_url}/ns/{self.namespace}{self.server.config.send_path}"

    @property
    def base_url(self) -> str:
        """The server's root URL (admin API, UI)."""
        return self.server.base_url

    @property
    def ca_bundle(self) -> str | None:
        """The CA file to trust for HTTPS (``None`` when serving plain HTTP)."""
        return self.server.ca_bundle

    @property
    def auth_mode(self) -> str:
        """``none``, ``any`` or ``strict``."""
        return self.server.config.auth

    @property
    def credentials(self) -> tuple[str, str] | None:
        """The first accepted ``(login, password)`` pair, when auth is strict."""
        pairs = self.server.config.credentials
        return pairs[0] if pairs else None

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the admin API (``path`` like ``/api/messages``)."""
        token = self.server.config.admin_token
        if token:
            kwargs.setdefault("headers", {})["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("verify", self.server.verify)
        return self._http.request(method, self.base_url + path, timeout=65, **kwargs)

    def messages(self, **filters: Any) -> list[dict[str, Any]]:
        """What this namespace received, oldest first (filters as in ``/api/messages``)."""
        params = {"namespace": self.namespace, "limit": 1000, **filters}
        response = self.api("GET", "/api/messages", params=params)
        response.raise_for_status()
        return list(reversed(response.json()["messages"]))

    def accepted(self) -> list[dict[str, Any]]:
        """The accepted messages, oldest first."""
        return self.messages(status="accepted")

    def rejected(self) -> list[dict[str, Any]]:
        """The rejected messages, oldest first."""
        return self.messages(status="rejected")

    def wait_for(self, ret_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The message with ``ret_id`` as soon as it arrives; ``TimeoutError`` if it does not."""
        response = self.api(
            "GET",
            "/api/messages/wait",
            params={"retId": ret_id, "namespace": self.namespace, "timeout": timeout},
        )
        if response.status_code == 404:
            raise TimeoutError(f"no message with retId {ret_id!r} within {timeout} s")
        response.raise_for_status()
        message: dict[str, Any] = response.json()
        return message

    def clear(self) -> int:
        """Delete this namespace's messages; return how many."""
        response = self.api("DELETE", "/api/messages", params={"namespace": self.namespace})
        response.raise_for_status()
        return int(response.json()["deleted"])

    def as_upstream(self, **options: Any) -> UpstreamConfig:
        """This namespace's send URL as a proxy's upstream, trusting this server's CA
        (``options``: the other ``UpstreamConfig`` fields)."""
        ca_bundle = Path(self.ca_bundle) if self.ca_bundle else None
        return UpstreamConfig(self.url, ca_bundle=ca_bundle, **options)

    def send(self, payload: Any, **kwargs: Any) -> requests.Response:
        """POST ``payload`` (a dict, or an ``SmsPayload``) to this namespace."""
        body = payload.to_json_dict() if hasattr(payload, "to_json_dict") else payload
        if self.credentials and "auth" not in kwargs:
            kwargs["auth"] = self.credentials
        kwargs.setdefault("verify", self.server.verify)
        return self._http.post(self.url, json=body, timeout=30, **kwargs)

    # -- faults (docs/faults.md) ----------------------------------------------------

    def add_fault(
        self, rule: Mapping[str, Any] | None = None, *, all_namespaces: bool = False, **fields: Any
    ) -> dict[str, Any]:
        """Add a fault rule, scoped to this namespace unless ``all_namespaces``;
        return it with its ``id``. ``ValueError`` names what the server refused.

        ``sms_provider.add_fault(status=503, times=2, to="+33612345678")``
        """
        body = {**(rule or {}), **fields}
        if not all_namespaces:
            body.setdefault("namespace", self.namespace)
        response = self.api("POST", "/api/faults", json=body)
        if response.status_code != 201:
            problem = response.json()
            found = "; ".join(f"{v['pointer']}: {v['message']}" for v in problem["violations"])
            raise ValueError(f"fault rule refused ({response.status_code}): {found or problem}")
        added: dict[str, Any] = response.json()
        return added

    def remove_fault(self, rule_id: str) -> bool:
        """Delete one rule; whether it existed."""
        response = self.api("DELETE", f"/api/faults/{rule_id}")
        if response.status_code == 404:
            return False
        response.raise_for_status()
        return True

    def faults(self) -> list[dict[str, Any]]:
        """The rules scoped to this namespace, in the order they are tried."""
        response = self.api("GET", "/api/faults", params={"namespace": self.namespace})
        response.raise_for_status()
        return list(response.json()["faults"])

    def clear_faults(self) -> int:
        """Delete the rules scoped to this namespace; return how many."""
        response = self.api("DELETE", "/api/faults", params={"namespace": self.namespace})
        response.raise_for_status()
        return int(response.json()["deleted"])

    @contextmanager
    def fault(
        self, rule: Mapping[str, Any] | None = None, **fields: Any
    ) -> Iterator[dict[str, Any]]:
        """A fault rule for the length of a ``with`` block (``add_fault``'s arguments)::

        with sms_provider.fault(status=503, times=2, to="+33612345678"):
            ...
        """
        added = self.add_fault(rule, **fields)
        try:
            yield added
        finally:
            self.remove_fault(added["id"])


def provider_config(db_dir: Path, **overrides: Any) -> ProviderConfig:
    """A ``ProviderConfig`` whose inbox lives in ``db_dir``."""
    return replace(ProviderConfig(db_path=db_dir / "inbox.sqlite3"), **overrides)
