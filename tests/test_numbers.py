"""``core.numbers.is_valid_number`` gives phonenumbers' own verdict on every number.

The fast path reads the metadata the library reads; these tests hold it to
``phonenumbers.is_valid_number(phonenumbers.parse(number, None))`` on every
region's example numbers and their neighbours, on random numbers of every
country code, and on anything hypothesis writes.
"""

from __future__ import annotations

import random

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE, PhoneNumberFormat, PhoneNumberType

from sms_contract.core import numbers

fast = numbers.is_valid_number.__wrapped__


def library(number: str) -> bool:
    try:
        return bool(phonenumbers.is_valid_number(phonenumbers.parse(number, None)))
    except phonenumbers.NumberParseException:
        return False


def example_numbers() -> list[str]:
    found = set()
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in vars(PhoneNumberType).values():
            if isinstance(kind, int):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is not None:
                    found.add(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS:
        example = phonenumbers.example_number_for_non_geo_entity(code)
        if example is not None:
            found.add(phonenumbers.format_number(example, PhoneNumberFormat.E164))
    return sorted(found)


def neighbours(number: str) -> list[str]:
    """Numbers one edit away: each digit changed, one added or dropped at the end,
    a zero put after the country code (a national prefix in many regions)."""
    near = [number[:-1], number + "5", number + "0"]
    for at in range(2, len(number)):
        near += [number[:at] + d + number[at + 1 :] for d in "0123456789"]
    for size in (1, 2, 3):
        near.append(number[: 1 + size] + "0" + number[1 + size :])
    return near


EXAMPLES = example_numbers()


def test_there_are_examples_of_every_kind_of_region():
    assert len(EXAMPLES) > 1000
    assert any(n.startswith("+1") for n in EXAMPLES)
    assert any(n.startswith("+800") for n in EXAMPLES)


def test_every_example_number_and_its_neighbours_get_the_librarys_verdict():
    checked = 0
    for example in EXAMPLES:
        for number in [example, *neighbours(example)]:
            assert fast(number) == library(number), number
            checked += 1
    assert checked > 100_000


def test_random_numbers_of_every_country_code_get_the_librarys_verdict():
    chance = random.Random(14)
    for code in COUNTRY_CODE_TO_REGION_CODE:
        for _ in range(60):
            length = chance.randint(7, 15) - len(str(code))
            national = "".join(chance.choice("0123456789") for _ in range(max(length, 0)))
            number = f"+{code}{national}"
            assert fast(number) == library(number), number


@settings(max_examples=3000, deadline=None)
@given(st.from_regex(r"\+[1-9][0-9]{6,14}", fullmatch=True))
def test_any_e164_number_gets_the_librarys_verdict(number):
    assert fast(number) == library(number)


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="+0123456789 -()٣x", max_size=20))
def test_anything_else_is_left_to_the_library(text):
    assert fast(text) == library(text)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("+33612345678", True),  # France, mobile
        ("+33012345678", False),  # a national prefix after the country code
        ("+3361234567", False),  # one digit short
        ("+12015550123", True),  # the NANP's example, under +1 with 25 regions
        ("+447911123456", True),  # GB mobile
        ("+441624756789", True),  # Isle of Man, under +44
        ("+80012345678", True),  # international freephone
        ("+999123456789", False),  # no such country code
    ],
)
def test_known_verdicts(number, valid):
    assert numbers.is_valid_number(number) is valid
    assert library(number) is valid
