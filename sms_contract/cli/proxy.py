"""``sms-contract proxy``: the fake provider's listener in front of a real provider.

Every option of ``serve`` (cli/serve.py), plus where to forward and how. Each
send is checked, recorded and forwarded as it came; the upstream's answer goes
back to the client and onto the inbox entry (docs/proxy.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from sms_contract.cli._common import env_option, fail
from sms_contract.cli.serve import server_options, start
from sms_contract.exceptions import ConfigError
from sms_contract.exit_codes import EXIT_USAGE
from sms_contract.mock_provider.upstream import MAX_TIMEOUT, UpstreamConfig

#: A proxy's own state (inbox, local CA): beside serve's, never the same inbox.
STATE_DIR = ".state/proxy"


@click.command()
@env_option(
    "--upstream",
    env="UPSTREAM",
    required=True,
    metavar="URL",
    help="The provider's send URL every send goes on to: https:// (plain http only to "
    "127.0.0.1, ::1 or localhost), no login or password in it.",
)
@env_option(
    "--upstream-cacert",
    env="UPSTREAM_CACERT",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The CA certificate (PEM) the upstream's certificate must chain to "
    "[default: the bundle the sender trusts].",
)
@env_option(
    "--upstream-insecure",
    env="UPSTREAM_INSECURE",
    is_flag=True,
    help="Do not verify the upstream's certificate (the banner and every record say so).",
)
@env_option(
    "--upstream-login",
    env="UPSTREAM_LOGIN",
    metavar="LOGIN",
    help="Send HTTP Basic with this login upstream instead of the client's Authorization.",
)
@env_option(
    "--upstream-password-env",
    env="UPSTREAM_PASSWORD_ENV",
    metavar="VAR",
    help="The environment variable holding --upstream-login's password (never on the "
    "command line, never stored).",
)
@env_option(
    "--upstream-timeout",
    env="UPSTREAM_TIMEOUT",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0, MAX_TIMEOUT, min_open=True),
    help="Seconds for the whole exchange with the upstream (connection, TLS, answer); 504 past it.",
)
@env_option(
    "--block-invalid",
    env="BLOCK_INVALID",
    is_flag=True,
    help="Answer a send the checks refuse here, as serve does (422...), without "
    "forwarding it. Default: forward it and record the violations (observe).",
)
@server_options(state_dir=STATE_DIR)
def proxy(
    upstream: str,
    upstream_cacert: Path | None,
    upstream_insecure: bool,
    upstream_login: str | None,
    upstream_password_env: str | None,
    upstream_timeout: float,
    block_invalid: bool,
    **settings: Any,
) -> None:
    """Check and record every send, then forward it to a real provider (--upstream)
    and pass its answer back: the fake provider's inbox, UI, API, faults and
    metrics in front of real traffic.

    \b
    sms-contract serve --port 9443          # a provider to try it on
    sms-contract proxy --port 8443 --upstream https://127.0.0.1:9443/sms \\
        --upstream-cacert .state/tls/ca.pem

    The proxy keeps its own inbox and local CA in STATE_DIR (.state/proxy). Every
    option can also be set through the environment variable shown.
    """
    try:
        target = UpstreamConfig(
            upstream,
            ca_bundle=upstream_cacert,
            insecure=upstream_insecure,
            login=upstream_login,
            password=_password(upstream_login, upstream_password_env),
            timeout=upstream_timeout,
            block_invalid=block_invalid,
        )
    except ConfigError as error:
        fail(str(error), EXIT_USAGE)
    start(settings, upstream=target)


def _password(login: str | None, variable: str | None) -> str | None:
    """The upstream password, from the variable ``--upstream-password-env`` names."""
    if login is None:
        if variable:
            fail("--upstream-password-env needs --upstream-login", EXIT_USAGE)
        return None
    if not variable:
        fail(
            "--upstream-login needs --upstream-password-env VAR: the password is read from "
            "the environment, never from the command line",
            EXIT_USAGE,
        )
    password = os.environ.get(variable)
    if not password:
        fail(f"the environment variable {variable} (--upstream-password-env) is not set or empty")
    return password
