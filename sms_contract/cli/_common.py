"""Helpers shared by the CLI commands: reading input, failing cleanly, and the
``--reading`` option."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click
from click.core import ParameterSource

from sms_contract.core.encoding import lone_surrogate_at
from sms_contract.core.readings import Readings, parse_readings
from sms_contract.exceptions import ReadingError
from sms_contract.exit_codes import EXIT_USAGE

#: The prefix of every environment variable a command option reads.
ENV_PREFIX = "SMS_CONTRACT_"


def env_option(*names: str, env: str, **kwargs: Any) -> Any:
    """A click option also read from ``SMS_CONTRACT_<env>`` (shown in ``--help``)."""
    return click.option(*names, envvar=ENV_PREFIX + env, show_envvar=True, **kwargs)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    """Print a one-line error on stderr and exit with ``code``."""
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def read_source(source: str) -> bytes:
    """The bytes of a file, or of standard input for ``-``."""
    if source == "-":
        return sys.stdin.buffer.read()
    path = Path(source)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        fail(f"no such file: {source}")
    except IsADirectoryError:
        fail(f"{source} is a directory, not a file")
    except OSError as error:
        fail(f"cannot read {source}: {error.strerror}")


def decode_text(data: bytes, what: str) -> str:
    """``data`` as UTF-8 text, or a clean failure naming the bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        fail(f"{what} is not valid UTF-8 (byte {error.start}: 0x{data[error.start]:02x})")


def check_unicode(text: str, what: str) -> str:
    """Refuse text holding lone surrogates (e.g. undecodable bytes in an argument)."""
    index = lone_surrogate_at(text)
    if index is not None:
        fail(f"{what} holds an invalid character at position {index} (not valid UTF-8)")
    return text


def read_password(login: str | None, password_env: str | None) -> str | None:
    """The password for ``login``: from the variable ``password_env``, else typed
    at a hidden prompt; ``None`` without a login. Never echoed."""
    if login is None:
        if password_env:
            fail("--password-env needs --login")
        return None
    if password_env:
        password = os.environ.get(password_env)
        if password is None:
            fail(f"the environment variable {password_env} (--password-env) is not set")
        if not password:
            fail(f"the environment variable {password_env} (--password-env) is empty")
        return password
    try:
        typed: str = click.prompt(f"Password for {login}", hide_input=True, err=True)
    except click.Abort:
        fail("no password given: type it at the prompt or use --password-env VAR")
    return typed


#: The environment variable holding readings, space-separated (``unicode=exact credits=simple``).
READINGS_ENV = ENV_PREFIX + "READINGS"

Command = TypeVar("Command", bound=Callable[..., Any])


def reading_option(command: Command) -> Command:
    """The ``--reading NAME=VALUE`` option (repeatable), over ``SMS_CONTRACT_READINGS``.

    The command receives ``readings: Readings``: the defaults, then the
    environment variable, then each ``--reading`` (a later one wins). An unknown
    name or value is a one-line error listing the valid ones, exit 2.
    """
    option = click.option(
        "--reading",
        "readings",
        multiple=True,
        metavar="NAME=VALUE",
        envvar=READINGS_ENV,
        show_envvar=True,
        callback=_readings_callback,
        help="Take this reading of a point the platform's documentation leaves open, "
        "e.g. unicode=exact (repeatable; `sms-contract readings` lists them).",
    )
    return option(command)


def _readings_callback(ctx: click.Context, param: click.Parameter, items: Any) -> Readings:
    assert param.name is not None
    from_command_line = ctx.get_parameter_source(param.name) is ParameterSource.COMMANDLINE
    # click reads the variable only without --reading; the options go on top of it.
    environment = os.environ.get(READINGS_ENV, "") if from_command_line else " ".join(items)
    try:
        readings = parse_readings([environment])
    except ReadingError as error:
        fail(f"{READINGS_ENV}: {error}")
    if not from_command_line:
        return readings
    try:
        return parse_readings(items, readings)
    except ReadingError as error:
        fail(f"--reading: {error}")
