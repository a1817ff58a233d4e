"""Small SMS providers for the ``verify`` tests: a correct one, and each defect.

``provider_app(defect)`` is a Flask app that behaves like a conforming
provider (HTTP Basic with a challenge, validation under the lenient readings,
2xx with an id, retries recognised by retId) except for ONE defect. ``serve`` runs it
in-process over HTTPS (a local CA), a self-signed certificate, legacy TLS or
plain HTTP, and records every request it receives.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask import Flask, Response, jsonify, request
from helpers.verify_cli import LOGIN, PASSWORD
from werkzeug.serving import BaseWSGIServer, generate_adhoc_ssl_context, make_server

from sms_contract.core.credentials import parse_basic
from sms_contract.core.readings import READINGS, Readings, parse_readings
from sms_contract.core.validation import check_body
from sms_contract.mock_provider.tls import TlsFiles, ensure_local_tls

logging.getLogger("werkzeug").setLevel(logging.ERROR)

#: Each defect, and the exact set of check ids that must catch it.
DEFECTS: dict[str, set[str]] = {
    "no-auth": {"auth.required", "auth.wrong-password", "connection.test"},
    "ascii-only": {
        "payload.gsm-extension",
        "payload.gsm-accents",
        "payload.ucs2-accents",
        "payload.emoji-multipart",
        "payload.ucs2-for-gsm-text",
    },
    "unicode-500": {
        "payload.ucs2-accents",
        "payload.emoji-multipart",
        "payload.ucs2-for-gsm-text",
    },
    "unicode-exact": {"payload.ucs2-for-gsm-text"},
    "credits-concatenated": {"payload.credits-simple"},
    "sender-required": {"payload.marketing-no-sender"},
    "strict-fields": {"tolerance.unknown-field"},
    "slow": {"latency.5s"},
    "no-validation": {"validation.rejects-invalid"},
    "5xx-on-invalid": {"validation.no-5xx"},
    "bare-401": {"auth.challenge"},
    "new-id-on-retry": {"idempotency.retry"},
    "no-get": {"connection.test"},
}

#: How long the ``slow`` provider takes to answer a send, and the threshold used.
SLOW_DELAY, SLOW_THRESHOLD = 0.4, 0.2


@dataclass
class Recorded:
    """What a provider received: (method, body) per request."""

    requests: list[tuple[str, bytes]] = field(default_factory=list)

    @property
    def posts(self) -> int:
        """How many POSTs arrived."""
        return sum(1 for method, _ in self.requests if method == "POST")


def provider_app(defect: str | None = None, recorded: Recorded | None = None) -> Flask:
    """A provider that conforms except for ``defect`` (several joined by ``+``)."""
    defects = set(defect.split("+")) if defect else set()
    app = Flask(__name__)
    record = recorded if recorded is not None else Recorded()
    seen: dict[str, str] = {}
    lock = threading.Lock()

    def refuse() -> tuple[Response, int, dict[str, str]]:
        challenge = {} if "bare-401" in defects else {"WWW-Authenticate": 'Basic realm="sms"'}
        return jsonify(error="unauthorized"), 401, challenge

    def accept(payload: Any) -> tuple[Response, int]:
        ret_id = payload.get("retId") if isinstance(payload, dict) else None
        with lock:
            if "new-id-on-retry" not in defects and isinstance(ret_id, str) and ret_id in seen:
                return jsonify(id=seen[ret_id], status="accepted", duplicate=True), 200
            new_id = f"msg-{len(record.requests)}"
            if isinstance(ret_id, str):
                seen[ret_id] = new_id
        return jsonify(id=new_id, status="accepted"), 200

    @app.after_request
    def echo(response: Response) -> Response:
        if "echo-secrets" in defects and response.is_json:
            answer = response.get_json()
            answer["echo"] = {
                "authorization": request.headers.get("Authorization"),
                "credentials": parse_basic(request.headers.get("Authorization")),
            }
            response.set_data(json.dumps(answer))
        return response

    @app.route("/sms", methods=["GET", "HEAD", "POST"])
    def sms() -> Any:
        raw = request.get_data()
        with lock:
            record.requests.append((request.method, raw))
        if "no-auth" not in defects and parse_basic(request.headers.get("Authorization")) != (
            LOGIN,
            PASSWORD,
        ):
            return refuse()
        if request.method != "POST":
            if "no-get" in defects:
                return jsonify(error="method not allowed"), 405
            return jsonify(status="ok")
        if "slow" in defects:
            time.sleep(SLOW_DELAY)
        if "no-validation" in defects:
            try:
                return accept(json.loads(raw))
            except ValueError:
                return accept(None)
        if request.mimetype != "application/json":
            return jsonify(error="send application/json"), 415
        verdict = check_body(raw, readings=_readings(defects))
        if not verdict.valid:
            status = 500 if "5xx-on-invalid" in defects else 422
            return jsonify(violations=[v.to_dict() for v in verdict.violations]), status
        payload = json.loads(raw)
        if "ascii-only" in defects and not payload["text"].isascii():
            return jsonify(error="text must be ASCII"), 422
        if "unicode-500" in defects and payload["isUnicode"] is True:
            return jsonify(error="internal error"), 500
        if "sender-required" in defects and "sender" not in payload:
            return jsonify(error="sender is required"), 422
        return accept(payload)

    return app


#: What a provider that conforms accepts: every lenient value.
TOLERANT = Readings.from_mapping({reading.name: reading.lenient for reading in READINGS})

#: Each defect that is a stricter reading than a tolerant provider's.
_STRICTER = {
    "strict-fields": "unknown-fields=reject",
    "unicode-exact": "unicode=exact",
    "credits-concatenated": "credits=concatenated",
}


def _readings(defects: set[str]) -> Readings:
    """A conforming provider tolerates every reading (``credits=either`` too);
    a defect may take a stricter value."""
    return parse_readings([value for name, value in _STRICTER.items() if name in defects], TOLERANT)


@dataclass
class Served:
    """A provider running in a background thread."""

    url: str
    recorded: Recorded
    server: BaseWSGIServer
    thread: threading.Thread
    #: The CA file to trust (``None`` for plain HTTP or a self-signed certificate).
    ca: str | None = None

    def stop(self) -> None:
        """Stop serving and wait for the thread."""
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def tls_context(files: TlsFiles, *, legacy: bool = False) -> ssl.SSLContext:
    """A server context with the local CA's certificate; ``legacy`` also allows TLS 1.0."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(files.cert, files.key)
    if legacy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = ssl.TLSVersion.TLSv1
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def serve(defect: str | None = None, *, tls: str = "ca", files: TlsFiles | None = None) -> Served:
    """Serve ``provider_app(defect)``; ``tls``: ``ca``, ``legacy``, ``self-signed`` or ``none``."""
    recorded = Recorded()
    context: ssl.SSLContext | None = None
    if tls in ("ca", "legacy"):
        assert files is not None, "the local CA files"
        context = tls_context(files, legacy=tls == "legacy")
    elif tls == "self-signed":
        context = generate_adhoc_ssl_context()
    server = make_server(
        "127.0.0.1", 0, provider_app(defect, recorded), threaded=True, ssl_context=context
    )
    scheme = "http" if context is None else "https"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    url = f"{scheme}://localhost:{server.server_port}/sms"
    ca = str(files.ca_cert) if files is not None and tls in ("ca", "legacy") else None
    return Served(url, recorded, server, thread, ca)


@pytest.fixture(scope="session", name="tls_files")
def tls_files_fixture(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A local CA and a certificate for localhost, shared by the test providers."""
    return ensure_local_tls(tmp_path_factory.mktemp("verify-tls"))


@pytest.fixture(name="provider")
def provider_fixture(tls_files: TlsFiles) -> Iterator[Callable[..., Served]]:
    """Start test providers (``provider(defect, tls=...)``), stopped after the test."""
    started: list[Served] = []

    def start(defect: str | None = None, tls: str = "ca") -> Served:
        served = serve(defect, tls=tls, files=tls_files)
        started.append(served)
        return served

    yield start
    for served in started:
        served.stop()
