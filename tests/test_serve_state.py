"""What ``serve`` checks on disk before it starts, and the names of its local certificate."""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers.cli import one_error_line

from sms_contract.cli import cli
from sms_contract.mock_provider.tls import TlsFiles, ensure_local_tls
from sms_contract.mock_provider.tls_names import check_tls_names, local_tls_for_names


def local_tls(directory: Path, names: tuple[str, ...]) -> TlsFiles:
    """The files for the local names and ``names``."""
    return local_tls_for_names(directory, check_tls_names(names))[0]


def serve(*args: str, env: dict[str, str] | None = None) -> Result:
    """Run ``serve`` where it must stop before serving; no traceback allowed."""
    result = CliRunner().invoke(cli, ["serve", "--port", "0", *args], env=env)
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def test_a_state_dir_that_is_a_file_is_a_usage_error_naming_the_variable(tmp_path):
    state = tmp_path / "data"
    state.write_text("not a directory")
    result = serve(env={"SMS_CONTRACT_STATE_DIR": str(state)})
    assert result.exit_code == 2
    assert "SMS_CONTRACT_STATE_DIR" in result.stderr and "is a file" in result.stderr


def test_a_state_dir_that_cannot_be_created_stops_serve_with_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    state = tmp_path / "file" / "data"
    result = serve("--state-dir", str(state))
    assert result.exit_code == 2
    assert f"cannot create the state directory {state}" in one_error_line(result)


def test_an_inbox_directory_that_cannot_be_created_names_the_db_setting(tmp_path):
    (tmp_path / "file").write_text("")
    result = serve("--http", "--db", str(tmp_path / "file" / "inbox.sqlite3"))
    assert result.exit_code == 2
    assert "--db (SMS_CONTRACT_DB)" in one_error_line(result)


def test_with_plain_http_and_a_db_elsewhere_the_state_dir_is_not_needed(tmp_path):
    # The state directory holds only the local CA: with --http it is never created.
    (tmp_path / "file").write_text("")
    result = serve(
        "--http",
        "--state-dir",
        str(tmp_path / "file" / "unused"),
        "--db",
        str(tmp_path / "file" / "inbox.sqlite3"),
    )
    assert "the state directory" not in result.stderr


def test_a_tls_name_that_is_no_host_name_is_a_usage_error(tmp_path):
    result = serve("--state-dir", str(tmp_path), env={"SMS_CONTRACT_TLS_NAMES": "ok bad/name"})
    assert result.exit_code == 2
    assert "'bad/name' is neither a host name nor an IP address" in one_error_line(result)


def _handshake(files, server_name: str) -> str:
    """A real TLS handshake on the loopback, the client asking for ``server_name``."""
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(files.cert, files.key)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def accept() -> None:
        connection, _ = listener.accept()
        try:
            with server_context.wrap_socket(connection, server_side=True):
                pass
        except (ssl.SSLError, OSError):
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    client_context = ssl.create_default_context(cafile=str(files.ca_cert))
    try:
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            client_context.wrap_socket(raw, server_hostname=server_name) as tls,
        ):
            return str(tls.version())
    finally:
        thread.join(timeout=10)
        listener.close()


def test_tls_names_make_the_certificate_valid_for_a_ci_service_name(tmp_path):
    files = local_tls(tmp_path / "tls", ("sms-provider", "10.1.2.3"))
    assert _handshake(files, "sms-provider").startswith("TLS")
    assert _handshake(files, "localhost").startswith("TLS")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(files, "other-service")


def test_the_same_names_keep_the_same_ca_across_restarts(tmp_path):
    first = local_tls(tmp_path / "tls", ("sms-provider",)).ca_cert.read_bytes()
    again = local_tls(tmp_path / "tls", ("sms-provider",)).ca_cert.read_bytes()
    plain = local_tls(tmp_path / "tls", ()).ca_cert.read_bytes()  # a subset of its names
    assert first == again == plain


def test_new_names_replace_the_ca_and_say_so(tmp_path):
    before = local_tls(tmp_path / "tls", ()).ca_cert.read_bytes()
    files, replaced = local_tls_for_names(tmp_path / "tls", check_tls_names(("sms-provider",)))
    assert replaced
    assert files.ca_cert.read_bytes() != before
    assert _handshake(files, "sms-provider").startswith("TLS")


def test_the_same_names_are_not_a_replacement(tmp_path):
    names = check_tls_names(("sms-provider", "10.1.2.3"))
    local_tls_for_names(tmp_path / "tls", names)
    assert local_tls_for_names(tmp_path / "tls", names)[1] is False


def test_an_existing_state_dir_from_before_tls_names_is_kept(tmp_path):
    before = ensure_local_tls(tmp_path / "tls").ca_cert.read_bytes()
    assert local_tls(Path(tmp_path / "tls"), ()).ca_cert.read_bytes() == before
