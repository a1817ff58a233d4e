"""Fault rules: what the fake provider does instead of (or before) its normal answer.

A rule matches sends by namespace, recipient, text, login and type (every
condition optional, all AND-ed) and names exactly one action: ``status``,
``delay``, ``rateLimit``, ``reset``, ``empty``, ``truncate`` or ``hang``.
``probability`` and ``times`` narrow when it applies. The magic recipients
(``MAGIC``) are built-in rules of the same model. See docs/faults.md.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from re import _constants as re_constants  # the parse tree's opcodes (stable since 3.11)
from re import _parser as re_parser
from typing import Any, Literal

import regex
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from sms_contract.core.findings import Violation
from sms_contract.core.model import json_integer
from sms_contract.exceptions import RuleError
from sms_contract.mock_provider.namespaces import NAMESPACE_SCHEMA_PATTERN

#: Rule ids: the same characters as namespaces.
RULE_ID_PATTERN = NAMESPACE_SCHEMA_PATTERN
#: Ids of the built-in rules start with this; a user rule cannot take one.
MAGIC_PREFIX = "magic-"
#: The UK Ofcom range reserved for drama: no real phone answers these numbers.
MAGIC_RANGE = "+447700900"
ACTIONS = ("status", "delay", "rateLimit", "reset", "empty", "truncate", "hang")
#: Actions that answer in place of the provider (the send is then not accepted).
ANSWERING = ("status", "rateLimit", "reset", "empty", "hang")

#: Longest time one ``textRegex`` search may take (the text is bounded by the body limit).
REGEX_SECONDS = 0.05

_log = logging.getLogger(__name__)

_MODEL_CONFIG = ConfigDict(
    extra="forbid", frozen=True, alias_generator=to_camel, populate_by_name=True
)


def _integral_floats(data: Any, names: tuple[str, ...]) -> Any:
    """``data`` with ``2.0`` read as ``2`` in the integer fields ``names``."""
    if not isinstance(data, Mapping):
        return data
    return {key: json_integer(value) if key in names else value for key, value in data.items()}


class RateLimit(BaseModel):
    """At most ``limit`` sends per sliding ``window`` seconds, per namespace or login."""

    model_config = _MODEL_CONFIG

    @model_validator(mode="before")
    @classmethod
    def _integers(cls, data: Any) -> Any:
        return _integral_floats(data, ("limit",))

    limit: int = Field(ge=1, le=1_000_000, strict=True)
    window: float = Field(gt=0, le=86_400, allow_inf_nan=False, strict=True)
    per: Literal["namespace", "login"] = "namespace"


class FaultRule(BaseModel):
    """One fault rule. JSON names are camelCase; Python keywords may be snake_case."""

    model_config = _MODEL_CONFIG

    id: str | None = Field(default=None, pattern=RULE_ID_PATTERN)
    description: str | None = Field(default=None, max_length=500)
    # -- what it matches (each optional, all AND-ed)
    namespace: str | None = Field(default=None, pattern=NAMESPACE_SCHEMA_PATTERN)
    to: str | None = Field(default=None, min_length=1, max_length=64)
    to_prefix: str | None = Field(default=None, min_length=1, max_length=64)
    text: str | None = Field(default=None, min_length=1, max_length=2000)
    text_regex: str | None = Field(default=None, min_length=1, max_length=2000)
    login: str | None = Field(default=None, min_length=1, max_length=200)
    type: Literal["NOTIFICATION", "MARKETING"] | None = None
    # -- what it does (exactly one)
    status: int | None = Field(default=None, ge=400, le=599, strict=True)
    delay: float | tuple[float, float] | None = None
    rate_limit: RateLimit | None = None
    reset: Literal[True] | None = None
    empty: Literal[True] | None = None
    truncate: int | Literal[True] | None = None
    hang: float | Literal[True] | None = None
    # -- details of ``status``
    retry_after: int | None = Field(default=None, ge=0, le=86_400, strict=True)
    detail: str | None = Field(default=None, max_length=500)
    # -- when it applies
    probability: float = Field(default=1.0, ge=0, le=1, allow_inf_nan=False, strict=True)
    times: int | None = Field(default=None, ge=1, le=1_000_000, strict=True)

    @model_validator(mode="before")
    @classmethod
    def _integers(cls, data: Any) -> Any:
        return _integral_floats(data, ("status", "retryAfter", "retry_after", "times", "truncate"))

    @field_validator("id")
    @classmethod
    def _id(cls, value: str | None, info: ValidationInfo) -> str | None:
        builtin = (info.context or {}).get("builtin", False)
        if value is not None and value.lower().startswith("magic") and not builtin:
            raise ValueError("ids starting with 'magic' are reserved for the built-in rules")
        return value

    @field_validator("delay", mode="before")
    @classmethod
    def _delay(cls, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list | tuple):
            if len(value) != 2 or not all(_is_seconds(v) for v in value):
                raise ValueError("a delay range is [min, max], two numbers of seconds >= 0")
            # Either order names the same range.
            low, high = sorted((float(value[0]), float(value[1])))
            return (low, high)
        if not _is_seconds(value):
            raise ValueError("delay is a number of seconds >= 0, or a [min, max] range")
        return float(value)

    @field_validator("truncate", mode="before")
    @classmethod
    def _truncate(cls, value: Any) -> Any:
        if value is None or value is True:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError("truncate is true (half the body) or how many body bytes to send")
        return value

    @field_validator("hang", mode="before")
    @classmethod
    def _hang(cls, value: Any) -> Any:
        if value is None or value is True:
            return value
        if not _is_seconds(value) or value == 0:
            raise ValueError("hang is true (the server's cap) or a number of seconds > 0")
        return float(value)

    @field_validator("text_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            check_regex(value)
        return value

    @model_validator(mode="after")
    def _one_action(self, info: ValidationInfo) -> FaultRule:
        chosen = [name for name in ACTIONS if getattr(self, _snake(name)) is not None]
        if len(chosen) != 1:
            got = " and ".join(chosen) if chosen else "none"
            raise ValueError(
                f"a rule needs exactly one action among {', '.join(ACTIONS)}; got {got}"
            )
        for name in ("retryAfter", "detail"):
            if getattr(self, _snake(name)) is not None and self.status is None:
                raise ValueError(f"{name} goes with the status action only")
        cap = (info.context or {}).get("max_seconds")
        longest = self.longest_seconds()
        if cap is not None and longest is not None and longest > cap:
            raise ValueError(
                f"{chosen[0]} of {longest:g} s is over the server's limit of {cap:g} s"
            )
        return self

    @property
    def action(self) -> str:
        """The action's JSON name."""
        return next(name for name in ACTIONS if getattr(self, _snake(name)) is not None)

    def longest_seconds(self) -> float | None:
        """The longest time this rule may hold a send (delay or hang), when it says."""
        if isinstance(self.delay, tuple):
            return self.delay[1]
        if isinstance(self.delay, float):
            return self.delay
        return self.hang if isinstance(self.hang, float) else None

    def matches(self, send: SendFacts) -> bool:
        """Whether ``send`` meets every condition of this rule."""
        return (
            _same(self.namespace, send.namespace)
            and _same(self.to, send.to)
            and (self.to_prefix is None or (send.to or "").startswith(self.to_prefix))
            and (self.text is None or self.text in (send.text or ""))
            and (self.text_regex is None or regex_matches(self.text_regex, send.text or ""))
            and _same(self.login, send.login)
            and _same(self.type, send.type)
        )

    def to_json(self) -> dict[str, Any]:
        """The rule as the API shows it (camelCase, unset fields left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


def fault_rule_schemas(ref_template: str, max_seconds: float) -> dict[str, Any]:
    """JSON Schemas for OpenAPI, by name: ``FaultRule``, exactly what ``parse_rule``
    accepts on a server whose fault limit is ``max_seconds`` (no nulls, exactly one
    action, ``retryAfter`` and ``detail`` with ``status`` only, no ``magic`` ids),
    and ``StoredFaultRule``, a rule as the API shows it (always with its id, the
    magic ones included). The schemathesis test of the served document holds
    ``FaultRule`` and the model together (positive and negative data)."""
    schema = FaultRule.model_json_schema(by_alias=True, ref_template=ref_template)
    definitions = schema.pop("$defs", {})
    for name, prop in schema["properties"].items():
        variants = [v for v in prop.pop("anyOf", [prop.copy()]) if v.get("type") != "null"]
        prop.clear()
        prop.update(variants[0] if len(variants) == 1 else {"anyOf": variants})
        prop["title"] = name
    schema["properties"]["textRegex"] |= {"format": "regex"}
    schema["oneOf"] = [{"required": [action]} for action in ACTIONS]
    schema["dependentRequired"] = {"retryAfter": ["status"], "detail": ["status"]}
    stored = copy.deepcopy(schema)
    _timed_actions(schema["properties"], max_seconds)
    _timed_actions(stored["properties"], 86_400)
    schema["properties"]["id"] |= {
        "not": {"pattern": "^[Mm][Aa][Gg][Ii][Cc]"},
        "description": "ids starting with 'magic' are reserved for the built-in rules",
    }
    schema["description"] = "A fault rule: conditions (all optional) and exactly one action."
    stored["required"] = ["id"]
    stored["description"] = "A stored fault rule, with its id (magic ones included)."
    return {**definitions, "FaultRule": schema, "StoredFaultRule": stored}


def _timed_actions(properties: dict[str, Any], max_seconds: float) -> None:
    """The schemas of ``delay``, ``hang`` and ``truncate``, bounded by ``max_seconds``."""
    seconds = {"type": "number", "minimum": 0, "maximum": max_seconds}
    pair = {"type": "array", "prefixItems": [seconds, seconds], "items": False, "minItems": 2}
    properties["delay"] = {
        "anyOf": [seconds, pair],
        "description": "seconds, or a [min, max] range (either order) drawn uniformly",
    }
    properties["hang"] = {
        "anyOf": [{"const": True}, {**seconds, "exclusiveMinimum": 0}],
        "description": "true (the server's limit) or seconds",
    }
    properties["truncate"] = {
        "anyOf": [{"const": True}, {"type": "integer", "minimum": 0}],
        "description": "true (half the body) or how many body bytes to send",
    }


def check_regex(pattern: str) -> None:
    """Refuse (``ValueError``, saying why) a pattern that does not compile, or that
    repeats a group which itself repeats: ``(a+)+`` backtracks catastrophically."""
    try:
        regex.compile(pattern)
        tree = re_parser.parse(pattern)
    except (regex.error, re.error) as error:
        raise ValueError(f"not a valid regular expression: {error}") from None
    if _nested_repeat(tree, inside_repeat=False):
        raise ValueError(
            "the pattern repeats a group that itself repeats (like (a+)+): such a pattern "
            "can take exponential time on a text that almost matches; write it without the "
            "nested repetition"
        )


def regex_matches(pattern: str, text: str) -> bool:
    """Whether ``pattern`` is found in ``text`` within ``REGEX_SECONDS``; a search that
    takes longer counts as no match, so a rule never holds a worker."""
    try:
        return regex.search(pattern, text, timeout=REGEX_SECONDS) is not None
    except TimeoutError:
        _log.warning("textRegex %r took over %g s; counted as no match", pattern, REGEX_SECONDS)
        return False


_REPEATS = {re_constants.MAX_REPEAT, re_constants.MIN_REPEAT, re_constants.POSSESSIVE_REPEAT}


def _nested_repeat(tree: Any, *, inside_repeat: bool) -> bool:
    """Whether an unbounded repeat sits inside another repeat in ``re``'s parse tree."""
    for op, argument in tree:
        if op in _REPEATS:
            _low, high, body = argument
            unbounded = high == re_constants.MAXREPEAT
            if unbounded and inside_repeat:
                return True
            if _nested_repeat(body, inside_repeat=inside_repeat or unbounded):
                return True
        else:
            for child in _children(op, argument):
                if _nested_repeat(child, inside_repeat=inside_repeat):
                    return True
    return False


