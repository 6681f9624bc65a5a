"""Median PFS in a real browser: chosen in the sidebar, drawn without an exception, and a link
copied from the benchmark page reopens the same endpoint, subtype, leave-out and reference in
months, with the same numbers, in a fresh browser context."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser import _link, _settled, open_page
from test_browser import browser as browser_fixture  # noqa: F401 (the same fixtures)
from test_browser import server as server_fixture  # noqa: F401
from test_browser_links import _choose, _number, _readable

pytestmark = pytest.mark.browser


def test_a_median_pfs_link_reopens_the_same_view(
        server_fixture: str, browser_fixture) -> None:  # noqa: F811
    server, browser = server_fixture, browser_fixture
    page = open_page(browser, f"{server}/benchmark")
    _choose(page, "Endpoint", "median_pfs")
    _choose(page, "Subtype", "AS")
    _choose(page, "Model", "DL")
    _number(page, "Reference median PFS (months)", "6")
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("Median PFS by regimen class", exact=False).count() == 1
    seen = _settled(page, _readable)
    query = parse_qs(urlsplit(_link(page)).query)
    assert query["endpoint"] == ["median_pfs"] and query["subtype"] == ["AS"]
    assert query["reference_months"] == ["6"] and query["method"] == ["DL"]

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = fresh.new_page()
    other.goto(_link(page))
    assert _settled(other, _readable) == seen
    assert other.locator("[data-testid='stException']").count() == 0
    assert parse_qs(urlsplit(_link(other)).query) == query
    fresh.close()
    page.close()
