"""Namespaces: ``/ns/<namespace>/...`` keeps one test run's sends apart from the others.

The one home of the namespace rule and its message; the send path, the admin
API, the UI, fault rules and the OpenAPI document all use it.
"""

from __future__ import annotations

import re

#: The rule as a JSON Schema / ECMA-262 pattern (OpenAPI, fault rules).
NAMESPACE_SCHEMA_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
#: The rule for Python (``fullmatch``).
NAMESPACE_PATTERN = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: The rule in words, for every message that refuses a namespace.
NAMESPACE_RULE = "a namespace is 1 to 64 letters, digits, '_', '.' or '-'"
#: The namespace of the plain send path (no ``/ns/<namespace>`` prefix).
DEFAULT_NAMESPACE = "default"


def is_namespace(value: str) -> bool:
    """Whether ``value`` is a valid namespace."""
    return NAMESPACE_PATTERN.fullmatch(value) is not None
