"""Helpers shared by the CLI commands: reading input, failing cleanly."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from sms_contract.core.encoding import lone_surrogate_at
from sms_contract.exit_codes import EXIT_USAGE


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
