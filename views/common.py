"""Thin adapters shared by the pages: cached data loading and the sidebar's options.

Not a page itself (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable
from typing import Generic, NoReturn, TypeVar

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
from comparators.analysis.median_pfs import MedianBenchmark, benchmark_median
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.added_rows import with_added_rows
from comparators.evidence.audit import audit_published, findings_frame
from comparators.evidence.catalog import Catalog, load_catalog
from comparators.evidence.cohort import SeedCohort, ThisCohort, load_seed_cohort, published_cohort
from comparators.evidence.labels import arm_labels, row_keys
from comparators.reports.export import (
    DEFAULT_FIGURE_WIDTH,
    FIGURE_WIDTHS_MM,
    chart_pdf,
    chart_png,
    chart_svg,
    safe_csv,
)
from comparators.reports.markup import md_escape
from comparators.reports.summary import summarisable_subtypes
from comparators.vocab import (
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    HKSJ_CHOICES,
    MEASURE_CHOICES,
    MODEL_CHOICES,
    Endpoint,
)
from views.share import ADDED_ARMS_KEY, keep_valid_link_values, link_choice, redraw_link


# The seed paper, the catalog and the audit are read once per server process and shared,
# read-only, by every session: st.cache_resource hands out the object itself, where
# st.cache_data would unpickle a fresh copy on every call (3-10 calls per rerun).
# tests/test_shared_resources.py runs every page and checks they are left unchanged.
@st.cache_resource(show_spinner=False)
def seed_cohort() -> SeedCohort:
    return load_seed_cohort()


@st.cache_resource(show_spinner=False)
def curated_catalog() -> Catalog:
    """The curated catalog of data/, shared read-only by every session."""
    return load_catalog()


# The arms a user added on the Comparator trials page (evidence.added_rows), and the catalog
# with them: this session's only, never in a link or in data/.
ADDED_CATALOG_KEY = "_catalog_with_added_arms"


def catalog() -> Catalog:
    """The catalog this session analyses: the curated one, plus the arms the user added."""
    added = st.session_state.get(ADDED_CATALOG_KEY)
    return added if isinstance(added, Catalog) else curated_catalog()


def added_arms() -> pd.DataFrame | None:
    """The rows the user added in this session (None when there are none)."""
    rows = st.session_state.get(ADDED_ARMS_KEY)
    return rows if isinstance(rows, pd.DataFrame) and not rows.empty else None


def set_added_arms(rows: pd.DataFrame | None) -> None:
    """Replace the session's added arms; every page then analyses the catalog with them."""
    if rows is None or rows.empty:
        st.session_state.pop(ADDED_ARMS_KEY, None)
        st.session_state.pop(ADDED_CATALOG_KEY, None)
        return
    st.session_state[ADDED_ARMS_KEY] = rows
    st.session_state[ADDED_CATALOG_KEY] = with_added_rows(curated_catalog(), rows)


@st.cache_resource(show_spinner=False)
def published() -> ThisCohort:
    """The seed paper's cohort as the catalog holds it (shared, read-only)."""
    return published_cohort(curated_catalog().trials)


def cohort_hash(cohort: ThisCohort) -> str:
    """Cached functions key a cohort by its content digest, computed once per cohort object,
    instead of hashing its table on every call; and by the session's added arms, because every
    result computed for a cohort reads the session's catalog (`catalog()`)."""
    return f"{cohort.digest}|{catalog().added_digest}"


def catalog_hash(cat: Catalog) -> str:
    """A catalog by the arms added to it ('' for the curated one: one per process)."""
    return cat.added_digest


#: hash_funcs for the cached functions that take a cohort, a catalog or the options: the cohort
#: by its digest, the options (a frozen dataclass of strings, numbers and a tuple) by their repr,
#: which Streamlit's generic hasher took about 0.35 ms to walk on every call.
BY_DIGEST = {ThisCohort: cohort_hash, AnalysisOptions: repr, Catalog: catalog_hash}
DEFAULT_OPTIONS = AnalysisOptions()


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


#: The subtype the benchmark page opens on (and the pages that follow its choice).
DEFAULT_SUBTYPE = "ASPS"


