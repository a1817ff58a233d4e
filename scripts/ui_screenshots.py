"""Screenshots of the web UI for the docs, taken in headless Chromium.

    python scripts/ui_screenshots.py [FOLDER]

Serves the fake provider on a throw-away inbox, sends a few example SMS and
saves ``inbox.png``, ``detail.png``, ``checker.png`` and ``faults.png`` in
FOLDER (``docs/screenshots`` by default); then runs the verify page against a
second fake provider (HTTPS, credentials, a fault rule that answers 500 to
an emoji) and saves ``verify.png``, ``verify-run.png`` and ``verify-report.png``.
Needs the ``dev`` extra (Playwright) and a system Chromium; Playwright never
downloads a browser here. The browser tests use ``launch``, ``verify_target``
and ``fill_verify_form`` too.
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


# -- the verify page ---------------------------------------------------------------------

#: The credentials of the endpoint the verify screenshots check.
VERIFY_LOGIN, VERIFY_PASSWORD = "partner", "demo-Pa55word"
VERIFY_TO = "+33612345678"


def verify_target(folder: Path) -> Any:
    """The fake provider as an endpoint to check: HTTPS with its local CA (``ca_bundle``)
    and strict credentials (``VERIFY_LOGIN``, ``VERIFY_PASSWORD``); like verify's built-in
    provider it takes ``credits=either``, so it passes every check. Stop it after use."""
    from sms_contract.mock_provider.testing import LiveProvider, provider_config

    config = provider_config(
        folder,
        auth="strict",
        credentials=((VERIFY_LOGIN, VERIFY_PASSWORD),),
        readings="credits=either",
    )
    return LiveProvider(config, tls_dir=folder / "tls")


def fill_verify_form(page: Any, url: str, ca_bundle: str | None, **fields: str) -> None:
    """Fill the verify form: ``url``, the demo number and credentials, the CA's PEM text,
    then any other field by its name (``only="payload"``)."""
    values = {"to": VERIFY_TO, "login": VERIFY_LOGIN, "password": VERIFY_PASSWORD, **fields}
    page.fill("#url", url)
    for name, value in values.items():
        page.fill(f"[name={name}]", value)
    if ca_bundle is not None:
        page.fill("#cacert", Path(ca_bundle).read_text(encoding="utf-8"))


def take_verify(folder: Path, browser: Any = None) -> list[Path]:
    """Run the verify page against a fake provider and save its screenshots in ``folder``."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as state:
        from sms_contract.mock_provider.testing import LiveProvider, provider_config

        page_server = LiveProvider(provider_config(Path(state) / "page"))
        target = verify_target(Path(state) / "target")
        try:
            partner = target.view("partner")
            # A defect to show (emoji answered 500), and a pace a screenshot can catch.
            partner.add_fault(text="🎉", status=500, description="emoji crash")
            partner.add_fault(delay=0.25, description="a slow endpoint")
            url, ca_bundle = partner.url, target.ca_bundle
            if browser is not None:
                return _shoot_verify(browser, page_server.base_url, url, ca_bundle, folder)
            from playwright.sync_api import sync_playwright

            with sync_playwright() as playwright:
                own = launch(playwright)
                try:
                    return _shoot_verify(own, page_server.base_url, url, ca_bundle, folder)
                finally:
                    own.close()
        finally:
            target.stop()
            page_server.stop()


def _shoot_verify(
    browser: Any, base_url: str, url: str, ca_bundle: str | None, folder: Path
) -> list[Path]:
    saved: list[Path] = []
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    page = context.new_page()
    page.set_default_timeout(60_000)

    def shot(name: str, *, full_page: bool = False) -> None:
        path = folder / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        saved.append(path)

    try:
        page.goto(base_url + "/verify")
        fill_verify_form(page, url, ca_bundle)
        shot("verify")
        page.click("#verify-button")
        page.locator("#check-lines li").nth(7).wait_for()
        shot("verify-run")
        page.wait_for_selector("#verdict")
        shot("verify-report", full_page=True)
    finally:
        context.close()
    return saved


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``python -m``."""
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path("docs/screenshots")
    for path in [*take(folder), *take_verify(folder)]:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
