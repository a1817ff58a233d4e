"""The one model of a run's report: a plain, JSON-ready dict every format is made from.

``build`` turns a run's ``Report`` into the model: the endpoint, the tool and
contract versions, the readings in force, the run's options, a summary per
level, the verdict, and each check with its level, result, evidence and how
to fix it. Every text that comes from the endpoint is redacted. The JSON
report *is* the model (``verify-report.schema.json``); the terminal, JUnit
XML, HTML and Markdown reports only format it, so they cannot disagree.

Integrity: ``sha256`` is the SHA-256 of the model's canonical JSON, the model
without ``sha256`` serialised with sorted keys, no whitespace, no ASCII
escaping, in UTF-8. It shows that a report was not edited after it was
written; it is an integrity check, not a signature: whoever edits a report
can compute a new digest. The model holds no floating-point number (times
are whole milliseconds) and no character JSON writers escape differently, so
other tools (``jq -cS``) recompute the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from sms_contract import __version__
from sms_contract.contract_tests.catalogue import Level
from sms_contract.contract_tests.checks import Status
from sms_contract.contract_tests.evidence import Redactor
from sms_contract.contract_tests.probes import safe_url
from sms_contract.contract_tests.runner import PlannedCheck, Report, Result
from sms_contract.schema import report_schema_version, schema_version

TOOL = "sms-contract verify"
#: The key of the digest; the canonical JSON is computed without it.
DIGEST_KEY = "sha256"
#: Where the partner guide explains each check (its section anchors drop the dots).
GUIDE = "docs/verify.md"

#: Lone surrogates (from undecodable input) cannot be encoded as UTF-8, and DEL is the one
#: character JSON writers disagree on (jq escapes it, Python does not): neither enters a report.
_UNPORTABLE = re.compile("[\x7f\ud800-\udfff]")
_AUTH_WORDS = {"right": "credentials", "none": "no credentials", "wrong": "wrong password"}


def build(report: Report, redact: Redactor, *, report_id: str | None = None) -> dict[str, Any]:
    """The model of ``report``, sealed with its digest; ``report_id`` defaults to a new UUID."""
    options = report.options
    document: dict[str, Any] = {
        "reportVersion": report_schema_version(),
        "reportId": report_id or str(uuid.uuid4()),
        "tool": {"name": TOOL, "version": __version__},
        "contract": {"schemaVersion": schema_version(), "readings": dict(options.readings)},
        "endpoint": {
            "url": redact(safe_url(options.url)),
            "to": options.to,
            "longTo": options.long_to,
            "login": options.login,
        },
        "run": _run(report),
        "summary": {
            level.value: {status.value: report.count(status, level) for status in Status}
            for level in Level
        },
        "verdict": {
            "outcome": _outcome(report),
            "text": redact(report.verdict),
            "exitCode": 0 if report.plan is not None else report.exit_code,
            "unreachable": redact(report.unreachable) if report.unreachable else None,
        },
        "checks": [check_entry(result, redact) for result in report.results],
    }
    if report.plan is not None:
        document["plan"] = [_planned(item, redact) for item in report.plan]
    return _seal(_portable(document))


def canonical_json(document: dict[str, Any]) -> bytes:
    """The bytes ``sha256`` is computed over: ``document`` without ``sha256``, keys
    sorted, no whitespace, non-ASCII characters as themselves, UTF-8."""
    unsealed = {key: value for key, value in document.items() if key != DIGEST_KEY}
    text = json.dumps(unsealed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def digest(document: dict[str, Any]) -> str:
    """The SHA-256 (hex) of ``document``'s canonical JSON."""
    return hashlib.sha256(canonical_json(document)).hexdigest()


