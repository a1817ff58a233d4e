"""The report as one self-contained HTML file, formatted from the report model.

Inline CSS (with print styles), no script, no external resource: the file can
be mailed, archived or printed as it is. Every text is escaped, since the
evidence holds whatever the endpoint answered; a Content-Security-Policy that
allows inline styles only is a second guard.
"""

from __future__ import annotations

import re
from html import escape
from pathlib import Path
from typing import Any

from sms_contract.contract_tests.reports.model import exchange_lines, planned_lines

_CODE_SPAN = re.compile(r"`([^`]+)`")
_POLICY = "default-src 'none'; style-src 'unsafe-inline'"

_CSS = """
:root { --pass: #1a7f37; --fail: #cf222e; --advice: #9a6700; --info: #0969da; --skip: #6e7781;
  --line: #d0d7de; --soft: #f6f8fa; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2328;
  max-width: 64rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .75rem; }
h2 { font-size: 1.2rem; margin: 1.75rem 0 .5rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1rem; margin: 0 0 .25rem; }
h4 { font-size: .85rem; margin: .75rem 0 .25rem; text-transform: uppercase; color: #59636e; }
code, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
code { font-size: 90%; background: var(--soft); padding: 0 .2em; border-radius: 3px; }
pre { background: var(--soft); padding: .5rem .75rem; font-size: 12px; white-space: pre-wrap;
  overflow-wrap: anywhere; margin: .25rem 0; }
.verdict { font-weight: 700; font-size: 1.1rem; padding: .5rem .75rem; background: var(--soft);
  border-left: .4rem solid var(--skip); }
.verdict.pass { border-color: var(--pass); } .verdict.fail { border-color: var(--fail); }
.verdict.unreachable { border-color: var(--advice); }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; overflow-wrap: anywhere; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0 1rem; margin: .25rem 0; }
dl.facts dt { color: #59636e; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid var(--line); padding: .25rem .5rem; text-align: left;
  vertical-align: top; }
th { background: var(--soft); }
table.counts { width: auto; } td.count { text-align: right; min-width: 4rem;
  font-variant-numeric: tabular-nums; }
td.summary { overflow-wrap: anywhere; }
.status { font-weight: 700; white-space: nowrap; }
.status.pass { color: var(--pass); } .status.fail.level-must { color: var(--fail); }
.status.fail.level-should { color: var(--advice); } .status.info { color: var(--info); }
.status.skip { color: var(--skip); }
.level { font-size: .75rem; font-weight: 700; border: 1px solid currentColor; border-radius: 3px;
  padding: 0 .3em; color: #59636e; }
article.check { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem;
  margin: .75rem 0; }
article.check.fail { border-left: .3rem solid var(--fail); }
article.check.fail.level-should { border-left-color: var(--advice); }
.rule { margin: 0; } .basis { margin: 0; color: #59636e; font-size: .9rem; }
.fix { border-left: .25rem solid var(--info); padding-left: .75rem; margin: .25rem 0; }
.muted { color: #59636e; }
footer { margin-top: 2rem; font-size: 12px; color: #59636e; border-top: 1px solid var(--line); }
a { color: var(--info); }
@page { margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  article.check, tr, .verdict { break-inside: avoid; }
  h2 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
  .verdict, .status, article.check, th, pre, code { print-color-adjust: exact;
    -webkit-print-color-adjust: exact; }
}
"""

_STATUS_WORDS = {"pass": "PASS", "fail": "FAIL", "info": "INFO", "skip": "SKIP"}


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _rich(text: str) -> str:
    """Escaped text whose `code spans` (catalogue texts only) become <code>."""
    return _CODE_SPAN.sub(r"<code>\1</code>", _text(text))


def _status(check: dict[str, Any]) -> str:
    classes = f"status {check['status']} level-{check['level'].lower()}"
    return f'<span class="{classes}">{_STATUS_WORDS[check["status"]]}</span>'


def _anchor(check_id: str) -> str:
    return f"check-{check_id}"


def _readings(readings: dict[str, Any]) -> str:
    if not readings:
        return "the defaults"
    return ", ".join(f"{_text(name)}: {_text(value)}" for name, value in readings.items())


def _meta(model: dict[str, Any]) -> str:
    endpoint, run, tool = model["endpoint"], model["run"], model["tool"]
    rows = [
        ("Endpoint", f"<code>{_text(endpoint['url'])}</code>"),
        ("Date", _text(f"{run['startedAt']} to {run['finishedAt'] or '-'}")),
        ("Tool", _text(f"{tool['name']} {tool['version']}")),
        ("Schema version", _text(model["contract"]["schemaVersion"])),
        ("Readings in force", _readings(model["contract"]["readings"])),
        ("Numbers", _text(", ".join(n for n in (endpoint["to"], endpoint["longTo"]) if n))),
        ("Login", _text(endpoint["login"]) if endpoint["login"] else "none (no credentials)"),
        ("Sends", _text(f"{run['sends']} of at most {run['maxSends']}")),
        ("Run", f"<code>{_text(run['id'])}</code>"),
        ("Report", f"<code>{_text(model['reportId'])}</code>"),
        ("SHA-256", f"<code>{_text(model['sha256'])}</code>"),
    ]
    cells = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return f'<dl class="meta">{cells}</dl>'


