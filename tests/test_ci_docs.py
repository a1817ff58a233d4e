"""docs/ci.md says what the image and ``make image-test`` do: its shell steps are the
test's own, its variables and options exist, its YAML parses, its Python passes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from sms_contract.cli import COMMANDS, cli
from sms_contract.cli.healthcheck import healthcheck
from sms_contract.cli.serve import serve

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
SCRIPT = (ROOT / "scripts" / "image-test.sh").read_text(encoding="utf-8")
CONTAINERFILE = (ROOT / "Containerfile").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")
PROXY_GUIDE = (ROOT / "docs" / "proxy.md").read_text(encoding="utf-8")

#: The test script's variables, as the documentation spells them.
SCRIPT_NAMES = {
    "$NAME": "sms-provider",
    "$VOLUME": "sms-data",
    "$IMAGE": "$SMS_PROVIDER_IMAGE",
    "$CA": "sms-ca.pem",
    "$CPORT": "8443",
    "$PORT": "8443",
}


def blocks(language: str, text: str = DOC) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.DOTALL)


def commands(shell: str) -> list[list[str]]:
    """Each command of a shell snippet as words (continuation lines joined)."""
    joined = shell.replace("\\\n", " ")
    words = [shlex.split(line, comments=True) for line in joined.splitlines()]
    return [line for line in words if line]


def as_documented(words: list[str]) -> list[str]:
    """A command of the test script with the documentation's names for its variables."""
    result: list[str] = []
    for word in words:
        if word == "${RUN_OPTS[@]}":
            result += ["-p", "127.0.0.1:8443:8443"]
            continue
        for variable, documented in SCRIPT_NAMES.items():
            word = word.replace(variable, documented)
        result.append(word)
    if result and result[0] in ("engine", "quiet_engine"):
        result[0] = "docker"
    return result


def script_recipes() -> dict[str, list[list[str]]]:
    found = re.findall(r"# recipe: (\S+)\n(.*?)# end recipe", SCRIPT, flags=re.DOTALL)
    return {name: [as_documented(words) for words in commands(body)] for name, body in found}


def doc_recipes() -> dict[str, list[list[str]]]:
    found = re.findall(r"<!-- recipe: (\S+) -->\n```sh\n(.*?)```", DOC, flags=re.DOTALL)
    return {name: commands(body) for name, body in found}


def serve_variables() -> set[str]:
    return {str(param.envvar) for param in serve.params if param.envvar}


def test_the_documented_shell_steps_are_the_ones_make_image_test_runs():
    documented, tested = doc_recipes(), script_recipes()
    assert set(documented) == {"start", "send", "read", "verify"}
    assert documented == tested


def test_the_github_run_step_is_the_tested_start_recipe():
    workflows = [doc for doc in map(yaml.safe_load, blocks("yaml")) if "jobs" in doc]
    steps = [step for doc in workflows for step in doc["jobs"]["test"]["steps"]]
    [start] = [step for step in steps if step.get("name") == "Start the fake SMS provider"]
    assert commands(start["run"]) == script_recipes()["start"]


def test_every_yaml_recipe_parses_and_the_services_use_the_image_health_check():
    documents = [yaml.safe_load(block) for block in blocks("yaml")]
    assert len(documents) == 4
    service = documents[0]["jobs"]["test"]["services"]["sms"]
    assert service["ports"] == ["8443:8443"]
    assert "${{ job.services.sms.id }}:/data/tls/ca.pem" in str(documents[0])
    gitlab = documents[2]["test"]["services"][0]
    assert gitlab["alias"] == "sms-provider"
    compose = documents[3]
    assert compose["services"]["app"]["depends_on"]["sms-provider"] == {
        "condition": "service_healthy"
    }
    assert compose["services"]["sms-provider"]["environment"]["SMS_CONTRACT_TLS_NAMES"] == (
        "sms-provider"
    )


def test_every_sms_contract_variable_in_the_docs_and_the_containerfile_is_a_serve_option():
    named = set(re.findall(r"SMS_CONTRACT_[A-Z_]+", DOC + CONTAINERFILE))
    assert named, "no variable found"
    assert named <= serve_variables(), named - serve_variables()


