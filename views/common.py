"""Thin adapters shared by the pages: cached data loading and the sidebar's options.

Not a page itself (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable

import altair as alt
import pandas as pd
import streamlit as st
from streamlit import dataframe_util
from streamlit.delta_generator import DeltaGenerator

from comparators.analysis.benchmark import (
    AcrossSubtypes,
    SubtypeBenchmark,
    across_subtypes,
    benchmark_subtype,
    comparator_rows,
    subtype_rows,
)
from comparators.analysis.benchmark import p_text as p_text
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.audit import audit_published, findings_frame
from comparators.evidence.catalog import Catalog, load_catalog
from comparators.evidence.cohort import SeedCohort, ThisCohort, load_seed_cohort, published_cohort
from comparators.evidence.labels import arm_labels
from comparators.reports.export import chart_png, chart_svg, safe_csv
from comparators.reports.markup import md_escape
from comparators.reports.summary import summarisable_subtypes
from comparators.vocab import HKSJ_VARIANTS, MEASURES, METHODS
from views.share import keep_valid_link_values, link_choice


# The seed paper, the catalog and the audit are read once per server process and shared,
# read-only, by every session: st.cache_resource hands out the object itself, where
# st.cache_data would unpickle a fresh copy on every call (3-10 calls per rerun).
# tests/test_shared_resources.py runs every page and checks they are left unchanged.
@st.cache_resource(show_spinner=False)
def seed_cohort() -> SeedCohort:
    return load_seed_cohort()


@st.cache_resource(show_spinner=False)
def catalog() -> Catalog:
    return load_catalog()


@st.cache_resource(show_spinner=False)
def published() -> ThisCohort:
    """The seed paper's cohort as the catalog holds it (shared, read-only)."""
    return published_cohort(catalog().trials)


def cohort_hash(cohort: ThisCohort) -> str:
    """Cached functions key a cohort by its content digest, computed once per cohort object,
    instead of hashing its table on every call."""
    return cohort.digest


#: hash_funcs for the cached functions that take a cohort or the options: the cohort by its
#: digest, the options (a frozen dataclass of strings, numbers and a tuple) by their repr,
#: which Streamlit's generic hasher took about 0.35 ms to walk on every call.
BY_DIGEST = {ThisCohort: cohort_hash, AnalysisOptions: repr}


# Session-state keys through which other pages replace "this cohort" (never shared between
# sessions): a what-if scenario (views/whatif.py) or an uploaded IPD cohort (views/survival.py),
# each a ThisCohort in the shared row shape.
SCENARIO_KEY = "this_cohort_scenario"
UPLOAD_KEY = "this_cohort_upload"


SCENARIO_DROPPED_KEY = "_scenario_dropped"  # the notice for a scenario whose source went away


def base_cohort() -> ThisCohort:
    """The real cohort in use: an upload the user chose, else the seed paper."""
    upload = st.session_state.get(UPLOAD_KEY)
    return upload if isinstance(upload, ThisCohort) else published()


def this_cohort() -> ThisCohort:
    """The cohort highlighted on every page: a scenario, else an upload, else the seed paper.

    A scenario stands only while the cohort it was edited from is the one in use: after "Stop
    using the upload" or a new upload it would show edits of a cohort that is gone, so it is
    dropped and the next cohort banner says so.
    """
    base = base_cohort()
    scenario = st.session_state.get(SCENARIO_KEY)
    if isinstance(scenario, ThisCohort):
        if scenario.source == base.source:
            return scenario
        del st.session_state[SCENARIO_KEY]
        st.session_state[SCENARIO_DROPPED_KEY] = (
            f"The what-if scenario edited from {scenario.derived_label or 'another cohort'} was "
            f"dropped: that cohort is no longer in use. Pages now show {base.label}.")
    return base


# User text (a file name, a label, a URL value) shown through Markdown: the one escaping helper,
# so it reads exactly as typed and never links, embeds, colours or formats anything.
plain = md_escape


