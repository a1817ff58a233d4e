"""The payload model and builder: the platform side of the contract.

The field limits are read from the shipped JSON Schema, so the schema stays the
one home of each limit. The type rule lives here (``required_type``) and in the
schema's ``if``/``then``; a property test keeps the two in step. The builder and
the consistency check take the readings in force (``core/readings.py``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
    model_validator,
)

from sms_contract.core.encoding import MAX_PARTS, Analysis, analyze, lone_surrogate_at
from sms_contract.core.numbers import is_valid_number
from sms_contract.core.readings import (
    BY_NAME,
    DEFAULTS,
    E164_PATTERN,
    Readings,
    accepted_credits,
)
from sms_contract.exceptions import PayloadBuildError
from sms_contract.schema import load_schema

_PROPERTIES = load_schema()["properties"]

RET_ID_MAX_LENGTH: int = _PROPERTIES["retId"]["maxLength"]
TEXT_MAX_LENGTH: int = _PROPERTIES["text"]["maxLength"]


class SmsType(StrEnum):
    """The two kinds of SMS the platform sends."""

    NOTIFICATION = "NOTIFICATION"
    MARKETING = "MARKETING"


def sender_is_set(sender: str | None) -> bool:
    """SPEC.md reading 4: absent, ``None`` and ``""`` all mean "not set"."""
    return sender is not None and sender != ""


def required_type(sender: str | None, requested: str) -> str:
    """The type rule: without a sender the type is MARKETING, whatever was asked."""
    return requested if sender_is_set(sender) else SmsType.MARKETING.value


def json_integer(value: Any) -> Any:
    """``value`` with ``2.0`` read as ``2``: JSON Schema counts it an integer (a bool
    or a string is left as it is, for the strict type check to refuse)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class SmsPayload(BaseModel):
    """One SMS as the platform POSTs it, with the wire field names.

    Types are strict (no ``"1"`` -> 1, no 1 -> ``true``) and unknown fields are
    refused, exactly like the JSON Schema.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)

    type: Literal["NOTIFICATION", "MARKETING"]
    sender: StrictStr | None = None
    to: Annotated[StrictStr, Field(pattern=E164_PATTERN)]
    ret_id: Annotated[StrictStr, Field(alias="retId", min_length=1, max_length=RET_ID_MAX_LENGTH)]
    is_unicode: Annotated[StrictBool, Field(alias="isUnicode")]
    text: Annotated[StrictStr, Field(min_length=1, max_length=TEXT_MAX_LENGTH)]
    credits: Annotated[int, Field(ge=1, le=MAX_PARTS)]

    @model_validator(mode="before")
    @classmethod
    def _credits_integral(cls, data: Any) -> Any:
        if isinstance(data, dict) and "credits" in data:
            return {**data, "credits": json_integer(data["credits"])}
        return data

    @model_validator(mode="after")
    def _type_rule(self) -> SmsPayload:
        if self.type != required_type(self.sender, self.type):
            raise ValueError("type must be MARKETING when sender is absent, null or empty")
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The wire form (``retId``, ``isUnicode``), leaving out an unset sender."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def mismatches(self, readings: Readings | None = None) -> list[Mismatch]:
        """Each declared value that disagrees with the text (the consistency
        check), under ``readings`` (the defaults)."""
        return consistency_mismatches(self.text, self.is_unicode, self.credits, readings)


#: The reading that governs each field the consistency check compares.
_GOVERNED_BY = {"isUnicode": "unicode", "credits": "credits"}


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A declared field whose value disagrees with what the text needs.

    ``detail`` says how the text was counted; ``tolerated`` marks a difference
    the reading in force accepts, with a warning.
    """

    field: str
    declared: object
    computed: object
    detail: str = ""
    tolerated: bool = False

    @property
    def code(self) -> str:
        """The rule: the reading's warning code when tolerated, else its violation code."""
        reading = BY_NAME[_GOVERNED_BY[self.field]]
        return reading.warning if self.tolerated else reading.violation

    @property
    def message(self) -> str:
        """A sentence for humans naming exactly what differs."""
        declared, computed = json.dumps(self.declared), json.dumps(self.computed)
        if self.tolerated:
            return f"{self.field} is {declared}: {self.detail}"
        sentence = f"{self.field} is {declared} but the text needs {computed}"
        return f"{sentence} ({self.detail})" if self.detail else sentence


