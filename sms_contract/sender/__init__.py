"""The platform side of the contract: encoding analysis, payload model and builder."""

from sms_contract.core.encoding import Analysis, analyze, is_gsm
from sms_contract.core.model import (
    SmsPayload,
    SmsType,
    build_payload,
    normalize_number,
    required_type,
    sender_is_set,
)

__all__ = [
    "Analysis",
    "SmsPayload",
    "SmsType",
    "analyze",
    "build_payload",
    "is_gsm",
    "normalize_number",
    "required_type",
    "sender_is_set",
]
