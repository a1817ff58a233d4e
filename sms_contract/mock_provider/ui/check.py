"""The payload checker (``/check``) and the partner spec (``/spec``)."""

from __future__ import annotations

import json
from typing import Any

import markdown
from flask import render_template, request

from sms_contract import schema as documents
from sms_contract.core.readings import READINGS, Readings
from sms_contract.core.validation import check_body
from sms_contract.exceptions import ReadingError
from sms_contract.mock_provider.state import provider
from sms_contract.mock_provider.ui.blueprint import blueprint
from sms_contract.mock_provider.ui.render import annotate, findings, pretty, text_view

_EXAMPLE = {
    "type": "NOTIFICATION",
    "sender": "INOCX",
    "to": "+33612345678",
    "retId": "ret-42",
    "isUnicode": False,
    "text": "Votre rendez-vous est confirmé pour le 12/03 à 10:00.",
    "credits": 1,
}


@blueprint.route("/check", methods=["GET", "POST"])
def check() -> tuple[str, int] | str:
    """Paste a payload, see every violation and warning and what the text costs,
    under the readings chosen (the server's by default)."""
    config = provider().config
    body = request.form.get("body") if request.method == "POST" else None
    context: dict[str, Any] = {"body": body if body is not None else pretty(_EXAMPLE)}
    try:
        readings = _chosen_readings(config.readings)
    except ReadingError as error:
        context.update(reading_error=str(error), readings=config.readings.to_dict())
        return _page(context), 400
    context["readings"] = readings.to_dict()
    if body is not None:
        if len(body.encode("utf-8")) > config.max_body_bytes:
            context["too_large"] = config.max_body_bytes
        else:
            verdict = check_body(body, readings=readings)
            found = findings(
                [v.to_dict() for v in verdict.violations],
                [w.to_dict() for w in verdict.warnings],
            )
            payload = _object_or_none(body)
            text = payload.get("text") if payload else None
            context.update(
                checked=True,
                valid=verdict.valid,
                found=found,
                annotated=annotate(payload, found) if payload is not None else None,
                text=text_view(text, payload) if isinstance(text, str) and text else None,
            )
    return _page(context)


def _chosen_readings(server: Readings) -> Readings:
    """The server's readings, with those the form chose (``reading-<name>`` fields)."""
    chosen = {
        reading.name: request.form[f"reading-{reading.name}"]
        for reading in READINGS
        if request.form.get(f"reading-{reading.name}")
    }
    return Readings.from_mapping(chosen, server)


def _page(context: dict[str, Any]) -> str:
    return render_template("check.html", active="check", catalogue=READINGS, **context)


def _object_or_none(body: str) -> dict[str, Any] | None:
    try:
        document = json.loads(body)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


@blueprint.get("/spec")
def spec() -> str:
    """The partner spec (``SPEC.md``) as HTML; raw HTML in the file is escaped."""
    source = documents.path(documents.SPEC_FILE)
    html = None
    if source.is_file():
        html = _markdown_html(source.read_text(encoding="utf-8"))
    return render_template("spec.html", active="spec", html=html, name=documents.SPEC_FILE)


def _markdown_html(text: str) -> str:
    converter = markdown.Markdown(extensions=["tables", "fenced_code", "toc"])
    # The spec is a shipped file, but raw HTML in it is shown as text anyway.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter.convert(text)
