"""Browser path: a real `streamlit run` server driven by Debian's headless Chromium.

Opens every page, checks no exception element is shown, and saves a screenshot per page in
tests/screenshots/ (git-ignored) so a person can look at what users see.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from server import CHROMIUM_FLAGS, start_server  # noqa: E402

SHOTS = ROOT / "tests" / "screenshots"
PAGES = {
    "about": "", "cohort": "cohort", "trials": "trials", "benchmark": "benchmark",
    "across-subtypes": "across-subtypes", "summary": "summary", "what-if": "what-if",
    "plan": "plan", "survival": "survival", "audit": "audit",
}

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    running = start_server()
    yield running.url
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium package is required (.ci/run installs it)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        yield b
        b.close()


def open_page(browser, url: str):  # noqa: ANN001, ANN201
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    page.wait_for_timeout(500)  # let charts finish drawing before a screenshot
    return page


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_without_exception(server: str, browser, name: str) -> None:
    page = open_page(browser, f"{server}/{PAGES[name]}")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.locator("h1").count() >= 1
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    page.close()


def test_cohort_page_shows_the_papers_interval(server: str, browser) -> None:
    # Liu et al. 2023, Abstract: ORR 48.1% (95% CI 30.7-66.0%).
    page = open_page(browser, f"{server}/cohort")
    page.get_by_text("95% CI 30.7–66.0%").first.wait_for(timeout=10_000)
    page.close()


def _choose(page, label: str, option: str) -> None:  # noqa: ANN001
    """Pick `option` in the selectbox labelled `label`, then wait for the rerun."""
    page.get_by_role("combobox", name=label, exact=True).click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)


def _metric(page, label: str) -> str:  # noqa: ANN001
    block = page.locator("[data-testid='stMetric']", has_text=label).first
    return block.locator("[data-testid='stMetricValue']").inner_text()


def _numbers(page) -> list[str]:  # noqa: ANN001
    """Every number the user reads in the page body outside the charts (tables are virtualised
    canvases, so the metrics, captions, text and code blocks carry what is compared)."""
    import re

    # Chart titles are truncated to the width they get ("…"), which can differ by a pixel
    # between two windows; the chart's numbers are its data, checked by the AppTests.
    body = page.evaluate("""() => {
        const main = document.querySelector("[data-testid='stMain']").cloneNode(true);
        main.querySelectorAll("[data-testid='stVegaLiteChart'], .vega-embed")
            .forEach((chart) => chart.remove());
        document.body.appendChild(main);
        const text = main.innerText;
        main.remove();
        return text;
    }""")
    return re.findall(r"-?\d+(?:\.\d+)?", body)


def _settled(page, read=None) -> list[str]:  # noqa: ANN001
    """What `read(page)` (the page's numbers by default) gives once it stops changing: a
    link's first load can run the script twice (the URL's values are applied, then written
    back), so one idle moment is not the end of rendering."""
    read = read or _numbers
    last: list[str] | None = None
    for _ in range(30):
        _idle(page)
        now = read(page)
        if now == last:
            return now
        last = now
        page.wait_for_timeout(1000)
    return last or []


def _link(page) -> str:  # noqa: ANN001
    link = page.locator("[data-testid='stSidebar'] [data-testid='stCode'] code").inner_text()
    return "".join(link.split())  # the code block wraps long links


def _idle(page) -> None:  # noqa: ANN001
    page.wait_for_timeout(300)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    page.wait_for_timeout(500)


LINK_PAGES = {"cohort": "cohort", "benchmark": "benchmark", "across-subtypes": "across-subtypes",
              "summary": "summary", "plan": "plan", "what-if": "what-if"}


@pytest.mark.parametrize("name", list(LINK_PAGES))
def test_a_link_copied_from_each_page_reproduces_every_number(server: str, browser,
                                                              name: str) -> None:
    page = open_page(browser, f"{server}/{LINK_PAGES[name]}")
    _choose(page, "Confidence level", "0.9")
    if name != "cohort":
        _choose(page, "Model", "DL")
    if name == "benchmark":
        _choose(page, "Subtype", "UPS")
    seen = _settled(page)
    assert len(seen) > 10, seen  # the page shows numbers to compare
    link = _link(page)
    assert "ci_level=0.9" in link, link
    assert name == "cohort" or "method=DL" in link, link

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = fresh.new_page()
    other.goto(link)
    assert _settled(other) == seen
    assert other.locator("[data-testid='stException']").count() == 0
    fresh.close()
    page.close()


def test_model_choice_follows_the_user_to_the_summary_page(server: str, browser) -> None:
    page = open_page(browser, f"{server}/benchmark")
    _choose(page, "Model", "FE")
    page.locator("[data-testid='stSidebarNav'] a", has_text="Evidence summary").click()
    _idle(page)
    caption = page.get_by_text("Model: fixed-effect").first.inner_text()
    assert "logit scale" in caption, caption
    assert "method=FE" in _link(page)  # the summary's own link carries the model too
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()


@pytest.mark.parametrize("path", ["across-subtypes", "benchmark", "survival"])
def test_figure_downloads_arrive(server: str, browser, path: str) -> None:
    """The Across subtypes PNG/SVG buttons could spin for 20-60 s. Click
    each figure download, also right after a rerun-causing change, and require the file. The
    survival page's first figure (the curve with its risk table) is built only on the click."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(f"{server}/{path}")
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    for kind, magic in (("PNG", b"\x89PNG"), ("SVG", b"<svg")):
        with page.expect_download(timeout=30_000) as info:
            page.get_by_role("button", name=f"Download {kind}").first.click()
        assert Path(info.value.path()).read_bytes().lstrip()[:4] == magic, kind
        if path == "survival":
            assert info.value.suggested_filename.startswith("km_"), info.value.suggested_filename
    _choose(page, "Confidence level", "0.9")  # new specs, new deferred ids
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name="Download PNG").first.click()
    assert Path(info.value.path()).read_bytes()[:4] == b"\x89PNG"
    page.close()
