"""The README's examples work as written."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def test_the_readme_pytest_examples_pass_with_the_installed_plugin(tmp_path):
    tests = [block for block in BLOCKS if "def test_" in block]
    assert len(tests) >= 2
    for number, block in enumerate(tests):
        (tmp_path / f"test_readme_{number}.py").write_text(block, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\b[2-9] passed", result.stdout)


def test_the_readme_python_api_example_runs():
    [example] = [block for block in BLOCKS if "check_document(" in block]
    code = re.sub(r"#.*", "", example)
    namespace: dict[str, object] = {}
    exec(compile(code, "README.md", "exec"), namespace)
    assert namespace["payload"].to_json_dict()["to"] == "+33612345678"
