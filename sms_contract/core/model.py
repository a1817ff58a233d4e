"""The payload model and builder: the platform side of the contract.

The field limits are read from the shipped JSON Schema, so the schema stays the
one home of each limit. The type rule lives here (``required_type``) and in the
schema's ``if``/``then``; a property test keeps the two in step.
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

from sms_contract.core.encoding import MAX_PARTS, analyze, lone_surrogate_at
from sms_contract.exceptions import PayloadBuildError
from sms_contract.schema import load_schema

_PROPERTIES = load_schema()["properties"]

#: E.164 as the schema states it ('+', country code, up to 15 digits).
E164_PATTERN: str = _PROPERTIES["to"]["pattern"]
RET_ID_MAX_LENGTH: int = _PROPERTIES["retId"]["maxLength"]
TEXT_MAX_LENGTH: int = _PROPERTIES["text"]["maxLength"]


class SmsType(StrEnum):
    """The two kinds of SMS the platform sends."""

    NOTIFICATION = "NOTIFICATION"
    MARKETING = "MARKETING"


def sender_is_set(sender: str | None) -> bool:
    """CONTRACT reading 4: absent, ``None`` and ``""`` all mean "not set"."""
    return sender is not None and sender != ""


def required_type(sender: str | None, requested: str) -> str:
    """The type rule: without a sender the type is MARKETING, whatever was asked."""
    return requested if sender_is_set(sender) else SmsType.MARKETING.value


def _integral(value: Any) -> Any:
    # JSON Schema counts 2.0 as an integer; accept it, but never a bool or a string.
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
            return {**data, "credits": _integral(data["credits"])}
        return data

    @model_validator(mode="after")
    def _type_rule(self) -> SmsPayload:
        if self.type != required_type(self.sender, self.type):
            raise ValueError("type must be MARKETING when sender is absent, null or empty")
        return self

    def to_json_dict(self) -> dict[str, Any]:
        """The wire form (``retId``, ``isUnicode``), leaving out an unset sender."""
        return self.model_dump(by_alias=True, exclude_unset=True)

    def mismatches(self) -> list[Mismatch]:
        """Each declared value that disagrees with the text (the consistency check)."""
        return consistency_mismatches(self.text, self.is_unicode, self.credits)


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A declared field whose value disagrees with what the text needs."""

    field: str
    declared: object
    computed: object

    @property
    def message(self) -> str:
        """A sentence for humans."""
        declared, computed = json.dumps(self.declared), json.dumps(self.computed)
        return f"{self.field} is {declared} but the text needs {computed}"


def consistency_mismatches(text: str, is_unicode: object, credits: object) -> list[Mismatch]:
    """Compare a payload's ``isUnicode`` and ``credits`` with its text."""
    analysis = analyze(text)
    found = []
    if is_unicode is not analysis.is_unicode:
        found.append(Mismatch("isUnicode", is_unicode, analysis.is_unicode))
    if credits != analysis.credits:
        found.append(Mismatch("credits", credits, analysis.credits))
    return found


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
) -> SmsPayload:
    """Build the payload the platform sends: E.164 ``to``, computed ``isUnicode``
    and ``credits``, the type rule applied, and a new ``retId`` unless given."""
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
    analysis = analyze(text)
    if analysis.credits > MAX_PARTS:
        raise PayloadBuildError(
            "text", f"the text needs {analysis.credits} SMS parts, more than {MAX_PARTS}"
        )
    fields: dict[str, Any] = {
        "type": required_type(sender, type),
        "to": normalize_number(to, default_region),
        "retId": ret_id if ret_id is not None else new_ret_id(),
        "isUnicode": analysis.is_unicode,
        "text": text,
        "credits": analysis.credits,
    }
    if sender is not None:
        fields["sender"] = sender
    try:
        return SmsPayload.model_validate(fields)
    except ValidationError as error:
        first = error.errors()[0]
        culprit = ".".join(str(part) for part in first["loc"]) or "payload"
        raise PayloadBuildError(culprit, first["msg"]) from None
