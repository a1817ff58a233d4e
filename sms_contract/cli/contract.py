"""``count``, ``schema`` and ``validate``: the contract from the command line."""

from __future__ import annotations

import json
import sys

import click

from sms_contract import schema as documents
from sms_contract.cli._common import check_unicode, decode_text, fail, read_source
from sms_contract.core.encoding import GSM7_PART, UCS2_PART, Analysis, analyze
from sms_contract.core.validation import BodyError, CheckResult, check_document, parse_object
from sms_contract.exit_codes import EXIT_INVALID, EXIT_OK


@click.command()
@click.argument("text")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
def count(text: str, as_json: bool) -> None:
    """Show what TEXT costs as SMS: encoding, units, credits, parts and the
    characters that force UCS-2.

    TEXT is the message itself, or - to read it from standard input (one
    trailing newline is dropped, as the shell does).

    \b
    Examples:
      sms-contract count 'Votre RDV est confirmé'
      sms-contract count --json 'Prix: 10€ 😀'
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
        click.echo(json.dumps(analysis.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(describe_analysis(analysis))


def describe_analysis(analysis: Analysis) -> str:
    """The table ``sms-contract count`` prints for ``analysis``."""
    unit = "septets" if analysis.encoding == "GSM-7" else "UTF-16 units"
    part_size = GSM7_PART if analysis.encoding == "GSM-7" else UCS2_PART
    lines = [
        f"encoding   {analysis.encoding} (isUnicode: {str(analysis.is_unicode).lower()})",
        f"length     {len(analysis.text)} characters, {analysis.units} {unit}",
        f"credits    {analysis.credits}"
        + (f" (concatenated parts of up to {part_size} {unit})" if analysis.credits > 1 else ""),
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


@click.command()
@click.option("--openapi", "which", flag_value="openapi", help="Print the provider OpenAPI.")
@click.option("--spec", "which", flag_value="spec", help="Print the partner specification.")
@click.option("--path", "show_path", is_flag=True, help="Print the file's path instead.")
def schema(which: str | None, show_path: bool) -> None:
    """Print the shipped payload JSON Schema (default), the provider OpenAPI
    (--openapi) or the partner specification (--spec)."""
    name = {
        "openapi": documents.OPENAPI_FILE,
        "spec": documents.SPEC_FILE,
    }.get(which or "", documents.SCHEMA_FILE)
    if show_path:
        click.echo(str(documents.path(name)))
    else:
        click.echo(documents.read_text(name), nl=False)


@click.command()
@click.argument("source", metavar="FILE|-")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as JSON.")
@click.option(
    "--strict-fields", is_flag=True, help="Treat unknown fields as violations, not warnings."
)
def validate(source: str, as_json: bool, strict_fields: bool) -> None:
    """Check a payload file (or - for standard input) against the contract.

    Lists every violation (JSON pointer, rule, message), including the
    consistency of isUnicode and credits with the text, then the warnings.
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
    result = check_document(document, strict_fields=strict_fields)
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
