"""SPEC.md stays true: its worked examples re-compute, its field table matches the schema."""

import json
import re

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from sms_contract import schema as documents
from sms_contract.cli import cli
from sms_contract.core.credentials import LOGIN_PATTERN
from sms_contract.core.encoding import GSM_EXTENSION_SET
from sms_contract.core.readings import READINGS

SPEC = documents.read_text(documents.SPEC_FILE)
SCHEMA = documents.load_schema()

_CELL_SEPARATOR = re.compile(r"(?<!\\)\|")
_TERM = re.compile(r'\s*("(?:[^"\\]|\\.)*")(?:\s*×\s*(\d+))?\s*(?:\+|$)')


def table(header_start: str) -> list[dict[str, str]]:
    """The rows of the markdown table whose header row starts with ``header_start``."""
    lines = SPEC.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    header = _cells(lines[start])
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(header, _cells(line), strict=True)))
    return rows


def _cells(line: str) -> list[str]:
    cells = _CELL_SEPARATOR.split(line.strip().strip("|"))
    return [cell.strip().replace("\\|", "|") for cell in cells]


def _code(cell: str) -> str:
    assert cell.startswith("`") and cell.endswith("`"), cell
    return cell[1:-1]


def example_text(expression: str) -> str:
    """Build a worked example's text from ``"ab" × 3 + "c"``."""
    pieces, position = [], 0
    while position < len(expression):
        match = _TERM.match(expression, position)
        assert match, f"cannot read {expression[position:]!r}"
        pieces.append(json.loads(match[1]) * int(match[2] or 1))
        position = match.end()
    return "".join(pieces)


def part_sizes(cell: str) -> list[int]:
    sizes = []
    for term in cell.split("+"):
        size, _, times = term.partition("×")
        sizes += [int(size)] * int(times or 1)
    return sizes


def units(text: str, encoding: str) -> int:
    """Units counted independently of the code under test."""
    if encoding == "UCS-2":
        return len(text.encode("utf-16-le")) // 2
    return len(text) + sum(char in GSM_EXTENSION_SET for char in text)


WORKED = table("| text |")


def test_the_spec_has_worked_examples_of_every_boundary():
    texts = [example_text(_code(row["text"])) for row in WORKED]
    assert len(WORKED) >= 15
    assert {"a" * 160, "a" * 161, "😀" * 35, "😀" * 36} <= set(texts)
    assert any("€" in text and len(text) > 80 for text in texts)


@pytest.mark.parametrize("row", WORKED, ids=[row["text"] for row in WORKED])
def test_worked_example_matches_sms_contract_count(row):
    text = example_text(_code(row["text"]))
    result = CliRunner().invoke(cli, ["count", "--json", text])
    assert result.exit_code == 0, result.output
    counted = json.loads(result.output)
    shown = {
        "length": int(row["length"]),
        "encoding": row["encoding"],
        "isUnicode": row["isUnicode"] == "true",
        "units": int(row["units"]),
        "credits": int(row["credits"]),
        "parts": part_sizes(row["units per part"]),
    }
    counted["parts"] = [units(part["text"], counted["encoding"]) for part in counted["parts"]]
    assert {key: counted[key] for key in shown} == shown


def test_worked_example_text_grammar_reads_escapes_and_repeats():
    assert example_text('"a" × 3 + "\\\\|"') == "aaa\\|"
    assert part_sizes("153 × 2 + 8") == [153, 153, 8]


# -- the field table ----------------------------------------------------------------

FIELDS = {_code(row["field"]): row for row in table("| field |")}


def _json_types(definition: dict) -> set[str]:
    if "type" in definition:
        kind = definition["type"]
        return set(kind) if isinstance(kind, list) else {kind}
    names = {str: "string", bool: "boolean", int: "integer", type(None): "null"}
    return {names[type(value)] for value in definition["enum"]}


def test_field_table_lists_exactly_the_schema_fields():
    assert sorted(FIELDS) == sorted(SCHEMA["properties"])


@pytest.mark.parametrize("name", sorted(SCHEMA["properties"]))
def test_field_table_json_type_matches_the_schema(name):
    shown = set(FIELDS[name]["JSON type"].split(" or "))
    assert shown == _json_types(SCHEMA["properties"][name])


