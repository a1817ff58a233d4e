"""``sms-contract verify``: the conformance checker partners run against their endpoint."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import click
from rich.console import Console

from sms_contract.cli._common import fail, read_password
from sms_contract.contract_tests.catalogue import CheckSpec
from sms_contract.contract_tests.evidence import Redactor
from sms_contract.contract_tests.inputs import (
    check_number,
    check_run_login,
    check_selection,
    check_url,
    selectors,
)
from sms_contract.contract_tests.reports import WRITERS, build
from sms_contract.contract_tests.reports.terminal import catalogue_table, progress_line, render
from sms_contract.contract_tests.runner import DEFAULT_MAX_SENDS, Options, Result, Runner
from sms_contract.contract_tests.targets import TARGET_MODES
from sms_contract.core.readings import DEFAULTS
from sms_contract.exceptions import InvalidRunInput
from sms_contract.exit_codes import EXIT_USAGE

#: The numbers used against the built-in fake provider (no URL given): nothing is sent.
DEMO_TO, DEMO_LONG_TO = "+33612345678", "+882123456789012"


class _RedactingFile:
    """A text stream that removes secrets from everything written to it."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self._stream = stream
        self._redact = redact

    def write(self, text: str) -> int:
        return self._stream.write(self._redact(text))

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", "utf-8")


def _console(stream: TextIO, redact: Redactor) -> Console:
    # Logs and CI are wider than rich's 80-column default for a non-terminal.
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 120
    file = _RedactingFile(stream, redact)
    return Console(file=file, highlight=False, width=width)  # type: ignore[arg-type]


def _number(value: str | None, option: str, *, digits: int | None = None) -> str | None:
    if value is None:
        return None
    try:
        return check_number(value, option, digits=digits)
    except InvalidRunInput as error:
        fail(error.message)


def _url(value: str) -> str:
    try:
        return check_url(value, credentials_hint="--login and --password-env")
    except InvalidRunInput as error:
        fail(error.message)


def _password(login: str | None, password_env: str | None) -> str | None:
    if login is not None:
        try:
            check_run_login(login, "--login")
        except InvalidRunInput as error:
            fail(error.message)
    return read_password(login, password_env)


@contextlib.contextmanager
def _fake_provider() -> Iterator[tuple[str, str, str, str]]:
    """The built-in fake provider over HTTPS: (url, CA file, login, password)."""
    from sms_contract.mock_provider.testing import LiveProvider, provider_config

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    login, password = "verify-demo", secrets.token_urlsafe(16)
    with tempfile.TemporaryDirectory(prefix="sms-contract-verify-") as folder:
        # credits=either: it accepts what the platform may send under every reading,
        # so the demonstration report passes every SHOULD check too.
        config = provider_config(
            Path(folder),
            auth="strict",
            credentials=((login, password),),
            readings="credits=either",
        )
        server = LiveProvider(config, tls_dir=Path(folder) / "tls")
        try:
            yield server.view("verify").url, str(server.ca_bundle), login, password
        finally:
            server.stop()


_EPILOG = """\b
Examples:
  export SMS_PASSWORD='...'
  sms-contract verify https://sms.example.com/inocx --to +33612345678 \\
      --login inocx --password-env SMS_PASSWORD --junit verify.xml
  sms-contract verify https://sms.example.com/inocx --to +33612345678 \\
      --login inocx --password-env SMS_PASSWORD \\
      --html verify.html --json verify.json --markdown "$GITHUB_STEP_SUMMARY"
  sms-contract verify https://sms.example.com/inocx --to +33612345678 --dry-run
  sms-contract verify https://sms.example.com/inocx --to +33612345678 --only payload
  sms-contract verify https://sms.example.com/inocx --to +33612345678 --skip tls.legacy-refused
  sms-contract verify https://staging.example.com/sms --to +33612345678 --cacert ca.pem
  sms-contract verify http://127.0.0.1:8080/sms --to +33612345678 --login inocx \\
      --password-env SMS_PASSWORD --allow-http   # a local test server only
  sms-contract verify   # no URL: the built-in fake provider, to see a passing report

\b
Exit codes: 0 no MUST check failed (SHOULD failures are advice); 1 a MUST
check failed; 2 bad usage; 3 the endpoint is unreachable (DNS, refused,
timeout; an endpoint that answers none of its first two requests). The guide,
with how to fix each check: docs/verify.md.
"""


