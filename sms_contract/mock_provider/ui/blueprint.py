"""The web UI's blueprint; each page module adds its routes to it."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("ui", __name__, template_folder="templates")
