"""The contract suite behind ``sms-contract verify``: conformance checks of an SMS endpoint.

    from sms_contract.contract_tests import Options, Runner

    report = Runner(Options("https://sms.example/send", to="+33612345678")).run()
    assert report.exit_code == 0, report.failed_ids

Modules: ``catalogue`` (every check: id, level, rule), ``probes`` (the
requests and the one HTTP client), ``tls``, ``checks`` (how each check
judges), ``fuzz`` (schemathesis), ``runner`` and ``reports`` (one model, every format).


Names are imported on first use: a module of the package (the catalogue, the
input checks) loads without the HTTP client, so the fake provider's master
process imports no HTTP library before gevent patches its workers.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sms_contract.contract_tests.catalogue import CATALOGUE, CheckSpec, Level
    from sms_contract.contract_tests.checks import Status, Verdict
    from sms_contract.contract_tests.runner import Options, Report, Result, Runner

__all__ = [
    "CATALOGUE",
    "CheckSpec",
    "Level",
    "Options",
    "Report",
    "Result",
    "Runner",
    "Status",
    "Verdict",
]

_HOMES = {
    "CATALOGUE": "catalogue",
    "CheckSpec": "catalogue",
    "Level": "catalogue",
    "Status": "checks",
    "Verdict": "checks",
    "Options": "runner",
    "Report": "runner",
    "Result": "runner",
    "Runner": "runner",
}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
