"""What the benchmark page draws, tabulates and offers for download, built once per fit.

Imported by views/benchmark.py rather than defined in it: a page script is executed afresh on
every rerun, so a dataclass or cached function defined there is rebuilt each time.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import streamlit as st

from comparators.analysis.options import AnalysisOptions
from comparators.charts.forest import forest_chart, forest_data, forest_rows
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.reference_values import load_reference_values
from comparators.reports.export import safe_csv
from comparators.reports.summary import (
    ReferenceLine,
    chart_texts,
    endpoint_of,
    reference_lines,
)
from views.common import (
    BY_DIGEST,
    catalog,
    catalog_stamp,
    curated_catalog,
    export_stamp,
    statistic_text,
    subtype_benchmark,
)


@dataclass(frozen=True, eq=False)  # holds frames
class BenchmarkDisplay:
    """The forest plot, the tables and the CSV files of one fitted benchmark."""

    spec: dict  # Vega-Lite, without a reference line; its subtitle explains its marks
    # The two tables as shown (ORRs in %), already Arrow: st.dataframe would convert a
    # DataFrame again on every rerun.
    classes: pa.Table  # the class pools
    comparisons: pa.Table  # this cohort against each comparator arm
    forest_csv: bytes  # the plotted rows
    classes_csv: bytes
    comparisons_csv: bytes


@st.cache_resource(show_spinner=False, max_entries=256, hash_funcs=BY_DIGEST)
def benchmark_display(subtype: str, options: AnalysisOptions,
                      cohort: ThisCohort) -> BenchmarkDisplay:
    """Drawn and written once per subtype, options and cohort, from the page's cached fit
    (shared, read-only). Every file carries the reproducibility stamp."""
    bm = subtype_benchmark(subtype, options, cohort)
    rows = forest_rows(bm)  # arms named and marked from the benchmark's own rows
    sources = "Sources: see the Comparator trials page; " + catalog_stamp()
    name = catalog().subtype_names
    title, subtitle, x_title = chart_texts(bm, name.get(subtype, subtype), cohort, sources)
    stamp = export_stamp(options, cohort, subtype)
    spec = forest_chart(rows, None, title, list(subtitle), x_title,
                        options.figure_interval_name, endpoint=endpoint_of(bm))
    classes, comparisons = bm.class_table(), bm.comparisons_frame()
    shown_classes = classes.assign(
        **{c: 100 * classes[c] for c in ("estimate", "low", "high")},
        tau2=[statistic_text(v, 3) for v in classes["tau2"]],
        i2=[statistic_text(v, 0) for v in classes["i2"]],
        estimable=classes["estimable"].map({True: "yes", False: "no: summed counts, exact CI"}),
    )[["class", "scope", "k", "events", "n", "estimate", "low", "high", "tau2", "i2",
       "estimable"]]
    shown_comparisons = pd.DataFrame()
    if not comparisons.empty:  # no comparator arm: the page shows no table
        evidence = "prob_positive" if options.method == "BAYES" else "p"
        shown_comparisons = comparisons.assign(
            **{c: 100 * comparisons[c]
               for c in ("a_estimate", "b_estimate", "difference", "low", "high")},
        )[["b_label", "a_estimate", "b_estimate", "difference", "low", "high", evidence,
           "test"]]
    return BenchmarkDisplay(spec,
                            pa.Table.from_pandas(shown_classes, preserve_index=False),
                            pa.Table.from_pandas(shown_comparisons, preserve_index=False),
                            safe_csv(forest_data(rows), stamp),
                            safe_csv(classes, stamp), safe_csv(comparisons, stamp))


@st.cache_resource(show_spinner=False, max_entries=1)
def reference_values() -> pd.DataFrame:
    """data/reference_values.csv, read and checked once (shared, read-only)."""
    return load_reference_values()


@st.cache_resource(show_spinner=False, max_entries=64)
def eortc_reference_lines(endpoint: str, subtype: str) -> list[ReferenceLine]:
    """The EORTC reference values offered for `endpoint` in `subtype` (shared, read-only)."""
    return reference_lines(reference_values(), curated_catalog().references, endpoint, subtype)
