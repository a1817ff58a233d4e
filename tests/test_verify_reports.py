"""The reports of ``verify``: one model, so every format carries the same checks and verdict;
a versioned JSON Schema; a digest anyone can recompute; HTML and Markdown that show
whatever the endpoint said as text."""

from __future__ import annotations

import copy
import json
import re
import shutil
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from helpers.reports import check_report, read_report, statuses
from helpers.scripted_server import Reply
from helpers.verify_cli import CREDENTIALS, ENV, TO, run_verify
from jsonschema import Draft202012Validator
from markdown_it import MarkdownIt
from verify_servers import provider_fixture, tls_files_fixture  # noqa: F401 - fixtures

from sms_contract import __version__
from sms_contract.cli import cli
from sms_contract.contract_tests.catalogue import BY_ID, CATALOGUE
from sms_contract.contract_tests.checks import Status, Verdict
from sms_contract.contract_tests.evidence import Exchange, Redactor
from sms_contract.contract_tests.reports.html import render_html
from sms_contract.contract_tests.reports.markdown import render_markdown
from sms_contract.contract_tests.reports.model import build, canonical_json, digest
from sms_contract.contract_tests.runner import Options, Report, Result
from sms_contract.schema import load_report_schema, report_schema_version, schema_version

GUIDE = Path(__file__).resolve().parents[1] / "docs" / "verify.md"
FORMATS = ("json", "junit", "html", "markdown")
#: Text an endpoint could answer, meant to break out of a report's markup.
HOSTILE = (
    '</pre></td><script>alert(1)</script><img src=x onerror="alert(2)"> & &amp; '
    "| `tick` *em* [link](javascript:alert(3)) ![i](https://x.example/i.png) $x$ @all"
)


# -- reading each format back ------------------------------------------------------------


