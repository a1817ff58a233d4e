"""The one shape of a finding: a ``Violation`` names the field (a JSON pointer),
the rule (a stable code) and a sentence; a ``CheckResult`` holds a verdict's
violations and warnings. Every tool reports findings in this shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sms_contract.core.readings import Readings


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where (JSON pointer), which rule (code), and why."""

    pointer: str
    code: str
    message: str

    def to_dict(self) -> dict[str, str]:
        """The JSON form used in problem+json bodies and reports."""
        # Spelled out: ``asdict`` copies recursively, and every answer calls this.
        return {"pointer": self.pointer, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one document: violations make it invalid, warnings do not.
    ``readings`` are those it was judged under (``None`` when the body could
    not be read, so no reading applied)."""

    violations: list[Violation] = field(default_factory=list)
    warnings: list[Violation] = field(default_factory=list)
    readings: Readings | None = None

    @property
    def valid(self) -> bool:
        """True when nothing is violated."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of the verdict, with the readings it was judged under."""
        document: dict[str, Any] = {
            "valid": self.valid,
            "violations": [v.to_dict() for v in self.violations],
            "warnings": [w.to_dict() for w in self.warnings],
        }
        if self.readings is not None:
            document["readings"] = self.readings.to_dict()
        return document


def pointer(*parts: object) -> str:
    """An RFC 6901 JSON pointer to ``parts``."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)