def cohort_banner(cohort: ThisCohort) -> None:
    """Say plainly when the highlighted cohort is not the published one (and, once, that a
    scenario was dropped with the cohort it came from)."""
    dropped = st.session_state.pop(SCENARIO_DROPPED_KEY, None)
    if dropped:
        st.warning(plain(str(dropped)), icon=":material/history:")
    if not cohort.is_real:
        st.warning(f"**{plain(cohort.label)}** — {plain(cohort.caveat)}",
                   icon=":material/science:")
    elif cohort.kind == "uploaded":
        st.info(f"**{plain(cohort.label)}** — {plain(cohort.caveat)}",
                icon=":material/upload_file:")


# Every choice that changes a pooled number is a widget in the sidebar of the pages that pool
# (model_controls), bound to the URL under these keys and kept across pages (persist_state), so
# a link from any of those pages reproduces its numbers and the pages agree with each other.
MODEL_DEFAULTS: dict[str, object] = {
    "measure": "logit", "method": "REML", "hksj": False, "hksj_variant": "adhoc",
    "include_cohort": False, "overlapping": False, "primary_only": False, "exclude": [],
}
BENCHMARK_DEFAULTS = {"subtype": "ASPS", **MODEL_DEFAULTS}


def analysis_options() -> AnalysisOptions:
    """The options object of this session: the sidebar's model and interval choices."""
    get = st.session_state.get
    ci_method, level = ci_options()
    return AnalysisOptions(
        measure=str(get("measure", "logit")), method=str(get("method", "REML")),
        hksj=bool(get("hksj", False)), hksj_variant=str(get("hksj_variant", "adhoc")),
        level=level, ci_method=ci_method, exclude=tuple(get("exclude", None) or ()),
        include_cohort=bool(get("include_cohort", False)),
        include_overlapping=bool(get("overlapping", False)),
        primary_only=bool(get("primary_only", False)),
    )


def benchmark_options() -> dict[str, object]:
    return {k: st.session_state.get(k, v) for k, v in BENCHMARK_DEFAULTS.items()}


@st.cache_resource(show_spinner=False)
def comparable_subtypes() -> list[str]:
    """Subtypes with at least two arms in the catalog: the benchmark and summary choices."""
    return sorted(summarisable_subtypes(catalog().trials))


#: The widget that holds the subtype(s) each pooling page shows (url_path -> session key);
#: Across subtypes shows every subtype.
PAGE_SUBTYPES = {"benchmark": "subtype", "what-if": "whatif_subtype", "plan": "plan_subtype",
                 "summary": "summary_subtypes"}


def _shown_subtypes(page: str | None) -> set[str] | None:
    """The subtypes the page shows (None: every subtype), read before its widget is drawn:
    this run's value, else the link's, else the benchmark page's subtype."""
    key = PAGE_SUBTYPES.get(page or "")
    if key is None:
        return None
    value = st.session_state.get(key)
    if value is None:
        link = st.query_params.get_all(key)
        value = link if key == "summary_subtypes" else (link[0] if link else None)
    if not value:
        value = st.session_state.get("subtype") or st.query_params.get("subtype") \
            or BENCHMARK_DEFAULTS["subtype"]
    codes = [value] if isinstance(value, str) else list(value)
    return {str(c).strip().upper() for c in codes}


@st.cache_resource(show_spinner=False, max_entries=128, hash_funcs=BY_DIGEST)
def _pooled_arms(subtypes: tuple[str, ...] | None, overlapping: bool,
                 cohort: ThisCohort) -> frozenset[str]:
    """Row keys of the comparator arms pooled in `subtypes` (None: every subtype)."""
    rows = comparator_rows(catalog().trials, cohort, overlapping)
    if subtypes is not None:
        rows = rows[rows["subtype"].astype(str).str.upper().isin(subtypes)]
    return frozenset(f"{s} · {a}" for s, a in zip(rows["study"], rows["arm"], strict=True))


def leave_out_options(page: str | None) -> list[str]:
    """Row keys the leave-out menu offers: the arms pooled in the page's subtype(s), and every
    arm already left out (it stays chosen, and left out, on every page), by name."""
    subtypes = _shown_subtypes(page)
    offered = _pooled_arms(None if subtypes is None else tuple(sorted(subtypes)),
                           bool(st.session_state.get("overlapping", False)), this_cohort())
    names = _catalog_arm_labels()
    by_name = {label: key for key, label in names.items()}
    chosen = set(st.session_state.get("exclude") or ())
    # A link's leave-outs (by name, or by key as the CLI spells them) must be options, or the
    # widget would drop them.
    linked = {by_name.get(v, v) for v in st.query_params.get_all("exclude")} & set(names)
    return sorted(offered | chosen | linked, key=lambda k: (names.get(k, k).lower(), k))


