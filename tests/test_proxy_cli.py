"""``sms-contract proxy`` on the command line: serve's options, the upstream's, a bad
upstream stopped at start in one line, and the banner (the server itself is not
started: ``run`` is replaced)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from helpers.cli import one_error_line

from sms_contract.cli import cli
from sms_contract.cli import serve as serve_command
from sms_contract.cli.proxy import proxy
from sms_contract.cli.serve import serve
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.server import ServeOptions

UPSTREAM = "https://127.0.0.1:9443/sms"


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[ProviderConfig, ServeOptions]]:
    """What ``run`` would have served, instead of serving it."""
    calls: list[tuple[ProviderConfig, ServeOptions]] = []
    monkeypatch.setattr(
        serve_command, "run", lambda config, options: calls.append((config, options))
    )
    return calls


def run_proxy(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(
        cli, ["proxy", "--http", "--state-dir", str(tmp_path / "state"), *args], env=env
    )
    assert "Traceback" not in result.output
    return result


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://sms.example.com/sms", "must start with https://"),
        ("ftp://sms.example.com/sms", "must start with https://"),
        ("not-a-url", "must start with https://"),
        ("https://inocx:s3cret@sms.example.com/sms", "must not hold a login or password"),
        ("https://sms.example.com:0/sms", "port"),
    ],
)
def test_a_bad_upstream_url_stops_the_proxy_at_start_in_one_line(
    tmp_path: Path, started: list[Any], url: str, why: str
) -> None:
    result = run_proxy(tmp_path, "--upstream", url)
    assert result.exit_code == 2
    line = one_error_line(result)
    assert "upstream" in line and why in line
    assert "s3cret" not in result.output
    assert started == []
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("args", "env", "why"),
    [
        (["--upstream-login", "inocx"], {}, "--upstream-password-env"),
        (["--upstream-login", "inocx", "--upstream-password-env", "NO_SUCH"], {}, "NO_SUCH"),
        (["--upstream-password-env", "PW"], {"PW": "x"}, "needs --upstream-login"),
        (["--upstream-login", "in ocx", "--upstream-password-env", "PW"], {"PW": "x"}, "login"),
        (["--upstream-cacert", "/no/such/ca.pem"], {}, "does not exist"),
        (["--upstream-insecure", "--upstream-cacert", "CA"], {}, "makes no sense"),
        (["--port", "9443", "--host", "127.0.0.1"], {}, "is this proxy itself"),
    ],
)
def test_bad_upstream_settings_stop_the_proxy_in_one_line(
    tmp_path: Path,
    started: list[Any],
    ca_bundle: Path,
    args: list[str],
    env: dict[str, str],
    why: str,
) -> None:
    args = [str(ca_bundle) if arg == "CA" else arg for arg in args]
    result = run_proxy(tmp_path, "--upstream", UPSTREAM, *args, env=env)
    assert result.exit_code == 2
    assert why in one_error_line(result)
    assert started == []


def test_the_banner_says_proxy_where_and_how_without_the_password(
    tmp_path: Path, started: list[Any], ca_bundle: Path
) -> None:
    env = {"UP_PASSWORD": "up-s3cret"}
    login = ["--upstream-login", "inocx", "--upstream-password-env", "UP_PASSWORD"]
    result = run_proxy(
        tmp_path, "--upstream", UPSTREAM, "--upstream-cacert", str(ca_bundle), *login, env=env
    )
    assert result.exit_code == 0, result.output
    banner = result.output
    assert banner.startswith("sms-contract validating proxy\n")
    assert f"upstream   {UPSTREAM}   (timeout 10 s)" in banner
    assert f"verified with the CA {ca_bundle}" in banner
    assert "replaced by the login 'inocx'" in banner
    assert "observe: every send is forwarded" in banner
    assert "WARNING" not in banner and "up-s3cret" not in banner
    ((config, _options),) = started
    assert config.upstream is not None and config.upstream.password == "up-s3cret"
    assert config.upstream.block_invalid is False


def test_insecure_and_block_invalid_are_in_the_banner(tmp_path: Path, started: list[Any]) -> None:
    result = run_proxy(tmp_path, "--upstream", UPSTREAM, "--upstream-insecure", "--block-invalid")
    assert result.exit_code == 0, result.output
    assert "NOT VERIFIED (--upstream-insecure)" in result.output
    assert "WARNING: the upstream's certificate is not verified" in result.output
    assert "block-invalid: a send the checks refuse is answered here" in result.output
    ((config, _options),) = started
    assert config.upstream is not None and config.upstream.insecure


def test_every_upstream_option_is_read_from_its_environment_variable(
    tmp_path: Path, started: list[Any], ca_bundle: Path
) -> None:
    env = {
        "SMS_CONTRACT_UPSTREAM": UPSTREAM,
        "SMS_CONTRACT_UPSTREAM_CACERT": str(ca_bundle),
        "SMS_CONTRACT_UPSTREAM_LOGIN": "inocx",
        "SMS_CONTRACT_UPSTREAM_PASSWORD_ENV": "UP_PASSWORD",
        "UP_PASSWORD": "pw",
        "SMS_CONTRACT_UPSTREAM_TIMEOUT": "2.5",
        "SMS_CONTRACT_BLOCK_INVALID": "1",
    }
    result = run_proxy(tmp_path, env=env)
    assert result.exit_code == 0, result.output
    ((config, _options),) = started
    assert config.upstream is not None
    assert (config.upstream.url, config.upstream.ca_bundle) == (UPSTREAM, ca_bundle)
    assert (config.upstream.login, config.upstream.password) == ("inocx", "pw")
    assert (config.upstream.timeout, config.upstream.block_invalid) == (2.5, True)


def test_the_proxy_has_every_option_of_serve_and_its_own_state_dir(
    tmp_path: Path, started: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def options(command: Any) -> dict[str, Any]:
        return {param.name: (param.opts, param.envvar) for param in command.params}

    assert options(serve).items() <= options(proxy).items()
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["proxy", "--http", "--upstream", UPSTREAM])
    assert result.exit_code == 0, result.output
    ((config, _options),) = started
    assert config.db_path == Path(".state/proxy/inbox.sqlite3")
