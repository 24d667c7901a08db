"""Fixtures of the browser tests: one Chromium for the package, a `site` per test."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, sync_playwright

from .browsing import CHROMIUM, CHROMIUM_ARGS, Browsing


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the browser tests, closed when they are done (so Playwright's event
    loop is gone before any other test package runs)."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    with sync_playwright() as pw:
        # Never `playwright install`: the system Chromium is the browser under test.
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def site(browser: Browser, live_server: Any) -> Iterator[Browsing]:
    # Sign-up and sign-in are throttled per address; every browser test comes from 127.0.0.1.
    cache.clear()
    browsing = Browsing(browser, live_server.url)
    yield browsing
    browsing.close()


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Distinct, searchable text for each thing a test writes."""
    counter = iter(range(1, 10_000))

    def make(prefix: str) -> str:
        return f"{prefix}-{next(counter)}-{time.monotonic_ns() % 1_000_000:06d}"

    return make
