"""The built wheel: one top-level package, the contract files inside, usable outside the repo."""

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return next(out.glob("sms_contract-*.whl"))


def test_wheel_installs_a_single_top_level_package_so_generic_names_never_clash(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top_level = {
        name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")
    }
    assert top_level == {"sms_contract"}


def test_wheel_ships_the_schemas_openapi_spec_and_examples(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = (
        "sms-send.schema.json",
        "provider.openapi.yaml",
        "SPEC.md",
        "verify-report.schema.json",
    )
    for document in shipped:
        assert f"sms_contract/schema/{document}" in names
    assert any(name.startswith("sms_contract/schema/examples/invalid/") for name in names)
    assert any(name.startswith("sms_contract/mock_provider/ui/templates/") for name in names)


def test_wheel_finds_its_schema_when_run_outside_the_repo(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "PYTHONSAFEPATH": "1"}
    code = (
        "import sms_contract, sms_contract.schema as s;"
        "print(sms_contract.__file__);"
        "print(s.path(s.SCHEMA_FILE).is_file(), s.schema_version())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    module_file, found = result.stdout.splitlines()
    assert module_file.startswith(str(site))
    assert found == "True 1.0.0"
