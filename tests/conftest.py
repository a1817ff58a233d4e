"""Shared fixtures: a local CA, scripted HTTP(S) servers, private fake providers and
a headless Chromium."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from helpers.scripted_server import Reply, Script, ScriptedServer, tls_context
from ui_screenshots import launch

from sms_contract.mock_provider.testing import LiveProvider, provider_config


@pytest.fixture(scope="session")
def tls_ca() -> trustme.CA:
    """A throw-away certificate authority (trustme)."""
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_bundle(tls_ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The CA certificate as a PEM file, for ``--cacert`` / ``ca_bundle``."""
    path = tmp_path_factory.mktemp("ca") / "ca.pem"
    tls_ca.cert_pem.write_to_path(str(path))
    return path


ServerFactory = Callable[..., ScriptedServer]


@pytest.fixture
def scripted_server(tls_ca: trustme.CA) -> Iterator[ServerFactory]:
    """Start scripted servers, stopped at the end of the test.

    ``scripted_server(Reply(503), Reply(200), tls=True)`` serves HTTPS with a
    certificate from ``tls_ca`` for 127.0.0.1; ``tls=False`` plain HTTP;
    ``hosts=("other.example",)`` issues the certificate for other names.
    """
    started: list[ScriptedServer] = []

    def start(
        *replies: Reply,
        script: Script | None = None,
        tls: bool = True,
        hosts: tuple[str, ...] = (),
        default: Reply | None = None,
    ) -> ScriptedServer:
        context = tls_context(tls_ca, *hosts) if tls else None
        server = ScriptedServer(
            script if script is not None else replies, ssl_context=context, default=default
        )
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def page_server(tmp_path: Path) -> Iterator[Callable[..., LiveProvider]]:
    """Start private in-process fake providers (``page_server(**config)``), each in a
    folder of its own, stopped at the end of the test."""
    started: list[LiveProvider] = []

    def start(**overrides: Any) -> LiveProvider:
        folder = tmp_path / f"page-{len(started)}"
        server = LiveProvider(provider_config(folder, **overrides))
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium through Playwright (skipped without Playwright)."""
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        yield chromium
        chromium.close()
