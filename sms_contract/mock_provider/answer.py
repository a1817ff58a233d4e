"""``Answer``: what the send pipeline answers, written to WSGI as it stands.

The send URL answers thousands of times a second under a platform's load test;
a werkzeug ``Response`` per send (header objects, status parsing, the WSGI
header pass) cost more than building the answer itself. An ``Answer`` is the
three parts a server writes: the status line, the headers, the body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.wrappers import Response

from sms_contract.core.findings import Violation
from sms_contract.core.jsontext import dump_bytes
from sms_contract.mock_provider.problems import PROBLEM_CONTENT_TYPE, PROBLEMS, problem_body

JSON_CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: ``status`` is the status line (``"200 OK"``); ``headers``
    leave out ``Content-Length``, which is the body's."""

    status: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""

    @classmethod
    def json(
        cls,
        code: int,
        document: Any,
        content_type: str = JSON_CONTENT_TYPE,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """``document`` as compact JSON with the status ``code``."""
        head = (("Content-Type", content_type), *(headers or {}).items())
        return cls(status_line(code), head, dump_bytes(document))

    @classmethod
    def problem(
        cls,
        slug: str,
        detail: str,
        *,
        violations: Iterable[Violation] = (),
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> Answer:
        """The problem+json answer for ``slug`` (as ``problems.problem``)."""
        document = problem_body(slug, detail, violations=violations, **extra)
        return cls.json(PROBLEMS[slug][0], document, PROBLEM_CONTENT_TYPE, headers)

    @classmethod
    def of(cls, response: Response) -> Answer:
        """A werkzeug response as an answer."""
        headers = tuple(
            (name, value)
            for name, value in response.headers.items()
            if name.lower() != "content-length"
        )
        return cls(response.status, headers, response.get_data())

    @property
    def code(self) -> int:
        """The status code."""
        return int(self.status.split(" ", 1)[0])

    def __call__(
        self, environ: Mapping[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        """Write the answer through WSGI (no body for a HEAD request)."""
        start_response(self.status, [*self.headers, ("Content-Length", str(len(self.body)))])
        return [] if environ.get("REQUEST_METHOD") == "HEAD" else [self.body]


def status_line(code: int) -> str:
    """The status line werkzeug writes for ``code`` (``"200 OK"``, ``"444 UNKNOWN"``)."""
    return _STATUS_LINES.get(code) or f"{code} UNKNOWN"


_STATUS_LINES = {code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()}
