"""Every exception the project raises on purpose, in one module."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sms_contract.core.validation import Violation


class SmsContractError(Exception):
    """Base class of the project's errors."""


class PayloadBuildError(SmsContractError, ValueError):
    """A payload cannot be built from the given input; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InputError(SmsContractError, ValueError):
    """Input that cannot be read as a payload: bad bytes, bad JSON, not an object."""


class ReadingError(SmsContractError, ValueError):
    """An unknown reading name or value; the message lists the valid ones, on one line."""


class ConfigurationError(SmsContractError, ValueError):
    """A provider client that cannot be set up: bad URL, bad login, missing CA file..."""


class ProviderRejected(SmsContractError):
    """The provider refused the SMS for good (a 4xx other than 408/429): no retry helps.

    ``violations`` are read from an ``application/problem+json`` body when it has
    them; ``detail`` is the problem's ``detail`` (or ``title``) when there is one.
    """

    def __init__(
        self,
        status: int,
        violations: tuple[Violation, ...] = (),
        detail: str | None = None,
        body: object = None,
    ) -> None:
        message = f"the provider rejected the SMS with HTTP {status}"
        if detail:
            message += f": {detail}"
        if violations:
            listed = "; ".join(
                f"{v.pointer or '/'} {v.code}" + (f": {v.message}" if v.message else "")
                for v in violations
            )
            message += f" ({len(violations)} violation(s): {listed})"
        super().__init__(message)
        self.status = status
        self.violations = violations
        self.detail = detail
        self.body = body


class ProviderUnavailable(SmsContractError):
    """The provider did not accept the SMS by the last attempt (retryable failures only).

    ``status`` is the last HTTP status, or ``None`` when the last attempt got no
    answer; ``error`` then says what went wrong (``kind`` is one of ``status``,
    ``dns``, ``refused``, ``reset``, ``timeout``, ``tls``, ``network``).
    """

    def __init__(
        self,
        message: str,
        *,
        attempts: int,
        elapsed: float,
        status: int | None = None,
        error: str | None = None,
        kind: str = "status",
    ) -> None:
        super().__init__(message)
        self.attempts = attempts
        self.elapsed = elapsed
        self.status = status
        self.error = error
        self.kind = kind
