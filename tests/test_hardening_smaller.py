"""The smaller hardening points: file modes, certificate lifetimes, bidi controls in
the UI, and the banner's warning."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography import x509
from helpers.raw_http import serve_process
from helpers.sends import sms

from sms_contract.cli import serve as serve_command
from sms_contract.mock_provider import tls
from sms_contract.mock_provider.testing import SmsProvider

TROJAN = "Pay to \u202eLIVE\u202c account \u2066x\u2069"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
def test_another_user_of_the_machine_cannot_read_the_inbox_or_the_keys(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with serve_process(state, workers=1, tls=True) as base_url:
        ca = str(state / "tls" / "ca.pem")
        assert requests.post(base_url + "/sms", json=sms(), verify=ca, timeout=10).ok
        assert _mode(state) == 0o700
        assert _mode(state / "tls") == 0o700
        for name in ("inbox.sqlite3", "inbox.sqlite3-wal", "inbox.sqlite3-shm"):
            assert _mode(state / name) == 0o600, name
        for name in ("ca-key.pem", "server-key.pem"):
            assert _mode(state / "tls" / name) == 0o600, name


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _days(cert: x509.Certificate) -> int:
    return (cert.not_valid_after_utc - cert.not_valid_before_utc).days


def test_the_local_certificates_have_lifetimes_that_clients_accept(tmp_path: Path) -> None:
    files = tls.ensure_local_tls(tmp_path / "tls")
    assert 3600 <= _days(_cert(files.ca_cert)) <= 3660
    assert _days(_cert(files.cert)) < 398
    constraints = _cert(files.ca_cert).extensions.get_extension_for_class(x509.NameConstraints)
    assert constraints.critical  # a stolen CA key signs nothing for another host


def test_a_server_certificate_near_its_end_is_renewed_on_start_under_the_same_ca(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = tls.ensure_local_tls(tmp_path / "tls")
    ca, old = files.ca_cert.read_bytes(), _cert(files.cert)
    monkeypatch.setattr(tls, "RENEW_DAYS", tls.SERVER_DAYS + 1)  # every leaf is "near its end"
    tls.ensure_local_tls(tmp_path / "tls")
    assert files.ca_cert.read_bytes() == ca  # clients keep trusting it
    renewed = _cert(files.cert)
    assert renewed.serial_number != old.serial_number
    renewed.verify_directly_issued_by(_cert(files.ca_cert))


def test_a_thousand_year_certificate_of_an_older_version_is_replaced(tmp_path: Path) -> None:
    directory = tmp_path / "tls"
    directory.mkdir()
    now = datetime.datetime.now(datetime.UTC)
    (directory / "ca.pem").write_bytes(b"an old CA without its key")
    files = tls.ensure_local_tls(directory)
    assert _cert(files.ca_cert).not_valid_after_utc < now + datetime.timedelta(days=3700)
    _cert(files.cert).verify_directly_issued_by(_cert(files.ca_cert))


def test_bidi_controls_in_a_send_are_shown_not_obeyed_in_every_ui_view(
    sms_provider: SmsProvider,
) -> None:
    assert sms_provider.send(sms(TROJAN)).status_code == 200
    message_id = sms_provider.messages()[0]["id"]
    verify = sms_provider.server.verify
    base = sms_provider.base_url
    pages = [
        f"{base}/?namespace={sms_provider.namespace}",
        f"{base}/messages/{message_id}",
        f"{base}/api/events?once=1&namespace={sms_provider.namespace}",
    ]
    for url in pages:
        text = requests.get(url, verify=verify, timeout=10).text
        assert "\u202e" not in text and "\u2066" not in text, url
        assert "U+202E" in text, url


def test_the_banner_warns_when_bound_beyond_loopback_without_an_admin_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_command, "run", lambda config, options: None)
    runner = CliRunner()
    state = ["--state-dir", str(tmp_path), "--http"]
    exposed = runner.invoke(serve_command.serve, ["--host", "0.0.0.0", *state])
    assert exposed.exit_code == 0, exposed.output
    assert "WARNING" in exposed.output and "no admin token" in exposed.output
    guarded = ["--host", "0.0.0.0", "--admin-token", "t0ken", *state]
    assert "WARNING" not in runner.invoke(serve_command.serve, guarded).output
    assert "WARNING" not in runner.invoke(serve_command.serve, state).output


def test_a_non_ascii_admin_token_stops_serve_with_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(serve_command, "run", lambda config, options: None)
    result = CliRunner().invoke(
        serve_command.serve, ["--state-dir", str(tmp_path), "--http", "--admin-token", "clé"]
    )
    assert result.exit_code != 0
    assert "printable ASCII" in result.output
