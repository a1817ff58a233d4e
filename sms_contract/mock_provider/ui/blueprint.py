"""The web UI's blueprint; each page module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint
from flask.blueprints import BlueprintSetupState

from sms_contract.mock_provider.ui.render import reveal_bidi

blueprint = Blueprint("ui", __name__, template_folder="templates")


@blueprint.record_once
def _show_bidi_controls(setup: BlueprintSetupState) -> None:
    """Every value a page prints shows its bidi controls (``render.reveal_bidi``)."""
    setup.app.jinja_env.finalize = reveal_bidi