def test_field_table_required_column_matches_the_schema():
    shown = {name for name, row in FIELDS.items() if row["required"] == "yes"}
    assert {row["required"] for row in FIELDS.values()} == {"yes", "no"}
    assert shown == set(SCHEMA["required"])


@pytest.mark.parametrize("name", sorted(SCHEMA["properties"]))
def test_field_table_rules_state_the_schema_limits(name):
    definition, rules = SCHEMA["properties"][name], FIELDS[name]["rules"]
    for key in ("minLength", "maxLength", "minimum", "maximum"):
        if key in definition:
            assert re.search(rf"\b{definition[key]}\b", rules), (key, rules)
    if "pattern" in definition:
        assert f"`{definition['pattern']}`" in rules
    for value in definition.get("enum", []):
        assert f"`{value}`" in rules


@pytest.mark.parametrize("name", sorted(SCHEMA["properties"]))
def test_field_table_example_is_valid_for_the_field(name):
    example = json.loads(_code(FIELDS[name]["example"]))
    assert Draft202012Validator(SCHEMA["properties"][name]).is_valid(example)


# -- sections -------------------------------------------------------------------------


def test_spec_states_the_schema_id_and_version():
    assert SCHEMA["$id"] in SPEC
    assert f"**{SCHEMA['version']}**" in SPEC


@pytest.mark.parametrize(
    "heading",
    [
        "## Overview",
        "## Transport",
        "## Fields",
        "## The type rule",
        "## Encoding and credits",
        "## Authentication",
        "## Test connection",
        "## Expected answers",
        "## Retries and idempotency",
        "## Unknown fields",
        "## Versioning",
        "## Readings",
        "## Readings and their switches",
    ],
)
def test_spec_has_section(heading):
    assert re.search(rf"^{re.escape(heading)}$", SPEC, re.MULTILINE)


def _readings() -> str:
    return SPEC.split("\n## Readings\n", 1)[1]


def test_readings_list_the_ten_readings_of_the_contract():
    contract = _readings().split("### The project's own choices")[0]
    numbers = re.findall(r"^(\d+)\. \*\*", contract, re.MULTILINE)
    assert numbers == [str(n) for n in range(1, 11)]


@pytest.mark.parametrize(
    "choice",
    [
        "7 to 15 digits",
        f"at most {SCHEMA['properties']['retId']['maxLength']} characters",
        f"at most {SCHEMA['properties']['text']['maxLength']} characters",
        "1 to 255",
        '`"credits": 2.0` is accepted',
        "11 alphanumeric characters or 15\n  digits",
        "lone UTF-16 surrogates",
    ],
)
def test_readings_list_the_project_choices(choice):
    assert choice in _readings().split("### The project's own choices")[1]


def test_login_character_set_matches_the_credentials_module():
    assert LOGIN_PATTERN.pattern == "[A-Za-z0-9_+.@-]+"
    assert "letters, digits and `_` `+` `.` `@` `-`" in SPEC


# -- readings and their switches ----------------------------------------------------------------


def _switches() -> str:
    return SPEC.split("\n## Readings and their switches\n", 1)[1]


def test_the_switch_table_is_the_readings_module():
    columns = ("reading", "default", "strict", "warns with", "refuses with")
    rows = [
        (*(_code(row[column]) for column in columns), row["why"])
        for row in table("| reading | default |")
    ]
    assert rows == [(r.name, r.default, r.strict, r.warning, r.violation, r.why) for r in READINGS]


def test_the_values_table_is_the_readings_module():
    rows = [
        (_code(row["reading"]), _code(row["value"]), row["what it accepts"])
        for row in table("| reading | value |")
    ]
    assert rows == [(r.name, v.name, v.meaning) for r in READINGS for v in r.values]


def test_the_examples_of_the_readings_are_the_modules():
    listed = re.findall(r"^- `([a-z-]+)`: (.*)\.$", _switches(), re.MULTILINE)
    assert listed == [(r.name, r.example_text) for r in READINGS]


def test_the_switches_section_states_what_each_lenient_value_includes():
    text = " ".join(_switches().split())
    for reading in READINGS:
        for value in reading.values:
            if value.includes:
                included = " and ".join(f"`{name}`" for name in value.includes)
                named = text.index(f"`{reading.name}={value.name}`")
                assert f"all that {included} accept" in text[named : named + 80], value