def consistency_mismatches(
    text: str, is_unicode: object, credits: object, readings: Readings | None = None
) -> list[Mismatch]:
    """Compare a payload's ``isUnicode`` and ``credits`` with its text under
    ``readings`` (the defaults), refusals and tolerated differences alike.

    Credits are counted in the encoding ``isUnicode`` declares when it can carry
    the text (true: UCS-2 units), else in the one the text needs. A value of the
    wrong JSON type is not compared: the schema refuses it already.
    """
    readings = readings if readings is not None else DEFAULTS
    needed = analyze(text)
    counted, found = needed, []
    if is_unicode is True and not needed.is_unicode:
        counted = analyze(text, ucs2=True)
        found.append(_needless_ucs2(needed, counted, readings))
    elif is_unicode is False and needed.is_unicode:
        found.append(Mismatch("isUnicode", False, True))
    if isinstance(credits, int | float) and not isinstance(credits, bool):
        found += _credits_mismatches(credits, counted, counted is not needed, readings)
    return found


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _needless_ucs2(gsm: Analysis, ucs2: Analysis, readings: Readings) -> Mismatch:
    """``isUnicode`` true for a text GSM-7 could carry: deliverable, maybe dearer."""
    as_gsm = accepted_credits(gsm, readings.credits)[0]
    as_ucs2 = accepted_credits(ucs2, readings.credits)[0]
    if readings.unicode == "allowed":
        detail = (
            f"GSM-7 could carry the text; as declared (UCS-2) it costs "
            f"{_plural(as_ucs2, 'credit')}, as GSM-7 it would cost {as_gsm}"
        )
        return Mismatch("isUnicode", True, False, detail, tolerated=True)
    detail = (
        f"every character is in GSM 03.38: {_plural(as_gsm, 'credit')} as GSM-7, {as_ucs2} as UCS-2"
    )
    return Mismatch("isUnicode", True, False, detail)


def _concatenated(counted: Analysis) -> str:
    if counted.credits == 1:
        return f"{counted.units} {counted.unit_name} fit one SMS of {counted.single_capacity}"
    return (
        f"{counted.units} {counted.unit_name} make {counted.credits} parts "
        f"of up to {counted.part_capacity}"
    )


def _simple(counted: Analysis) -> str:
    return (
        f"ceil({counted.units} {counted.unit_name} / {counted.single_capacity}) "
        f"= {counted.simple_credits}"
    )


def _credits_mismatches(
    declared: float, counted: Analysis, as_declared: bool, readings: Readings
) -> list[Mismatch]:
    """The ``credits`` findings under the ``credits`` reading; ``as_declared``
    says the text was counted as UCS-2 because ``isUnicode`` says so."""
    accepted = accepted_credits(counted, readings.credits)
    if declared in accepted and len(accepted) == 1:
        return []
    prefix = "counted as UCS-2, as isUnicode declares: " if as_declared else ""
    concatenated, simple = counted.credits, counted.simple_credits
    if declared in accepted:
        # credits=either, and the two counts differ: say which one was declared.
        if declared == concatenated:
            detail = f"{_concatenated(counted)}; the simple reading gives {_simple(counted)}"
            return [Mismatch("credits", declared, simple, prefix + detail, tolerated=True)]
        detail = f"the simple reading, {_simple(counted)}; concatenated, {_concatenated(counted)}"
        return [Mismatch("credits", declared, concatenated, prefix + detail, tolerated=True)]
    if readings.credits == "simple":
        detail = f"the simple reading: {_simple(counted)}"
    elif len(accepted) == 2:
        detail = f"{_concatenated(counted)}; or {simple} by the simple reading: {_simple(counted)}"
    else:
        detail = _concatenated(counted)
        if declared == simple:
            detail += f"; {simple} is the simple reading, {_simple(counted)}, see credits=either"
    return [Mismatch("credits", declared, accepted[0], prefix + detail)]


