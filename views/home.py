"""About: what the app is, for whom, how to start, which page answers which question, what the
catalog covers (counted from it), where the data come from, what it must not be used for, and
how to cite it (CITATION.cff). Imports nothing heavy until the catalog is counted, once per
server process."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

from comparators.evidence.seed import SEED_CITATION

if TYPE_CHECKING:  # the page imports nothing heavy before its first lines render
    from comparators.evidence.cohort import ThisCohort

CITATION_FILE = Path(__file__).resolve().parent.parent / "CITATION.cff"

#: (question, page title as in the menu) - the how-to's table
QUESTIONS = (
    ("How does this cohort's response rate compare with pooled AI+ICI trials in one subtype, "
     "and does AI+ICI beat ICI alone there?", "Benchmark a subtype"),
    ("In which subtypes does the combination look better than ICI alone?", "Across subtypes"),
    ("I need a paragraph with numbers, methods and references for a grant.",
     "Evidence summary"),
    ("Which trials are behind the numbers, and what was each number read from?",
     "Comparator trials"),
    ("What did the seed cohort report, by subtype, response and adverse event?", "This cohort"),
    ("What if this cohort's counts, or its case mix, were different?", "What if"),
    ("What p0, p1 and sample size should the next trial use?", "Plan the next trial"),
    ("What do my own patients' survival, waterfall and swimmer plots look like?",
     "Survival and patients"),
    ("Do the seed paper's percentages add up, and are its claims about other trials right?",
     "Data audit"),
)


@st.cache_resource(show_spinner=False)
def coverage():  # -> CatalogCoverage; imported here so the page's first lines render at once
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.coverage import catalog_coverage

    return catalog_coverage(load_catalog())


@st.cache_resource(show_spinner=False)
def citation_file() -> str:
    return CITATION_FILE.read_text(encoding="utf-8")


def active_cohort() -> ThisCohort | None:
    """An upload or a what-if scenario that replaces the seed cohort on every page
    (views.common keys), or None."""
    return st.session_state.get("this_cohort_scenario") or st.session_state.get(
        "this_cohort_upload")


def render_intro(active: ThisCohort | None) -> None:
    st.title("Sarcoma AI + ICI explorer")
    cohort_text = ("one real-world cohort (Liu et al., Sci Rep 2023, 33 patients)"
                   if active is None else "your cohort")
    st.markdown(
        "Benchmark subtype response rates of **angiogenesis inhibitors plus immune checkpoint "
        f"inhibitors** in advanced soft-tissue sarcoma: {cohort_text} beside a curated, sourced "
        "table of comparator trials. It is built for sarcoma investigators and grant writers; "
        "every number comes from a cited publication, and every percentage is recomputed from "
        "its counts."
    )
    st.warning(
        "**Research use only.** This app summarises trial reports and user-supplied data for "
        "research and grant writing. It is not medical advice and not a medical device, and it "
        "must not be used to make treatment decisions for any patient. Pooled rates from "
        "different trials are not a randomised comparison.",
        icon=":material/gpp_maybe:",
    )


def render_how_to() -> None:
    st.subheader("How to use it")
    st.markdown(
        "1. In the sidebar, choose the confidence interval and level (Wilson at level 0.95 "
        "reproduces the seed paper's intervals). They apply to every page.\n"
        "2. Open **Benchmark a subtype** and pick a subtype: this cohort against the pooled "
        "comparator arms of its class, and pooled AI+ICI against pooled ICI alone.\n"
        "3. Change the pooling model in the sidebar of the pages that pool (model, HKSJ, this "
        "cohort inside or outside its class pool, primary-source rows only, arms left out): "
        "every page, figure and export follows.\n"
        "4. Copy the sidebar's link to share exactly what you see, or download the figures, "
        "data and the evidence summary (Word, HTML, Markdown, references)."
    )
    st.markdown("Which page answers which question (the pages are in the menu on the left):")
    st.table({"Question": [q for q, _ in QUESTIONS], "Page": [p for _, p in QUESTIONS]})


def render_coverage() -> None:
    """What the catalog covers, counted from it."""
    cov = coverage()
    st.subheader("What the catalog covers")
    st.markdown(
        f"Catalog {cov.version}, literature last checked {cov.checked}:\n"
        f"- **{cov.studies} comparator studies**, {cov.arms} study arms, {cov.rows} "
        f"arm-by-subtype rows with response counts ({cov.patients:,} response-evaluable "
        "patients in single-subtype rows, none counted twice);\n"
        "- **regimen classes:** " + ", ".join(f"{c} {n} arm{'s' if n != 1 else ''}"
                                              for c, n in cov.classes) + ";\n"
        f"- **{len(cov.subtypes)} subtypes**, most arms first: "
        + ", ".join(f"{code} {n}" for code, _, n in cov.subtypes) + ";\n"
        "- **numbers read from:** " + ", ".join(f"{kind} {n} rows" for kind, n in cov.sources)
        + "."
    )
    with st.expander("Subtype codes"):
        st.table({"Code": [c for c, _, _ in cov.subtypes],
                  "Subtype": [n for _, n, _ in cov.subtypes],
                  "Arms": [a for _, _, a in cov.subtypes]})


def render_sources(active: ThisCohort | None) -> None:
    st.subheader("Where the data come from")
    if active is None:
        st.markdown(f"- **This cohort:** {SEED_CITATION} (CC BY 4.0).")
    else:
        st.text(f"This cohort: {active.label} (this browser session only).")
        st.caption("The seed paper's cohort is on the Comparator trials and Data audit pages.")
    st.markdown("- **Comparator trials:** each row names the publication, registry record or "
                "review table its numbers were read from (Comparator trials page, and every "
                "export).")
    st.caption(
        "Choose the confidence-interval method in the sidebar; it applies to every page. "
        "The app's link carries your choices, so you can share the view you see."
    )


def render_citation() -> None:
    st.subheader("How to cite")
    st.markdown("Cite the app with the metadata below (the repository's `CITATION.cff`, "
                "Citation File Format 1.2.0), and the publications behind the numbers you use.")
    cff = citation_file()
    st.code(cff, language="yaml")
    st.download_button("Download CITATION.cff", cff.encode("utf-8"), file_name="CITATION.cff",
                       mime="application/x-yaml", key="dl_citation",
                       icon=":material/download:", on_click="ignore")


active = active_cohort()
render_intro(active)
render_how_to()
render_coverage()
render_sources(active)
render_citation()
