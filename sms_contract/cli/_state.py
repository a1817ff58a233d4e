"""The directories ``serve`` writes, checked before it writes anything: a read-only or
missing volume is one ``error:`` line naming the setting to change (exit 2)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sms_contract.cli._common import fail


def require_writable(directory: Path, role: str, setting: str) -> None:
    """Create ``directory`` when missing and prove it writable, or stop with one line."""
    hint = f"mount a writable volume there or choose another with {setting}"
    if directory.exists() and not directory.is_dir():
        fail(f"{role} {directory} is not a directory; {hint}")
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)  # the owner's only
    except OSError as error:
        fail(f"cannot create {role} {directory} ({error.strerror}); {hint}")
    try:
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as error:
        fail(f"{role} {directory} is not writable ({error.strerror}); {hint}")


def require_state_dirs(db_path: Path, state_dir: Path | None) -> None:
    """Check the directories ``serve`` writes: ``state_dir`` (the local CA) when
    used, and the inbox's directory."""
    if state_dir is not None:
        require_writable(state_dir, "the state directory", "--state-dir (SMS_CONTRACT_STATE_DIR)")
    if state_dir is None or db_path.parent.resolve() != state_dir.resolve():
        require_writable(db_path.parent, "the inbox's directory", "--db (SMS_CONTRACT_DB)")
