"""Chromium for the browser tests: Debian's `chromium` driven by Playwright.

Playwright's own browser download cannot work on these machines (no network but the package
registries): `make browser` installs Debian's package, and Playwright launches its binary.
Every page opened through `PageWatch` records console errors, failed requests and dialogs, so a
test can assert there were none.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, ConsoleMessage, Dialog, Page, Request, sync_playwright

# The binary under Debian's lib folder (the /usr/bin/chromium wrapper prints a shell warning).
CHROMIUM = os.environ.get("CHROMIUM", "/usr/lib/chromium/chromium")
# Headless, and quiet on a closed network: no background, component or sync connections.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed afterwards."""
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"CHROMIUM {CHROMIUM!r}: no such browser; run `make browser` first")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """A page and what went wrong on it: console errors, failed requests, dialogs."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    @classmethod
    def open(cls, browser: Browser, width: int = 1280, height: int = 900) -> PageWatch:
        page = browser.new_page(viewport={"width": width, "height": height})
        watch = cls(page)
        page.on("console", watch._console)
        page.on("pageerror", lambda error: watch.console_errors.append(f"pageerror: {error}"))
        page.on("requestfailed", watch._failed)
        page.on("dialog", watch._dialog)
        return watch

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _failed(self, request: Request) -> None:
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    @property
    def faults(self) -> list[str]:
        return self.console_errors + self.failed_requests + self.dialogs
