"""``sms-contract serve``: the fake provider under gunicorn.

The default worker is ``ProviderWorker`` (gevent: a greenlet per connection, so
idle or slow connections and event streams hold no thread that a send needs);
``gthread`` stays available for comparison (bench/README.md has both).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Literal

from flask import Flask
from gunicorn.app.base import BaseApplication

from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.service import ProviderState
from sms_contract.mock_provider.tls import TlsFiles
from sms_contract.mock_provider.upstream import interrupted_attempt

WorkerClass = Literal["gevent", "gthread"]
_WORKER_CLASSES = {
    "gevent": "sms_contract.mock_provider.worker.ProviderWorker",
    "gthread": "gthread",
}


@dataclass(frozen=True)
class ServeOptions:
    """How gunicorn serves the app."""

    host: str = "127.0.0.1"
    port: int = 8443
    workers: int = 2
    threads: int = 8
    tls: TlsFiles | None = None
    graceful_timeout: int = 10
    access_log: bool = False
    #: ``gevent`` (the provider's worker) or ``gthread`` (``threads`` per worker).
    worker_class: WorkerClass = "gevent"
    #: Open connections per gevent worker; past it the worker stops accepting.
    connections: int = 1000
    #: Seconds for a request head to arrive (gevent), and the keep-alive idle time.
    head_timeout: int = 5

    @property
    def bind(self) -> str:
        """The gunicorn bind address (IPv6 literals in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def scheme(self) -> str:
        """``https`` unless serving plain HTTP."""
        return "https" if self.tls else "http"


class ProviderServer(BaseApplication):  # type: ignore[misc]
    """A gunicorn application serving one ``ProviderConfig``.

    Each worker builds its own app after the fork, so no SQLite connection is
    ever shared across processes.
    """

    def __init__(self, config: ProviderConfig, options: ServeOptions) -> None:
        self.provider_config = config
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        settings = gunicorn_settings(self.options)
        settings["when_ready"] = self._ready
        for key, value in settings.items():
            self.cfg.set(key, value)

    def _ready(self, _arbiter: Any) -> None:
        print(f"ready: {self.options.workers} worker(s) on {self.options.bind}", flush=True)

    def load(self) -> Flask:
        # Imported in the worker, after gevent patched it: the app's modules (the
        # verify page's checker) import the HTTP client, which must see the patch.
        from sms_contract.mock_provider.app import create_app

        return create_app(self.provider_config)


def gunicorn_settings(options: ServeOptions) -> dict[str, Any]:
    """The gunicorn settings of ``serve`` (the benchmark serves its baseline with them too)."""
    settings: dict[str, Any] = {
        "bind": [options.bind],
        "workers": options.workers,
        "worker_class": _WORKER_CLASSES[options.worker_class],
        "threads": options.threads,
        "worker_connections": options.connections,
        "graceful_timeout": options.graceful_timeout,
        "timeout": 120,
        # The gevent worker bounds each request head by this too.
        "keepalive": options.head_timeout,
        "accesslog": "-" if options.access_log else None,
        "errorlog": "-",
        "loglevel": "warning",
        "proc_name": "sms-contract",
        # No gunicorn control socket: it lives in the user's home and two
        # servers on one machine would fight over it.
        "control_socket_disable": True,
        "preload_app": False,
    }
    if options.tls:
        settings["certfile"] = str(options.tls.cert)
        settings["keyfile"] = str(options.tls.key)
        settings["ssl_context"] = _tls_context
    return settings


def _tls_context(_config: Any, default_factory: Any) -> ssl.SSLContext:
    """gunicorn's TLS context, reading a TCP end without close_notify as the end of
    the body (OpenSSL 3 otherwise fails the connection and the 400 never goes out)."""
    context: ssl.SSLContext = default_factory()
    context.options |= getattr(ssl, "OP_IGNORE_UNEXPECTED_EOF", 0)
    return context


def run(config: ProviderConfig, options: ServeOptions) -> None:
    """Serve until SIGTERM or SIGINT (gunicorn stops gracefully)."""
    prepare(config)
    ProviderServer(config, options).run()


def prepare(config: ProviderConfig) -> None:
    """Create the database and install the start rules, once, before any worker
    forks (so workers never race to create it). ``RuleError`` for a bad faults file.
    A proxy closes the entries an earlier run left pending (it stopped mid-forward)."""
    state = ProviderState(config)
    try:
        state.install_start_rules()
        if config.upstream is not None:
            state.interrupt_forwarding(interrupted_attempt(config.upstream))
    finally:
        state.close()