def analysis_options() -> AnalysisOptions:
    """The options object of this session: the sidebar's model and interval choices.

    Every choice that changes a pooled number is a widget in the sidebar of the pages that pool
    (model_controls), bound to the URL under these keys and kept across pages (persist_state), so
    a link from any of those pages reproduces its numbers and the pages agree with each other.
    A key no widget has set yet takes AnalysisOptions' own default.
    """
    get = st.session_state.get
    ci_method, level = ci_options()
    return AnalysisOptions(
        measure=str(get("measure", DEFAULT_OPTIONS.measure)),
        method=str(get("method", DEFAULT_OPTIONS.method)),
        hksj=bool(get("hksj", DEFAULT_OPTIONS.hksj)),
        hksj_variant=str(get("hksj_variant", DEFAULT_OPTIONS.hksj_variant)),
        level=level, ci_method=ci_method, exclude=tuple(get("exclude", None) or ()),
        include_cohort=bool(get("include_cohort", DEFAULT_OPTIONS.include_cohort)),
        include_overlapping=bool(get("overlapping", DEFAULT_OPTIONS.include_overlapping)),
        primary_only=bool(get("primary_only", DEFAULT_OPTIONS.primary_only)),
        low_risk_of_bias_only=bool(get("low_rob_only", DEFAULT_OPTIONS.low_risk_of_bias_only)),
        endpoint=(str(get("endpoint", DEFAULT_OPTIONS.endpoint))
                  if get(ENDPOINT_PAGE_KEY, True) else DEFAULT_ENDPOINT),
    )


#: The pages that pool the endpoint chosen in the sidebar; the others (What if: a scenario
#: edits response counts) pool the objective response rate whatever the choice.
ENDPOINT_PAGES = frozenset({"benchmark", "across-subtypes", "summary", "plan"})
ENDPOINT_PAGE_KEY = "_endpoint_page"  # set on every full run by model_controls


def refusal_text(options: AnalysisOptions, err: object = "", what: str = "Nothing to pool"
                 ) -> str:
    """A pooling the engine refused, as a page says it. The primary-source sensitivity
    analysis with another endpoint than response (the engine refuses it) is named with the
    way out."""
    if options.primary_only and options.endpoint != DEFAULT_ENDPOINT:
        return (f"Cannot pool the {ENDPOINTS[options.endpoint].name} with \"Primary-source rows "
                "only\": that sensitivity analysis is defined for the response counts only "
                "(the verification marks say where those were read). Turn the switch off in "
                "the sidebar, or choose the objective response rate (orr).")
    return f"{what}: {err}."


def chosen_subtype() -> str:
    """The subtype chosen on the benchmark page (the What-if and Plan pages open on it)."""
    return str(st.session_state.get("subtype", DEFAULT_SUBTYPE))


def comparable_subtypes() -> list[str]:
    """Subtypes with at least two arms in the catalog: the benchmark and summary choices."""
    return _comparable_subtypes(catalog())


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=BY_DIGEST)
def _comparable_subtypes(cat: Catalog) -> list[str]:
    return sorted(summarisable_subtypes(cat.trials))


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
            or DEFAULT_SUBTYPE
    codes = [value] if isinstance(value, str) else list(value)
    return {str(c).strip().upper() for c in codes}


@st.cache_resource(show_spinner=False, max_entries=128, hash_funcs=BY_DIGEST)
def _pooled_arms(subtypes: tuple[str, ...] | None, overlapping: bool,
                 cohort: ThisCohort) -> frozenset[str]:
    """Row keys of the comparator arms pooled in `subtypes` (None: every subtype)."""
    rows = comparator_rows(catalog().trials, cohort, overlapping)
    if subtypes is not None:
        rows = rows[rows["subtype"].astype(str).str.upper().isin(subtypes)]
    return frozenset(row_keys(rows))


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