def _seal(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` with its ``sha256``, placed right after ``reportId``."""
    value = digest(document)
    sealed: dict[str, Any] = {}
    for key, item in document.items():
        if key != DIGEST_KEY:
            sealed[key] = item
        if key == "reportId":
            sealed[DIGEST_KEY] = value
    return sealed


def render_json(model: dict[str, Any]) -> str:
    """The JSON report: the model, indented (the digest does not depend on layout)."""
    return json.dumps(model, ensure_ascii=False, indent=2) + "\n"


def write_json(model: dict[str, Any], path: Path) -> None:
    """Write the model as the JSON report."""
    path.write_text(render_json(model), encoding="utf-8")


def _milliseconds(seconds: float) -> int:
    return round(seconds * 1000)


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="milliseconds") if moment else None


def _run(report: Report) -> dict[str, Any]:
    options = report.options
    return {
        "id": report.run_id,
        "startedAt": _time(report.started),
        "finishedAt": _time(report.finished),
        "dryRun": report.plan is not None,
        "sends": report.sends,
        "maxSends": options.max_sends,
        "timeoutMs": _milliseconds(options.timeout),
        "latencyMs": _milliseconds(options.latency),
        "fuzz": options.fuzz,
        "fuzzSeed": options.fuzz_seed,
        "only": list(options.only),
        "skip": list(options.skip),
        "insecure": options.insecure,
        "allowHttp": options.allow_http,
    }


def _outcome(report: Report) -> str:
    if report.plan is not None:
        return "dry-run"
    if report.unreachable:
        return "unreachable"
    return "fail" if report.exit_code else "pass"


def _guide_link(check_id: str) -> str:
    """The guide's section of a check (GitHub anchors drop the dots)."""
    return f"{GUIDE}#{check_id.replace('.', '')}"


def check_entry(result: Result, redact: Redactor) -> dict[str, Any]:
    """One check of the report, as the report holds it (also a live run's progress)."""
    spec, verdict = result.spec, result.verdict
    exchanges = [exchange.to_dict() for exchange in verdict.exchanges]
    entry = {
        "id": spec.id,
        "level": spec.level.value,
        "title": spec.title,
        "basis": spec.basis,
        "status": result.status.value,
        "summary": redact(verdict.summary),
        "details": [redact(line) for line in verdict.details],
        "facts": redact.deep(verdict.facts),
        "exchanges": redact.deep(exchanges),
        "elapsedMs": _milliseconds(result.elapsed),
        "fix": spec.fix,
        "guide": _guide_link(spec.id),
    }
    portable: dict[str, Any] = _portable(entry)
    return portable


def _planned(item: PlannedCheck, redact: Redactor) -> dict[str, Any]:
    requests = [
        {
            "label": r.label,
            "method": r.method,
            "auth": r.auth,
            "body": r.body.decode("utf-8", "replace") if isinstance(r.body, bytes) else r.body,
        }
        for r in item.requests
    ]
    return {
        "id": item.spec.id,
        "level": item.spec.level.value,
        "sends": item.sends,
        "skipped": redact(item.skipped) if item.skipped else None,
        "note": item.extra or None,
        "requests": redact.deep(requests),
    }


def _portable(value: Any) -> Any:
    """``value`` with every unportable character (``_UNPORTABLE``) replaced."""
    if isinstance(value, str):
        return _UNPORTABLE.sub("\N{REPLACEMENT CHARACTER}", value)
    if isinstance(value, dict):
        return {_portable(key): _portable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_portable(item) for item in value]
    return value


# -- what the formats share -------------------------------------------------------------


def exchange_lines(exchange: dict[str, Any]) -> list[str]:
    """One exchange as readable lines: ``label: POST (auth) -> 200 OK [accepted] in 0.02 s``."""
    request = exchange["request"]
    if exchange["status"] is None:
        answer = f"no answer: {exchange['error']}"
    else:
        answer = f"{exchange['status']} {exchange['reason']}".strip()
    lines = [
        f"{exchange['label']}: {request['method']} ({request['auth']}) -> {answer} "
        f"[{exchange['outcome']}] in {exchange['elapsedMs'] / 1000:.2f} s"
    ]
    if exchange["body"] is not None:
        lines.append(f"  sent: {exchange['body']}")
    lines += [f"  {name}: {value}" for name, value in exchange["headers"].items()]
    if exchange["answer"]:
        lines.append(f"  answer: {exchange['answer']}")
    return lines


def finding_lines(check: dict[str, Any]) -> list[str]:
    """What a check saw: its summary, details and facts (no exchanges)."""
    lines = [check["summary"], *check["details"]]
    return lines + [f"{name}: {value}" for name, value in check["facts"].items()]


def check_lines(check: dict[str, Any]) -> list[str]:
    """What a check saw, exchanges included, as readable lines."""
    lines = finding_lines(check)
    for exchange in check["exchanges"]:
        lines += exchange_lines(exchange)
    return lines


def planned_lines(item: dict[str, Any], with_login: bool) -> list[str]:
    """A dry run's planned requests of one check, one line each."""
    lines = [
        f"{r['method']} ({_AUTH_WORDS[r['auth']] if with_login else 'no credentials'})"
        + (f" {_short_body(r['body'])}" if r["body"] is not None else "")
        for r in item["requests"]
    ]
    return lines + ([item["note"]] if item["note"] else [])


def _short_body(body: dict[str, Any] | str) -> str:
    """The fields that matter in a planned body, in one line."""
    if not isinstance(body, dict):
        return "raw " + (body if len(body) <= 80 else body[:77] + "...")
    shown = []
    for name in ("type", "sender", "to", "isUnicode", "credits"):
        if name in body:
            shown.append(f"{name}={json.dumps(body[name], ensure_ascii=False)}")
        elif name == "sender":
            shown.append("no sender")
    text = body.get("text")
    if isinstance(text, str):
        cut = text[:60] + ("..." if len(text) > 60 else "")
        shown.append(f"text={json.dumps(cut, ensure_ascii=False)}")
    known = {"type", "sender", "to", "retId", "isUnicode", "credits", "text"}
    shown += [f"{name}=..." for name in body if name not in known]
    return " ".join(shown)
