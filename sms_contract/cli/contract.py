"""``count``, ``schema``, ``validate`` and ``readings``: the contract from the command line."""

from __future__ import annotations

import json
import sys

import click

from sms_contract import schema as documents
from sms_contract.cli._common import (
    check_unicode,
    decode_text,
    fail,
    read_source,
    reading_option,
)
from sms_contract.core.encoding import Analysis, analyze
from sms_contract.core.readings import READINGS, CreditsReading, Readings, accepted_credits
from sms_contract.core.validation import BodyError, CheckResult, check_document, parse_object
from sms_contract.exit_codes import EXIT_INVALID, EXIT_OK


@click.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@reading_option
def count(text: str, as_json: bool, readings: Readings) -> None:
    """Show what TEXT costs as SMS: encoding, units, credits, parts and the
    characters that force UCS-2.

    TEXT is the message itself, or - to read it from standard input (one
    trailing newline is dropped, as the shell does). Credits follow the
    reading credits (--reading credits=simple); the other readings do not
    change what a text costs.

    \b
    Examples:
      sms-contract count 'Votre RDV est confirmé'
      sms-contract count --json 'Prix: 10€ 😀'
      sms-contract count --reading credits=simple "$(cat message.txt)"
      cat message.txt | sms-contract count -
    """
    if text == "-":
        text = decode_text(sys.stdin.buffer.read(), "standard input")
        text = text[:-1] if text.endswith("\n") else text
    check_unicode(text, "the text")
    if not text:
        fail("the text is empty; an SMS needs at least one character")
    analysis = analyze(text)
    if as_json:
        document = {
            **analysis.to_dict(),
            "credits": accepted_credits(analysis, readings.credits)[0],
            "acceptedCredits": list(accepted_credits(analysis, readings.credits)),
            "readings": {"credits": readings.credits},
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        click.echo(describe_analysis(analysis, readings.credits))


def describe_analysis(analysis: Analysis, credits: CreditsReading = "concatenated") -> str:
    """The table ``sms-contract count`` prints for ``analysis``, its credits
    counted as the ``credits`` reading says."""
    unit = analysis.unit_name
    lines = [
        f"encoding   {analysis.encoding} (isUnicode: {str(analysis.is_unicode).lower()})",
        f"length     {len(analysis.text)} characters, {analysis.units} {unit}",
        f"credits    {_credits_line(analysis, credits)}",
    ]
    if analysis.credits > 1:
        for number, (start, end) in enumerate(analysis.parts, 1):
            lines.append(f"  part {number:<3} characters {start}-{end - 1}")
    if analysis.offending:
        shown = ", ".join(f"{o.char!r} {o.codepoint} at {o.index}" for o in analysis.offending[:20])
        more = len(analysis.offending) - 20
        lines.append(f"offending  {shown}" + (f" and {more} more" if more > 0 else ""))
    else:
        lines.append("offending  none: every character is in the GSM 03.38 alphabet")
    return "\n".join(lines)


def _credits_line(analysis: Analysis, credits: CreditsReading) -> str:
    parts = f"concatenated parts of up to {analysis.part_capacity} {analysis.unit_name}"
    simple = f"the simple reading, units / {analysis.single_capacity} rounded up"
    if analysis.credits == analysis.simple_credits:
        return f"{analysis.credits}" + (f" ({parts})" if analysis.credits > 1 else "")
    if credits == "simple":
        return f"{analysis.simple_credits} ({simple}; sent as {analysis.credits} {parts})"
    if credits == "either":
        return f"{analysis.credits} ({parts}) or {analysis.simple_credits} ({simple})"
    return f"{analysis.credits} ({parts})"


@click.command()
@click.option("--openapi", "which", flag_value="openapi", help="Print the provider OpenAPI.")
@click.option("--spec", "which", flag_value="spec", help="Print the partner specification.")
@click.option(
    "--report",
    "which",
    flag_value="report",
    help="Print the JSON Schema of the reports of verify --json.",
)
@click.option("--path", "show_path", is_flag=True, help="Print the file's path instead.")
def schema(which: str | None, show_path: bool) -> None:
    """Print the shipped payload JSON Schema (default), the provider OpenAPI
    (--openapi), the partner specification (--spec) or the JSON Schema of
    verify's reports (--report).

    \b
    Examples:
      sms-contract schema --report > verify-report.schema.json
      sms-contract schema --report --path
    """
    name = {
        "openapi": documents.OPENAPI_FILE,
        "spec": documents.SPEC_FILE,
        "report": documents.REPORT_SCHEMA_FILE,
    }.get(which or "", documents.SCHEMA_FILE)
    if show_path:
        click.echo(str(documents.path(name)))
    else:
        click.echo(documents.read_text(name), nl=False)


@click.command()
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option("--strict-fields", is_flag=True, help="The same as --reading unknown-fields=reject.")
@reading_option
def validate(source: str, as_json: bool, strict_fields: bool, readings: Readings) -> None:
    """Check a payload file (or - for standard input) against the contract.

    Lists every violation (JSON pointer, rule, message), including the
    consistency of isUnicode and credits with the text, then the warnings.
    The points the platform's documentation leaves open are judged under the
    readings in force (`sms-contract readings`; --reading NAME=VALUE).
    Exits 0 when the payload is valid, 1 when it is not, 2 when the input
    cannot be read as a JSON object (missing file, not UTF-8, not JSON...).
    """
    raw = read_source(source)
    try:
        document = parse_object(raw)
    except BodyError as error:
        if as_json:
            click.echo(json.dumps(CheckResult([error.violation]).to_dict(), indent=2))
        what = "standard input" if source == "-" else source
        where = f" at {error.violation.pointer}" if error.violation.pointer else ""
        fail(f"{what} cannot be read as a payload ({error.violation.code}{where}): {error}")
    result = check_document(document, readings=readings, strict_fields=strict_fields or None)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        _print_verdict(result)
    sys.exit(EXIT_OK if result.valid else EXIT_INVALID)


def _print_verdict(result: CheckResult) -> None:
    for violation in result.violations:
        click.echo(f"violation  {violation.pointer or '/'}  {violation.code}: {violation.message}")
    for warning in result.warnings:
        click.echo(f"warning    {warning.pointer or '/'}  {warning.code}: {warning.message}")
    if result.valid:
        click.echo(f"valid ({len(result.warnings)} warning(s))")
    else:
        click.echo(f"invalid: {len(result.violations)} violation(s)")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the readings as JSON.")
@reading_option
def readings(as_json: bool, readings: Readings) -> None:
    """List the readings: each point the platform's documentation leaves open,
    its values, its default, its strict value, why, and the value in force.

    The default refuses only what a provider would deliver or bill wrongly and
    warns about the rest. Every command that judges or builds payloads takes
    --reading NAME=VALUE (repeatable) or SMS_CONTRACT_READINGS="NAME=VALUE ...".
    """
    in_force = readings.to_dict()
    if as_json:
        listed = [{**r.to_dict(), "inForce": in_force[r.name]} for r in READINGS]
        click.echo(json.dumps({"readings": listed}, ensure_ascii=False, indent=2))
        return
    for reading in READINGS:
        click.echo(f"{reading.name}={in_force[reading.name]}")
        click.echo(f"  why: {reading.why}")
        for value in reading.values:
            marks = [
                mark
                for mark, name in (("default", reading.default), ("strict", reading.strict))
                if name == value.name
            ]
            shown = f"{value.name} ({', '.join(marks)})" if marks else value.name
            click.echo(f"  {shown:<31} {value.meaning}")
        click.echo(f"  example: {reading.example_text}")
