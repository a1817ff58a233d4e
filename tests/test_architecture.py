"""The architecture holds: the import contracts of pyproject.toml (docs/architecture.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_import_contracts_of_the_layers_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.exists():
        pytest.fail("lint-imports is missing: install the dev extra (make test does)")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_imports_a_private_name_of_another_module() -> None:
    offenders = []
    for path in (ROOT / "sms_contract").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sms_contract"):
                private = [
                    alias.name
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
                if private:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {private}")
    assert offenders == []


def test_serves_master_imports_no_http_client_before_gevent_patches_its_workers() -> None:
    # A module imported before the patching keeps the unpatched ssl (gevent warns, and
    # urllib3 then recurses on its first HTTPS request from a worker).
    probe = (
        "import sys; import sms_contract.cli.serve, sms_contract.cli.proxy; "
        "from sms_contract.mock_provider import server, worker; "
        "print(sorted(m for m in ('requests', 'urllib3') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"