def test_the_healthcheck_reads_the_variables_the_image_sets_for_serve():
    image_env = set(re.findall(r"(SMS_CONTRACT_[A-Z_]+)=", CONTAINERFILE))
    healthcheck_env = {str(param.envvar) for param in healthcheck.params if param.envvar}
    assert image_env == {"SMS_CONTRACT_HOST", "SMS_CONTRACT_PORT", "SMS_CONTRACT_STATE_DIR"}
    assert image_env <= healthcheck_env


def _run_steps(node: object) -> list[str]:
    """The shell of every ``run:`` and ``script:`` of a parsed YAML recipe."""
    if isinstance(node, dict):
        found = [str(v) for k, v in node.items() if k == "run"]
        found += [str(line) for k, v in node.items() if k == "script" for line in v]
        return found + [run for value in node.values() for run in _run_steps(value)]
    if isinstance(node, list):
        return [run for item in node for run in _run_steps(item)]
    return []


def _prompted(console: str) -> str:
    """The commands typed in a console transcript (``$ `` lines and their continuations)."""
    typed: list[str] = []
    for line in console.splitlines():
        if line.startswith("$ ") or (typed and typed[-1].endswith("\\")):
            typed.append(line.removeprefix("$ "))
    return "\n".join(typed) + "\n"


def _invocations(text: str) -> list[list[str]]:
    """Every ``sms-contract COMMAND ...`` of the docs' shell and YAML, and of the
    commands run from the image (``IMAGE COMMAND ...``)."""
    found = []
    shell = blocks("sh", text) + [_prompted(block) for block in blocks("console", text)]
    shell += [run for block in blocks("yaml", text) for run in _run_steps(yaml.safe_load(block))]
    for block in shell:
        for words in commands(block):
            program = [word for word in words if word.endswith("sms-contract")]
            if program:
                found.append(words[words.index(program[0]) + 1 :])
            elif "$SMS_PROVIDER_IMAGE" in words:
                found.append(words[words.index("$SMS_PROVIDER_IMAGE") + 1 :])
    return [words for words in found if words]


@pytest.mark.parametrize(
    "text", [DOC, README, PROXY_GUIDE], ids=["docs/ci.md", "README.md", "docs/proxy.md"]
)
def test_every_documented_command_and_option_exists(text):
    invocations = _invocations(text)
    assert invocations
    context = click.Context(cli)
    for words in invocations:
        name, *arguments = words
        assert name in COMMANDS, words
        command = cli.get_command(context, name)
        assert command is not None
        known = {opt for param in command.params for opt in getattr(param, "opts", [])}
        for word in arguments:
            if word.startswith("--"):
                assert word.split("=")[0] in known, (name, word)


def test_the_containerfile_runs_serve_as_non_root_on_8443_with_data_in_a_volume():
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm$", CONTAINERFILE, re.M)
    assert re.search(r"^USER 10001:10001$", CONTAINERFILE, re.M)
    assert re.search(r"^EXPOSE 8443$", CONTAINERFILE, re.M)
    assert re.search(r"^VOLUME /data$", CONTAINERFILE, re.M)
    assert 'ENTRYPOINT ["sms-contract"]' in CONTAINERFILE
    assert 'CMD ["serve"]' in CONTAINERFILE
    assert re.search(r"HEALTHCHECK .*\\\n\s+CMD sms-contract healthcheck", CONTAINERFILE)
    for label in ("source", "version", "licenses"):
        assert f"org.opencontainers.image.{label}=" in CONTAINERFILE


def test_the_python_recipe_passes_with_the_fixture(make_sms_provider):
    (example,) = blocks("python")
    namespace: dict = {}
    exec(compile(example, "docs/ci.md", "exec"), namespace)
    namespace["test_the_confirmation_sms_is_sent"](make_sms_provider())


def test_the_readme_links_the_ci_guide_with_the_one_line_run():
    assert "(docs/ci.md)" in README
    assert "docker run --rm -p 127.0.0.1:8443:8443 -v sms-data:/data sms-contract:0.1.0" in README
    assert "docker run --rm -p 127.0.0.1:8443:8443 -v sms-data:/data sms-contract:0.1.0" in DOC
