"""sms-contract: the INO CX SMS webhook contract, a fake provider and a conformance kit.

The small public API::

    from sms_contract import analyze, build_payload, check_document, Readings
"""

from sms_contract.core.readings import Readings, parse_readings
from sms_contract.core.validation import CheckResult, Violation, check_document, parse_body
from sms_contract.exceptions import InputError, PayloadBuildError, ReadingError, SmsContractError
from sms_contract.sender import Analysis, SmsPayload, SmsType, analyze, build_payload

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "CheckResult",
    "InputError",
    "PayloadBuildError",
    "ReadingError",
    "Readings",
    "SmsContractError",
    "SmsPayload",
    "SmsType",
    "Violation",
    "__version__",
    "analyze",
    "build_payload",
    "check_document",
    "parse_body",
    "parse_readings",
]
