"""The benchmark page for median PFS (months): this cohort's own median, each class's pooled
median with its method, the months forest plot and the methods text, all read from one
`analysis.median_pfs.MedianBenchmark`."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import BenchmarkError
from comparators.analysis.median_pfs import (
    NO_CERTAINTY,
    MedianBenchmark,
    interval_text,
    months_text,
)
from comparators.analysis.options import AnalysisOptions
from comparators.charts.median_forest import median_forest_chart, with_months_reference
from comparators.evidence.cohort import ThisCohort
from comparators.limits import MAX_MONTHS
from views.common import (
    NOT_APPLICABLE,
    NOT_REACHED,
    cell_text,
    chart_downloads,
    chart_spec,
    csv_download,
    export_stamp,
    headline_row,
    median_benchmark,
    plain,
    refusal_text,
    show_chart,
    statistic_text,
)
from views.share import link_number_input

#: What the sidebar offers that a median does not use, said once on the page.
NOT_FOR_MEDIANS = ("Median PFS is pooled from the arms' reported medians and intervals: the "
                   "sidebar's effect measure and interval for proportions do not apply (the "
                   "model, HKSJ, level, leave-outs and cohort switch do).")
def upper_limits(lows: Iterable[object], highs: Iterable[object]) -> list[str]:
    """Upper-limit cells: NR where the interval's upper limit was not reached, a dash where
    there is no interval at all."""
    def missing(v: object) -> bool:
        return v is None or bool(pd.isna(v))  # type: ignore[call-overload]

    return [NOT_APPLICABLE if missing(lo) else NOT_REACHED if missing(hi) else f"{hi:.2f}"
            for lo, hi in zip(lows, highs, strict=True)]


def render_median_benchmark(subtype: str, options: AnalysisOptions, cohort: ThisCohort) -> None:
    """The whole page below the subtype choice, for the median PFS endpoint."""
    st.caption(NOT_FOR_MEDIANS)
    try:
        bm = median_benchmark(subtype, options)
    except BenchmarkError as err:
        st.error(refusal_text(options, err, "Cannot pool median PFS"))
        return
    render_headline(bm, cohort)
    render_forest(bm)
    st.caption(NO_CERTAINTY)
    render_class_pools(bm, options, cohort)
    render_arms(bm)
    st.subheader("Methods")
    st.code(bm.methods_paragraph(), language=None, wrap_lines=True)
    for note in bm.notes:
        st.caption(plain(note))


def render_headline(bm: MedianBenchmark, cohort: ThisCohort) -> None:
    st.subheader("The questions")
    boxes = headline_row(1 + len(bm.class_pools))
    c = bm.cohort
    boxes[0].metric(f"{plain(cohort.label)}: median PFS",
                    c.value_text,
                    help=plain(c.source))
    boxes[0].caption(plain(f"95% CI {interval_text(c.low, c.high)}; {c.source}" if c.reported
                           else c.source))
    for box, pool in zip(boxes[1:], bm.class_pools.values(), strict=True):
        ci = interval_text(pool.low, pool.high)
        box.metric(pool.label, f"{months_text(pool.estimate)} months", help=pool.method_name)
        box.caption(f"{bm.options.interval_name} {ci}" if ci and pool.pooled is not None
                    else (f"reported interval {ci}" if ci else "no interval printed"))


def render_forest(bm: MedianBenchmark) -> None:
    reference = link_number_input(
        st.container(width=260), "Reference median PFS (months)", min_value=0.0,
        max_value=MAX_MONTHS, value=None, step=0.5, key="reference_months",
        placeholder="none",
        help="Draws a dashed line on the forest plot at a median you want to beat, in months.")
    spec = chart_spec(median_forest_chart, bm)
    chart = with_months_reference(spec, reference)
    show_chart(chart, key="median_forest")
    chart_downloads(chart, f"median_pfs_forest_{bm.subtype}", "median_forest")


def render_class_pools(bm: MedianBenchmark, options: AnalysisOptions,
                       cohort: ThisCohort) -> None:
    st.subheader(f"Median PFS by regimen class (months, {options.interval_name})")
    table = bm.class_table()
    shown = table.assign(
        estimate=cell_text(table["estimate"], "{:.2f}", NOT_APPLICABLE),
        low=cell_text(table["low"], "{:.2f}", NOT_APPLICABLE),
        high=upper_limits(table["low"], table["high"]),
        i2=[statistic_text(v, 1) for v in table["i2"]],
        tau2=[statistic_text(v, 4) for v in table["tau2"]])
    st.dataframe(
        shown, hide_index=True,
        column_order=["class", "k", "estimate", "low", "high", "method_name", "n", "i2",
                      "tau2", "scope"],
        column_config={"class": "Class", "k": "k", "estimate": "Median PFS (months)",
                       "low": f"{options.interval_name} low",
                       "high": f"{options.interval_name} high",
                       "method_name": "Pooled by", "n": "Patients", "i2": "I² %", "tau2": "τ²",
                       "scope": "What is pooled"},
        key="median_class_table")
    st.caption("Blank I² or τ²: not part of the method (median of medians, one arm). NR: upper "
               "limit not reached.")
    csv_download(table, "Download class pools (CSV)", f"median_pfs_classes_{bm.subtype}.csv",
                 "dl_median_classes", note=export_stamp(options, cohort, bm.subtype))


def render_arms(bm: MedianBenchmark) -> None:
    arms = bm.arms_frame()
    with st.expander(f"The {len(arms)} arms with a reported median PFS"):
        st.dataframe(
            arms.assign(median=cell_text(arms["median"], "{:.2f}", NOT_APPLICABLE),
                        low=cell_text(arms["low"], "{:.2f}", NOT_APPLICABLE),
                        high=upper_limits(arms["low"], arms["high"])),
            hide_index=True, column_order=["label", "class", "median", "low", "high", "n"],
            column_config={"label": "Arm", "class": "Class", "median": "Median PFS (months)",
                           "low": "Lower limit", "high": "Upper limit", "n": "Patients"},
            key="median_arm_table")
