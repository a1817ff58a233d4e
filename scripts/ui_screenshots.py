"""Screenshots of the web UI for the docs, taken in headless Chromium.

    python scripts/ui_screenshots.py [FOLDER]

Serves the fake provider on a throw-away inbox, sends a few example SMS and
saves ``inbox.png``, ``detail.png``, ``checker.png`` and ``faults.png`` in
FOLDER (``docs/screenshots`` by default). Needs the ``dev`` extra
(Playwright) and a system Chromium; Playwright never downloads a browser here.
The browser tests use ``launch`` too.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

#: Debian's chromium; ``CHROMIUM`` in the environment is not consulted on purpose:
#: one well-known binary keeps the tests and the screenshots the same.
CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 800}


def chromium_path() -> str | None:
    """The Chromium binary to drive, or ``None`` when none is installed."""
    if Path(CHROMIUM_PATH).is_file():
        return CHROMIUM_PATH
    return shutil.which("chromium")


def launch(playwright: Any) -> Any:
    """A headless Chromium browser (the system one) for ``playwright``."""
    executable = chromium_path()
    if executable is None:
        raise RuntimeError("no chromium found; install it with: make browser")
    return playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))


def _examples() -> list[tuple[str, str, dict[str, Any]]]:
    """(name, namespace, body) of the demo sends, oldest first."""
    from sms_contract import build_payload

    def sms(to: str, text: str, **options: Any) -> dict[str, Any]:
        return build_payload(to, text, **options).to_json_dict()

    promo = "Soldes d’été : -30 % sur toute la boutique jusqu’à dimanche ! " * 2 + "STOP au 36180"
    counted_as_gsm = sms("+33612345679", promo, type="MARKETING", sender="INOCX")
    counted_as_gsm.update(isUnicode=False, credits=1)
    return [
        (
            "order",
            "shop",
            sms("+33612345678", "Votre commande n°1042 est en route.", sender="INOCX"),
        ),
        ("promo", "shop", counted_as_gsm),
        ("invoice", "billing", sms("+33612345670", "Votre facture de 42,00 € est disponible.")),
        ("local", "billing", {"type": "NOTIFICATION", "to": "0612345678", "text": "Bonjour"}),
        ("visit", "default", sms("+447700900123", "Your appointment is confirmed for 12/03.")),
        (
            "emoji",
            "default",
            sms("+33699887766", "Ça marche, à demain — Cabinet Martin", sender="Cabinet Martin"),
        ),
    ]


def take(folder: Path, browser: Any = None) -> list[Path]:
    """Serve a demo inbox and save the screenshots in ``folder``; return the files.

    ``browser`` is a Playwright browser to use (one is launched when ``None``).
    """
    from sms_contract.mock_provider.testing import LiveProvider, provider_config

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as state:
        server = LiveProvider(provider_config(Path(state)))
        try:
            ids = {}
            for name, namespace, body in _examples():
                ids[name] = server.view(namespace).send(body).json()["id"]
            shop = server.view("shop")
            shop.add_fault(status=503, times=2, retryAfter=1, toPrefix="+3361")
            shop.add_fault(rateLimit={"limit": 10, "window": 60, "per": "namespace"})
            if browser is not None:
                return _shoot(browser, server.base_url, ids, folder)
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                own = launch(playwright)
                try:
                    return _shoot(own, server.base_url, ids, folder)
                finally:
                    own.close()
        finally:
            server.stop()


def _shoot(browser: Any, base_url: str, ids: dict[str, int], folder: Path) -> list[Path]:
    saved: list[Path] = []
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    page = context.new_page()

    def shot(name: str, *, full_page: bool = False) -> None:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        saved.append(path)

    try:
        page.goto(base_url + "/")
        page.wait_for_selector("#live-status[data-state=live]")
        shot("inbox")
        page.goto(f"{base_url}/messages/{ids['promo']}")
        shot("detail", full_page=True)
        page.goto(base_url + "/check")
        page.fill("#body", _checker_example())
        page.click("#check-button")
        page.wait_for_selector("#verdict")
        shot("checker", full_page=True)
        page.goto(base_url + "/faults")
        shot("faults")
    finally:
        context.close()
    return saved


def _checker_example() -> str:
    return (
        "{\n"
        '  "type": "NOTIFICATION",\n'
        '  "sender": "",\n'
        '  "to": "+33 6 12 34 56 78",\n'
        '  "retId": "order-1042",\n'
        '  "isUnicode": false,\n'
        '  "text": "Votre colis arrive demain, c’est noté.",\n'
        '  "credits": 1,\n'
        '  "priority": "high"\n'
        "}"
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m``."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs/screenshots")
    for path in take(folder):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