def model_controls(page: str | None = None) -> AnalysisOptions:
    """The pooling model in the sidebar (codes as the CLI spells them, so links use them).
    `page` (its url_path) decides which arms the leave-out menu offers."""
    arms = leave_out_options(page)
    names = _catalog_arm_labels()  # read once: the menu names every arm on every run

    def arm_name(key: str) -> str:
        return names.get(key, key)

    st.session_state[ENDPOINT_PAGE_KEY] = page is None or page in ENDPOINT_PAGES
    keep_valid_link_values("exclude", arms, arm_name)  # a link may name arms by key
    with st.sidebar:
        st.subheader("Pooling model")
        link_choice("endpoint", list(ENDPOINTS))  # codes in any case: endpoint=PFS6
        (st.selectbox if st.session_state[ENDPOINT_PAGE_KEY] else _endpoint_fixed)(
            "Endpoint", list(ENDPOINTS), index=list(ENDPOINTS).index(AnalysisOptions.endpoint),
            key="endpoint", bind="query-params", persist_state="session",
            help="What is pooled: a proportion of patients, or median PFS in months (codes "
                 "as the CLI spells them, so links use them): "
                 + "; ".join(f"{e.code}, {e.name}: {e.numerator}"
                             + (f" among {e.denominator}" if e.is_proportion else "")
                             for e in ENDPOINTS.values())
                 + ". Safety is reported per arm: each arm's all-subtype counts.")
        for key, codes in (("measure", MEASURE_CHOICES), ("method", MODEL_CHOICES),
                           ("hksj_variant", HKSJ_CHOICES)):
            link_choice(key, list(codes))  # codes in any case: method=reml
        st.selectbox(
            "Effect measure", MEASURE_CHOICES.codes,
            index=MEASURE_CHOICES.codes.index(AnalysisOptions.measure), key="measure",
            bind="query-params", persist_state="session", help=MEASURE_CHOICES.menu_help())
        st.selectbox(
            "Model", MODEL_CHOICES.codes, index=MODEL_CHOICES.codes.index(AnalysisOptions.method),
            key="method", bind="query-params", persist_state="session",
            help=MODEL_CHOICES.menu_help()
            + ". GLMM suits small counts and 0%/100% arms.")
        hksj = st.toggle("HKSJ interval", key="hksj", bind="query-params",
                         persist_state="session",
                         help="Hartung-Knapp-Sidik-Jonkman: t distribution with k - 1 df.")
        if hksj:
            st.selectbox(
                "HKSJ variant", HKSJ_CHOICES.codes,
                index=HKSJ_CHOICES.codes.index(AnalysisOptions.hksj_variant), key="hksj_variant",
                bind="query-params",
                persist_state="session",
                help=HKSJ_CHOICES.menu_help())
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
        st.toggle(
            "Low risk of bias only", key="low_rob_only", bind="query-params",
            persist_state="session",
            help="Sensitivity analysis: pool only comparator arms of studies judged low risk "
                 "of bias overall (MINORS; see the traffic lights under the forest plot).")
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
    return benchmark_subtype(_rows(subtype, cohort, options.include_overlapping,
                                   options.endpoint == "grade3"), options)


# A subtype's rows do not depend on the model or the level: built once, refitted per option.
# The grade >= 3 TRAE endpoint needs each arm's all-subtype safety counts beside them.
@st.cache_resource(show_spinner=False, max_entries=256, hash_funcs=BY_DIGEST)
def _rows(subtype: str, cohort: ThisCohort, overlapping: bool, safety: bool = False
          ) -> pd.DataFrame:
    return subtype_rows(catalog().trials, cohort, subtype, overlapping, _catalog_arm_labels(),
                        "grade3" if safety else DEFAULT_ENDPOINT)


@st.cache_resource(show_spinner=False, max_entries=256, hash_funcs=BY_DIGEST)
def _median_benchmark(subtype: str, options: AnalysisOptions, cohort: ThisCohort
                      ) -> MedianBenchmark:
    return benchmark_median(_rows(subtype, cohort, options.include_overlapping), options, cohort)


def median_benchmark(subtype: str, options: AnalysisOptions | None = None) -> MedianBenchmark:
    """The median PFS benchmark for `subtype` with this session's options and cohort."""
    return _median_benchmark(subtype, options or analysis_options(), this_cohort())


def endpoint_is_median(options: AnalysisOptions) -> bool:
    """The chosen endpoint is a median time (months), not a proportion."""
    return not ENDPOINTS[options.endpoint].is_proportion


def median_not_supported(what: str) -> None:
    """The one line a page (or section) that pools proportions shows for median PFS."""
    st.info(f"{what} pools proportions of patients; median PFS (months) is not supported "
            "here. Its pooled medians per class are on *Benchmark a subtype*; choose a rate "
            "endpoint in the sidebar for this page.", icon=":material/info:")


def stop_with_link() -> NoReturn:
    """End the page here (st.stop), with the sidebar's link to this view drawn first: the
    entry point draws it only after a page that runs to its end."""
    redraw_link()
    st.stop()


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


