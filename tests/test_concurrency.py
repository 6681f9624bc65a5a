"""Many users at once against one real server, driven without browsers.

bench/loadgen.py speaks Streamlit's own websocket protocol (the protobuf BackMsg/ForwardMsg
shipped with streamlit): each session loads the benchmark page, then changes its widgets in a
scripted sequence with its own reference ORR. Every session must finish every rerun without an
exception delta or a driver error, must be sent its own reference line and never another
session's. The 20-Chromium test this replaces measured Chromium on 2 cores, not the server.
Latency budgets live in bench/ (bench/loadgen.py, bench/latest.md), not here: only sanity bounds.

One small browser check keeps the real path honest: two browser contexts on one server, each
opening a link with its own reference value, each sees its own reference line and never the
other's.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import loadgen  # noqa: E402
from server import CHROMIUM_FLAGS, start_server  # noqa: E402

SESSIONS = 4
CHANGES = 4


@pytest.fixture(scope="module")
def server():
    srv = start_server()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def load(server) -> loadgen.LoadResult:
    return loadgen.run_load(server, "benchmark", SESSIONS, CHANGES)


def test_every_session_finishes_every_rerun(load: loadgen.LoadResult) -> None:
    assert not load.errors, load.errors
    assert len(load.latencies) == SESSIONS * CHANGES
    assert len(load.first_loads) == SESSIONS


def test_each_session_is_sent_only_its_own_values(load: loadgen.LoadResult) -> None:
    assert load.checked == SESSIONS * CHANGES
    assert not load.leaks, load.leaks


def test_server_cpu_and_memory_are_measured(load: loadgen.LoadResult) -> None:
    assert load.cpu_per_rerun > 0 and load.peak_rss_mb > 0
    assert load.peak_rss_mb < 400, load.row()  # the budget, at a small N


def test_an_unknown_widget_is_a_driver_error_not_a_hang(server) -> None:
    import asyncio

    result = asyncio.run(loadgen.drive(server.url, "benchmark", 0,
                                       [loadgen.Change("no_such_widget", "bool_value", True)],
                                       None, set(), 0.0))
    assert result.errors and "no_such_widget" in result.errors[0]


@pytest.mark.browser
def test_two_browsers_each_see_only_their_own_value(server) -> None:
    import shutil

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.fail("Debian's chromium is not installed")
    idle = "[data-testid='stApp'][data-test-script-state='notRunning']"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            pages = []
            for value in (23, 67):
                context = browser.new_context()
                page = context.new_page()
                page.goto(f"{server.url}/benchmark?reference={value}", timeout=90_000)
                page.wait_for_selector(idle, timeout=90_000)
                pages.append((page, value))
            for page, value in pages:
                page.wait_for_selector(idle, timeout=90_000)
                # the forest plot labels its dashed line; Vega draws it after the run ends
                page.wait_for_function(f"document.body.innerText.includes('reference {value}%')",
                                       timeout=60_000)
                text = page.inner_text("[data-testid='stApp']")
                other = 67 if value == 23 else 23
                assert f"reference={other}" not in text and f"reference {other}%" not in text
                assert page.locator("[data-testid='stException']").count() == 0
        finally:
            browser.close()
