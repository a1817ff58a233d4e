"""The contract suite behind ``sms-contract verify``: conformance checks of an SMS endpoint.

    from sms_contract.contract_tests import Options, Runner

    report = Runner(Options("https://sms.example/send", to="+33612345678")).run()
    assert report.exit_code == 0, report.failed_ids

Modules: ``catalogue`` (every check: id, level, rule), ``probes`` (the
requests and the one HTTP client), ``tls``, ``checks`` (how each check
judges), ``fuzz`` (schemathesis), ``runner`` and ``reports`` (one model, every format).
"""

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
