"""Every exception the project raises on purpose, in one module."""

from __future__ import annotations


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