def _summary(model: dict[str, Any]) -> str:
    statuses = ("pass", "fail", "info", "skip")
    head = "".join(f"<th>{_STATUS_WORDS[s]}</th>" for s in statuses)
    rows = "".join(
        f"<tr><th>{_text(level)}</th>"
        + "".join(f'<td class="count">{counts[s]}</td>' for s in statuses)
        + "</tr>"
        for level, counts in model["summary"].items()
    )
    return f'<table class="counts"><tr><th>level</th>{head}</tr>{rows}</table>'


def _overview(checks: list[dict[str, Any]]) -> str:
    rows = "".join(
        f'<tr data-check="{_text(c["id"])}" data-status="{_text(c["status"])}">'
        f'<td><a href="#{_text(_anchor(c["id"]))}"><code>{_text(c["id"])}</code></a></td>'
        f"<td>{_text(c['level'])}</td><td>{_status(c)}</td>"
        f'<td class="summary">{_text(c["summary"])}</td></tr>'
        for c in checks
    )
    head = "<tr><th>check</th><th>level</th><th>result</th><th>summary</th></tr>"
    return f"<table>{head}{rows}</table>"


def _check(check: dict[str, Any], planned: dict[str, Any] | None, with_login: bool) -> str:
    failed = check["status"] in ("fail", "info")
    parts = [
        f'<article class="check {_text(check["status"])} level-{_text(check["level"].lower())}" '
        f'id="{_text(_anchor(check["id"]))}" data-check="{_text(check["id"])}" '
        f'data-status="{_text(check["status"])}" data-level="{_text(check["level"])}">',
        f'<h3><code>{_text(check["id"])}</code> <span class="level">{_text(check["level"])}</span>'
        f" {_status(check)}</h3>",
        f'<p class="rule">{_text(check["title"])}</p>',
        f'<p class="basis">basis: {_text(check["basis"])}</p>',
        "<h4>Result</h4>",
        f"<p>{_text(check['summary'])}</p>",
    ]
    if check["details"]:
        items = "".join(f"<li>{_text(line)}</li>" for line in check["details"])
        parts.append(f"<ul>{items}</ul>")
    if check["facts"]:
        facts = "".join(
            f"<dt>{_text(name)}</dt><dd>{_text(value)}</dd>"
            for name, value in check["facts"].items()
        )
        parts.append(f'<dl class="facts">{facts}</dl>')
    if check["exchanges"]:
        parts.append("<h4>Evidence</h4>")
        parts += [
            f"<pre>{_text(chr(10).join(exchange_lines(e)))}</pre>" for e in check["exchanges"]
        ]
    if planned is not None and not planned["skipped"]:
        lines = planned_lines(planned, with_login) or ["uses requests planned above"]
        parts.append(f"<h4>Planned requests</h4><pre>{_text(chr(10).join(lines))}</pre>")
    heading = "How to fix" if failed else "If it fails"
    css = "fix" if failed else "fix muted"
    parts.append(f'<h4>{heading}</h4><p class="{css}">{_rich(check["fix"])}</p>')
    parts.append("</article>")
    return "\n".join(parts)


def render_html(model: dict[str, Any]) -> str:
    """The whole HTML document."""
    verdict = model["verdict"]
    outcome = verdict["outcome"]
    plan = {item["id"]: item for item in model.get("plan", [])}
    with_login = model["endpoint"]["login"] is not None
    checks = "\n".join(
        _check(check, plan.get(check["id"]), with_login) for check in model["checks"]
    )
    title = f"{model['tool']['name']}: {verdict['text']} ({model['endpoint']['url']})"
    unreachable = (
        f"<p>The endpoint could not be reached: {_text(verdict['unreachable'])}</p>"
        if verdict["unreachable"]
        else ""
    )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{_POLICY}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{_text(model["tool"]["name"])} {_text(model["tool"]["version"])}">
<title>{_text(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<h1>SMS endpoint conformance report</h1>
<p class="verdict {_text(outcome)}" data-outcome="{_text(outcome)}">{_text(verdict["text"])}</p>
{unreachable}
{_meta(model)}
</header>
<main>
<h2>Summary</h2>
<p>Exit code {_text(verdict["exitCode"])}: only a failed MUST check fails the run;
a failed SHOULD check is advice.</p>
{_summary(model)}
<h2>Checks</h2>
{_overview(model["checks"])}
{checks}
</main>
<footer>
<p>Report <code>{_text(model["reportId"])}</code>, SHA-256 of its canonical JSON
<code>{_text(model["sha256"])}</code>. This is an integrity check, not a signature: it shows
that the JSON report was not changed after it was written, not who wrote it, since anyone who
edits a report can compute a new digest. How to recompute it: docs/verify.md, "Reports".</p>
</footer>
</body>
</html>
"""


def write_html(model: dict[str, Any], path: Path) -> None:
    """Write the HTML report to ``path``."""
    path.write_text(render_html(model), encoding="utf-8")