K = TypeVar("K")
V = TypeVar("V")


class ByIdentity(Generic[K, V]):
    """A value per live object, found by the object's identity rather than by hashing its
    content: for shared objects a page meets on every rerun (a cached spec's rows, the
    session's catalog). Each entry holds its object, so the id cannot be reused while the entry
    lives; the oldest entry goes first beyond `size`."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: dict[int, tuple[K, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: K, make: Callable[[], V]) -> V:
        hit = self._entries.get(id(key))
        if hit is not None and hit[0] is key:
            return hit[1]
        value = make()
        with self._lock:
            if len(self._entries) >= self._size:
                self._entries.pop(next(iter(self._entries)))
            self._entries[id(key)] = (key, value)
        return value


_LABELS_BY_CATALOG: ByIdentity[Catalog, dict[str, str]] = ByIdentity(64)


def _catalog_arm_labels() -> dict[str, str]:
    """The arm labels of this session's catalog. The leave-out menu names every arm through
    this on every run, so the catalog is found by identity (as `_arrow` finds rows) rather
    than through a cache lookup per arm."""
    cat = catalog()
    return _LABELS_BY_CATALOG.get(cat, lambda: _arm_labels(cat))


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=BY_DIGEST)
def _arm_labels(cat: Catalog) -> dict[str, str]:
    return arm_labels(cat.trials, cat.references)


def _endpoint_fixed(label: str, options: list[str], **kwargs: object) -> None:
    """On a page that pools response only, the endpoint menu says so instead of offering a
    choice the page would ignore (the chosen endpoint stays for the pages that use it)."""
    st.caption(f"{label}: {endpoint_label(DEFAULT_ENDPOINT)} on this page.")


def endpoint_label(code: str) -> str:
    """An endpoint as the sidebar menu names it: 'PFS-6 (6-month progression-free rate)'."""
    e = ENDPOINTS[code]
    return f"{e.short} ({e.name})" if e.short.lower() != e.name.lower() else e.name


def pool_columns(interval: str, endpoint: Endpoint | None = None) -> dict[str, object]:
    """Column headers of every class-pool table (the level and the endpoint come from the
    result shown).
    Narrow where the values are short, so the pooled ORR, its interval and I² fit in a
    900-pixel window beside the sidebar."""
    e = endpoint or ENDPOINTS[DEFAULT_ENDPOINT]

    def number(label: str, width: int, **kwargs: object) -> object:
        return st.column_config.NumberColumn(label, width=width, **kwargs)  # type: ignore[arg-type]

    return {
        "class": st.column_config.TextColumn("Class", width=80),
        "k": number("k", 35, help="Arms pooled"),
        "events": number(e.counted, 90),
        "n": number("Evaluable" if e.code in ("orr", "dcr") else "n", 80, help=e.denominator),
        "estimate": number(f"{e.short} %", 65, format="%.1f", help=f"Pooled {e.name}"),
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


#: The missing value of a cell, in the field's words: the text of a text column, or a numeric
#: table's `placeholder` (st.dataframe shows a missing cell as "None" without one).
NOT_PRINTED = "–"  # the source table prints a dash
NOT_REPORTED = "–"  # the source does not report the number
NOT_REACHED = "NR"  # a Kaplan-Meier median or limit the curve never reaches
NOT_ESTIMABLE = "not estimable"
NOT_APPLICABLE = "—"


def cell_text(values: Iterable[object], number_format: str, missing: str) -> list[str]:
    """Table cells: each number in `number_format` (e.g. "{:.1f}"), each missing value (None,
    NaN, pd.NA) as `missing`, text as it is."""
    def one(value: object) -> str:
        if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
            return missing
        return value if isinstance(value, str) else number_format.format(value)

    return [one(v) for v in values]


def statistic_text(value: object, digits: int) -> str:
    """A heterogeneity statistic as a table cell: '' when missing (see HETEROGENEITY_BLANKS)."""
    if value is None or pd.isna(value):  # type: ignore[call-overload]
        return ""
    return f"{float(value):.{digits}f}"  # type: ignore[arg-type]


def catalog_stamp() -> str:
    """The catalog's version and literature check date, for every export."""
    return catalog().stamp()


