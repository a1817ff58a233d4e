"""docs/faults.md says what the code does: its table, rule examples and fixture example."""

import re
from pathlib import Path

import pytest

from sms_contract.mock_provider.faults.magic import MAGIC
from sms_contract.mock_provider.faults.rules import load_rules_file

DOC = (Path(__file__).parent.parent / "docs" / "faults.md").read_text(encoding="utf-8")


def blocks(language):
    return re.findall(rf"```{language}\n(.*?)```", DOC, flags=re.DOTALL)


def test_the_magic_table_lists_exactly_the_built_in_rules_in_order():
    rows = re.findall(r"^\| `(\+447700900\d{3})` \| .* \| `(magic-\d{3})` \|$", DOC, re.MULTILINE)
    assert rows == [(rule.to, rule.id) for rule in MAGIC]


@pytest.mark.parametrize("language", ["json", "yaml"])
def test_the_rule_examples_of_the_doc_are_valid_rules(tmp_path, language):
    example = blocks(language)[0]  # the first block of each language is the rule example
    path = tmp_path / f"faults.{language}"
    path.write_text(example, encoding="utf-8")
    assert len(load_rules_file(path, max_seconds=60)) >= 4


def test_the_fixture_example_of_the_doc_passes(make_sms_provider):
    (example,) = blocks("python")
    namespace: dict = {}
    exec(compile(example, "docs/faults.md", "exec"), namespace)
    tests = [value for name, value in namespace.items() if name.startswith("test_")]
    assert len(tests) == 2
    for test in tests:
        test(make_sms_provider())
