"""The report as Markdown for CI job pages (a job summary), formatted from the report model.

A summary rather than the evidence: the verdict, the run, the counts per
level, one table row per check, then what each failed (or INFO) check saw and
how to fix it. Text from the endpoint is flattened to one line and its
Markdown punctuation escaped, so it shows as text: no HTML, link, image,
formula or broken table.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sms_contract.contract_tests.reports.model import finding_lines

#: Punctuation that is markup anywhere in a line (emphasis, code, links, tables, strike,
#: formulas, mentions); backslash escapes keep it literal.
_INLINE = re.compile(r"([\\`*_{}\[\]|~$@])")
#: What is markup only at the start of a line (headings, lists, rules).
_LEADING = re.compile(r"^(\d*)([#+\-=.)!])")
#: HTML and entities: written as entities, which every Markdown renderer shows as text.
_ENTITIES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ICONS = {"pass": "✅", "fail": "❌", "unreachable": "⚠️", "dry-run": "📝"}
_RESULTS = {"pass": "✅ PASS", "info": "ℹ️ INFO", "skip": "⏭️ SKIP"}


def _md(text: object) -> str:
    """``text`` on one line, every character that could be markup escaped."""
    flat = " ".join(str(text).split()).translate(_ENTITIES)
    escaped = _INLINE.sub(r"\\\1", flat)
    return _LEADING.sub(r"\1\\\2", escaped)


def _result(check: dict[str, Any]) -> str:
    if check["status"] == "fail":
        return "❌ FAIL" if check["level"] == "MUST" else "⚠️ FAIL (advice)"
    return _RESULTS[check["status"]]


def _about(model: dict[str, Any]) -> list[str]:
    endpoint, run, tool = model["endpoint"], model["run"], model["tool"]
    readings = model["contract"]["readings"]
    rows = [
        ("Endpoint", _md(endpoint["url"])),
        ("Date", _md(run["startedAt"])),
        ("Tool", _md(f"{tool['name']} {tool['version']}")),
        ("Schema version", _md(model["contract"]["schemaVersion"])),
        (
            "Readings in force",
            _md(", ".join(f"{k}: {v}" for k, v in readings.items()) or "the defaults"),
        ),
        ("Sends", f"{run['sends']} of at most {run['maxSends']}"),
        ("Report", f"`{model['reportId']}`"),
        ("SHA-256", f"`{model['sha256']}`"),
    ]
    return ["| | |", "|---|---|", *(f"| {name} | {value} |" for name, value in rows)]


def _summary(model: dict[str, Any]) -> list[str]:
    statuses = ("pass", "fail", "info", "skip")
    lines = ["| level | pass | fail | info | skip |", "|---|--:|--:|--:|--:|"]
    for level, counts in model["summary"].items():
        lines.append(f"| {level} | " + " | ".join(str(counts[s]) for s in statuses) + " |")
    return lines


def _checks(checks: list[dict[str, Any]]) -> list[str]:
    lines = ["| check | level | result | summary |", "|---|---|---|---|"]
    lines += [
        f"| `{c['id']}` | {c['level']} | {_result(c)} | {_md(c['summary'])} |" for c in checks
    ]
    return lines


def _findings(checks: list[dict[str, Any]]) -> list[str]:
    noteworthy = [c for c in checks if c["status"] in ("fail", "info")]
    if not noteworthy:
        return []
    lines = ["", "### What to look at, and how to fix it"]
    for check in noteworthy:
        lines += ["", f"#### {_result(check)} `{check['id']}` ({check['level']})", ""]
        lines.append(_md(check["title"]))
        lines.append("")
        lines += [f"- {_md(line)}" for line in finding_lines(check)]
        # The fix text is the catalogue's own Markdown (code spans), not the endpoint's.
        lines += ["", f"**How to fix:** {check['fix']}"]
    return lines


def render_markdown(model: dict[str, Any]) -> str:
    """The Markdown summary."""
    verdict = model["verdict"]
    lines = [
        f"## {_ICONS[verdict['outcome']]} {_md(model['tool']['name'])}: {_md(verdict['text'])}",
        "",
        *_about(model),
        "",
        f"Exit code {verdict['exitCode']}: only a failed MUST check fails the run; "
        "a failed SHOULD check is advice.",
        "",
        *_summary(model),
        "",
        "### Checks",
        "",
        *_checks(model["checks"]),
        *_findings(model["checks"]),
        "",
        "---",
        "",
        "The SHA-256 is that of the report's canonical JSON: an integrity check, not a "
        "signature. It shows the JSON report was not changed after it was written, not who "
        "wrote it. Evidence for every check: the HTML or JSON report of the same run.",
    ]
    return "\n".join(lines) + "\n"


def write_markdown(model: dict[str, Any], path: Path) -> None:
    """Write the Markdown summary to ``path``."""
    path.write_text(render_markdown(model), encoding="utf-8")
