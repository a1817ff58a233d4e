"""The benchmark's baseline: one Flask route, no validation, no storage, served by
gunicorn with exactly the settings of ``sms-contract serve``.

    python -m bench.bare_flask PORT [CERT KEY]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify
from gunicorn.app.base import BaseApplication

from sms_contract.mock_provider.server import ServeOptions, gunicorn_settings
from sms_contract.mock_provider.tls import TlsFiles


def create_bare_app() -> Flask:
    """A Flask app that answers every POST /sms with a fixed accepted answer."""
    app = Flask(__name__)

    @app.post("/sms")
    def send() -> Response:
        return jsonify(id=1, retId="bench", status="accepted", credits=1)

    return app


class BareServer(BaseApplication):  # type: ignore[misc]
    """gunicorn serving the bare app with ``serve``'s settings."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        settings: dict[str, Any] = gunicorn_settings(self.options)
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return create_bare_app()


def main(argv: list[str]) -> None:
    """Serve on ``PORT``: HTTPS with the certificate ``CERT`` and key ``KEY``, else HTTP."""
    port, *files = argv
    tls = TlsFiles(Path(files[0]), Path(files[0]), Path(files[1])) if files else None
    BareServer(ServeOptions(port=int(port), tls=tls)).run()


if __name__ == "__main__":
    main(sys.argv[1:])
