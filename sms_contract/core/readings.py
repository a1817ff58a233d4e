"""The readings: each point the platform's help page leaves open, as a named switch.

This module is the one home of the readings (SPEC.md readings 5, 6, 7 and
10). Each has a name, its values and what each accepts, a default, a strict
value and one line of why. The default refuses only what a provider would
deliver or bill wrongly and warns about the rest; the strict value is the rule
for teams that know their platform. ``check_document``, ``build_payload``, the
command line and the fake provider all take a ``Readings``, so that a reading
means the same in every tool. The shipped JSON Schema stays the strictest
statement of the format; ``payload_schema`` gives the one a provider accepts
under given readings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from sms_contract.core.encoding import Analysis
from sms_contract.exceptions import ReadingError
from sms_contract.schema import load_schema

UnicodeReading = Literal["allowed", "exact"]
CreditsReading = Literal["concatenated", "simple", "either"]
RecipientReading = Literal["either", "e164", "digits"]
UnknownFieldsReading = Literal["warn", "reject"]

#: E.164 as the shipped schema states it; the other ``to`` values are derived from it.
E164_PATTERN: str = load_schema()["properties"]["to"]["pattern"]
_PLUS = "^\\+"
# The derivations below rely on the pattern starting with a literal '+'.
assert E164_PATTERN.startswith(_PLUS), E164_PATTERN

#: The ``to`` pattern each value of the ``to`` reading accepts (``either`` also
#: needs the digits to form a valid international number, which no pattern says).
RECIPIENT_PATTERNS: dict[str, str] = {
    "e164": E164_PATTERN,
    "digits": "^" + E164_PATTERN.removeprefix(_PLUS),
    "either": _PLUS + "?" + E164_PATTERN.removeprefix(_PLUS),
}

#: Where a description in the JSON Schema starts saying which reading governs it.
READING_NOTE = " Reading "


@dataclass(frozen=True, slots=True)
class Value:
    """One value of a reading: what it accepts, and the values whose every
    accepted payload it accepts too (``includes``)."""

    name: str
    meaning: str
    includes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """One point the help page leaves open, and its switch.

    ``warning`` and ``violation`` are the codes of the findings it governs;
    ``example`` changes the schema's example payload into one that the lenient
    value warns about and the strict value refuses (``example_text`` says it
    for humans); ``schema_path`` is where the JSON Schema describes it.
    """

    name: str
    contract: int
    values: tuple[Value, ...]
    default: str
    strict: str
    why: str
    warning: str
    violation: str
    example: Mapping[str, Any]
    example_text: str
    schema_path: tuple[str, ...]

    @property
    def attribute(self) -> str:
        """The ``Readings`` attribute: the name with ``_`` for ``-``."""
        return self.name.replace("-", "_")

    @property
    def value_names(self) -> tuple[str, ...]:
        """The names of its values, in the documented order."""
        return tuple(value.name for value in self.values)

    @property
    def lenient(self) -> str:
        """The value that accepts everything every other value accepts."""
        others = set(self.value_names)
        return next(v.name for v in self.values if others - {v.name} <= set(v.includes))

    def value(self, name: str) -> Value:
        """The value called ``name``."""
        return next(value for value in self.values if value.name == name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``sms-contract readings --json``)."""
        return {
            "name": self.name,
            "contractReading": self.contract,
            "values": [{"name": v.name, "meaning": v.meaning} for v in self.values],
            "default": self.default,
            "strict": self.strict,
            "why": self.why,
            "warning": self.warning,
            "violation": self.violation,
            "example": self.example_text,
        }


