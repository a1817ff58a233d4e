"""docs/proxy.md says what the proxy does: its Python example passes with the
fixture, and its options table is the command's (the two-terminal example runs
in tests/test_proxy_serve.py; every command and option it names exists:
tests/test_ci_docs.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sms_contract.cli.proxy import proxy
from sms_contract.cli.serve import serve
from sms_contract.mock_provider.testing import SmsProvider

GUIDE = (Path(__file__).resolve().parent.parent / "docs" / "proxy.md").read_text(encoding="utf-8")


def test_the_guides_python_example_passes_with_the_fixture(
    sms_provider: SmsProvider, make_sms_provider: Callable[..., SmsProvider]
) -> None:
    (example,) = re.findall(r"```python\n(.*?)```", GUIDE, flags=re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(compile(example, "docs/proxy.md", "exec"), namespace)
    namespace["test_the_proxy_records_the_verdict_and_the_providers_answer"](
        sms_provider, make_sms_provider
    )


def test_the_options_table_lists_each_option_the_proxy_adds_with_its_variable() -> None:
    serves = {param.name for param in serve.params}
    added = [param for param in proxy.params if param.name not in serves]
    assert added
    rows = re.findall(r"^\| `(--[a-z-]+)[^`]*` \| `(SMS_CONTRACT_[A-Z_]+)` \|", GUIDE, re.M)
    assert rows == [(param.opts[0], param.envvar) for param in added]
