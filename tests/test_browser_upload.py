"""Browser path for an uploaded cohort and for sections that rerun alone.

An upload that is valid becomes this cohort at once: the same screen's curves, waterfall and
swimmer and every other page use it, with no second button to find. A section that reruns
alone (st.fragment) must not leave the sidebar's link behind: its widgets are in the URL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_app_planning import DAYS_IPD
from test_browser import _choose, _idle, _link, browser, open_page, server  # noqa: F401

pytestmark = pytest.mark.browser

LABEL = "Uploaded cohort (days.csv)"


def _upload(page, tmp_path: Path) -> None:  # noqa: ANN001
    path = tmp_path / "days.csv"
    path.write_text(DAYS_IPD)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
    page.get_by_text("It is this cohort now").first.wait_for(timeout=30_000)
    _idle(page)


def _visit(page, title: str) -> str:  # noqa: ANN001
    page.locator("[data-testid='stSidebarNav'] a", has_text=title).click()
    _idle(page)
    assert page.locator("[data-testid='stException']").count() == 0
    return page.locator("[data-testid='stMain']").inner_text()


def test_a_valid_upload_is_this_cohort_on_every_page_at_once(server: str, browser,  # noqa: F811
                                                             tmp_path: Path) -> None:
    page = open_page(browser, f"{server}/survival")
    _upload(page, tmp_path)
    main = page.locator("[data-testid='stMain']").inner_text()
    # days.csv (tests/test_app_planning.py): 5 patients, 4 subtypes (two UPS), 5 evaluable, 3
    # progressed
    assert "days.csv is valid: 5 patients, 4 subtypes, 5 evaluable for response, 3 PFS events" \
        in main, main[:2000]
    assert "Patient-level views show days.csv (uploaded, 5 patients)" in main
    assert main.count("Patients: days.csv, 5 patients.") == 2  # KM, waterfall and swimmer
    assert "Synthetic example, not patient data" not in main
    assert f"Evidence pages highlight: {LABEL} (uploaded)" in main
    assert page.get_by_role("button", name="Use as this cohort").count() == 0

    cohort = _visit(page, "This cohort")
    assert f"This cohort: {LABEL}" in cohort and f"Active cohort: {LABEL}" in cohort
    for title in ("Benchmark a subtype", "What if", "Plan the next trial"):
        assert LABEL in _visit(page, title), title
    plan = page.locator("[data-testid='stMain']").inner_text()
    # its PFS median (167 days = 5.48665 months) at the catalog's precision, and against
    # ALTER0203's 6.27 months the design is refused, not sized for HR 1.14
    assert "median is 5.49 months" in plan
    assert "implied hazard ratio is 1.14" in plan and "Patients to enrol" not in plan

    survival = _visit(page, "Survival and patients")
    page.get_by_role("button", name="Back to the published cohort").click()
    _idle(page)
    survival = page.locator("[data-testid='stMain']").inner_text()
    assert "Evidence pages highlight: This cohort (Liu 2023) (published)" in survival
    assert "Synthetic example, not patient data" in survival
    assert "This cohort: Liu et al., Sci Rep 2023" in _visit(page, "This cohort")
    page.close()


@pytest.mark.parametrize("label, option, param", [
    ("Group by", "Subtype", "km_group=Subtype"),  # the URL spells the option as shown
    ("Median CI type", "log-log", "km_conf=log-log"),
    ("Median CI type", "spss", "km_conf=spss"),  # the code, as `km --conf-type` spells it
])
def test_a_section_rerunning_alone_keeps_the_link_current(server: str, browser,  # noqa: F811
                                                         label: str, option: str,
                                                         param: str) -> None:
    page = open_page(browser, f"{server}/survival")
    assert param not in _link(page)
    _choose(page, label, option)
    _idle(page)
    assert param in _link(page), _link(page)
    assert page.locator("[data-testid='stException']").count() == 0
    page.close()
