"""Every exception the project raises on purpose, in one module.

The hierarchy::

    SmsContractError
    ├── InputError (ValueError)          input that cannot be read as a payload
    │   └── BodyError                    a body that is not a readable JSON object
    ├── PayloadBuildError (ValueError)   a payload cannot be built (``field`` names it)
    ├── ReadingError (ValueError)        an unknown reading name or value
    ├── ConfigurationError (ValueError)  a provider client that cannot be set up
    ├── InvalidLogin (ValueError)        a login outside the platform's character set
    ├── ProviderRejected                 the provider refused the SMS for good
    ├── ProviderUnavailable              the provider did not accept it by the last attempt
    ├── ConfigError (ValueError)         a fake-provider configuration refused at start
    ├── RuleError (ValueError)           a fault rule that cannot be used
    ├── DuplicateRuleId (ValueError)     a fault rule id that is taken
    ├── MagicRuleProtected               a magic rule cannot be deleted
    ├── QueryError (ValueError)          an admin API query parameter that cannot be used
    ├── UnknownSelector (ValueError)     a verify ``--only``/``--skip`` naming no check
    ├── Unreachable                      verify: the endpoint cannot be reached
    │   └── TargetRefused                verify: an address the run may not connect to
    ├── InvalidRunInput (ValueError)     verify: an option of a run that cannot be used
    ├── TlsFailure                       verify: no TLS, or an invalid certificate, before any check
    ├── VerifyBusy                       verify page: too many runs under way (retry later)
    ├── BudgetExhausted                  verify: a send past ``--max-sends``
    ├── CredentialsInClear               verify: credentials about to go over plain http
    └── OpenApiMissing                   verify: the provider OpenAPI is not installed

Errors that carry findings hold them as ``Violation`` objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # findings are built by the code that raises, never here
    from sms_contract.core.findings import Violation


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


class BodyError(InputError):
    """A body that is not a readable JSON object (a 400 in the fake provider)."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


class ReadingError(SmsContractError, ValueError):
    """An unknown reading name or value; the message lists the valid ones, on one line."""


class InvalidLogin(SmsContractError, ValueError):
    """A login with a character the platform refuses."""


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


# -- the fake provider ----------------------------------------------------------------


class ConfigError(SmsContractError, ValueError):
    """A configuration the fake provider refuses to start with."""


class RuleError(SmsContractError, ValueError):
    """Fault rule input that cannot be used; ``violations`` name each field at fault."""

    def __init__(self, violations: Iterable[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(f"{v.pointer or '/'}: {v.message}" for v in self.violations))


class DuplicateRuleId(SmsContractError, ValueError):
    """A fault rule with this id exists already."""


class MagicRuleProtected(SmsContractError):
    """The built-in magic rules cannot be deleted."""

    def __init__(self, rule_id: str) -> None:
        super().__init__(f"{rule_id!r} is a built-in magic rule; it cannot be deleted")
        self.rule_id = rule_id


class QueryError(SmsContractError, ValueError):
    """An admin API query parameter that cannot be used; carries the violation
    (its pointer is ``/query/<name>``)."""

    def __init__(self, violation: Violation) -> None:
        super().__init__(violation.message)
        self.violation = violation


# -- verify -----------------------------------------------------------------------------


class UnknownSelector(SmsContractError, ValueError):
    """An ``--only``/``--skip`` value that names no check."""


class Unreachable(SmsContractError):
    """The endpoint cannot be reached at all: DNS, refused connection, timeout."""


class TargetRefused(Unreachable):
    """A connection the run may not make: the endpoint's address is not public
    (``--verify-targets public``). Not an ``OSError``, so no HTTP library retries it
    or reads it as a network failure: it ends the run."""


class InvalidRunInput(SmsContractError, ValueError):
    """An option of a verify run that cannot be used; ``field`` names it (``to``) and
    ``code`` the rule it breaks."""

    def __init__(self, field: str, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.code = code


class TlsFailure(SmsContractError):
    """The endpoint's TLS cannot be used (no handshake, an invalid certificate): a run
    started from the web refuses it up front, with the message of the check."""


class VerifyBusy(SmsContractError):
    """A web run refused for now: the client's run or too many runs are under way;
    ``retry_after`` is in seconds."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class BudgetExhausted(SmsContractError):
    """A send past ``--max-sends`` was attempted; nothing was sent."""


class CredentialsInClear(SmsContractError):
    """A request would have carried credentials over plain http; it was not sent."""


class OpenApiMissing(SmsContractError):
    """The provider OpenAPI is not part of this installation."""
