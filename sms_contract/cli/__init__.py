"""The ``sms-contract`` command line: one entry point, one module per command family.

Commands are imported only when run, so ``sms-contract count`` starts fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from sms_contract import __version__

#: command name -> "module:attribute" of its click command.
COMMANDS = {
    "count": "sms_contract.cli.contract:count",
    "healthcheck": "sms_contract.cli.healthcheck:healthcheck",
    "readings": "sms_contract.cli.contract:readings",
    "schema": "sms_contract.cli.contract:schema",
    "send": "sms_contract.cli.send:send",
    "test-connection": "sms_contract.cli.send:test_connection",
    "validate": "sms_contract.cli.contract:validate",
    "proxy": "sms_contract.cli.proxy:proxy",
    "serve": "sms_contract.cli.serve:serve",
    "verify": "sms_contract.cli.verify:verify",
}


class LazyGroup(click.Group):
    """A click group that imports each command on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attribute = target.partition(":")
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="sms-contract")
def cli() -> None:
    """The INO CX SMS contract kit: the format, a fake provider, a sender and a
    conformance checker.

    \b
    Exit codes: 0 success, 1 the input or endpoint breaks the contract,
    2 bad usage or unreadable input, 3 the endpoint is unreachable.
    """


def main(argv: list[str] | None = None) -> Any:
    """Console-script entry point."""
    return cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="sms-contract")