def arm_name(key: str) -> str:
    """How the leave-out menu (and any list of row keys) names an arm."""
    return _catalog_arm_labels().get(key, key)


def model_controls(page: str | None = None) -> AnalysisOptions:
    """The pooling model in the sidebar (codes as the CLI spells them, so links use them).
    `page` (its url_path) decides which arms the leave-out menu offers."""
    arms = leave_out_options(page)
    keep_valid_link_values("exclude", arms, arm_name)  # a link may name arms by key
    with st.sidebar:
        st.subheader("Pooling model")
        for key, codes in (("measure", MEASURES), ("method", METHODS),
                           ("hksj_variant", HKSJ_VARIANTS)):
            link_choice(key, list(codes))  # codes in any case: method=reml
        st.selectbox(
            "Effect measure", list(MEASURES), key="measure", bind="query-params",
            persist_state="session", help="; ".join(f"{k}: {v}" for k, v in MEASURES.items()))
        st.selectbox(
            "Model", list(METHODS), index=list(METHODS).index("REML"), key="method",
            bind="query-params", persist_state="session",
            help="; ".join(f"{k}: {v}" for k, v in METHODS.items())
            + ". GLMM suits small counts and 0%/100% arms.")
        hksj = st.toggle("HKSJ interval", key="hksj", bind="query-params",
                         persist_state="session",
                         help="Hartung-Knapp-Sidik-Jonkman: t distribution with k - 1 df.")
        if hksj:
            st.selectbox(
                "HKSJ variant", list(HKSJ_VARIANTS), key="hksj_variant", bind="query-params",
                persist_state="session",
                help="; ".join(f"{k}: {v}" for k, v in HKSJ_VARIANTS.items()))
        st.toggle(
            "This cohort inside its class pool", key="include_cohort", bind="query-params",
            persist_state="session",
            help="Off (default): class pools hold comparators only, so this cohort is "
                 "benchmarked against them. On: this cohort counts as AI+ICI evidence.")
        st.toggle(
            "Pool overlapping cohorts", key="overlapping", bind="query-params",
            persist_state="session",
            help="Rows that re-count another study's patients (e.g. expansion cohorts) are "
                 "left out by default so no patient is pooled twice.")
        st.toggle(
            "Primary-source rows only", key="primary_only", bind="query-params",
            persist_state="session",
            help="Sensitivity analysis: pool only numbers read from the trial's own full paper "
                 "(no †‡§¶* mark).")
        st.multiselect(
            "Leave out study arms", arms, format_func=arm_name, key="exclude",
            bind="query-params", persist_state="session", placeholder="none",
            help="Offers the arms of the subtype shown; an arm left out stays left out on "
                 "every subtype and page, and is named in every export.")
    # Read back as every page reads them (the widgets above are in session state now).
    return analysis_options()


# Fitted results are shared between sessions (st.cache_resource: no copy per call; the result
# objects are frozen dataclasses that no page changes), keyed by the subtype, the options
# object and the cohort's digest; the catalog is the process's one catalog.
@st.cache_resource(show_spinner=False, max_entries=1024, hash_funcs=BY_DIGEST)
def _benchmark(subtype: str, options: AnalysisOptions, cohort: ThisCohort) -> SubtypeBenchmark:
    return benchmark_subtype(_rows(subtype, cohort, options.include_overlapping), options)


# A subtype's rows do not depend on the model or the level: built once, refitted per option.
@st.cache_resource(show_spinner=False, max_entries=256, hash_funcs=BY_DIGEST)
def _rows(subtype: str, cohort: ThisCohort, overlapping: bool) -> pd.DataFrame:
    return subtype_rows(catalog().trials, cohort, subtype, overlapping, _catalog_arm_labels())


def subtype_benchmark(subtype: str, options: AnalysisOptions | None = None,
                      cohort: ThisCohort | None = None) -> SubtypeBenchmark:
    """The fitted benchmark for `subtype` with this session's options and cohort (or `cohort`,
    e.g. the counts a what-if scenario started from)."""
    return _benchmark(subtype, options or analysis_options(), cohort or this_cohort())


