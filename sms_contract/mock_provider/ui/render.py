"""What the web UI shows, computed in plain Python (no Flask, no HTML).

The templates only loop over these values; Jinja escapes every one of them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup

from sms_contract.core.credentials import redact_header
from sms_contract.core.encoding import GSM_EXTENSION_SET, GSM_SET, analyze

#: How much of a message text the inbox list shows.
EXCERPT_LENGTH = 90


def pretty(value: Any) -> str:
    """``value`` as indented JSON, non-ASCII characters kept readable."""
    return json.dumps(value, indent=2, ensure_ascii=False)


def short_time(iso: str | None) -> str:
    """``2024-05-01T12:34:56.789+00:00`` as ``2024-05-01 12:34:56`` (UTC)."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """The start of ``text`` on one line, with an ellipsis when cut."""
    flat = " ".join((text or "").split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


#: Characters that reorder the text around them ("Trojan Source"): a row could show
#: another recipient or text than the one received. The UI shows their code point.
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_BIDI_SHOWN = {ord(char): f"⟨U+{ord(char):04X}⟩" for char in BIDI_CONTROLS}


def reveal_bidi(value: Any) -> Any:
    """``value`` with each bidi control character shown as its code point (``⟨U+202E⟩``);
    values that are not text are returned as they are.

    The UI's Jinja environment passes every ``{{ }}`` through it, and ``summary``
    applies it to the rows the live page builds, so every view shows them.
    """
    if isinstance(value, Markup):
        # What replaces a control has no markup characters: the result stays safe.
        return Markup(str(value).translate(_BIDI_SHOWN))
    if isinstance(value, str):
        return value.translate(_BIDI_SHOWN)
    return value


def summary(message: dict[str, Any]) -> dict[str, Any]:
    """The fields of one inbox row, ready to display (also sent to the live page)."""
    return {name: reveal_bidi(value) for name, value in _row(message).items()}


def _row(message: dict[str, Any]) -> dict[str, Any]:
    payload = message.get("payload")
    credits = payload.get("credits") if isinstance(payload, dict) else None
    issues = [
        _count(len(message.get("violations") or []), "violation"),
        _count(len(message.get("warnings") or []), "warning"),
        _count(len(message.get("faults") or []), "fault"),
        _count(message.get("attempts", 1) if message.get("attempts", 1) > 1 else 0, "attempt"),
    ]
    return {
        "id": message["id"],
        "label": f"#{message['id']}",
        "time": short_time(message.get("receivedAt")),
        "receivedAt": message.get("receivedAt"),
        "namespace": message.get("namespace"),
        "status": message.get("status"),
        "httpStatus": message.get("httpStatus"),
        "statusLabel": f"{message.get('httpStatus')} {message.get('status')}",
        "to": message.get("to") or "",
        "retId": message.get("retId") or "",
        "type": message.get("type") or "",
        "sender": message.get("sender") or "",
        "text": excerpt(message.get("text")),
        "credits": "" if credits is None else json.dumps(credits, ensure_ascii=False),
        "issues": " · ".join(issue for issue in issues if issue),
        "upstream": message.get("upstreamOutcome") or "none",
        "upstreamLabel": upstream_label(message),
    }


def upstream_label(message: dict[str, Any]) -> str:
    """A proxy's upstream outcome in a few words: ``200 accepted``, ``timeout error``..."""
    outcome = message.get("upstreamOutcome")
    attempts = message.get("upstream") or []
    if outcome == "pending":
        return "forwarding…"
    if outcome is None or not attempts:
        return "not forwarded"
    last = attempts[-1]
    if last.get("error"):
        return f"{last['error'].get('kind', '')} error".strip()
    return f"{last.get('status')} {outcome}"


@dataclass(frozen=True)
class AttemptView:
    """One forwarded attempt as the message page shows it."""

    number: int
    label: str
    outcome: str
    at: str
    elapsed: str
    auth: str
    insecure: bool
    error: str | None
    headers: list[tuple[str, str]]
    body: str
    body_note: str


def _readable(body: str, truncated: bool) -> str:
    """A whole JSON body indented; anything else as it came."""
    if truncated:
        return body
    try:
        return pretty(json.loads(body))
    except ValueError:
        return body


def attempt_views(message: dict[str, Any]) -> list[AttemptView]:
    """The upstream's answers to each forwarded attempt, newest first."""
    views = []
    for attempt in reversed(message.get("upstream") or []):
        error = attempt.get("error") or None
        status = attempt.get("status")
        outcome = str(attempt.get("outcome", ""))
        label = f"{status} {outcome}" if status is not None else f"no answer: {outcome}"
        size = attempt.get("bodyBytes", 0)
        note = f"{size} bytes" + (", the start shown" if attempt.get("bodyTruncated") else "")
        elapsed = attempt.get("elapsedMs")
        views.append(
            AttemptView(
                number=int(attempt.get("attempt", 0)),
                label=label,
                outcome=outcome,
                at=short_time(attempt.get("at")),
                elapsed="" if elapsed is None else f"{elapsed:.1f} ms",
                auth=str(attempt.get("auth", "")),
                insecure=bool(attempt.get("insecure")),
                error=None if error is None else f"{error.get('kind')}: {error.get('message')}",
                headers=safe_headers(attempt.get("headers")),
                body=_readable(str(attempt.get("body", "")), bool(attempt.get("bodyTruncated"))),
                body_note=note,
            )
        )
    return views


def _count(number: int, noun: str) -> str:
    return "" if not number else f"{number} {noun}{'' if number == 1 else 's'}"


