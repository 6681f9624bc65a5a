"""Thin adapters shared by the pages: cached data loading and the sidebar's options.

Not a page itself (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import SubtypeBenchmark, benchmark_subtype, subtype_rows
from comparators.evidence.audit import audit_published, findings_frame
from comparators.evidence.catalog import Catalog, load_catalog
from comparators.evidence.cohort import SeedCohort, ThisCohort, load_seed_cohort, published_cohort
from comparators.reports.export import chart_png, chart_svg, safe_csv
from comparators.reports.markup import md_escape


@st.cache_data(show_spinner=False)
def seed_cohort() -> SeedCohort:
    return load_seed_cohort()


@st.cache_data(show_spinner=False)
def catalog() -> Catalog:
    return load_catalog()


# Session-state keys through which other pages replace "this cohort" (never shared between
# sessions): a what-if scenario (views/whatif.py) or an uploaded IPD cohort (views/survival.py),
# each a ThisCohort in the shared row shape.
SCENARIO_KEY = "this_cohort_scenario"
UPLOAD_KEY = "this_cohort_upload"


def this_cohort() -> ThisCohort:
    """The cohort highlighted on every page: a scenario, else an upload, else the seed paper."""
    for key in (SCENARIO_KEY, UPLOAD_KEY):
        cohort = st.session_state.get(key)
        if isinstance(cohort, ThisCohort):
            return cohort
    return published_cohort(catalog().trials)


# User text (a file name, a label, a URL value) shown through Markdown: the one escaping helper,
# so it reads exactly as typed and never links, embeds, colours or formats anything.
plain = md_escape


def cohort_banner(cohort: ThisCohort) -> None:
    """Say plainly when the highlighted cohort is not the published one."""
    if not cohort.is_real:
        st.warning(f"**{plain(cohort.label)}** — {plain(cohort.caveat)}",
                   icon=":material/science:")
    elif cohort.kind == "uploaded":
        st.info(f"**{plain(cohort.label)}** — {plain(cohort.caveat)}",
                icon=":material/upload_file:")


# The benchmark page's options live under these keys (bound to the URL there); other pages that
# read "the numbers the benchmark page shows" (planning, summaries) use the same keys.
BENCHMARK_DEFAULTS = {"subtype": "ASPS", "measure": "logit", "method": "REML", "hksj": False}


def benchmark_options() -> dict[str, object]:
    return {k: st.session_state.get(k, v) for k, v in BENCHMARK_DEFAULTS.items()}


@st.cache_data(show_spinner=False, max_entries=256)
def _benchmark(
    rows: pd.DataFrame, measure: str, method: str, hksj: bool, level: float, ci_method: str,
    exclude: tuple[str, ...],
) -> SubtypeBenchmark:
    return benchmark_subtype(rows, measure, method, hksj, level, ci_method, exclude)


def subtype_benchmark(
    subtype: str, measure: str = "logit", method: str = "REML", hksj: bool = False,
    exclude: tuple[str, ...] = (), include_overlapping: bool = False,
) -> SubtypeBenchmark:
    """The fitted benchmark for `subtype` with this session's cohort and interval options."""
    ci_method, level = ci_options()
    rows = subtype_rows(catalog().trials, this_cohort(), subtype, include_overlapping)
    return _benchmark(rows, measure, method, hksj, level, ci_method, tuple(sorted(exclude)))


@st.cache_data(show_spinner=False)
def seed_audit() -> pd.DataFrame:
    return findings_frame(audit_published())


def ci_options() -> tuple[str, float]:
    """The interval method and level chosen in the sidebar (defaults: Wilson, 95%)."""
    return st.session_state.get("ci_method", "wilson"), st.session_state.get("ci_level", 0.95)


def csv_download(
    frame: pd.DataFrame, label: str, file_name: str, key: str, note: str | None = None
) -> None:
    """CSV download with spreadsheet formulas neutralised; `note` labels the file (e.g. as
    synthetic or hypothetical)."""
    st.download_button(
        label, safe_csv(frame, note), file_name=file_name, mime="text/csv", key=key,
        icon=":material/download:",
    )


def chart_downloads(chart: alt.TopLevelMixin | dict, basename: str, key: str) -> None:
    """PNG and SVG buttons; the images are rendered only when clicked (vl-convert ~0.5 s)."""
    png, svg = st.columns(2)
    png.download_button(
        "Download PNG", lambda: chart_png(chart), file_name=f"{basename}.png",
        mime="image/png", key=f"{key}_png", icon=":material/image:",
    )
    svg.download_button(
        "Download SVG", lambda: chart_svg(chart), file_name=f"{basename}.svg",
        mime="image/svg+xml", key=f"{key}_svg", icon=":material/draw:",
    )