def normalize_number(number: str, default_region: str | None = None) -> str:
    """``number`` in E.164; national input needs ``default_region`` (e.g. ``"FR"``)."""
    try:
        parsed = phonenumbers.parse(number, default_region)
    except phonenumbers.NumberParseException as error:
        raise PayloadBuildError(
            "to", f"cannot read {number!r} as a phone number: {error}"
        ) from None
    formatted = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_possible_number(parsed):
        raise PayloadBuildError("to", f"{number!r} is not a possible phone number ({formatted})")
    return formatted


def new_ret_id() -> str:
    """A fresh unique retId."""
    return str(uuid.uuid4())


def build_payload(
    to: str,
    text: str,
    sender: str | None = None,
    type: str = SmsType.NOTIFICATION.value,
    *,
    ret_id: str | None = None,
    default_region: str | None = None,
    readings: Readings | None = None,
    is_unicode: bool | None = None,
) -> SmsPayload:
    """Build the payload the platform sends: ``to`` as a number in E.164, computed
    ``isUnicode`` and ``credits``, the type rule applied, and a new ``retId``
    unless given.

    Under ``readings`` (the defaults), ``to`` is written as the ``to`` reading says
    (without ``+`` under ``to=digits``, which the strict model would not accept
    back) and ``credits`` counted as the ``credits`` reading says (concatenated
    parts for ``either``). ``is_unicode=True`` declares UCS-2 for a text GSM-7 could
    carry (refused under ``unicode=exact``); ``False`` for a text that needs
    UCS-2 is refused under every reading.
    """
    readings = readings if readings is not None else DEFAULTS
    if not text:
        raise PayloadBuildError("text", "the text is empty")
    if len(text) > TEXT_MAX_LENGTH:
        raise PayloadBuildError(
            "text", f"the text has {len(text)} characters, more than {TEXT_MAX_LENGTH}"
        )
    if lone_surrogate_at(text) is not None:
        raise PayloadBuildError("text", "the text holds a lone surrogate (not valid Unicode)")
    if type not in SmsType.__members__:
        raise PayloadBuildError("type", f"type must be NOTIFICATION or MARKETING, not {type!r}")
    counted = _declared_encoding(text, is_unicode, readings)
    if counted.credits > MAX_PARTS:
        raise PayloadBuildError(
            "text", f"the text needs {counted.credits} SMS parts, more than {MAX_PARTS}"
        )
    fields: dict[str, Any] = {
        "type": required_type(sender, type),
        "to": _recipient(to, default_region, readings),
        "retId": ret_id if ret_id is not None else new_ret_id(),
        "isUnicode": counted.is_unicode,
        "text": text,
        "credits": accepted_credits(counted, readings.credits)[0],
    }
    if sender is not None:
        fields["sender"] = sender
    try:
        payload = SmsPayload.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        culprit = ".".join(str(part) for part in first["loc"]) or "payload"
        raise PayloadBuildError(culprit, first["msg"]) from None
    if readings.to == "digits":
        # Checked in E.164 above; the model states the strict schema, so the
        # form without '+' is set past its validation.
        return payload.model_copy(update={"to": payload.to.removeprefix("+")})
    return payload


def _declared_encoding(text: str, is_unicode: bool | None, readings: Readings) -> Analysis:
    """The text counted in the encoding the payload will declare."""
    needed = analyze(text)
    if is_unicode is None or is_unicode is needed.is_unicode:
        return needed
    if not is_unicode:
        shown = ", ".join(f"{o.char!r} {o.codepoint}" for o in needed.offending[:5])
        raise PayloadBuildError("isUnicode", f"GSM-7 cannot carry the text ({shown})")
    if readings.unicode == "exact":
        raise PayloadBuildError(
            "isUnicode", "GSM-7 can carry the text, and unicode=exact refuses isUnicode true for it"
        )
    return analyze(text, ucs2=True)


def _recipient(to: str, default_region: str | None, readings: Readings) -> str:
    """``to`` in E.164; under ``to=digits`` it must also be a valid number, since
    without its ``+`` only a valid number reads as international."""
    number = normalize_number(to, default_region)
    if readings.to == "digits" and not is_valid_number(number):
        raise PayloadBuildError(
            "to", f"{number} is not a valid number, so it cannot be written without '+' (to=digits)"
        )
    return number
