"""Checking a received payload: bytes -> JSON object -> schema -> consistency.

The fake provider, ``sms-contract validate``, the web UI checker and the
conformance checker all use this module, so a payload gets the same verdict
everywhere. Each finding is a ``Violation`` naming the field (a JSON pointer),
the rule (a stable code) and a sentence. The readings in force
(``core/readings.py``) decide what the points the help page leaves open refuse.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from pydantic import ValidationError as PydanticValidationError

from sms_contract.core.encoding import lone_surrogate_at
from sms_contract.core.findings import CheckResult, Violation, pointer
from sms_contract.core.model import SmsPayload, consistency_mismatches
from sms_contract.core.numbers import is_valid_number
from sms_contract.core.readings import BY_NAME, DEFAULTS, RECIPIENT_PATTERNS, Readings
from sms_contract.exceptions import BodyError
from sms_contract.schema import load_schema

#: Deepest nesting accepted in a body; a payload is one flat object.
MAX_DEPTH = 32
#: Operators truncate or refuse longer sender names (alphanumeric / numeric).
SENDER_ALPHANUMERIC_MAX = 11
SENDER_NUMERIC_MAX = 15


# -- bytes -> JSON ----------------------------------------------------------------


def _refuse(code: str, message: str, at: str = "") -> BodyError:
    return BodyError(Violation(at, code, message))


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _refuse("duplicate_key", f"the key {key!r} appears more than once", pointer(key))
        result[key] = value
    return result


def _no_constant(name: str) -> Any:
    raise _refuse("non_finite_number", f"{name} is not a JSON number")


def _finite_float(literal: str) -> float:
    number = float(literal)
    if number in (float("inf"), float("-inf")):
        raise _refuse("non_finite_number", f"the number {literal[:40]} is too large")
    return number


def parse_body(raw: bytes | str) -> Any:
    """Read a request body as JSON, strictly: UTF-8, no duplicate keys, no
    NaN/Infinity, no lone surrogates, at most ``MAX_DEPTH`` levels.

    Raises ``BodyError`` carrying a ``Violation``.
    """
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("utf-8")
        except UnicodeDecodeError as error:
            raise _refuse(
                "invalid_utf8", f"the body is not UTF-8: byte {error.start} is invalid"
            ) from None
    if not raw.strip():
        raise _refuse("empty_body", "the body is empty; a JSON object is expected")
    if raw.startswith("\ufeff"):
        raise _refuse("byte_order_mark", "the body starts with a byte order mark (U+FEFF)")
    try:
        document = json.loads(
            raw,
            object_pairs_hook=_unique_keys,
            parse_constant=_no_constant,
            parse_float=_finite_float,
        )
    except json.JSONDecodeError as error:
        message = f"invalid JSON at line {error.lineno} column {error.colno}: {error.msg}"
        raise _refuse("invalid_json", message) from None
    except RecursionError:
        raise _refuse("too_deep", f"the JSON is nested deeper than {MAX_DEPTH} levels") from None
    except BodyError:  # from the hooks: duplicate key, NaN, a number too large
        raise
    except ValueError:  # an integer literal longer than Python's conversion limit
        raise _refuse("number_too_long", "a number has too many digits") from None
    # A lone surrogate can only come from a \u escape (UTF-8 cannot encode one),
    # and a depth needs as many brackets: most bodies need no walk at all.
    if "\\u" in raw or raw.count("{") + raw.count("[") >= MAX_DEPTH:
        _check_tree(document)
    return document


def _check_tree(document: Any) -> None:
    """Depth and lone surrogates everywhere; a pointer is built only for the culprit."""
    if isinstance(document, str) and lone_surrogate_at(document) is not None:
        raise _refuse("lone_surrogate", "a string holds a lone UTF-16 surrogate")
    stack: list[tuple[Any, int, Any]] = [(document, 1, None)]
    while stack:
        node, depth, path = stack.pop()
        if isinstance(node, dict):
            children: Any = node.items()
        elif isinstance(node, list):
            children = enumerate(node)
        else:
            continue
        for key, value in children:
            here = (path, key)
            if depth >= MAX_DEPTH:
                message = f"the JSON is nested deeper than {MAX_DEPTH} levels"
                raise _refuse("too_deep", message, _path_pointer(here))
            if isinstance(key, str) and lone_surrogate_at(key) is not None:
                message = "a key holds a lone UTF-16 surrogate"
                raise _refuse("lone_surrogate", message, _path_pointer(path))
            if isinstance(value, str):
                if lone_surrogate_at(value) is not None:
                    message = "a string holds a lone UTF-16 surrogate"
                    raise _refuse("lone_surrogate", message, _path_pointer(here))
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1, here))


def _path_pointer(path: Any) -> str:
    """The JSON pointer of a ``(parent, key)`` chain."""
    parts = []
    while path is not None:
        path, key = path
        parts.append(key)
    return pointer(*reversed(parts))


def parse_object(raw: bytes | str) -> dict[str, Any]:
    """``parse_body``, then insist on a JSON object."""
    document = parse_body(raw)
    if not isinstance(document, dict):
        kind = _json_kind(document)
        raise _refuse("not_an_object", f"the body is a JSON {kind}; a JSON object is expected")
    return document


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {list: "array", str: "string", type(None): "null"}.get(type(value), "value")


# -- JSON -> verdict --------------------------------------------------------------


@cache
def ecma_regex(pattern: str) -> re.Pattern[str]:
    """``pattern`` compiled for Python with the ECMA-262 meaning of ``$`` that JSON
    Schema prescribes: the end of the string, never the place before a final newline
    (Python's ``$`` would let ``"+33612345678\\n"`` match ``^...$``)."""
    translated, position, in_class = [], 0, False
    while position < len(pattern):
        char = pattern[position]
        if char == "\\":
            translated.append(pattern[position : position + 2])
            position += 2
            continue
        if char == "[" and not in_class:
            in_class = True
        elif char == "]" and in_class:
            in_class = False
        translated.append(r"\Z" if char == "$" and not in_class else char)
        position += 1
    return re.compile("".join(translated))


def _ecma_pattern(
    validator: Draft202012Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Any:
    if validator.is_type(instance, "string") and not ecma_regex(pattern).search(instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12 with the JSON Schema (ECMA-262) reading of ``pattern``.
SchemaValidator = validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})


@cache
def schema_validator() -> Draft202012Validator:
    """The payload schema's validator, the one ``check_document`` uses."""
    validator: Draft202012Validator = SchemaValidator(load_schema())
    return validator


def _known_fields() -> dict[str, Any]:
    properties: dict[str, Any] = schema_validator().schema["properties"]
    return properties


def check_document(
    document: Any, *, readings: Readings | None = None, strict_fields: bool | None = None
) -> CheckResult:
    """Every violation of the contract in ``document``, and the warnings, under
    ``readings`` (the defaults).

    ``strict_fields`` is the older switch for unknown fields: ``True`` means
    ``unknown-fields=reject`` and ``False`` ``unknown-fields=warn``, whatever
    ``readings`` says; ``None`` leaves ``readings`` alone.
    """
    readings = _with_strict_fields(readings if readings is not None else DEFAULTS, strict_fields)
    if not isinstance(document, dict):
        kind = _json_kind(document)
        message = f"the payload is a JSON {kind}; a JSON object is expected"
        return CheckResult([Violation("", "not_an_object", message)], readings=readings)
    known = _known_fields()
    unknown = [
        Violation(pointer(name), "unknown_field", f"{name!r} is not a field of the contract")
        for name in document
        if name not in known
    ]
    payload = {name: value for name, value in document.items() if name in known}
    violations, warnings = _recipient(payload, _schema_violations(payload), readings.to)
    if readings.unknown_fields == "reject":
        violations = unknown + violations
    else:
        warnings = unknown + warnings
    consistency = _consistency(payload, violations, readings)
    violations += [finding for tolerated, finding in consistency if not tolerated]
    warnings += [finding for tolerated, finding in consistency if tolerated]
    return CheckResult(violations, warnings + _advice(payload), readings)


def _with_strict_fields(readings: Readings, strict_fields: bool | None) -> Readings:
    if strict_fields is None or (readings.unknown_fields == "reject") is strict_fields:
        return readings
    return replace(readings, unknown_fields="reject" if strict_fields else "warn")


def _schema_violations(payload: dict[str, Any]) -> list[Violation]:
    if _model_accepts(payload):
        return []
    missing = [
        Violation(pointer(name), "required", f"{name} is required")
        for name in schema_validator().schema["required"]
        if name not in payload
    ]
    found = [
        _describe(error)
        for error in schema_validator().iter_errors(payload)
        if error.validator not in ("required", "additionalProperties", "if")
    ]
    return missing + sorted(found, key=lambda v: (v.pointer, v.code))


def _model_accepts(payload: dict[str, Any]) -> bool:
    """The fast path: the compiled pydantic model accepts exactly what the schema
    accepts (a property test holds the two together), so jsonschema runs only to
    explain a refusal."""
    try:
        SmsPayload.model_validate(payload)
    except PydanticValidationError:
        return False
    return True


_RULES = {
    "type": "type",
    "enum": "enum",
    "pattern": "pattern",
    "minLength": "min_length",
    "maxLength": "max_length",
    "minimum": "minimum",
    "maximum": "maximum",
}


def _describe(error: ValidationError) -> Violation:
    path = list(error.absolute_path)
    name = str(path[0]) if path else ""
    at = pointer(*path)
    if "then" in error.absolute_schema_path:
        return Violation(
            at, "type_rule", "type must be MARKETING when sender is absent, null or empty"
        )
    code = _RULES.get(str(error.validator), str(error.validator))
    return Violation(at, code, f"{name} {_explain(code, error)}".strip())


def _explain(code: str, error: ValidationError) -> str:
    expected, got = error.validator_value, _excerpt(error.instance)
    match code:
        case "type":
            return f"must be of JSON type {_types(expected)}, got {got}"
        case "enum":
            return f"must be one of {', '.join(map(str, expected))}, got {got}"
        case "pattern":
            return f"must be in E.164 ('+', country code, 7 to 15 digits, no spaces), got {got}"
        case "min_length":
            return f"must have at least {expected} character(s)"
        case "max_length":
            return f"must have at most {expected} characters, got {_length(error.instance)}"
        case "minimum":
            return f"must be at least {expected}, got {got}"
        case "maximum":
            return f"must be at most {expected}, got {got}"
    return error.message


def _types(expected: Any) -> str:
    return " or ".join(expected) if isinstance(expected, list) else str(expected)


def _length(value: Any) -> int:
    return len(value) if isinstance(value, str) else 0


def _excerpt(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _recipient(
    payload: dict[str, Any], violations: list[Violation], reading: str
) -> tuple[list[Violation], list[Violation]]:
    """The schema's verdict on ``to`` redone under the ``to`` reading: the
    violations, and the warnings."""
    to = payload.get("to")
    if not isinstance(to, str):
        return violations, []
    # The common case: the schema found nothing wrong with `to`, so it is E.164.
    if reading != "digits" and all(v.pointer != "/to" for v in violations):
        return violations, []
    if reading != "digits" and ecma_regex(RECIPIENT_PATTERNS["e164"]).search(to):
        return _placed(violations, None), []
    digits = ecma_regex(RECIPIENT_PATTERNS["digits"]).search(to)
    if reading != "e164" and digits and is_valid_number("+" + to):
        if reading == "digits":
            return _placed(violations, None), []
        warning = Violation(
            "/to",
            BY_NAME["to"].warning,
            f"to {to} has no '+': read as +{to}, a valid international number (to=either)",
        )
        return _placed(violations, None), [warning]
    return _placed(violations, _recipient_violation(to, reading)), []


def _placed(violations: list[Violation], recipient: Violation | None) -> list[Violation]:
    """``violations`` with the schema's ``/to`` pattern violation replaced by
    ``recipient`` (or dropped), which keeps the schema's order otherwise:
    missing fields first, then by pointer and code."""
    kept = [v for v in violations if (v.pointer, v.code) != ("/to", "pattern")]
    if recipient is None:
        return kept
    key = (recipient.pointer, recipient.code)
    at = next(
        (i for i, v in enumerate(kept) if v.code != "required" and (v.pointer, v.code) > key),
        len(kept),
    )
    return [*kept[:at], recipient, *kept[at:]]


def _recipient_violation(to: str, reading: str) -> Violation:
    got = _excerpt(to)
    if reading == "e164":
        message = f"must be in E.164 ('+', country code, 7 to 15 digits, no spaces), got {got}"
    elif reading == "digits" and to.startswith("+"):
        message = f"must be written without '+' (to=digits), got {got}"
    elif reading == "digits":
        message = (
            "must be the digits of a valid international number without '+' "
            f"(country code, 7 to 15 digits, no spaces), got {got}"
        )
    else:
        message = (
            "must be in E.164 ('+', country code, 7 to 15 digits, no spaces), or the same "
            f"digits without '+' forming a valid international number, got {got}"
        )
    return Violation("/to", BY_NAME["to"].violation, f"to {message}")


def _consistency(
    payload: dict[str, Any], violations: list[Violation], readings: Readings
) -> list[tuple[bool, Violation]]:
    """isUnicode and credits against the text: ``(tolerated, finding)`` pairs.
    A field the schema already refused is not compared."""
    if any(v.pointer == "/text" for v in violations):
        return []
    text = payload.get("text")
    if not isinstance(text, str):
        return []
    bad = {v.pointer for v in violations}
    declared_unicode = payload.get("isUnicode") if "/isUnicode" not in bad else None
    declared_credits = payload.get("credits") if "/credits" not in bad else None
    return [
        (mismatch.tolerated, Violation(pointer(mismatch.field), mismatch.code, mismatch.message))
        for mismatch in consistency_mismatches(text, declared_unicode, declared_credits, readings)
    ]


def _advice(payload: dict[str, Any]) -> list[Violation]:
    warnings = []
    to = payload.get("to")
    pattern = schema_validator().schema["properties"]["to"]["pattern"]
    if isinstance(to, str) and re.fullmatch(pattern, to) and not is_valid_number(to):
        warnings.append(
            Violation("/to", "number_not_valid", f"{to} is not a valid number for any region")
        )
    sender = payload.get("sender")
    if isinstance(sender, str):
        limit = SENDER_NUMERIC_MAX if sender.lstrip("+").isdigit() else SENDER_ALPHANUMERIC_MAX
        if len(sender) > limit:
            warnings.append(
                Violation(
                    "/sender",
                    "sender_too_long",
                    f"sender has {len(sender)} characters; operators allow {limit} "
                    "and may truncate or refuse it",
                )
            )
    return warnings


def check_body(
    raw: bytes | str, *, readings: Readings | None = None, strict_fields: bool | None = None
) -> CheckResult:
    """Parse and check a raw body in one go (parse failures become violations);
    ``readings`` and ``strict_fields`` as for ``check_document``."""
    try:
        document = parse_object(raw)
    except BodyError as error:
        return CheckResult([error.violation])
    return check_document(document, readings=readings, strict_fields=strict_fields)