def _children(op: Any, argument: Any) -> list[Any]:
    """The sub-patterns of one parse node (groups, branches, lookarounds)."""
    if op is re_constants.SUBPATTERN:
        return [argument[-1]]
    if op is re_constants.BRANCH:
        return list(argument[1])
    if op in (re_constants.ASSERT, re_constants.ASSERT_NOT):
        return [argument[1]]
    if op is re_constants.ATOMIC_GROUP:
        return [argument]
    if op is re_constants.GROUPREF_EXISTS:
        return [branch for branch in argument[1:] if branch is not None]
    return []


def _snake(name: str) -> str:
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)


def _is_seconds(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and 0 <= value <= 86_400
        and value == value
    )


def _same(expected: str | None, actual: str | None) -> bool:
    return expected is None or expected == actual


@dataclass(frozen=True)
class SendFacts:
    """What a rule can match on: one send, as far as its body could be read."""

    namespace: str
    to: str | None = None
    text: str | None = None
    login: str | None = None
    type: str | None = None
    ret_id: str | None = None

    @classmethod
    def of(cls, namespace: str, payload: Mapping[str, Any], login: str | None) -> SendFacts:
        """The facts of a parsed payload (non-string fields read as absent)."""

        def text(name: str) -> str | None:
            value = payload.get(name)
            return value if isinstance(value, str) else None

        return cls(namespace, text("to"), text("text"), login, text("type"), text("retId"))