def safe_headers(headers: dict[str, str] | None) -> list[tuple[str, str]]:
    """The recorded headers, sorted, with any credential blanked out (even one an
    older inbox kept)."""
    ordered = sorted((headers or {}).items(), key=lambda item: item[0].lower())
    return [(name, redact_header(name, value)) for name, value in ordered]


# -- findings next to the fields ------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A violation or a warning, as shown."""

    level: str  # "violation" or "warning"
    pointer: str
    code: str
    message: str


@dataclass
class JsonLine:
    """One line of the pretty payload and the findings about the field it starts."""

    code: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def level(self) -> str:
        """``violation``, ``warning`` or ``""``: how the line is highlighted."""
        levels = {f.level for f in self.findings}
        return "violation" if "violation" in levels else ("warning" if levels else "")


@dataclass
class AnnotatedPayload:
    """The payload as pretty JSON lines with findings attached, plus the rest."""

    lines: list[JsonLine]
    #: Findings about the whole body or about fields the payload lacks.
    elsewhere: list[Finding]


def findings(violations: list[dict[str, str]], warnings: list[dict[str, str]]) -> list[Finding]:
    """Violations then warnings, as ``Finding`` values."""
    return [_finding("violation", v) for v in violations or []] + [
        _finding("warning", w) for w in warnings or []
    ]


def _finding(level: str, item: dict[str, str]) -> Finding:
    return Finding(
        level, str(item.get("pointer", "")), str(item.get("code", "")), str(item.get("message"))
    )


def top_field(pointer: str) -> str | None:
    """The top-level member a JSON pointer is about (``None`` for the whole document)."""
    if not pointer.startswith("/"):
        return None
    first = pointer[1:].split("/", 1)[0]
    return first.replace("~1", "/").replace("~0", "~")


def annotate(payload: Any, found: list[Finding]) -> AnnotatedPayload:
    """``payload`` as pretty JSON, each finding beside the member it names."""
    if not isinstance(payload, dict):
        lines = [JsonLine(line) for line in pretty(payload).splitlines()]
        return AnnotatedPayload(lines, list(found))
    by_field: dict[str, list[Finding]] = {}
    elsewhere = []
    for item in found:
        name = top_field(item.pointer)
        if name is not None and name in payload:
            by_field.setdefault(name, []).append(item)
        else:
            elsewhere.append(item)
    lines = [JsonLine("{")]
    names = list(payload)
    for position, name in enumerate(names):
        value_lines = pretty(payload[name]).splitlines()
        comma = "," if position < len(names) - 1 else ""
        value_lines[-1] += comma
        lines.append(JsonLine(f"  {json.dumps(name, ensure_ascii=False)}: {value_lines[0]}"))
        lines[-1].findings = by_field.get(name, [])
        lines += [JsonLine("  " + rest) for rest in value_lines[1:]]
    lines.append(JsonLine("}"))
    return AnnotatedPayload(lines, elsewhere)


# -- the text as SMS ----------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """Consecutive characters of a part; ``codepoint`` is set for a non-GSM one."""

    text: str
    codepoint: str | None = None


@dataclass(frozen=True)
class PartView:
    """One SMS part: its number, slice, cost and characters."""

    number: int
    start: int
    end: int
    units: int
    runs: list[Run]


@dataclass(frozen=True)
class Comparison:
    """A declared field against the value computed from the text."""

    name: str
    declared: str
    computed: str
    matches: bool


@dataclass(frozen=True)
class TextView:
    """A text as the SMS network sees it."""

    encoding: str
    unit_name: str
    units: int
    length: int
    parts: list[PartView]
    offending: list[tuple[str, str, int]]  # (character, U+XXXX, how many times)
    comparisons: list[Comparison]


def text_view(text: str, payload: dict[str, Any] | None = None) -> TextView:
    """Encoding, parts and non-GSM characters of ``text``; declared vs computed values."""
    analysis = analyze(text)
    ucs2 = analysis.encoding == "UCS-2"
    parts = []
    for number, (start, end) in enumerate(analysis.parts, start=1):
        chunk = text[start:end]
        units = sum(_cost(char, ucs2) for char in chunk)
        parts.append(PartView(number, start, end, units, _runs(chunk)))
    counts: dict[str, int] = {}
    for item in analysis.offending:
        counts[item.char] = counts.get(item.char, 0) + 1
    offending = [(char, f"U+{ord(char):04X}", n) for char, n in counts.items()]
    comparisons = []
    if payload is not None:
        computed = {"isUnicode": analysis.is_unicode, "credits": analysis.credits}
        for name, value in computed.items():
            declared = payload.get(name, _ABSENT)
            shown = "absent" if declared is _ABSENT else json.dumps(declared)
            same = declared == value and type(declared) is type(value)
            comparisons.append(Comparison(name, shown, json.dumps(value), same))
    return TextView(
        analysis.encoding,
        "UTF-16 units" if ucs2 else "septets",
        analysis.units,
        len(text),
        parts,
        offending,
        comparisons,
    )


_ABSENT = object()


def _cost(char: str, ucs2: bool) -> int:
    if ucs2:
        return 2 if ord(char) > 0xFFFF else 1
    return 2 if char in GSM_EXTENSION_SET else 1


def _runs(chunk: str) -> list[Run]:
    runs: list[Run] = []
    plain: list[str] = []
    for char in chunk:
        if char in GSM_SET:
            plain.append(char)
            continue
        if plain:
            runs.append(Run("".join(plain)))
            plain = []
        runs.append(Run(char, f"U+{ord(char):04X}"))
    if plain:
        runs.append(Run("".join(plain)))
    return runs
