"""Fixtures for the report tests: a built history, and one headless Chromium per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.report.history import History, build_history, open_history

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def history_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The history is built once (through the real write path); each test gets its own copy."""
    root = tmp_path_factory.mktemp("report-history")
    build_history(root).store.close()
    return root


@pytest.fixture
def history(history_template: Path, tmp_path: Path) -> Iterator[History]:
    root = tmp_path / "project"
    shutil.copytree(history_template, root)
    opened = open_history(root)
    try:
        yield opened
    finally:
        opened.store.close()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class LoadedPage:
    page: Any
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@contextmanager
def open_report(browser: Any, path: Path, fragment: str = "") -> Iterator[LoadedPage]:
    """Open a report file (once its charts are drawn), recording console errors, page errors and every
    request the page makes; the page is closed afterwards."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    loaded = LoadedPage(page)
    page.on("console", lambda m: loaded.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: loaded.console_errors.append(f"pageerror: {e}"))
    page.on("request", lambda r: loaded.requests.append(r.url))
    try:
        page.goto(path.resolve().as_uri() + fragment)
        page.wait_for_function("window.__dh && window.__dh.ready === true", timeout=60_000)
        yield loaded
    finally:
        page.close()
