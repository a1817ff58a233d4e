"""The report of a run: a rich table for people, JSON and JUnit XML for machines.

JUnit: one ``testcase`` per check, named by its id, with a ``level`` property.
A failed MUST check is a ``<failure type="MUST">``; a failed SHOULD check is
also a ``<failure>``, with ``type="SHOULD"``, so CI dashboards show the advice.
The exit code, not the JUnit file, says whether the endpoint conforms (only
MUST failures give exit code 1). A skipped check is ``<skipped>``; an INFO
result passes, with its message in ``system-out``.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sms_contract import __version__
from sms_contract.contract_tests.catalogue import CATALOGUE, Level
from sms_contract.contract_tests.checks import Status
from sms_contract.contract_tests.evidence import Redactor
from sms_contract.contract_tests.runner import PlannedCheck, Report, Result

_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.INFO: "cyan",
    Status.SKIP: "dim",
}
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _status_text(result: Result) -> str:
    style = _STYLE[result.status]
    if result.status == Status.FAIL and result.spec.level != Level.MUST:
        style = "yellow"
    return f"[{style}]{result.status.value.upper()}[/]"


def progress_line(result: Result, index: int, total: int) -> str:
    """One line per finished check, printed while the run goes on."""
    width = len(str(total))
    return (
        f"[{index:>{width}}/{total}] {_status_text(result)} {result.spec.level.value:<6} "
        f"{escape(result.spec.id)}  [dim]{escape(result.verdict.summary)}[/]"
    )


def _header(report: Report) -> list[str]:
    options = report.options
    login = f"login {options.login!r}, password ***" if options.login else "no credentials"
    lines = [
        f"[bold]sms-contract verify[/] {escape(report_url(report))}",
        f"  to {options.to}"
        + (f", long-to {options.long_to}" if options.long_to else "")
        + f"; {escape(login)}; at most {options.max_sends} send(s); run {report.run_id}",
    ]
    if options.insecure:
        lines.append("  [yellow]--insecure: the certificate is not trusted, checks go on[/]")
    return lines


def report_url(report: Report) -> str:
    """The URL as shown (never with user information)."""
    from sms_contract.contract_tests.probes import safe_url

    return safe_url(report.options.url)


def render(report: Report, console: Console) -> None:
    """The results table, the details of what failed, and the verdict."""
    for line in _header(report):
        console.print(line)
    if report.plan is not None:
        _render_plan(report.plan, console, report.options.login is not None)
        console.print(f"\n[bold]{escape(report.verdict)}[/]")
        return
    table = Table(show_lines=False, header_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("level")
    table.add_column("result")
    table.add_column("summary", overflow="fold")
    for result in report.results:
        table.add_row(
            escape(result.spec.id),
            result.spec.level.value,
            _status_text(result),
            escape(result.verdict.summary),
        )
    console.print(table)
    noteworthy = [r for r in report.results if r.status in (Status.FAIL, Status.INFO)]
    for result in noteworthy:
        console.print(
            f"\n{_status_text(result)} [bold]{escape(result.spec.id)}[/] "
            f"({result.spec.level.value}): {escape(result.spec.title)}"
        )
        for line in _detail_lines(result):
            console.print("  " + escape(line), soft_wrap=True)
        console.print(f"  [dim]how to fix: docs/verify.md#{result.spec.id.replace('.', '')}[/]")
    style = "bold red" if report.exit_code else "bold green"
    console.print(f"\n[{style}]{escape(report.verdict)}[/]")
    if not report.unreachable:
        console.print(f"{report.sends} of {report.options.max_sends} send(s) used")


def _detail_lines(result: Result) -> list[str]:
    verdict = result.verdict
    lines = [verdict.summary, *verdict.details]
    lines += [f"{name}: {value}" for name, value in verdict.facts.items()]
    for exchange in verdict.exchanges:
        lines += exchange.lines()
    return lines


_AUTH_WORDS = {"right": "credentials", "none": "no credentials", "wrong": "wrong password"}


def _render_plan(plan: list[PlannedCheck], console: Console, with_login: bool) -> None:
    table = Table(header_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("level")
    table.add_column("sends")
    table.add_column("planned requests", overflow="fold")
    for item in plan:
        if item.skipped:
            what = f"[dim]skipped: {escape(item.skipped)}[/]"
        else:
            parts = [
                f"{r.method} ({_AUTH_WORDS[r.auth] if with_login else 'no credentials'})"
                + (f" {_short_body(r.body)}" if r.body is not None else "")
                for r in item.requests
            ]
            if item.extra:
                parts.append(item.extra)
            what = escape("\n".join(parts) or "uses requests planned above")
        table.add_row(escape(item.spec.id), item.spec.level.value, str(item.sends), what)
    console.print(table)


def _short_body(body: dict[str, Any] | bytes | None) -> str:
    """The fields that matter in a planned body, in one line."""
    if not isinstance(body, dict):
        raw = (body or b"").decode("utf-8", "replace")
        return "raw " + (raw if len(raw) <= 80 else raw[:77] + "...")
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


def catalogue_table(console: Console) -> None:
    """The check catalogue (``--list-checks``)."""
    table = Table(header_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("level")
    table.add_column("rule", overflow="fold")
    table.add_column("basis", overflow="fold")
    for spec in CATALOGUE:
        table.add_row(escape(spec.id), spec.level.value, escape(spec.title), escape(spec.basis))
    console.print(table)


# -- JSON -----------------------------------------------------------------------------


def to_json(report: Report, redact: Redactor) -> dict[str, Any]:
    """The report as a JSON-ready dict (every string redacted)."""
    options = report.options
    document: dict[str, Any] = {
        "tool": "sms-contract verify",
        "version": __version__,
        "runId": report.run_id,
        "url": report_url(report),
        "to": options.to,
        "longTo": options.long_to,
        "login": options.login,
        "startedAt": report.started.isoformat(),
        "finishedAt": report.finished.isoformat() if report.finished else None,
        "maxSends": options.max_sends,
        "sends": report.sends,
        "dryRun": report.plan is not None,
        "verdict": report.verdict,
        "exitCode": 0 if report.plan is not None else report.exit_code,
        "unreachable": report.unreachable,
        "summary": {status.value: report.count(status) for status in Status if report.plan is None},
        "checks": [_result_json(result) for result in report.results],
    }
    if report.plan is not None:
        document["plan"] = [_plan_json(item) for item in report.plan]
    cleaned: dict[str, Any] = redact.deep(document)
    return cleaned


def _result_json(result: Result) -> dict[str, Any]:
    verdict = result.verdict
    return {
        "id": result.spec.id,
        "level": result.spec.level.value,
        "title": result.spec.title,
        "basis": result.spec.basis,
        "status": result.status.value,
        "summary": verdict.summary,
        "details": verdict.details,
        "facts": verdict.facts,
        "exchanges": [exchange.to_dict() for exchange in verdict.exchanges],
        "elapsedSeconds": round(result.elapsed, 3),
    }


def _plan_json(item: PlannedCheck) -> dict[str, Any]:
    return {
        "id": item.spec.id,
        "level": item.spec.level.value,
        "sends": item.sends,
        "skipped": item.skipped,
        "note": item.extra or None,
        "requests": [
            {
                "label": r.label,
                "method": r.method,
                "auth": r.auth,
                "body": r.body.decode("utf-8", "replace") if isinstance(r.body, bytes) else r.body,
            }
            for r in item.requests
        ],
    }


def write_json(report: Report, path: Path, redact: Redactor) -> None:
    """Write the JSON report to ``path``."""
    text = json.dumps(to_json(report, redact), ensure_ascii=False, indent=2)
    path.write_text(text + "\n", encoding="utf-8")


# -- JUnit XML ------------------------------------------------------------------------


def _xml(text: str) -> str:
    return _XML_INVALID.sub("\N{REPLACEMENT CHARACTER}", text)


def to_junit(report: Report, redact: Redactor) -> ET.Element:
    """The report as a JUnit XML tree (see the module docstring for the mapping)."""

    def clean(text: str) -> str:
        return _xml(redact(text))

    results = report.results
    failures = sum(1 for r in results if r.status == Status.FAIL)
    skipped = sum(1 for r in results if r.status == Status.SKIP)
    elapsed = sum(r.elapsed for r in results)
    suites = ET.Element("testsuites", name="sms-contract verify")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"sms-contract verify {clean(report_url(report))}",
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        skipped=str(skipped),
        time=f"{elapsed:.3f}",
        timestamp=report.started.isoformat(timespec="seconds"),
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("url", report_url(report)),
        ("to", report.options.to),
        ("verdict", report.verdict),
        ("exitCode", str(report.exit_code)),
        ("sends", str(report.sends)),
        ("maxSends", str(report.options.max_sends)),
        ("runId", report.run_id),
    ):
        ET.SubElement(properties, "property", name=name, value=clean(value))
    for result in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"sms_contract.verify.{result.spec.id.split('.')[0]}",
            name=result.spec.id,
            time=f"{result.elapsed:.3f}",
        )
        case_properties = ET.SubElement(case, "properties")
        ET.SubElement(case_properties, "property", name="level", value=result.spec.level.value)
        ET.SubElement(case_properties, "property", name="status", value=result.status.value)
        ET.SubElement(case_properties, "property", name="title", value=clean(result.spec.title))
        body = clean("\n".join(_detail_lines(result)))
        summary = clean(result.verdict.summary)
        if result.status == Status.FAIL:
            level = result.spec.level.value
            failure = ET.SubElement(case, "failure", type=level, message=f"[{level}] {summary}")
            failure.text = body
        elif result.status == Status.SKIP:
            ET.SubElement(case, "skipped", message=summary)
        else:
            ET.SubElement(case, "system-out").text = body
    return suites


def write_junit(report: Report, path: Path, redact: Redactor) -> None:
    """Write the JUnit XML report to ``path``."""
    tree = ET.ElementTree(to_junit(report, redact))
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
