"""GSM 03.38 / UCS-2 analysis: the boundaries of CONTRACT readings 6 and 7."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_contract.core.encoding import (
    GSM_DEFAULT_ALPHABET,
    GSM_EXTENSION_TABLE,
    GSM_SET,
    analyze,
)

# GSM 03.38 default alphabet by code point, 0x00-0x7F without the escape 0x1B.
GSM_DEFAULT_CODEPOINTS = [
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
    0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF,
    0xC9, *range(0x20, 0x24), 0xA4, *range(0x25, 0x40), 0xA1, *range(0x41, 0x5B), 0xC4, 0xD6,
    0xD1, 0xDC, 0xA7, 0xBF, *range(0x61, 0x7B), 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
]  # fmt: skip


def test_default_alphabet_matches_gsm_0338_code_table():
    assert [ord(c) for c in GSM_DEFAULT_ALPHABET] == GSM_DEFAULT_CODEPOINTS


def test_extension_table_holds_the_ten_two_septet_characters():
    assert sorted(GSM_EXTENSION_TABLE) == sorted("\f^{}\\[]~|€")


@pytest.mark.parametrize(
    ("length", "credits"), [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3), (460, 4)]
)
def test_plain_gsm_credits_at_160_then_153_per_part(length, credits):
    analysis = analyze("a" * length)
    assert (analysis.encoding, analysis.units, analysis.credits) == ("GSM-7", length, credits)


def test_extension_character_costs_two_septets():
    analysis = analyze("€" * 80)
    assert (analysis.units, analysis.credits, analysis.is_unicode) == (160, 1, False)
    assert analyze("€" * 80 + "a").credits == 2


def test_extension_character_is_never_split_across_a_part_boundary():
    analysis = analyze("a" * 152 + "€" + "a" * 20)
    assert analysis.parts[0] == (0, 152)
    assert analysis.part_texts[1].startswith("€")


@pytest.mark.parametrize(("length", "credits"), [(70, 1), (71, 2), (134, 2), (135, 3)])
def test_ucs2_credits_at_70_then_67_per_part(length, credits):
    analysis = analyze("ç" * length)
    assert (analysis.encoding, analysis.credits) == ("UCS-2", credits)


def test_emoji_costs_two_units_and_is_never_split_across_67():
    analysis = analyze("a" * 66 + "😀" + "b" * 10)
    assert analysis.units == 78
    assert analysis.parts == ((0, 66), (66, 77))


def test_35_emoji_fit_one_sms_and_36_need_two():
    assert analyze("😀" * 35).credits == 1
    assert analyze("😀" * 36).credits == 2


def test_french_accents_inside_gsm_stay_gsm7():
    assert analyze("é è à ù ì ò É Ç").is_unicode is False


@pytest.mark.parametrize("char", [*"âêîôûçëïœ", "\u2019", "\u201c"])
def test_accents_outside_gsm_force_ucs2_and_are_reported(char):
    analysis = analyze(f"ab{char}")
    assert analysis.is_unicode is True
    assert [(o.index, o.char) for o in analysis.offending] == [(2, char)]


# -- the optimised analysis equals the plain per-character definition -------------------------


def reference_analysis(text):
    """Readings 6 and 7 spelled out one character at a time, for comparison."""
    gsm = all(char in GSM_DEFAULT_ALPHABET or char in GSM_EXTENSION_TABLE for char in text)
    if gsm:
        costs = [2 if char in GSM_EXTENSION_TABLE else 1 for char in text]
        single, capacity = 160, 153
    else:
        costs = [2 if ord(char) > 0xFFFF else 1 for char in text]
        single, capacity = 70, 67
    if sum(costs) <= single:
        parts = [(0, len(text))]
    else:
        parts, start, used = [], 0, 0
        for index, cost in enumerate(costs):
            if used + cost > capacity:
                parts.append((start, index))
                start, used = index, 0
            used += cost
        parts.append((start, len(text)))
    offending = [] if gsm else [(i, c) for i, c in enumerate(text) if c not in GSM_SET]
    return ("GSM-7" if gsm else "UCS-2", sum(costs), tuple(parts), offending)


_ALPHABET = st.sampled_from(
    [
        *GSM_DEFAULT_ALPHABET,
        *GSM_EXTENSION_TABLE * 4,
        "ç",
        "’",
        "\u00a0",
        "\x1b",
        "😀",
        "𝄞",
        "\ud83d",
    ]
)


@st.composite
def long_texts(draw):
    """A run of one filler character, long enough to need parts, with a few
    characters of every kind dropped in at random places."""
    characters = [draw(st.sampled_from(["a", "é", "€", "ç", "😀"]))] * draw(
        st.integers(min_value=0, max_value=700)
    )
    for _ in range(draw(st.integers(min_value=0, max_value=30))):
        characters.insert(draw(st.integers(0, len(characters))), draw(_ALPHABET))
    return "".join(characters)


_TEXTS = st.one_of(
    long_texts(),
    st.text(_ALPHABET, max_size=600),
    st.text(st.sampled_from(["a", "😀", "€"]), min_size=60, max_size=400),
    st.text(max_size=300),
)


@settings(max_examples=400, deadline=None, database=None)
@given(_TEXTS)
def test_analysis_equals_the_per_character_definition(text):
    analysis = analyze(text)
    offending = [(o.index, o.char) for o in analysis.offending]
    assert (analysis.encoding, analysis.units, analysis.parts, offending) == reference_analysis(
        text
    )
