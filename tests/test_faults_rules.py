"""Fault rules as data: validation with named fields, matching, files, the magic table."""

import json

import pytest
from click.testing import CliRunner

from sms_contract import build_payload
from sms_contract.cli import cli
from sms_contract.core.validation import check_document
from sms_contract.mock_provider.config import ProviderConfig
from sms_contract.mock_provider.faults.magic import MAGIC, magic_rules_for
from sms_contract.mock_provider.faults.rules import (
    MAGIC_RANGE,
    FaultRule,
    RuleError,
    SendFacts,
    load_rules_file,
    parse_rule,
    parse_rules,
)
from sms_contract.mock_provider.service import ProviderState


def pointers(data, **options):
    with pytest.raises(RuleError) as caught:
        parse_rule(data, **options)
    return {v.pointer: v.message for v in caught.value.violations}


def test_a_rule_names_exactly_one_action():
    assert "got none" in pointers({"to": "+33612345678"})[""]
    assert "got status and delay" in pointers({"status": 503, "delay": 1})[""]


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"status": 200}, "/status"),
        ({"status": 600}, "/status"),
        ({"status": "503"}, "/status"),
        ({"status": True}, "/status"),
        ({"delay": -1}, "/delay"),
        ({"delay": [3, 1]}, "/delay"),
        ({"delay": [1, 2, 3]}, "/delay"),
        ({"delay": "slow"}, "/delay"),
        ({"rateLimit": {"limit": 0, "window": 1}}, "/rateLimit/limit"),
        ({"rateLimit": {"limit": 1, "window": 0}}, "/rateLimit/window"),
        ({"rateLimit": {"limit": 1, "window": 1, "per": "ip"}}, "/rateLimit/per"),
        ({"reset": False}, "/reset"),
        ({"truncate": -1}, "/truncate"),
        ({"truncate": False}, "/truncate"),
        ({"hang": 0}, "/hang"),
        ({"status": 503, "probability": 1.5}, "/probability"),
        ({"status": 503, "times": 0}, "/times"),
        ({"status": 503, "textRegex": "("}, "/textRegex"),
        ({"status": 503, "type": "PROMO"}, "/type"),
        ({"status": 503, "namespace": "a b"}, "/namespace"),
        ({"status": 503, "id": "magic-1"}, "/id"),
        ({"status": 503, "colour": "red"}, "/colour"),
        ({"status": 503, "rateLimit": {"limit": 1, "window": 1, "extra": 1}}, "/rateLimit/extra"),
    ],
)
def test_an_invalid_rule_names_the_field_at_fault(rule, field):
    assert field in pointers(rule)


def test_retry_after_and_detail_go_with_the_status_action_only():
    assert "status action" in pointers({"delay": 1, "retryAfter": 5})[""]


def test_a_delay_or_hang_over_the_server_limit_is_refused():
    assert "over the server's limit" in pointers({"delay": [1, 90]}, max_seconds=60)[""]
    assert "over the server's limit" in pointers({"hang": 61}, max_seconds=60)[""]
    assert parse_rule({"hang": True}, max_seconds=60).hang is True


def test_json_names_are_camel_case_and_python_names_snake_case():
    from_json = parse_rule({"toPrefix": "+33", "retryAfter": 3, "status": 429})
    from_python = FaultRule(to_prefix="+33", retry_after=3, status=429)
    assert from_json == from_python
    assert from_python.to_json() == {
        "toPrefix": "+33",
        "status": 429,
        "retryAfter": 3,
        "probability": 1.0,
    }


def test_every_condition_of_a_rule_must_hold():
    rule = parse_rule(
        {
            "namespace": "ns",
            "toPrefix": "+33",
            "textRegex": r"code \d{4}",
            "login": "inocx",
            "type": "NOTIFICATION",
            "status": 503,
        }
    )
    facts = SendFacts("ns", "+33612345678", "your code 1234", "inocx", "NOTIFICATION")
    assert rule.matches(facts)
    for change in (
        {"namespace": "other"},
        {"to": "+44770090000"},
        {"text": "no digits"},
        {"login": None},
        {"type": "MARKETING"},
    ):
        assert not rule.matches(SendFacts(**{**facts.__dict__, **change}))