#: Every reading, in the order they are listed everywhere.
READINGS: tuple[Reading, ...] = (
    Reading(
        name="unicode",
        contract=6,
        values=(
            Value(
                "allowed",
                "isUnicode true is valid for any text; a text GSM-7 could carry, declared "
                "UCS-2, gets a warning naming its credits as GSM-7 and as declared",
                includes=("exact",),
            ),
            Value("exact", "isUnicode is true exactly when a character is outside GSM 03.38"),
        ),
        default="allowed",
        strict="exact",
        why="the help page sets isUnicode true for accents, and any text travels intact as "
        "UCS-2, only dearer; false with a character outside GSM 03.38 garbles the text, so "
        "it stays a violation under both values",
        warning="is_unicode_not_needed",
        violation="is_unicode_mismatch",
        example={"text": "Votre RDV est confirmé", "isUnicode": True, "credits": 1},
        example_text='`"isUnicode": true` for "Votre RDV est confirmé" (all GSM-7), 1 credit',
        schema_path=("properties", "isUnicode"),
    ),
    Reading(
        name="credits",
        contract=7,
        values=(
            Value(
                "concatenated",
                "160 septets or 70 UCS-2 units in one SMS, else parts of 153 or 67: what "
                "operators bill",
            ),
            Value(
                "simple",
                "ceil(units / 160) for GSM-7 or ceil(units / 70) for UCS-2: the help page's "
                "sentence read literally",
            ),
            Value(
                "either",
                "the concatenated or the simple count, with a warning when they differ",
                includes=("concatenated", "simple"),
            ),
        ),
        default="concatenated",
        strict="concatenated",
        why='the help page says Unicode "reduces capacity from 160 to 70 characters per '
        'credit", silent on concatenated parts; credits are counted in the encoding that '
        "isUnicode declares",
        warning="credits_reading",
        violation="credits_mismatch",
        example={"text": "a" * 310, "credits": 2},
        example_text='a GSM-7 text of 310 characters with `"credits": 2` (3 parts of 153; '
        "ceil(310 / 160) = 2)",
        schema_path=("properties", "credits"),
    ),
    Reading(
        name="to",
        contract=5,
        values=(
            Value(
                "either",
                "E.164, or the same digits without '+' when they form a valid international "
                "number (a warning)",
                includes=("e164", "digits"),
            ),
            Value("e164", "'+', country code and national number: 7 to 15 digits, nothing else"),
            Value(
                "digits",
                "the digits of E.164 without '+', forming a valid international number; "
                "'+' is refused",
            ),
        ),
        default="either",
        strict="e164",
        why='the help page asks for "international format", which many platforms write '
        "without the '+'",
        warning="to_without_plus",
        violation="pattern",
        example={"to": "33612345678"},
        example_text='`"to": "33612345678"`',
        schema_path=("properties", "to"),
    ),
    Reading(
        name="unknown-fields",
        contract=10,
        values=(
            Value("warn", "a field outside the seven is ignored, with a warning", ("reject",)),
            Value("reject", "a field outside the seven is a violation (--strict-fields)"),
        ),
        default="warn",
        strict="reject",
        why="the help page lists seven fields; a provider that refuses an eighth breaks the "
        "day the format grows",
        warning="unknown_field",
        violation="unknown_field",
        example={"campaign": "spring"},
        example_text='`"campaign": "spring"` next to the seven fields',
        schema_path=(),
    ),
)

BY_NAME: dict[str, Reading] = {reading.name: reading for reading in READINGS}

#: Each reading and its value names, looked up by every ``Readings`` built.
_VALUE_NAMES = [(reading, frozenset(reading.value_names)) for reading in READINGS]


def _names() -> str:
    return ", ".join(BY_NAME)


def _reading(name: str) -> Reading:
    try:
        return BY_NAME[name]
    except KeyError:
        raise ReadingError(f"unknown reading {name!r}; the readings are: {_names()}") from None


