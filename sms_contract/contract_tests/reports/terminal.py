"""The report for people at a terminal: a progress line per check while the run
goes on, then a table, what failed with how to fix it, and the verdict.

Everything after the progress lines is formatted from the report model
(``reports.model``), as the files are.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sms_contract.contract_tests.catalogue import CATALOGUE, Level
from sms_contract.contract_tests.checks import Status
from sms_contract.contract_tests.reports.model import check_lines, planned_lines
from sms_contract.contract_tests.runner import Result

_STYLE = {
    Status.PASS: "green",
    Status.FAIL: "bold red",
    Status.INFO: "cyan",
    Status.SKIP: "dim",
}


def _status_text(status: str, level: str) -> str:
    style = _STYLE[Status(status)]
    if status == Status.FAIL and level != Level.MUST:
        style = "yellow"
    return f"[{style}]{status.upper()}[/]"


def progress_line(result: Result, index: int, total: int) -> str:
    """One line per finished check, printed while the run goes on."""
    width = len(str(total))
    level = result.spec.level.value
    return (
        f"[{index:>{width}}/{total}] {_status_text(result.status, level)} {level:<6} "
        f"{escape(result.spec.id)}  [dim]{escape(result.verdict.summary)}[/]"
    )


def _header(model: dict[str, Any]) -> list[str]:
    endpoint, run = model["endpoint"], model["run"]
    login = endpoint["login"]
    credentials = f"login {login!r}, password ***" if login else "no credentials"
    lines = [
        f"[bold]sms-contract verify[/] {escape(endpoint['url'])}",
        f"  to {endpoint['to']}"
        + (f", long-to {endpoint['longTo']}" if endpoint["longTo"] else "")
        + f"; {escape(credentials)}; at most {run['maxSends']} send(s); run {run['id']}",
    ]
    if run["insecure"]:
        lines.append("  [yellow]--insecure: the certificate is not trusted, checks go on[/]")
    return lines


def render(model: dict[str, Any], console: Console) -> None:
    """The results table, the details of what failed with how to fix it, and the verdict."""
    for line in _header(model):
        console.print(line)
    verdict = model["verdict"]
    if "plan" in model:
        _render_plan(model["plan"], console, model["endpoint"]["login"] is not None)
        console.print(f"\n[bold]{escape(verdict['text'])}[/]")
        return
    table = Table(show_lines=False, header_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("level")
    table.add_column("result")
    table.add_column("summary", overflow="fold")
    for check in model["checks"]:
        table.add_row(
            escape(check["id"]),
            check["level"],
            _status_text(check["status"], check["level"]),
            escape(check["summary"]),
        )
    console.print(table)
    for check in model["checks"]:
        if check["status"] in (Status.FAIL, Status.INFO):
            _render_finding(check, console)
    style = "bold red" if verdict["exitCode"] else "bold green"
    console.print(f"\n[{style}]{escape(verdict['text'])}[/]")
    if not verdict["unreachable"]:
        console.print(f"{model['run']['sends']} of {model['run']['maxSends']} send(s) used")
    console.print(f"[dim]report {model['reportId']}, sha256 {model['sha256']}[/]")


def _render_finding(check: dict[str, Any], console: Console) -> None:
    console.print(
        f"\n{_status_text(check['status'], check['level'])} [bold]{escape(check['id'])}[/] "
        f"({check['level']}): {escape(check['title'])}"
    )
    for line in check_lines(check):
        console.print("  " + escape(line), soft_wrap=True)
    console.print(f"  [bold]how to fix:[/] {escape(check['fix'])}", soft_wrap=True)
    console.print(f"  [dim]more: {check['guide']}[/]")


def _render_plan(plan: list[dict[str, Any]], console: Console, with_login: bool) -> None:
    table = Table(header_style="bold")
    table.add_column("check", no_wrap=True)
    table.add_column("level")
    table.add_column("sends")
    table.add_column("planned requests", overflow="fold")
    for item in plan:
        if item["skipped"]:
            what = f"[dim]skipped: {escape(item['skipped'])}[/]"
        else:
            lines = planned_lines(item, with_login)
            what = escape("\n".join(lines) or "uses requests planned above")
        table.add_row(escape(item["id"]), item["level"], str(item["sends"]), what)
    console.print(table)


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