def test_text_is_a_substring_and_to_is_exact():
    rule = parse_rule({"text": "STOP", "to": "+33612345678", "empty": True})
    assert rule.matches(SendFacts("ns", "+33612345678", "Promo, STOP au 36111"))
    assert not rule.matches(SendFacts("ns", "+336123456789", "STOP"))


def test_send_facts_read_non_string_fields_as_absent():
    facts = SendFacts.of("ns", {"to": 33612345678, "text": None, "retId": "r-1"}, None)
    assert (facts.to, facts.text, facts.ret_id) == (None, None, "r-1")


def test_rules_of_a_list_are_checked_together_with_their_index():
    with pytest.raises(RuleError) as caught:
        parse_rules(
            [
                {"status": 503},
                {"status": 99},
                {"id": "a", "reset": True},
                {"id": "a", "empty": True},
            ]
        )
    found = [v.pointer for v in caught.value.violations]
    assert found == ["/1/status", ""]


def test_rules_load_from_yaml_and_json_files(tmp_path):
    yaml_file = tmp_path / "faults.yaml"
    yaml_file.write_text(
        "faults:\n"
        "  - id: slow-fr\n"
        "    toPrefix: '+33'\n"
        "    delay: [0.1, 0.5]\n"
        "  - text: PANNE\n"
        "    status: 503\n"
        "    retryAfter: 30\n"
    )
    json_file = tmp_path / "faults.json"
    json_file.write_text(json.dumps([{"rateLimit": {"limit": 10, "window": 60, "per": "login"}}]))
    slow, down = load_rules_file(yaml_file)
    (limited,) = load_rules_file(json_file)
    assert (slow.id, slow.delay, down.status, down.retry_after) == ("slow-fr", (0.1, 0.5), 503, 30)
    assert limited.rate_limit is not None and limited.rate_limit.per == "login"


def test_a_bad_faults_file_stops_the_server_start_with_the_field_named(tmp_path):
    path = tmp_path / "faults.yaml"
    path.write_text("- status: 503\n- status: 200\n")
    state = ProviderState(ProviderConfig(db_path=tmp_path / "db", faults_file=path))
    try:
        with pytest.raises(RuleError, match=r"/1/status"):
            state.install_start_rules()
        path.write_text("status: [")
        with pytest.raises(RuleError, match="not valid YAML"):
            state.install_start_rules()
    finally:
        state.close()


def test_the_magic_recipients_are_in_the_drama_range_and_unique():
    numbers = [rule.to for rule in MAGIC]
    assert len(set(numbers)) == len(numbers) == len({rule.id for rule in MAGIC})
    assert all(n is not None and n.startswith(MAGIC_RANGE) and len(n) == 13 for n in numbers)
    assert {rule.status for rule in MAGIC} >= {400, 408, 429, 500, 502, 503}


@pytest.mark.parametrize(
    "to", [*(rule.to for rule in MAGIC), MAGIC_RANGE + "999", "+33612345678", None]
)
def test_the_magic_rules_of_a_recipient_are_those_a_full_scan_finds(to):
    send = SendFacts("ns", to=to, text="hi", login="bob", type="NOTIFICATION")
    assert list(magic_rules_for(to)) == [rule for rule in MAGIC if rule.matches(send)]


@pytest.mark.parametrize("rule", MAGIC, ids=lambda rule: rule.id)
def test_a_magic_recipient_passes_the_contract_with_at_most_a_warning(rule):
    payload = build_payload(rule.to, "hello", sender="INOCX").to_json_dict()
    result = check_document(payload)
    assert result.violations == []
    assert {w.code for w in result.warnings} <= {"number_not_valid"}


def test_one_second_of_hang_or_one_byte_of_truncate_is_not_read_as_true():
    assert parse_rule({"hang": 1}).hang == 1.0 and parse_rule({"hang": 1}).hang is not True
    assert parse_rule({"truncate": 1}).truncate == 1
    assert parse_rule({"truncate": 1}).truncate is not True
    assert parse_rule({"hang": True}).hang is True


def test_serve_refuses_a_bad_faults_file_before_starting(tmp_path):
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"status": 503, "delay": 1}]))
    result = CliRunner().invoke(
        cli, ["serve", "--http", "--state-dir", str(tmp_path), "--faults", str(path)]
    )
    assert result.exit_code == 2
    assert (
        "bad fault rule" in result.output and "/0: a rule needs exactly one action" in result.output
    )