def export_stamp(options: AnalysisOptions, cohort: ThisCohort, subtype: str | None = None) -> str:
    """The reproducibility line every export of a pooled view carries: subtype, options,
    catalog, and the cohort's caveat when it is not observed data."""
    stamp = "; ".join(filter(None, [subtype, options.stamp(), catalog_stamp()]))
    return stamp if cohort.is_real else f"{cohort.caveat} {stamp}"


def folded(label: str, key: str, **kwargs: object) -> DeltaGenerator | None:
    """An expander whose content is built only while it is open: the container to fill, or
    None when closed. Opening or closing it reruns its section (or the page). A closed
    expander's chart or table would otherwise be built, sent and drawn on every rerun
    without being seen."""
    box = st.expander(label, key=key, on_change="rerun", **kwargs)  # type: ignore[arg-type]
    return box if box.open else None


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
    """The interval method and level chosen in the sidebar (defaults: AnalysisOptions')."""
    return (st.session_state.get("ci_method", DEFAULT_OPTIONS.ci_method),
            st.session_state.get("ci_level", DEFAULT_OPTIONS.level))


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

    A spec costs milliseconds to build (3-10 ms for the dict builders; an Altair chart copies
    and checks every layer, 15-55 ms); a rerun that changes something else reuses it. The
    builders' specs are validated against the Vega-Lite schema in their own tests, not on every
    page run.
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


# Cached specs are shared objects, so the same rows list comes back on every rerun: found by
# identity, it is not serialised again to look up its bytes (content name, Arrow bytes).
_ARROW_BY_ROWS: ByIdentity[list, tuple[str, bytes]] = ByIdentity(1024)


def _arrow(rows: list) -> tuple[str, bytes]:
    return _ARROW_BY_ROWS.get(rows, lambda: _named_arrow(rows))


def _named_arrow(rows: list) -> tuple[str, bytes]:
    text = json.dumps(rows)
    name = "rows-" + hashlib.md5(text.encode()).hexdigest()[:16]  # new rows, new name
    return name, _arrow_rows(text)


@st.cache_resource(show_spinner=False, max_entries=512)
def _arrow_rows(rows_json: str) -> bytes:
    return dataframe_util.convert_anything_to_arrow_bytes(json.loads(rows_json))


def chart_downloads(chart: alt.TopLevelMixin | dict | Callable[[], dict], basename: str,
                    key: str) -> None:
    """PNG, SVG and PDF buttons at a journal figure width (one column, 85 mm, or two, 175 mm;
    two by default); the images are rendered only when clicked (vl-convert is slow).
    `chart` may be a function that builds the figure, so an export-only figure (e.g. the
    survival curve with its risk table) is not built until a click asks for it.

    A click must not rerun the page (on_click="ignore"): the rerun re-registered the buttons'
    deferred files under new ids and dropped the ones the click was fetching, so the button
    could spin forever (tests/test_browser.py holds this).
    """
    def figure() -> alt.TopLevelMixin | dict:
        return chart() if callable(chart) else chart

    width = st.segmented_control(
        "Figure width", list(FIGURE_WIDTHS_MM), default=DEFAULT_FIGURE_WIDTH,
        key=f"{key}_width",
        format_func=lambda w: f"{w.capitalize()} column ({FIGURE_WIDTHS_MM[w]:g} mm)",
        help="Journal widths: the PNG (300 ppi), SVG and PDF are this wide.",
    ) or DEFAULT_FIGURE_WIDTH
    name = f"{basename}_{FIGURE_WIDTHS_MM[width]:g}mm"
    png, svg, pdf = st.columns(3)
    png.download_button(
        "Download PNG", lambda: chart_png(figure(), width), file_name=f"{name}.png",
        mime="image/png", key=f"{key}_png", icon=":material/image:", on_click="ignore",
    )
    svg.download_button(
        "Download SVG", lambda: chart_svg(figure(), width), file_name=f"{name}.svg",
        mime="image/svg+xml", key=f"{key}_svg", icon=":material/draw:", on_click="ignore",
    )
    pdf.download_button(
        "Download PDF", lambda: chart_pdf(figure(), width), file_name=f"{name}.pdf",
        mime="application/pdf", key=f"{key}_pdf", icon=":material/picture_as_pdf:",
        on_click="ignore", help="Vector PDF with its fonts embedded",
    )