@click.command(epilog=_EPILOG)
@click.argument("url", required=False)
@click.option(
    "--to",
    "to",
    metavar="NUMBER",
    help="Your own phone number in E.164 (+33612345678): every SMS of the run goes to it. "
    "Required with a URL.",
)
@click.option(
    "--long-to",
    metavar="NUMBER",
    help="A second number of yours with 15 digits, for payload.e164-15-digits "
    "(skipped without it).",
)
@click.option("--login", help="The login the platform sends (HTTP Basic).")
@click.option(
    "--password-env",
    metavar="VAR",
    help="Read the password from this environment variable (else a hidden prompt).",
)
@click.option(
    "--cacert",
    type=click.Path(exists=True, path_type=Path),
    help="Trust this CA file (PEM) for the endpoint's certificate.",
)
@click.option(
    "--insecure",
    is_flag=True,
    help="Go on past an invalid certificate (still reported as a MUST failure).",
)
@click.option(
    "--allow-http",
    is_flag=True,
    help="Send the credentials over plain http:// to a loopback host (127.0.0.0/8, ::1, "
    "localhost), as send does, to check a local test server; tls.https still fails. "
    "Without it, checks that need the credentials are skipped on an http:// URL.",
)
@click.option(
    "--max-sends",
    type=click.IntRange(0),
    default=DEFAULT_MAX_SENDS,
    show_default=True,
    help="Most POSTs (possible SMS) the run may send; checks beyond are skipped.",
)
@click.option("--dry-run", is_flag=True, help="List the planned requests; send nothing.")
@click.option(
    "--only",
    multiple=True,
    metavar="ID",
    help="Run only these checks: an id or a prefix (payload, tls, auth.required); repeatable.",
)
@click.option("--skip", multiple=True, metavar="ID", help="Leave these checks out; repeatable.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="Seconds to wait for each connection and answer.",
)
@click.option(
    "--latency",
    type=click.FloatRange(min=0.01),
    default=5.0,
    show_default=True,
    help="The latency.5s threshold in seconds.",
)
@click.option(
    "--fuzz",
    type=click.IntRange(1),
    metavar="N",
    help="Also send up to N payloads generated from the provider OpenAPI (within --max-sends).",
)
@click.option("--fuzz-seed", type=int, metavar="SEED", help="Replay a --fuzz run (its seed).")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report as one self-contained HTML page (evidence and how to fix each check).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report as JSON (schema: sms-contract schema --report), with its SHA-256.",
)
@click.option(
    "--markdown",
    "markdown_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a Markdown summary, for CI job pages.",
)
@click.option(
    "--junit",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write a JUnit XML report (one testcase per check).",
)
@click.option(
    "--targets",
    type=click.Choice(TARGET_MODES),
    default="any",
    show_default=True,
    help="public: connect to public addresses only (no loopback, private, link-local, "
    "multicast or reserved one), checked on every connection, as a hosted checker does.",
)
@click.option("--list-checks", is_flag=True, help="List the checks and exit.")
def verify(
    url: str | None,
    to: str | None,
    long_to: str | None,
    login: str | None,
    password_env: str | None,
    cacert: Path | None,
    insecure: bool,
    allow_http: bool,
    max_sends: int,
    dry_run: bool,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    timeout: float,
    latency: float,
    fuzz: int | None,
    fuzz_seed: int | None,
    html_path: Path | None,
    json_path: Path | None,
    markdown_path: Path | None,
    junit: Path | None,
    targets: str,
    list_checks: bool,
) -> None:
    """Check that the SMS endpoint at URL meets the INO CX SMS contract.

    Each check has an id and a level: MUST (the documented contract; a failure
    fails the run), SHOULD (this project's readings and good practice:
    advice) or INFO. Live sends go only to your --to number, at most
    --max-sends of them; the password never appears in any output.

    Every report (--html, --json, --markdown, --junit) carries the same checks
    and verdict, a report id and the SHA-256 of the report's canonical JSON:
    an integrity check, not a signature.
    """
    if list_checks:
        catalogue_table(_console(sys.stdout, Redactor()))
        return
    only, skip = selectors(only), selectors(skip)
    try:
        check_selection(only, skip)
    except InvalidRunInput as error:
        fail(error.message)
    openapi = _openapi() if fuzz else None
    paths = {"html": html_path, "json": json_path, "markdown": markdown_path, "junit": junit}
    reports = {kind: path for kind, path in paths.items() if path is not None}
    settings: dict[str, Any] = {
        "long_to": _number(long_to, "--long-to", digits=15),
        "insecure": insecure,
        "allow_http": allow_http,
        "max_sends": max_sends,
        "timeout": timeout,
        "latency": latency,
        "fuzz": fuzz or 0,
        "fuzz_seed": fuzz_seed,
        "only": only,
        "skip": skip,
        "targets": targets,
        # The checks build their payloads under the default readings (core/readings.py).
        "readings": DEFAULTS.to_dict(),
    }
    if url is None:
        with _fake_provider() as (demo_url, ca_file, demo_login, demo_password):
            options = Options(
                demo_url,
                _number(to, "--to") or DEMO_TO,
                login=demo_login,
                password=demo_password,
                cacert=ca_file,
                **{**settings, "long_to": settings["long_to"] or DEMO_LONG_TO},
            )
            code = _run(options, dry_run, reports, openapi)
        sys.exit(code)
    if to is None:
        fail("--to NUMBER is required: every SMS of the run goes to this number of yours")
    options = Options(
        _url(url),
        _number(to, "--to") or to,
        login=login,
        password=_password(login, password_env),
        cacert=str(cacert) if cacert else None,
        **settings,
    )
    sys.exit(_run(options, dry_run, reports, openapi))


def _openapi() -> dict[str, Any]:
    from sms_contract.contract_tests.fuzz import OpenApiMissing, load_provider_openapi

    try:
        return load_provider_openapi()
    except OpenApiMissing as error:
        fail(str(error), EXIT_USAGE)


def _run(
    options: Options,
    dry_run: bool,
    reports: dict[str, Path],
    openapi: dict[str, Any] | None,
) -> int:
    runner = Runner(options, openapi=openapi)
    redact = runner.target.redact
    out, err = _console(sys.stdout, redact), _console(sys.stderr, redact)
    if dry_run:
        report = runner.plan()
    else:
        total = len(runner.specs)
        done: list[Result] = []

        def progress(result: Result) -> None:
            done.append(result)
            err.print(progress_line(result, len(done), total), soft_wrap=True)

        err.print(f"checking {len(runner.specs)} rule(s); at most {options.max_sends} send(s)")
        spinner = err.status("connecting") if err.is_terminal else contextlib.nullcontext()
        with spinner as live:

            def starting(spec: CheckSpec) -> None:
                if live is not None:
                    live.update(f"checking {spec.id}")

            report = runner.run(progress, starting)
    model = build(report, redact)
    render(model, out)
    for kind, path in reports.items():
        try:
            WRITERS[kind](model, path)
        except OSError as error:
            fail(f"cannot write {path}: {error.strerror}")
    return 0 if dry_run else report.exit_code