def parse_rule(data: Any, *, max_seconds: float | None = None) -> FaultRule:
    """Validate one rule; ``RuleError`` names every field at fault."""
    if isinstance(data, FaultRule):
        data = data.model_dump(by_alias=True, exclude_none=True)
    if not isinstance(data, Mapping):
        raise RuleError([Violation("", "type", "a fault rule is a JSON object")])
    nulls = [
        Violation(f"/{name}", "null", f"{name} is null; leave the field out instead")
        for name, value in data.items()
        if value is None
    ]
    if nulls:
        raise RuleError(nulls)
    try:
        return FaultRule.model_validate(dict(data), context={"max_seconds": max_seconds})
    except ValidationError as error:
        raise RuleError(_violations(error)) from None


def _violations(error: ValidationError) -> list[Violation]:
    found: dict[str, Violation] = {}
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        # Past a field's name, pydantic names a union branch; only rateLimit nests fields.
        depth = 2 if loc[:1] in (["rateLimit"], ["rate_limit"]) else 1
        pointer = "".join(f"/{part}" for part in loc[:depth])
        if item["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
        else:
            message = str(item["msg"]).removeprefix("Value error, ")
        found.setdefault(pointer, Violation(pointer, item["type"], message))
    return list(found.values())


def load_rules_file(path: Path, *, max_seconds: float | None = None) -> list[FaultRule]:
    """The rules of a JSON or YAML file: a list, or an object with a ``faults`` list."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RuleError([Violation("", "file", f"cannot read {path}: {error.strerror}")]) from None
    is_json = path.suffix.lower() == ".json"
    try:
        data = json.loads(text) if is_json else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as error:
        message = f"{path} is not valid {'JSON' if is_json else 'YAML'}: {error}"
        raise RuleError([Violation("", "syntax", message)]) from None
    if isinstance(data, dict) and set(data) == {"faults"}:
        data = data["faults"]
    if data is None:
        return []
    if not isinstance(data, list):
        message = "a faults file holds a list of rules (or {faults: [...]})"
        raise RuleError([Violation("", "type", message)])
    return parse_rules(data, max_seconds=max_seconds)


def start_rules(
    faults_file: Path | None, faults: Iterable[Any], *, max_seconds: float | None = None
) -> list[FaultRule]:
    """The rules a server starts with: those of ``faults_file``, then ``faults``."""
    from_file = load_rules_file(faults_file, max_seconds=max_seconds) if faults_file else []
    return parse_rules([*from_file, *faults], max_seconds=max_seconds)


def parse_rules(items: Iterable[Any], *, max_seconds: float | None = None) -> list[FaultRule]:
    """Validate several rules; errors point into the list (``/2/status``)."""
    rules: list[FaultRule] = []
    violations: list[Violation] = []
    for index, item in enumerate(items):
        try:
            rules.append(parse_rule(item, max_seconds=max_seconds))
        except RuleError as error:
            violations += [replace(v, pointer=f"/{index}{v.pointer}") for v in error.violations]
    ids = [rule.id for rule in rules if rule.id is not None]
    for rule_id in sorted({i for i in ids if ids.count(i) > 1}):
        violations.append(Violation("", "id", f"rule id {rule_id!r} is used twice"))
    if violations:
        raise RuleError(violations)
    return rules


# -- what a decision carries ---------------------------------------------------------


@dataclass
class FaultPlan:
    """What the faults decided for one send: a total delay, at most one answering
    or truncating rule, and the record of each fault applied."""

    delay: float = 0.0
    rule: FaultRule | None = None
    attempt: int = 1
    retry_after: int | None = None
    entries: list[dict[str, Any]] = field(default_factory=list)

    @property
    def answers(self) -> bool:
        """True when a fault answers in place of the provider (not accepted)."""
        return self.rule is not None and self.rule.action in ANSWERING

    @property
    def truncates(self) -> bool:
        """True when the normal answer is sent cut short."""
        return self.rule is not None and self.rule.truncate is not None
