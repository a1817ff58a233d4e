"""The web UI of the fake provider: inbox, message detail, checker, spec, faults, verify.

Server-rendered Jinja pages (autoescaped) with small scripts and one style
sheet from ``static/``; nothing is fetched from elsewhere. Each page module
adds its routes to the one ``blueprint``; ``security`` guards them all.
"""

from __future__ import annotations

from sms_contract.mock_provider.ui import check, faults, inbox, security, verify
from sms_contract.mock_provider.ui.blueprint import blueprint

__all__ = ["blueprint", "check", "faults", "inbox", "security", "verify"]
