"""What a run is given, checked once for every front: the ``verify`` command and the
web page of a hosted checker give the same messages for the same mistakes.

Each check raises ``InvalidRunInput`` naming the field; ``label`` is how the
front calls it (``--to`` on the command line, ``to`` in the web API).
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import phonenumbers

from sms_contract.contract_tests.catalogue import select
from sms_contract.core.credentials import check_login
from sms_contract.core.model import E164_PATTERN
from sms_contract.exceptions import (
    ConfigurationError,
    InvalidLogin,
    InvalidRunInput,
    UnknownSelector,
)
from sms_contract.sender.transport import check_host_name


def check_number(value: str, label: str, *, digits: int | None = None) -> str:
    """``value`` when it is a possible phone number in E.164 (of ``digits`` digits)."""
    field = label.lstrip("-")
    if not re.fullmatch(E164_PATTERN, value):
        raise InvalidRunInput(
            field,
            f"{label} must be in E.164: '+', country code and number, no spaces (got {value!r})",
        )
    count = len(value) - 1
    if digits is not None and count != digits:
        raise InvalidRunInput(field, f"{label} must have exactly {digits} digits (it has {count})")
    try:
        possible = phonenumbers.is_possible_number(phonenumbers.parse(value, None))
    except phonenumbers.NumberParseException:
        possible = False
    if not possible:
        raise InvalidRunInput(field, f"{label} {value} is not a possible phone number")
    return value


def check_url(value: str, *, credentials_hint: str) -> str:
    """``value`` when it reads as ``http(s)://host[:port]/...`` with no credentials in it
    and a host that can exist; ``credentials_hint`` says where the credentials go instead."""
    try:
        parts = urlsplit(value)
    except ValueError as error:
        raise InvalidRunInput("url", f"the URL cannot be read ({error}): {value!r}") from None
    if parts.username is not None or parts.password is not None:
        raise InvalidRunInput("url", f"put the credentials in {credentials_hint}, not in the URL")
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InvalidRunInput("url", f"the URL must be http(s)://host/..., got {value!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise InvalidRunInput("url", f"the URL has an invalid port: {value!r}") from None
    try:
        check_host_name(parts.hostname)
    except ConfigurationError as error:
        raise InvalidRunInput("url", str(error)) from None
    return value


def check_run_login(login: str, label: str) -> str:
    """``login`` when the platform would accept it (``core.credentials.check_login``)."""
    try:
        return check_login(login)
    except InvalidLogin as error:
        raise InvalidRunInput(label.lstrip("-"), f"{label}: {error}") from None


def selectors(values: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """``--only``/``--skip`` values, each possibly comma-separated, as one tuple of ids."""
    return tuple(item.strip() for value in values for item in value.split(",") if item.strip())


def check_selection(only: tuple[str, ...], skip: tuple[str, ...]) -> None:
    """Refuse an ``only`` or ``skip`` value that names no check."""
    for field, values in (("only", only), ("skip", skip)):
        try:
            select(values)
        except UnknownSelector as error:
            raise InvalidRunInput(field, str(error)) from None