@dataclass(frozen=True, slots=True)
class Readings:
    """The readings in force, one attribute per reading; ``Readings()`` are the
    defaults and ``Readings.strict()`` the strict values. An unknown value is a
    ``ReadingError``."""

    unicode: UnicodeReading = "allowed"
    credits: CreditsReading = "concatenated"
    to: RecipientReading = "either"
    unknown_fields: UnknownFieldsReading = "warn"

    def __post_init__(self) -> None:
        for reading, names in _VALUE_NAMES:
            value = getattr(self, reading.attribute)
            if value not in names:
                raise ReadingError(
                    f"unknown value {value!r} for the reading {reading.name}; "
                    f"its values are: {', '.join(reading.value_names)}"
                )

    @classmethod
    def strict(cls) -> Readings:
        """Every reading at its strict value."""
        return cls.from_mapping({reading.name: reading.strict for reading in READINGS})

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, str], base: Readings | None = None) -> Readings:
        """``base`` (the defaults) with the readings of ``mapping`` (``{"to": "e164"}``)."""
        # Values are checked by __post_init__, so a str of any content may go in here.
        changes: dict[str, Any] = {_reading(n).attribute: v for n, v in mapping.items()}
        return replace(base if base is not None else DEFAULTS, **changes)

    def to_dict(self) -> dict[str, str]:
        """``{"unicode": "allowed", ...}``, by reading name, in catalogue order."""
        return {reading.name: getattr(self, reading.attribute) for reading in READINGS}

    def __str__(self) -> str:
        """``unicode=allowed credits=concatenated ...``: the form ``parse_readings`` reads."""
        return " ".join(f"{name}={value}" for name, value in self.to_dict().items())


#: The defaults, built once (``Readings()`` checks its values each time).
DEFAULTS = Readings()


def parse_readings(items: Iterable[str], base: Readings | None = None) -> Readings:
    """Readings from ``NAME=VALUE`` items, each item possibly holding several
    separated by spaces (``"unicode=exact credits=simple"``); a later item wins.

    Starts from ``base`` (the defaults); raises ``ReadingError`` with a one-line
    message listing the valid names or values.
    """
    found: dict[str, str] = {}
    for item in items:
        for part in item.split():
            name, separator, value = part.partition("=")
            if not separator or not name:
                raise ReadingError(
                    f"{part!r} is not NAME=VALUE (e.g. unicode=exact); the readings are: {_names()}"
                )
            found[name] = value
    return Readings.from_mapping(found, base)


def accepted_credits(counted: Analysis, reading: CreditsReading) -> tuple[int, ...]:
    """The ``credits`` values the ``credits`` reading accepts for a text counted
    as ``counted``; the first is the one a builder writes."""
    if reading == "concatenated":
        return (counted.credits,)
    if reading == "simple":
        return (counted.simple_credits,)
    both = (counted.credits, counted.simple_credits)
    return both if both[0] != both[1] else both[:1]


def payload_schema(readings: Readings | None = None) -> dict[str, Any]:
    """The JSON Schema of a payload as a provider accepts it under ``readings``.

    ``additionalProperties`` is allowed under ``unknown-fields=warn``, the ``to``
    pattern follows the ``to`` reading, and each reading's description names the
    value in force. What no schema can say (isUnicode and credits against the
    text, the validity of a number) is left to ``check_document``. The ``$id``
    of the shipped, strict schema is left out: this is another schema.
    """
    readings = readings if readings is not None else DEFAULTS
    schema = load_schema()
    del schema["$id"]
    schema["x-readings"] = readings.to_dict()
    if readings.unknown_fields == "warn":
        schema["additionalProperties"] = True
    _recipient_schema(schema, readings.to)
    for reading in READINGS:
        node = schema
        for key in reading.schema_path:
            node = node[key]
        value = getattr(readings, reading.attribute)
        shipped = node["description"].split(READING_NOTE)[0]
        note = f"`{reading.name}={value}` is in force: {reading.value(value).meaning}."
        node["description"] = f"{shipped}{READING_NOTE}{note}"
    schema["description"] += (
        f" This is the format a provider accepts under the readings {readings}."
    )
    return schema


def _recipient_schema(schema: dict[str, Any], reading: str) -> None:
    """The ``to`` pattern of ``reading``, and examples it accepts."""
    to = schema["properties"]["to"]
    to["pattern"] = RECIPIENT_PATTERNS[reading]
    without_plus = [number.removeprefix("+") for number in to["examples"]]
    if reading == "digits":
        to["examples"] = without_plus
        for example in schema["examples"]:
            example["to"] = example["to"].removeprefix("+")
    elif reading == "either":
        to["examples"] = [*to["examples"], without_plus[0]]