@st.cache_resource(show_spinner="Pooling every subtype…", max_entries=32, hash_funcs=BY_DIGEST)
def _across(cohort: ThisCohort, options: AnalysisOptions) -> AcrossSubtypes:
    # each subtype's fit is the benchmark page's own cached object
    return across_subtypes(catalog().trials, cohort, options,
                           benchmark=lambda code: _benchmark(code, options, cohort))


def every_subtype(options: AnalysisOptions | None = None) -> AcrossSubtypes:
    """Every subtype's benchmark under this session's options (the same cached objects' maths
    as the benchmark page: `analysis.benchmark.benchmark_subtype`)."""
    return _across(this_cohort(), options or analysis_options())


@st.cache_resource(show_spinner=False)
def _catalog_arm_labels() -> dict[str, str]:
    cat = catalog()
    return arm_labels(cat.trials, cat.references)


def pool_columns(interval: str) -> dict[str, object]:
    """Column headers of every class-pool table (the level comes from the options in use).
    Narrow where the values are short, so the pooled ORR, its interval and I² fit in a
    900-pixel window beside the sidebar."""
    def number(label: str, width: int, **kwargs: object) -> object:
        return st.column_config.NumberColumn(label, width=width, **kwargs)  # type: ignore[arg-type]

    return {
        "class": st.column_config.TextColumn("Class", width=80),
        "k": number("k", 35, help="Arms pooled"),
        "events": number("Responders", 90),
        "n": number("Evaluable", 80),
        "estimate": number("ORR %", 65, format="%.1f", help="Pooled objective response rate"),
        "low": number(f"{interval} low", 95, format="%.1f"),
        "high": number(f"{interval} high", 95, format="%.1f"),
        # text: blank where the statistic is not estimable or not part of the model
        # (HETEROGENEITY_BLANKS says which), never "None"
        "tau2": st.column_config.TextColumn("τ²", width=55),
        "i2": st.column_config.TextColumn("I² %", width=55),
    }


#: What a blank τ² or I² cell means, under the class tables.
HETEROGENEITY_BLANKS = ("Blank τ² or I²: not estimable (a class of one arm, or every arm 0% or "
                        "every arm 100%)")
BAYES_BLANKS = "; the Bayesian model reports the posterior median of τ² and defines no I²"


def statistic_text(value: object, digits: int) -> str:
    """A heterogeneity statistic as a table cell: '' when missing (see HETEROGENEITY_BLANKS)."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    return f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def catalog_stamp() -> str:
    """The catalog's version and literature check date, for every export."""
    info = catalog().info
    return info.stamp() if info else "catalog version unknown"


def export_stamp(options: AnalysisOptions, cohort: ThisCohort, subtype: str | None = None) -> str:
    """The reproducibility line every export of a pooled view carries: subtype, options,
    catalog, and the cohort's caveat when it is not observed data."""
    stamp = "; ".join(filter(None, [subtype, options.stamp(), catalog_stamp()]))
    return stamp if cohort.is_real else f"{cohort.caveat} {stamp}"


def headline_row(count: int) -> list[DeltaGenerator]:
    """`count` boxes for headline metrics, side by side while they fit and wrapped onto the
    next line when they do not: a metric's label and value are never cut ("+3.3 p…"), as they
    were in equal columns on a narrow window."""
    row = st.container(horizontal=True, wrap=True, gap="medium")
    return [row.container(width="content") for _ in range(count)]


def plain_label(text: object) -> str:
    """A label for charts and tables (not Markdown): one line, trimmed."""
    return " ".join(str(text).split())[:120]


@st.cache_resource(show_spinner=False)
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
    csv_file(safe_csv(frame, note), label, file_name, key)


def csv_file(data: bytes, label: str, file_name: str, key: str) -> None:
    """A download button for CSV bytes already written by `safe_csv` (e.g. cached)."""
    st.download_button(label, data, file_name=file_name, mime="text/csv", key=key,
                       icon=":material/download:", on_click="ignore")


# Shared read-only like the catalog: callers copy what they change (forest.with_reference).
@st.cache_resource(show_spinner=False, max_entries=512, hash_funcs=BY_DIGEST)
def _spec(name: str, _builder: Callable[..., alt.TopLevelMixin | dict], args: tuple,
          kwargs: dict) -> dict:
    chart = _builder(*args, **kwargs)
    return chart if isinstance(chart, dict) else chart.to_dict(validate=False)


