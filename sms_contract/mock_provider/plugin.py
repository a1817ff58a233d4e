"""pytest plugin: the ``sms_provider`` fixture.

    def test_sends_the_confirmation(sms_provider):
        my_platform.send_sms(url=sms_provider.url, ca=sms_provider.ca_bundle, ...)
        message = sms_provider.wait_for("ret-42")
        assert message["status"] == "accepted"

One server runs per session (HTTPS with its own CA); each test gets a fresh
namespace. Override ``sms_provider_options`` to change the server (auth, plain
HTTP...), or call ``make_sms_provider(**options)`` for a second one.

To make the provider misbehave, ``with sms_provider.fault(status=503, times=2):``
or send to a magic recipient such as ``+447700900503`` (docs/faults.md).

``make_sms_provider(upstream=...)`` starts a proxy instead (docs/proxy.md): every
send is checked and recorded, then forwarded to the upstream (a URL, an
``UpstreamConfig``, or another ``sms_provider``), whose answer comes back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from sms_contract.mock_provider.testing import LiveProvider, SmsProvider


@pytest.fixture(scope="session")
def sms_provider_options() -> dict[str, Any]:
    """Options of the session's fake provider: ``tls`` (bool) and any
    ``ProviderConfig`` field (``auth``, ``credentials``, ``strict_fields``...)."""
    return {}


@pytest.fixture(scope="session")
def make_sms_provider(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[..., SmsProvider]]:
    """A factory of fake providers, one live server per distinct set of options;
    ``upstream=`` makes it a proxy in front of that upstream."""
    from sms_contract.mock_provider.testing import LiveProvider, SmsProvider, provider_config

    servers: dict[str, LiveProvider] = {}

    def make(tls: bool = True, **options: Any) -> SmsProvider:
        upstream = options.get("upstream")
        if isinstance(upstream, SmsProvider):  # a proxy in front of another fake provider
            upstream = options["upstream"] = upstream.as_upstream()
        # An UpstreamConfig's repr hides its password; two passwords are two servers.
        key = repr((tls, sorted(options.items()), getattr(upstream, "password", None)))
        if key not in servers:
            folder = tmp_path_factory.mktemp("sms-provider")
            config = provider_config(folder, **options)
            servers[key] = LiveProvider(config, tls_dir=folder / "tls" if tls else None)
        return servers[key].view()

    yield make
    for server in servers.values():
        server.stop()


@pytest.fixture
def sms_provider(
    make_sms_provider: Callable[..., SmsProvider], sms_provider_options: dict[str, Any]
) -> SmsProvider:
    """The fake SMS provider, with a namespace of this test's own."""
    return make_sms_provider(**sms_provider_options)
