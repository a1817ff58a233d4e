"""``sms-contract verify`` run in-process, with the credentials of the test providers."""

from __future__ import annotations

from click.testing import CliRunner, Result

from sms_contract.cli import cli

#: The login and password every test provider expects.
LOGIN, PASSWORD = "partner", "s3cret-Pa55word"
TO = "+33612345678"
#: The password's variable, and a wide terminal so table cells are not wrapped.
ENV = {"VERIFY_PW": PASSWORD, "COLUMNS": "200"}
CREDENTIALS = ("--login", LOGIN, "--password-env", "VERIFY_PW")


def run_verify(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    """``sms-contract verify ARGS`` in-process."""
    runner = CliRunner()
    return runner.invoke(cli, ["verify", *args], env=env, input=input, catch_exceptions=False)
