"""The active cohort everywhere: with an upload in use, every page uses its name and
numbers, and no page but the catalog and the audit speaks of the seed paper ("Liu",
"published"), because the seed paper's cohort is not the one being shown."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from apptest import open_page, page_text

ROOT = Path(__file__).resolve().parent.parent
VALID = (ROOT / "tests" / "fixtures" / "ipd" / "valid.csv").read_bytes()
NAME = "Hospital X 2026"
PAGES = ("views/home.py", "views/cohort.py", "views/benchmark.py", "views/across.py",
         "views/summary.py", "views/whatif.py", "views/planning.py")


@pytest.fixture(scope="module")
def uploaded():
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("my_cohort.csv", VALID, "text/csv")
    at.run()
    at.text_input(key="upload_label").input(NAME).run()
    assert not at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_pages_name_the_upload_and_not_the_paper(uploaded, page: str) -> None:
    uploaded.switch_page(page)
    uploaded.run()
    assert not uploaded.exception, [e.value for e in uploaded.exception]
    text = page_text(uploaded)
    if page != "views/home.py":  # the landing page describes the app, not a cohort
        assert NAME in text, page
    # A bibliography may list the seed paper when comparator numbers were read from it, and
    # Lee & Liu 2008 is a method's citation: neither speaks of the cohort on screen.
    prose = re.sub(r"Lee (JJ, Liu DD|& Liu)", "", text)
    bad = [line for line in prose.splitlines()
           if re.search(r"\bliu\b|\bpublished\b", line, re.IGNORECASE)
           and not re.match(r"\d+\\?\. ", line)]  # a numbered reference-list entry
    assert not bad, (page, bad[:3])