def chart_spec(builder: Callable[..., alt.TopLevelMixin | dict], *args: object,
               **kwargs: object) -> dict:
    """The Vega-Lite spec of `builder(*args, **kwargs)` (an Altair chart or a spec dict),
    built once per distinct arguments and shared, read-only.

    Building an Altair chart costs 0.1-1 s (it copies and checks every layer); a rerun that
    changes something else reuses the spec. The builders' specs are validated against the
    Vega-Lite schema in their own tests, not on every page run.
    """
    return _spec(f"{builder.__module__}.{builder.__qualname__}", builder, args, kwargs)


def show_chart(spec: dict, key: str, **kwargs: object) -> None:
    """`st.vega_lite_chart(spec)`, with the spec's rows sent as Arrow bytes made once per
    distinct rows.

    Streamlit turns a spec's rows (list of dicts) into Arrow on every rerun, through pandas,
    which was most of a warm rerun's chart cost; rows it is given as Arrow bytes in
    `datasets` it ships as they are. The bytes come from Streamlit's own converter, so the
    browser receives the same table as before. The JSON spec stays the one the PNG/SVG
    exports render.
    """
    shown = dict(spec)
    datasets = dict(shown.pop("datasets", {}))
    data = shown.get("data")
    if isinstance(data, dict) and isinstance(data.get("values"), list):
        name = _arrow(data["values"])[0]
        datasets[name] = data["values"]
        shown["data"] = {"name": name}
    if datasets:
        shown["datasets"] = {name: _arrow(rows)[1] for name, rows in datasets.items()}
    st.vega_lite_chart(shown, key=key, **kwargs)


# id(rows) -> (rows, content name, Arrow bytes). Cached specs are shared objects, so the same
# rows list comes back on every rerun: found by identity, it is not serialised again to look
# up its bytes. The entry holds the list, so its id cannot be reused while the entry lives.
_ARROW_BY_ROWS: dict[int, tuple[list, str, bytes]] = {}
_ARROW_LOCK = threading.Lock()


def _arrow(rows: list) -> tuple[str, bytes]:
    hit = _ARROW_BY_ROWS.get(id(rows))
    if hit is not None and hit[0] is rows:
        return hit[1], hit[2]
    text = json.dumps(rows)
    name = "rows-" + hashlib.md5(text.encode()).hexdigest()[:16]  # new rows, new name
    data = _arrow_rows(text)
    with _ARROW_LOCK:
        if len(_ARROW_BY_ROWS) >= 1024:
            _ARROW_BY_ROWS.pop(next(iter(_ARROW_BY_ROWS)))
        _ARROW_BY_ROWS[id(rows)] = (rows, name, data)
    return name, data


@st.cache_resource(show_spinner=False, max_entries=512)
def _arrow_rows(rows_json: str) -> bytes:
    return dataframe_util.convert_anything_to_arrow_bytes(json.loads(rows_json))


def chart_downloads(chart: alt.TopLevelMixin | dict | Callable[[], dict], basename: str,
                    key: str) -> None:
    """PNG and SVG buttons; the images are rendered only when clicked (vl-convert ~0.5 s).
    `chart` may be a function that builds the figure, so an export-only figure (e.g. the
    survival curve with its risk table) is not built until a click asks for it.

    A click must not rerun the page (on_click="ignore"): the rerun re-registered the buttons'
    deferred files under new ids and dropped the ones the click was fetching, so the button
    could spin forever (issue 15, Across subtypes; tests/test_browser.py).
    """
    def figure() -> alt.TopLevelMixin | dict:
        return chart() if callable(chart) else chart

    png, svg = st.columns(2)
    png.download_button(
        "Download PNG", lambda: chart_png(figure()), file_name=f"{basename}.png",
        mime="image/png", key=f"{key}_png", icon=":material/image:", on_click="ignore",
    )
    svg.download_button(
        "Download SVG", lambda: chart_svg(figure()), file_name=f"{basename}.svg",
        mime="image/svg+xml", key=f"{key}_svg", icon=":material/draw:", on_click="ignore",
    )
