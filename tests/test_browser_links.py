"""A link copied from each page, with every control of that page changed (multiselects with
several values, the borrowing controls, toggles, numbers), reopened in a fresh browser context:
every number the user reads is the same, and the reopened page's own link is the same link.

Tables are compared through the cells their grid lists for assistive technology (the visible
region, the same in both windows); charts through the AppTests of each page.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from test_browser import _idle, _link, _settled, open_page
from test_browser import browser as browser_fixture  # noqa: F401 (the same fixtures)
from test_browser import server as server_fixture  # noqa: F401

pytestmark = pytest.mark.browser


def _readable(page) -> list[str]:  # noqa: ANN001
    """Every number and word of the page body outside the charts, with the table cells."""
    return page.evaluate("""() => {
        const main = document.querySelector("[data-testid='stMain']").cloneNode(true);
        main.querySelectorAll("[data-testid='stVegaLiteChart'], .vega-embed")
            .forEach((chart) => chart.remove());
        document.body.appendChild(main);
        const text = main.innerText;
        main.remove();
        const cells = [...document.querySelectorAll("[data-testid='stMain'] td[role='gridcell']")]
            .map((td) => td.textContent);
        return [...text.split(/\\s+/), ...cells];
    }""")


def _choose(page, label: str, option: str) -> None:  # noqa: ANN001
    """Pick `option` in the selectbox labelled `label` (typed, so the list shows it)."""
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    box.fill(option)
    page.get_by_role("option").filter(has_text=re.compile(f"^{re.escape(option)}$")).click()
    _idle(page)


def _toggle(page, label: str) -> None:  # noqa: ANN001
    page.locator("[data-testid='stCheckbox']").filter(
        has=page.get_by_text(label, exact=True)).locator("label").first.click()
    _idle(page)


def _pick(page, label: str, options: list[str]) -> None:  # noqa: ANN001
    """Add `options` to the multiselect labelled `label`."""
    for option in options:
        box = page.get_by_role("combobox", name=label, exact=True)
        box.click()
        box.fill(option)  # the list draws only the options in view
        page.get_by_role("option").filter(has_text=re.compile(f"^{re.escape(option)}$")).click()
        page.keyboard.press("Escape")
        _idle(page)


def _unpick(page, label: str, option: str) -> None:  # noqa: ANN001
    """Remove `option` from the multiselect labelled `label` (its chip's remove control)."""
    box = page.locator("[data-testid='stMultiSelect']", has_text=label)
    box.locator(f"[aria-label='Remove {option}']").click()
    _idle(page)


def _number(page, label: str, value: str) -> None:  # noqa: ANN001
    field = page.get_by_label(label, exact=True)
    field.fill(value)
    field.press("Enter")
    _idle(page)


def _model(page) -> None:  # noqa: ANN001
    """Every sidebar control of the pooling pages, each off its default."""
    _choose(page, "Confidence interval for proportions", "jeffreys")
    _choose(page, "Confidence level", "0.9")
    _choose(page, "Effect measure", "ft")
    _choose(page, "Model", "DL")
    _toggle(page, "HKSJ interval")
    _choose(page, "HKSJ variant", "plain")
    _toggle(page, "This cohort inside its class pool")
    _toggle(page, "Pool overlapping cohorts")


def _benchmark(page) -> None:  # noqa: ANN001
    _model(page)
    _choose(page, "Subtype", "LMS")
    page.get_by_role("combobox", name="Leave out study arms", exact=True).click()
    # two arms, by whatever name the menu gives (its first option selects all)
    page.get_by_role("option").nth(1).click()
    page.keyboard.press("Escape")
    _idle(page)
    page.get_by_role("combobox", name="Leave out study arms", exact=True).click()
    page.get_by_role("option").nth(2).click()
    page.keyboard.press("Escape")
    _idle(page)
    _number(page, "Reference ORR (%)", "20")  # last: a rerun of its section alone


def _across(page) -> None:  # noqa: ANN001
    _model(page)
    _toggle(page, "Show every subtype (also those without an AI+ICI vs ICI comparison)")
    _choose(page, "Regimen class", "ICI")
    page.get_by_role("radiogroup", name="Half-normal τ prior scale").get_by_role(
        "radio", name="2", exact=True).click()
    _idle(page)
    _toggle(page, "EXNEX")
    page.get_by_role("slider", name="Prior P(exchangeable)").press("ArrowRight")
    page.get_by_role("slider", name="Prior P(exchangeable)").press("ArrowRight")
    _idle(page)


def _summary(page) -> None:  # noqa: ANN001
    _model(page)
    _pick(page, "Subtypes", ["UPS", "LMS"])  # with ASPS, the default: three subtypes
    _pick(page, "Regimen classes to report", ["AI+ICI", "ICI"])


def _whatif(page) -> None:  # noqa: ANN001
    """The toxicity section's controls (each a rerun of that section alone)."""
    page.get_by_role("radiogroup", name="Enter the rate as").get_by_text(
        "percent", exact=True).click()
    _idle(page)
    _number(page, "Patients treated", "40")
    _number(page, "Grade ≥ 3 TRAE (%)", "12.5")


def _audit(page) -> None:  # noqa: ANN001
    _choose(page, "Confidence level", "0.9")
    _unpick(page, "Kinds of check", "granularity")
    _toggle(page, "Show only inconsistent findings")


def _about(page) -> None:  # noqa: ANN001
    _choose(page, "Confidence interval for proportions", "clopper-pearson")
    _choose(page, "Confidence level", "0.99")


CHANGES = {"benchmark": _benchmark, "across-subtypes": _across, "summary": _summary,
           "what-if": _whatif, "audit": _audit, "": _about}
#: What each page's link must carry once its controls are changed (every value of each).
CARRIED = {
    "benchmark": {"subtype": ["LMS"], "reference": ["20"], "method": ["DL"],
                  "measure": ["ft"], "hksj": ["true"], "hksj_variant": ["plain"],
                  "include_cohort": ["true"], "overlapping": ["true"], "ci_level": ["0.9"],
                  "ci_method": ["jeffreys"]},
    "across-subtypes": {"meta_all": ["true"], "borrow_class": ["ICI"], "borrow_tau": ["2"],
                        "borrow_exnex": ["true"], "borrow_pex": ["0.7"], "method": ["DL"]},
    "summary": {"summary_subtypes": ["ASPS", "UPS", "LMS"],
                "summary_classes": ["AI+ICI", "ICI"], "method": ["DL"]},
    "what-if": {"tox_entry": ["percent"], "tox_patients": ["40"], "tox_percent": ["12.5"]},
    "audit": {"audit_only_bad": ["true"], "ci_level": ["0.9"]},
    "": {"ci_method": ["clopper-pearson"], "ci_level": ["0.99"]},
}


@pytest.mark.parametrize("path", list(CHANGES))
def test_a_link_with_every_control_changed_reopens_every_number(
        server_fixture: str, browser_fixture, path: str) -> None:  # noqa: F811
    server, browser = server_fixture, browser_fixture
    page = open_page(browser, f"{server}/{path}")
    CHANGES[path](page)
    assert page.locator("[data-testid='stException']").count() == 0
    seen = _settled(page, _readable)
    link = _link(page)
    query = parse_qs(urlsplit(link).query)
    for key, values in CARRIED[path].items():
        assert query.get(key) == values, (key, query)
    if path == "benchmark":
        assert len(query["exclude"]) == 2, query
    if path == "audit":
        assert "granularity" not in query["audit_checks"] and len(query["audit_checks"]) >= 2

    fresh = browser.new_context(viewport={"width": 1400, "height": 1000})
    other = fresh.new_page()
    other.goto(link)
    assert _settled(other, _readable) == seen
    assert other.locator("[data-testid='stException']").count() == 0
    assert not other.get_by_text("not valid here").count()
    assert parse_qs(urlsplit(_link(other)).query) == query
    fresh.close()
    page.close()
