"""``send`` and ``test-connection``: the platform's side, from the command line."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click

from sms_contract.cli._common import check_unicode, fail, read_password
from sms_contract.cli.contract import describe_analysis
from sms_contract.core.credentials import InvalidLogin, check_login
from sms_contract.core.encoding import analyze
from sms_contract.core.model import SmsType, build_payload
from sms_contract.exceptions import (
    ConfigurationError,
    PayloadBuildError,
    ProviderRejected,
    ProviderUnavailable,
)
from sms_contract.exit_codes import EXIT_INVALID, EXIT_OK, EXIT_UNREACHABLE
from sms_contract.sender.client import (
    DEFAULT_RETRY,
    ConnectionOutcome,
    ProviderClient,
    RetryPolicy,
    check_provider_url,
    encode_body,
)

_CONNECTION_EXIT = {
    ConnectionOutcome.OK: EXIT_OK,
    ConnectionOutcome.BAD_CREDENTIALS: EXIT_INVALID,
    ConnectionOutcome.UNEXPECTED: EXIT_INVALID,
    ConnectionOutcome.UNREACHABLE: EXIT_UNREACHABLE,
    ConnectionOutcome.TLS_PROBLEM: EXIT_UNREACHABLE,
}


def _provider_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options every command that talks to a provider takes."""
    options = [
        click.option("--login", help="HTTP Basic login (letters, digits and _ + . @ - only)."),
        click.option(
            "--password-env",
            metavar="VAR",
            help="Read the password from environment variable VAR "
            "(else it is asked for, hidden, when --login is given).",
        ),
        click.option(
            "--cacert",
            metavar="FILE",
            help="PEM file of the CA that signed the provider's certificate "
            "(for a self-signed certificate or a private CA).",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=10.0,
            show_default=True,
            help="Seconds to wait for each answer.",
        ),
        click.option(
            "--allow-http",
            is_flag=True,
            help="Allow plain http:// to a loopback host (127.0.0.0/8, ::1, localhost), "
            "for local tests.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _check_login(login: str | None) -> None:
    if login is not None:
        try:
            check_login(login)
        except InvalidLogin as error:
            fail(str(error))


def _client(
    url: str,
    login: str | None,
    password_env: str | None,
    cacert: str | None,
    timeout: float,
    allow_http: bool,
    retry: RetryPolicy = DEFAULT_RETRY,
) -> ProviderClient:
    # Check what needs no secret first, so a bad URL or login fails before the prompt.
    try:
        check_provider_url(url, allow_http_loopback=allow_http)
    except ConfigurationError as error:
        fail(str(error))
    _check_login(login)
    password = read_password(login, password_env)
    try:
        return ProviderClient(
            url,
            login,
            password,
            ca_bundle=cacert,
            timeout=timeout,
            retry=retry,
            allow_http_loopback=allow_http,
        )
    except ConfigurationError as error:
        fail(str(error))


def _emit(document: dict[str, Any]) -> None:
    click.echo(json.dumps(document, ensure_ascii=False, indent=2))


@contextmanager
def _retries_on_stderr() -> Iterator[None]:
    """Show the client's retry messages on standard error while sending."""
    logger = logging.getLogger("sms_contract.sender.client")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("retry: %(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


@click.command()
@click.option("--url", help="The provider URL (https://...).")
@click.option("--to", "to", required=True, metavar="NUMBER", help="Recipient, E.164 or national.")
@click.option("--text", required=True, help="The message text.")
@click.option("--sender", metavar="NAME", help="Sender name; without it the type is MARKETING.")
@click.option(
    "--type",
    "sms_type",
    type=click.Choice([t.value for t in SmsType], case_sensitive=False),
    metavar="NOTIFICATION|MARKETING",
    help="NOTIFICATION (default) or MARKETING.",
)
@click.option("--region", metavar="CC", help="Region of a national number, e.g. FR.")
@click.option("--ret-id", metavar="ID", help="The retId (default: a new UUID).")
@_provider_options
@click.option(
    "--max-attempts",
    type=click.IntRange(1, 100),
    default=DEFAULT_RETRY.max_attempts,
    show_default=True,
    help="Attempts in all, retries included.",
)
@click.option("--dry-run", is_flag=True, help="Print the JSON and its credits; send nothing.")
def send(
    url: str | None,
    to: str,
    text: str,
    sender: str | None,
    sms_type: str | None,
    region: str | None,
    ret_id: str | None,
    login: str | None,
    password_env: str | None,
    cacert: str | None,
    timeout: float,
    allow_http: bool,
    as_json: bool,
    max_attempts: int,
    dry_run: bool,
) -> None:
    """Build one SMS payload as the platform does and POST it to a provider.

    The payload gets E.164 'to', computed isUnicode and credits, the type rule
    and a retId. Retries 408, 429, 5xx and network failures with exponential
    backoff and full jitter, honouring Retry-After, with the same retId.

    \b
    Examples:
      sms-contract send --dry-run --to 0612345678 --region FR --text 'Bonjour' --sender INOCX
      sms-contract send --url https://sms.example/hook --to +33612345678 \\
          --text 'Votre RDV est confirmé' --sender INOCX --login inocx --password-env SMS_PW

    \b
    Exit codes:
      0  the provider accepted the SMS (or --dry-run)
      1  the provider rejected it (a 4xx other than 408/429)
      2  bad usage, bad input (number, text, URL, login) or configuration
      3  unreachable, TLS problem, or still failing after the last attempt
    """
    check_unicode(text, "the text")
    requested = (sms_type or SmsType.NOTIFICATION.value).upper()
    try:
        payload = build_payload(
            to,
            text,
            sender,
            requested,
            ret_id=ret_id,
            default_region=region.upper() if region else None,
        )
    except PayloadBuildError as error:
        fail(str(error))
    if sms_type is not None and payload.type != requested:
        click.echo(
            f"note: no sender, so the type is {payload.type} (the platform's rule)", err=True
        )
    if dry_run:
        _dry_run(payload, url, allow_http, login, as_json)
        return
    if url is None:
        fail("--url is required (or use --dry-run to send nothing)")
    try:
        policy = RetryPolicy(max_attempts=max_attempts)
    except ConfigurationError as error:
        fail(str(error))
    with _client(url, login, password_env, cacert, timeout, allow_http, policy) as client:
        try:
            if as_json:
                result = client.send(payload)
            else:
                with _retries_on_stderr():
                    result = client.send(payload)
        except ProviderRejected as error:
            _failed(as_json, str(error), EXIT_INVALID, _rejected_dict(error))
        except ProviderUnavailable as error:
            _failed(as_json, str(error), EXIT_UNREACHABLE, _unavailable_dict(error))
        except ConfigurationError as error:
            fail(str(error))
    if as_json:
        _emit(result.to_dict())
        return
    details = [f"HTTP {result.status}", f"{result.attempts} attempt(s)", f"{result.elapsed:.2f} s"]
    if result.message_id is not None:
        details.append(f"provider id {result.message_id}")
    if result.duplicate:
        details.append("a duplicate of an earlier send with this retId")
    click.echo(f"accepted: {', '.join(details)}; retId {result.ret_id}")


def _failed(as_json: bool, message: str, code: int, document: dict[str, Any]) -> None:
    if as_json:
        _emit(document)
        raise SystemExit(code)
    fail(message, code)


def _rejected_dict(error: ProviderRejected) -> dict[str, Any]:
    return {
        "outcome": "rejected",
        "status": error.status,
        "detail": error.detail,
        "violations": [violation.to_dict() for violation in error.violations],
        "body": error.body,
    }


def _unavailable_dict(error: ProviderUnavailable) -> dict[str, Any]:
    return {
        "outcome": "unavailable",
        "status": error.status,
        "error": error.error,
        "kind": error.kind,
        "attempts": error.attempts,
        "elapsed": round(error.elapsed, 3),
        "message": str(error),
    }


def _dry_run(
    payload: Any, url: str | None, allow_http: bool, login: str | None, as_json: bool
) -> None:
    if url is not None:
        try:
            check_provider_url(url, allow_http_loopback=allow_http)
        except ConfigurationError as error:
            fail(str(error))
    _check_login(login)
    body = encode_body(payload).decode("utf-8")
    analysis = analyze(payload.text)
    if as_json:
        _emit(
            {
                "dryRun": True,
                "url": url,
                "body": body,
                "payload": payload.to_json_dict(),
                "analysis": analysis.to_dict(),
            }
        )
        return
    click.echo(body)
    click.echo()
    click.echo(describe_analysis(analysis))
    where = f" to {url}" if url else ""
    click.echo(f"dry run: nothing was sent{where}")


@click.command("test-connection")
@click.option("--url", required=True, help="The provider URL (https://...).")
@_provider_options
def test_connection(
    url: str,
    login: str | None,
    password_env: str | None,
    cacert: str | None,
    timeout: float,
    allow_http: bool,
    as_json: bool,
) -> None:
    """Do what the platform's "Test connection" button does: an authenticated
    GET on the provider URL (HEAD if GET answers 405), no SMS sent.

    \b
    Exit codes:
      0  ok: the provider answered 2xx
      1  bad credentials (401/403) or an unexpected status
      2  bad usage, URL, login or CA file
      3  unreachable (DNS, refused, timeout) or a TLS problem
    """
    with _client(url, login, password_env, cacert, timeout, allow_http) as client:
        check = client.test_connection()
    code = _CONNECTION_EXIT[check.outcome]
    if as_json:
        _emit(check.to_dict())
        raise SystemExit(code)
    if check.ok:
        click.echo(f"ok: {check.message}")
        return
    fail(check.message, code)
