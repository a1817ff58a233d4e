"""The check catalogue: one place, in step with the implementations, probes and the guide."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sms_contract.contract_tests.catalogue import (
    CATALOGUE,
    PAYLOAD_VARIANTS,
    REQUIREMENTS,
    Level,
    UnknownSelector,
    select,
)
from sms_contract.contract_tests.checks import IMPLEMENTATIONS
from sms_contract.contract_tests.evidence import Redactor
from sms_contract.contract_tests.probes import Setup, invalid_bodies, plan
from sms_contract.contract_tests.runner import DEFAULT_MAX_SENDS
from sms_contract.core.encoding import analyze
from sms_contract.core.outcome import classify
from sms_contract.core.readings import Readings, accepted_credits
from sms_contract.core.validation import check_body, check_document

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "verify.md"
SETUP = Setup("+33612345678", "+882123456789012", "partner", "run1")


def test_check_ids_are_unique_dotted_and_have_a_known_level_and_requirements():
    ids = [spec.id for spec in CATALOGUE]
    assert len(ids) == len(set(ids))
    for spec in CATALOGUE:
        assert re.fullmatch(r"[a-z0-9]+\.[a-z0-9-]+", spec.id), spec.id
        assert spec.level in Level
        assert set(spec.requires) <= set(REQUIREMENTS)


def test_every_check_has_exactly_one_implementation():
    assert set(IMPLEMENTATIONS) == {spec.id for spec in CATALOGUE}


def test_every_probe_a_check_names_can_be_planned():
    for spec in CATALOGUE:
        for probe in spec.probes:
            plan(probe, SETUP)


def _guide_sections() -> dict[str, str]:
    """Each section of the guide's "The checks", by heading, whitespace collapsed."""
    text = GUIDE.read_text(encoding="utf-8").split("\n## The checks\n")[1]
    text = text.split("\n## ")[0]
    parts = re.split(r"^### (.+)\n", text, flags=re.MULTILINE)
    pairs = zip(parts[1::2], parts[2::2], strict=True)
    return {heading: " ".join(body.split()) for heading, body in pairs}


def test_the_guide_has_a_section_per_check_id():
    assert list(_guide_sections()) == [spec.id for spec in CATALOGUE]


def test_every_check_says_how_to_fix_it():
    assert all(spec.fix.strip() for spec in CATALOGUE)


def test_the_guide_ends_each_section_with_exactly_the_catalogues_fix_text():
    sections = _guide_sections()
    for spec in CATALOGUE:
        assert sections[spec.id].endswith(f"**Fix:** {spec.fix}"), spec.id


def test_a_full_run_fits_the_default_budget():
    probes = {probe for spec in CATALOGUE for probe in spec.probes if probe != "fuzz"}
    assert sum(r.sends for probe in probes for r in plan(probe, SETUP)) == 21 <= DEFAULT_MAX_SENDS


def test_every_planned_sms_goes_to_the_partners_numbers():
    probes = {probe for spec in CATALOGUE for probe in spec.probes}
    bodies = [r.body for probe in probes for r in plan(probe, SETUP) if isinstance(r.body, dict)]
    assert bodies
    assert {body["to"] for body in bodies} == {SETUP.to, SETUP.long_to}


@pytest.mark.parametrize("check_id", sorted(PAYLOAD_VARIANTS))
def test_each_payload_variant_is_valid_under_its_readings_with_right_unicode_and_credits(
    check_id,
):
    variant = PAYLOAD_VARIANTS[check_id][3]
    (request,) = plan(f"send:{check_id.removeprefix('payload.')}", SETUP)
    assert isinstance(request.body, dict)
    verdict = check_document(request.body, readings=variant.readings)
    assert verdict.valid, verdict.violations
    declared_ucs2 = variant.is_unicode is True
    analysis = analyze(request.body["text"], ucs2=declared_ucs2)
    assert request.body["isUnicode"] is analysis.is_unicode
    assert request.body["credits"] == accepted_credits(analysis, variant.readings.credits)[0]


def test_the_payload_variants_of_the_readings_differ_from_the_strict_values():
    def body(name: str) -> dict:
        (request,) = plan(f"send:{name}", SETUP)
        assert isinstance(request.body, dict)
        return request.body

    ucs2 = body("ucs2-for-gsm-text")
    assert ucs2["isUnicode"] is True and not analyze(ucs2["text"]).is_unicode
    assert check_document(ucs2).valid
    assert not check_document(ucs2, readings=Readings(unicode="exact")).valid
    simple = body("credits-simple")
    analysis = analyze(simple["text"])
    assert simple["credits"] == analysis.simple_credits < analysis.credits
    assert not check_document(simple).valid
    assert check_document(simple, readings=Readings(credits="either")).valid


def test_the_payload_variants_cover_what_their_ids_promise():
    def body(name: str) -> dict:
        (request,) = plan(f"send:{name}", SETUP)
        assert isinstance(request.body, dict)
        return request.body

    assert "sender" not in body("marketing-no-sender")
    assert body("marketing-null-sender")["sender"] is None
    assert body("marketing-empty-sender")["sender"] == ""
    assert {body(n)["type"] for n in ("marketing-no-sender", "marketing-null-sender")} == {
        "MARKETING"
    }
    for name in ("gsm-plain", "gsm-extension", "gsm-accents", "gsm-long-multipart"):
        assert body(name)["isUnicode"] is False, name
    assert body("gsm-plain")["text"].isascii()
    assert not body("gsm-accents")["text"].isascii()
    assert analyze(body("gsm-extension")["text"]).units > len(body("gsm-extension")["text"])
    for name in ("ucs2-accents", "emoji-multipart"):
        assert body(name)["isUnicode"] is True, name
    assert body("emoji-multipart")["credits"] > 1
    assert body("gsm-long-multipart")["credits"] > 1
    assert len(body("e164-15-digits")["to"]) == 16


def test_the_invalid_payloads_are_all_invalid():
    for label, document in invalid_bodies(SETUP):
        raw = document if isinstance(document, bytes) else json.dumps(document)
        assert not check_body(raw).valid, label


def test_the_retry_probe_sends_the_same_body_twice():
    first, again = plan("retry", SETUP)
    assert first.body == again.body


def test_selectors_match_ids_and_dotted_prefixes_only():
    assert [s.id for s in select(("tls.https",))] == ["tls.https"]
    assert {s.id for s in select(("auth",))} == {s.id for s in CATALOGUE if s.id[:5] == "auth."}
    assert "payload.notification" not in {s.id for s in select((), ("payload",))}
    with pytest.raises(UnknownSelector):
        select(("pay",))


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "accepted"),
        (204, "accepted"),
        (400, "permanent"),
        (401, "permanent"),
        (408, "retryable"),
        (429, "retryable"),
        (500, "retryable"),
        (503, "retryable"),
        (302, "permanent"),
        (None, "retryable"),
    ],
)
def test_answers_are_read_as_contract_reading_9_says(status, outcome):
    assert classify(status) == outcome


def test_the_redactor_removes_the_password_and_its_basic_token():
    redact = Redactor("partner", ("s3cret",))
    token = "cGFydG5lcjpzM2NyZXQ="
    text = f"Authorization: Basic {token}; pw=s3cret; unpadded {token.rstrip('=')}"
    cleaned = redact(text)
    assert "s3cret" not in cleaned
    assert token.rstrip("=") not in cleaned
    assert redact.deep({"s3cret": ["x s3cret"]}) == {"***": ["x ***"]}
