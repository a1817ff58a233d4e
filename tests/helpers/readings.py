"""Readings in tests: the examples of the issue, and hypothesis strategies for
readings and for payloads near the points the readings decide."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from sms_contract.core.encoding import analyze
from sms_contract.core.readings import READINGS, Readings
from sms_contract.schema import load_schema

#: The schema's own example: a valid payload every reading accepts.
BASE: dict[str, Any] = load_schema()["examples"][0]

#: The three sends of the issue that the real platform may make.
ACCENTS_AS_UCS2 = {
    "type": "NOTIFICATION",
    "sender": "INOCX",
    "to": "+33612345678",
    "retId": "r1",
    "isUnicode": True,
    "text": "Votre RDV est confirmé",
    "credits": 1,
}
WITHOUT_PLUS = {**ACCENTS_AS_UCS2, "isUnicode": False, "to": "33612345678"}
SIMPLE_CREDITS = {**ACCENTS_AS_UCS2, "isUnicode": False, "text": "a" * 310, "credits": 2}

#: Every Readings there is.
readings = st.builds(Readings, **{r.attribute: st.sampled_from(r.value_names) for r in READINGS})

#: Texts around the edges the readings care about: all GSM-7 (accents included),
#: with extension characters, needing UCS-2, emoji, and lengths where the
#: concatenated and the simple counts differ (307 septets, 135 UCS-2 units).
TEXTS = [
    "Votre RDV est confirmé",
    "a" * 160,
    "a" * 161,
    "a" * 310,
    "a" * 480,
    "€" * 155,
    "Votre reçu",
    "ç" * 70,
    "ç" * 137,
    "😀" * 68,
    "a" * 66 + "😀",
]

recipients = st.sampled_from(
    [
        "+33612345678",
        "33612345678",
        "+14155550123",
        "14155550123",
        "+999123456789",
        "999123456789",
        "0612345678",
        "+0612345678",
        "612345",
        "+33 6 12 34 56 78",
        "33612345678\n",
        "",
    ]
)


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    """A payload whose ``to``, ``isUnicode``, ``credits``, text and extra fields
    vary around what the readings decide; now and then another field breaks."""
    text = draw(st.sampled_from(TEXTS))
    document = {**BASE, "text": text, "to": draw(recipients)}
    document["isUnicode"] = draw(st.sampled_from([True, False, True, False, "true", None]))
    # Mostly a count some reading gives (as GSM-7 or UCS-2), now and then any.
    counts = [
        count
        for analysis in (analyze(text), analyze(text, ucs2=True))
        for count in (analysis.credits, analysis.simple_credits)
    ]
    document["credits"] = draw(
        st.sampled_from(counts)
        | st.integers(min_value=0, max_value=8)
        | st.sampled_from([2.0, "2"])
    )
    if draw(st.booleans()):
        document[draw(st.sampled_from(["campaign", "ret_id", "Text"]))] = draw(st.integers())
    if draw(st.integers(0, 4)) == 0:
        document[draw(st.sampled_from(["type", "retId", "sender"]))] = draw(
            st.sampled_from([None, "", 7, "MARKETING"])
        )
    return document


def codes(found: list[Any]) -> set[tuple[str, str]]:
    """The ``(pointer, code)`` of each finding."""
    return {(finding.pointer, finding.code) for finding in found}