class _Page(HTMLParser):
    """Every tag with its attributes, the text, and the checks an HTML report lists."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)

    def elements(self, tag: str, css: str | None = None) -> list[dict[str, str | None]]:
        """The attributes of every ``tag`` (with class ``css``)."""
        return [
            attrs
            for name, attrs in self.tags
            if name == tag and (css is None or css in (attrs.get("class") or "").split())
        ]


def _page(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    page.close()
    return page


def _unescape_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


_MD_RESULTS = {"✅ PASS": "pass", "ℹ️ INFO": "info", "⏭️ SKIP": "skip"}


def _from_markdown(text: str) -> tuple[dict[str, str], str]:
    rows = re.findall(r"^\| `([a-z0-9.-]+)` \| (?:MUST|SHOULD|INFO) \| ([^|]+) \|", text, re.M)
    found = {
        check_id: "fail" if "FAIL" in result else _MD_RESULTS[result.strip()]
        for check_id, result in rows
    }
    heading = text.splitlines()[0]
    return found, _unescape_md(heading.split(": ", 1)[1])


def _from_junit(path: Path) -> tuple[dict[str, str], str, dict[str, str]]:
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    found = {
        str(case.get("name")): str(case.find("properties/property[@name='status']").get("value"))  # type: ignore[union-attr]
        for case in suite.iter("testcase")
    }
    properties = {
        str(p.get("name")): str(p.get("value")) for p in suite.findall("properties/property")
    }
    return found, properties["verdict"], properties


def _from_terminal(stdout: str) -> dict[str, str]:
    rows = [line.split("│")[1:-1] for line in stdout.splitlines() if line.startswith("│")]
    return {
        cells[0].strip(): cells[2].strip().lower() for cells in rows if cells[0].strip() in BY_ID
    }


def _run_all_formats(tmp_path: Path, *args: str) -> tuple[Any, dict[str, Path]]:
    paths = {kind: tmp_path / f"report.{kind}" for kind in FORMATS}
    options = [item for kind, path in paths.items() for item in (f"--{kind}", str(path))]
    return run_verify(*args, *options, env=ENV), paths


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"https://127.0.0.1:{sock.getsockname()[1]}/sms"


# -- one model: every format carries the same checks and verdict ----------------------------


@pytest.mark.parametrize("defect", [None, "no-auth", "strict-fields", "unreachable"])
def test_every_format_carries_the_same_checks_statuses_verdict_and_digest(
    provider, tmp_path, defect
):
    if defect == "unreachable":
        args: tuple[str, ...] = (_closed_port_url(), "--to", TO)
    else:
        served = provider(defect)
        args = (served.url, "--to", TO, *CREDENTIALS, "--cacert", str(served.ca))
    result, paths = _run_all_formats(tmp_path, *args, "--timeout", "5")
    model = read_report(paths["json"])
    expected = statuses(model)
    verdict = model["verdict"]["text"]
    assert list(expected) == [spec.id for spec in CATALOGUE]
    assert len(set(expected.values())) > 1 or defect == "unreachable"

    junit, junit_verdict, properties = _from_junit(paths["junit"])
    assert (junit, junit_verdict) == (expected, verdict)
    assert (properties["reportId"], properties["sha256"]) == (model["reportId"], model["sha256"])

    html = paths["html"].read_text(encoding="utf-8")
    page = _page(html)
    articles = page.elements("article", "check")
    assert {a["data-check"]: a["data-status"] for a in articles} == expected
    [shown] = page.elements("p", "verdict")
    assert shown["data-outcome"] == model["verdict"]["outcome"]
    assert verdict in page.text and model["reportId"] in html and model["sha256"] in html

    markdown = paths["markdown"].read_text(encoding="utf-8")
    assert _from_markdown(markdown) == (expected, verdict)
    assert model["reportId"] in markdown and model["sha256"] in markdown

    assert _from_terminal(result.stdout) == expected
    assert verdict in result.stdout and model["sha256"] in result.stdout
    assert result.exit_code == model["verdict"]["exitCode"]


def test_a_failed_check_shows_the_catalogues_fix_in_the_terminal_html_and_markdown(
    provider, tmp_path
):
    served = provider("no-auth")
    args = (served.url, "--to", TO, *CREDENTIALS, "--cacert", str(served.ca))
    result, paths = _run_all_formats(tmp_path, *args)
    fix = BY_ID["auth.required"].fix
    assert fix in result.stdout
    assert fix in paths["markdown"].read_text(encoding="utf-8")
    page = _page(paths["html"].read_text(encoding="utf-8"))
    assert " ".join(fix.replace("`", "").split()) in " ".join("".join(page.text).split())


# -- the JSON report: a versioned schema, shipped and printed --------------------------------


def _sms_contract(*args: str) -> str:
    """The output of ``sms-contract ARGS``, which must succeed."""
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_schema_report_prints_the_shipped_report_schema_and_its_path():
    printed = _sms_contract("schema", "--report")
    schema = json.loads(printed)
    assert schema["version"] == report_schema_version()
    assert schema["$id"].endswith(f"/{schema['version']}/verify-report.schema.json")
    Draft202012Validator.check_schema(schema)
    path = Path(_sms_contract("schema", "--report", "--path").strip())
    assert path.read_text(encoding="utf-8") == printed


def test_a_dry_run_report_follows_the_schema_and_lists_the_plan(tmp_path):
    path = tmp_path / "r.json"
    args = ("https://sms.example.com/sms", "--to", TO, "--dry-run", "--json", str(path))
    assert run_verify(*args).exit_code == 0
    model = read_report(path)
    assert model["verdict"]["outcome"] == "dry-run"
    assert model["run"]["sends"] == 0 and model["run"]["dryRun"] is True
    assert [item["id"] for item in model["plan"]] == [spec.id for spec in CATALOGUE]


def test_the_report_schema_refuses_what_strays_from_it(provider, tmp_path):
    served = provider()
    path = tmp_path / "r.json"
    run_verify(served.url, "--to", TO, "--cacert", str(served.ca), "--json", str(path))
    model = read_report(path)
    validator = Draft202012Validator(load_report_schema())
    edits = {
        "an unknown member": lambda m: m.update(extra=1),
        "a fractional number": lambda m: m["checks"][0].update(elapsedMs=1.5),
        "an unknown status": lambda m: m["checks"][0].update(status="maybe"),
        "a check without its fix": lambda m: m["checks"][0].pop("fix"),
        "another report version": lambda m: m.update(reportVersion="0.9.0"),
        "a digest that is not hex": lambda m: m.update(sha256="x" * 64),
    }
    for name, edit in edits.items():
        edited = copy.deepcopy(model)
        edit(edited)
        assert not validator.is_valid(edited), name


def test_the_report_carries_the_versions_and_the_readings_in_force():
    options = Options("https://sms.example.com/sms", TO, readings={"sender": "null-is-absent"})
    model = check_report(build(_report(options, []), Redactor()))
    assert model["contract"] == {
        "schemaVersion": schema_version(),
        "readings": {"sender": "null-is-absent"},
    }
    assert model["tool"]["name"] == "sms-contract verify"
    assert "sender: null-is-absent" in render_html(model)
    assert "sender: null-is-absent" in render_markdown(model)


def test_every_report_gets_its_own_report_id():
    report = _report(Options("https://sms.example.com/sms", TO), [])
    ids = {build(report, Redactor())["reportId"] for _ in range(3)}
    assert len(ids) == 3


# -- the digest -----------------------------------------------------------------------------


def test_the_digest_is_over_the_canonical_json_and_any_edit_changes_it():
    model = build(
        _report(Options("https://sms.example.com/sms", TO), _hostile_results()), Redactor()
    )
    assert digest(model) == model["sha256"]
    reindented = json.loads(json.dumps(model, indent=4))
    assert digest(reindented) == model["sha256"]
    assert canonical_json(model) == canonical_json({**model, "sha256": "anything"})
    edited = copy.deepcopy(model)
    edited["checks"][0]["status"] = "pass" if edited["checks"][0]["status"] != "pass" else "fail"
    assert digest(edited) != model["sha256"]


def _guide_block(language: str) -> str:
    text = GUIDE.read_text(encoding="utf-8")
    section = text.split("### The report's SHA-256")[1].split("\n### ")[0]
    [block] = re.findall(rf"```{language}\n(.*?)```", section, re.S)
    return block


def _edited_copy(path: Path, tmp_path: Path) -> Path:
    model = json.loads(path.read_text(encoding="utf-8"))
    model["verdict"]["text"] = "PASS: edited by hand"
    edited = tmp_path / "edited.json"
    edited.write_text(json.dumps(model, indent=2, ensure_ascii=False), encoding="utf-8")
    return edited


@pytest.fixture
def hostile_report(tmp_path: Path) -> Path:
    """A JSON report whose texts hold non-ASCII, control and markup characters."""
    model = build(
        _report(Options("https://sms.example.com/sms", TO), _hostile_results()), Redactor()
    )
    path = tmp_path / "verify.json"
    path.write_text(json.dumps(model, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def test_the_guides_python_recipe_recomputes_the_digest(hostile_report, tmp_path):
    script = tmp_path / "check_report.py"
    script.write_text(_guide_block("python"), encoding="utf-8")
    for path, expected in (
        (hostile_report, "True"),
        (_edited_copy(hostile_report, tmp_path), "False"),
    ):
        run = subprocess.run(
            [sys.executable, str(script), str(path)], capture_output=True, text=True, check=True
        )
        assert run.stdout.strip() == expected


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq is not installed")
def test_the_guides_jq_recipe_recomputes_the_digest(hostile_report, tmp_path):
    script = _guide_block("sh")
    for path, intact in ((hostile_report, True), (_edited_copy(hostile_report, tmp_path), False)):
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script.replace("verify.json", str(path))],
            capture_output=True,
            text=True,
            check=True,
        )
        computed, claimed = run.stdout.split()
        assert (computed == claimed) is intact


def test_a_report_holds_no_fractional_number_nor_a_character_json_writers_disagree_on():
    model = build(
        _report(Options("https://sms.example.com/\udcff", TO), _hostile_results()), Redactor()
    )

    def walk(value: Any) -> None:
        assert not isinstance(value, float)
        if isinstance(value, str):
            assert "\x7f" not in value and not re.search("[\ud800-\udfff]", value)
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(model)
    assert "\N{REPLACEMENT CHARACTER}" in model["endpoint"]["url"]


# -- HTML and Markdown show the endpoint's text as text -------------------------------------

_HTML_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "h1", "h2",
    "h3", "h4", "p", "dl", "dt", "dd", "table", "tr", "th", "td", "code", "a", "span",
    "article", "ul", "li", "pre",
}  # fmt: skip
_HTML_ATTRIBUTES = {
    "lang", "charset", "http-equiv", "content", "name", "class", "id", "href",
    "data-check", "data-status", "data-level", "data-outcome",
}  # fmt: skip


def _assert_inert(html: str) -> _Page:
    page = _page(html)
    assert {tag for tag, _ in page.tags} <= _HTML_TAGS
    for _tag, attrs in page.tags:
        assert set(attrs) <= _HTML_ATTRIBUTES, attrs
        assert (attrs.get("href") or "#").startswith("#")
    [policy] = [a for t, a in page.tags if t == "meta" and a.get("http-equiv")]
    assert policy["content"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert len(page.elements("style")) == 1 and "@media print" in "".join(page.styles)
    return page


def test_the_html_report_escapes_everything_from_the_endpoint():
    options = Options(f"https://sms.example.com/{HOSTILE}", TO, login=HOSTILE)
    report = _report(options, _hostile_results())
    report.unreachable = HOSTILE
    page = _assert_inert(render_html(build(report, Redactor())))
    text = "".join(page.text)
    assert text.count(HOSTILE) >= 8  # summary, details, facts, evidence, url, login...


def test_a_hostile_endpoints_answers_show_as_text_in_a_self_contained_html_report(
    scripted_server, tmp_path
):
    hostile = Reply(200, body=HOSTILE, headers={"Content-Type": "text/html", "Location": HOSTILE})
    server = scripted_server(tls=False, default=hostile)
    html_path = tmp_path / "r.html"
    args = (server.url, "--to", TO, "--allow-http", "--only", "payload.notification")
    assert run_verify(*args, "--html", str(html_path)).exit_code == 0
    html = html_path.read_text(encoding="utf-8")
    page = _assert_inert(html)
    assert HOSTILE in "".join(page.text)
    assert not re.search(r"https?://", "".join(page.styles))  # nothing loaded from anywhere


def test_the_html_report_has_what_the_issue_asks_for(provider, tmp_path):
    served = provider("no-auth")
    html_path = tmp_path / "r.html"
    args = (served.url, "--to", TO, *CREDENTIALS, "--cacert", str(served.ca))
    run_verify(*args, "--html", str(html_path), env=ENV)
    page = _page(html_path.read_text(encoding="utf-8"))
    text = " ".join("".join(page.text).split())
    for label in ("Endpoint", "Date", "Tool", "Schema version", "Readings in force", "SHA-256"):
        assert label in text
    assert served.url in text and f"sms-contract verify {__version__}" in text
    assert "integrity check, not a signature" in text
    failed = next(
        a for a in page.elements("article", "check") if a["data-check"] == "auth.required"
    )
    assert (failed["data-level"], failed["data-status"]) == ("MUST", "fail")
    assert "How to fix" in text and "Evidence" in text


def test_the_markdown_report_shows_hostile_text_as_text_in_a_commonmark_renderer():
    report = _report(Options(f"https://sms.example.com/{HOSTILE}", TO), _hostile_results())
    markdown = render_markdown(build(report, Redactor()))
    rendered = MarkdownIt("commonmark").enable("table").render(markdown)
    page = _page(rendered)
    allowed = {"h2", "h3", "h4", "p", "table", "thead", "tbody", "tr", "th", "td", "code"}
    assert {tag for tag, _ in page.tags} <= allowed | {"ul", "li", "strong", "hr"}
    rows = page.elements("tr")
    assert len(rows) == (1 + 8) + (1 + 3) + (1 + len(report.results))  # about, counts, checks
    assert HOSTILE in " ".join("".join(page.text).split())


# -- building models from crafted results ---------------------------------------------------


def _report(options: Options, results: list[Result]) -> Report:
    now = datetime.now(UTC)
    return Report(options, "run1", now, now, results=results)


def _hostile_model(url: str = "https://sms.example.com/sms") -> dict[str, Any]:
    return build(_report(Options(url, TO), _hostile_results()), Redactor())


def _hostile_results() -> list[Result]:
    """A failed, an INFO and a passed check whose every text is ``HOSTILE``."""
    exchange = Exchange(
        HOSTILE,
        "POST",
        "https://sms.example.com/sms",
        "no credentials",
        body=HOSTILE + "\x7f é 😀",
        status=500,
        reason=HOSTILE,
        elapsed=0.1234,
        headers={"content-type": HOSTILE},
        answer=HOSTILE,
    )
    verdict = Verdict(
        Status.FAIL, HOSTILE, details=[HOSTILE], facts={HOSTILE: HOSTILE}, exchanges=[exchange]
    )
    return [
        Result(BY_ID["validation.no-5xx"], verdict, 0.5),
        Result(BY_ID["tls.expiry"], Verdict(Status.INFO, HOSTILE, details=[HOSTILE]), 0.01),
        Result(BY_ID["payload.notification"], Verdict(Status.PASS, HOSTILE), 0.02),
    ]
