"""What a check saw: exchanges with the endpoint, redacted, and how to read an answer."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sms_contract.core.outcome import classify

#: Longest excerpt of a request or answer body kept as evidence.
EXCERPT_CHARS = 300
#: Answer headers worth showing.
SHOWN_HEADERS = ("content-type", "www-authenticate", "retry-after", "location")

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class Redactor:
    """Removes secrets (the password and its Basic token) from any text."""

    def __init__(self, login: str | None = None, secrets: tuple[str, ...] = ()) -> None:
        found: set[str] = set()
        for secret in secrets:
            if not secret:
                continue
            found.add(secret)
            if login is not None:
                token = base64.b64encode(f"{login}:{secret}".encode()).decode("ascii")
                found.update({token, token.rstrip("=")})
        # Longest first, so a token is removed before a secret inside it.
        self._secrets = sorted(found, key=len, reverse=True)

    def add(self, login: str | None, secret: str) -> None:
        """Also redact ``secret`` (and its Basic token with ``login``)."""
        other = Redactor(login, (secret,))
        self._secrets = sorted({*self._secrets, *other._secrets}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def deep(self, value: Any) -> Any:
        """``value`` with every string redacted (dicts, lists, nested)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {self(str(key)): self.deep(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self.deep(item) for item in value]
        return value


def excerpt(text: str, limit: int = EXCERPT_CHARS) -> str:
    """``text`` without control characters, cut to ``limit`` characters."""
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Exchange:
    """One request to the endpoint and what came back (never the password)."""

    label: str
    method: str
    url: str
    auth: str
    body: str | None = None
    status: int | None = None
    reason: str = ""
    elapsed: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    answer: str = ""
    error: str | None = None
    #: The answer parsed as JSON, for checks that read it (not part of reports).
    document: Any = field(default=None, repr=False)

    @property
    def outcome(self) -> str:
        """How the platform reads the answer (reading 9)."""
        return classify(self.status).value

    @property
    def answered(self) -> bool:
        """True when an HTTP answer came back."""
        return self.status is not None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the evidence (as reports carry it; no floats, see reports.model)."""
        return {
            "label": self.label,
            "request": {"method": self.method, "url": self.url, "auth": self.auth},
            "body": self.body,
            "status": self.status,
            "reason": self.reason,
            "outcome": self.outcome,
            "elapsedMs": round(self.elapsed * 1000),
            "headers": self.headers,
            "answer": self.answer,
            "error": self.error,
        }


def body_excerpt(body: bytes | dict[str, Any] | None) -> str | None:
    """A short, readable form of a request body."""
    if body is None:
        return None
    if isinstance(body, dict):
        return excerpt(json.dumps(body, ensure_ascii=False))
    return excerpt(body.decode("utf-8", "replace"))
