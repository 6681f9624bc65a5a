"""Certainty of the evidence under a benchmark: the GRADE summary-of-findings table with a
footnote per rating, the risk-of-bias traffic lights of the studies pooled, and the
reproduction bundle. One call from the benchmark page and one per subtype on the summary page;
every number comes from the engine (analysis.certainty, reports.bundle)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import streamlit as st

from comparators.analysis.benchmark import SubtypeBenchmark
from comparators.analysis.certainty import SummaryOfFindings, certainty_of, summary_of_findings
from comparators.analysis.options import AnalysisOptions
from comparators.charts.risk_of_bias import traffic_light_chart
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.risk_of_bias import RiskOfBias, load_risk_of_bias
from comparators.evidence.search_log import SearchLog, load_search_log
from comparators.reports.bundle import build_bundle
from views.common import (
    BY_DIGEST,
    catalog,
    catalog_stamp,
    folded,
    plain,
    show_chart,
    subtype_benchmark,
)


@st.cache_resource(show_spinner=False)
def risk_of_bias() -> RiskOfBias:
    return load_risk_of_bias(catalog=catalog())


@st.cache_resource(show_spinner=False)
def search_log() -> SearchLog:
    return load_search_log(catalog=catalog())


@st.cache_resource(show_spinner=False, max_entries=256)
def traffic_lights(studies: tuple[str, ...], subtype: str) -> dict:
    """The traffic-light spec of these studies, built once and shared read-only."""
    return traffic_light_chart(risk_of_bias(), studies,
                               f"Risk of bias of the studies pooled ({subtype})")


@dataclass(frozen=True, eq=False)  # holds a table
class CertaintyDisplay:
    """A benchmark's summary of findings as shown: rated once, its table already Arrow."""

    sof: SummaryOfFindings
    table: pa.Table


def _display(bm: SubtypeBenchmark, cohort: ThisCohort, threshold: float | None
             ) -> CertaintyDisplay:
    sof = summary_of_findings(
        certainty_of(bm, catalog(), cohort, threshold, risk_of_bias(), search_log()))
    return CertaintyDisplay(sof, pa.Table.from_pandas(sof.table, preserve_index=False))


# Rated once per fit and threshold and shared read-only: rating and tabulating on every rerun
# was the benchmark page's dearest step. Keyed as the fit itself is (views.common._benchmark).
@st.cache_resource(show_spinner=False, max_entries=512, hash_funcs=BY_DIGEST)
def _cached_display(subtype: str, options: AnalysisOptions, cohort: ThisCohort,
                    threshold: float | None) -> CertaintyDisplay:
    return _display(subtype_benchmark(subtype, options, cohort), cohort, threshold)


def certainty_display(bm: SubtypeBenchmark, cohort: ThisCohort, threshold: float | None
                      ) -> CertaintyDisplay:
    """The cached display when `bm` is the shared fit of its subtype and options, else rated
    afresh (a benchmark fitted elsewhere is never answered from another's cache)."""
    if subtype_benchmark(bm.subtype, bm.options, cohort) is bm:
        return _cached_display(bm.subtype, bm.options, cohort, threshold)
    return _display(bm, cohort, threshold)


def show_certainty(bm: SubtypeBenchmark, cohort: ThisCohort, threshold: float | None = None,
                   key: str = "") -> None:
    """The summary of findings, the traffic lights and the bundle download for `bm`."""
    key = key or bm.subtype
    shown = certainty_display(bm, cohort, threshold)
    sof = shown.sof
    st.subheader(f"Certainty of the evidence (GRADE), {plain(bm.subtype)}")
    st.caption(plain(sof.caption))
    st.dataframe(shown.table, hide_index=True, key=f"sof_{key}")
    if box := folded(f"Why each rating ({len(sof.footnotes)} footnotes)", f"why_{key}"):
        box.text("\n".join(sof.lettered))
    if box := folded("Risk of bias of the studies pooled (traffic lights)", f"lights_{key}"):
        with box:
            show_chart(traffic_lights(tuple(str(s) for s in bm.rows["study"]), bm.subtype),
                       key=f"rob_{key}")
    method = ("metafor (R) and this package's API" if bm.options.method != "BAYES" else
              "this package's API (Bayesian: the README names bayesmeta for R)")
    st.download_button(
        f"Reproduction bundle ({bm.subtype}, .zip)", lambda: build_bundle(bm, catalog_stamp()),
        file_name=f"reproduce_{bm.subtype}.zip", mime="application/zip", key=f"bundle_{key}",
        icon=":material/download:", on_click="ignore",
        help=f"The rows used, the options, scripts that rerun the class pools with {method}, "
             "a manifest with versions and SHA-256 hashes, and a README.")
