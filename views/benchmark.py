"""Benchmark a subtype: this cohort against the pooled comparators of its class, and AI+ICI
against ICI alone; the forest plot, the class table and the methods text, all read from one
`analysis.benchmark.SubtypeBenchmark`."""

import streamlit as st

from comparators.analysis.benchmark import BenchmarkError, SubtypeBenchmark
from comparators.analysis.endpoints import SAFETY_NOTE
from comparators.analysis.options import AnalysisOptions
from comparators.charts.forest import with_reference
from comparators.evidence.cohort import ThisCohort
from comparators.reports.summary import (
    ReferenceLine,
    endpoint_of,
    rate_phrase,
    reference_sentence,
)
from comparators.stats.proportions import percent
from comparators.vocab import DEFAULT_ENDPOINT, Endpoint
from views.benchmark_display import (
    BenchmarkDisplay,
    benchmark_display,
    eortc_reference_lines,
)
from views.benchmark_median import render_median_benchmark
from views.certainty_display import show_certainty
from views.common import (
    BAYES_BLANKS,
    DEFAULT_SUBTYPE,
    HETEROGENEITY_BLANKS,
    analysis_options,
    catalog,
    chart_downloads,
    cohort_banner,
    comparable_subtypes,
    csv_file,
    endpoint_is_median,
    folded,
    headline_row,
    p_text,
    plain,
    pool_columns,
    refusal_text,
    show_chart,
    subtype_benchmark,
    this_cohort,
)
from views.sections import section
from views.share import keep_valid_link_values, link_choice, link_number_input


def render_intro(cohort: ThisCohort) -> None:
    st.title("Benchmark a subtype")
    st.caption(
        "This cohort against the pooled comparator arms of its regimen class, and pooled AI+ICI "
        "against pooled ICI alone, with the forest plot, heterogeneity and a paragraph of "
        "methods to paste into a grant. The pooling model is in the sidebar."
    )
    cohort_banner(cohort)


def choose_subtype() -> str:
    """The subtype, among those with at least two arms (something to compare with)."""
    subtypes = comparable_subtypes()
    names = catalog().subtype_names
    controls = st.columns([1.2, 4.6])
    link_choice("subtype", subtypes)
    subtype = controls[0].selectbox(
        "Subtype", subtypes, index=subtypes.index(DEFAULT_SUBTYPE),
        key="subtype", bind="query-params", persist_state="session",
        help="Subtype codes as in data/subtypes.csv and the CLI.",
    )
    controls[1].markdown(f"**{plain(subtype)}** – {plain(names.get(subtype, subtype))}")
    return str(subtype)


def render_questions(bm: SubtypeBenchmark, cohort: ThisCohort, subtype: str,
                     options: AnalysisOptions) -> None:
    """The headline: this cohort's rate of the endpoint, and the comparisons an investigator
    asks first."""
    st.subheader("The questions")
    interval = options.interval_name
    e = endpoint_of(bm)
    cohort_row = bm.cohort_row
    heads = headline_row(1 + len(bm.headline))
    if cohort_row is not None:
        counted, n = int(cohort_row["responders"]), int(cohort_row["evaluable"])
        heads[0].metric(f"{plain(cohort.label)}: {e.short}", percent(counted / n),
                        help=f"{e.numerator[0].upper()}{e.numerator[1:]} / {e.denominator}")
        heads[0].caption(f"{counted}/{n}: {e.numerator} among {e.denominator}")
    elif e.code != DEFAULT_ENDPOINT:
        heads[0].metric(f"{plain(cohort.label)}: {e.short}", "not reported",
                        help=f"This cohort does not report the {e.name} for {subtype}")
    else:
        heads[0].metric(f"{plain(cohort.label)}: {e.short}", "no data",
                        help=f"No {subtype} row in this cohort")
    for box, comparison in zip(heads[1:], bm.headline, strict=False):
        box.metric(comparison.what, f"{100 * comparison.difference:+.1f} points",
                   help=comparison.test)
        box.caption(f"{interval} {100 * comparison.low:+.1f} to {100 * comparison.high:+.1f}; "
                    f"{comparison.evidence}; patients {comparison.n_a} vs {comparison.n_b}")
    if cohort_row is not None and not any(c.a == "This cohort" for c in bm.headline):
        why = ("it is the only AI+ICI arm in its class pool" if "AI+ICI" in bm.class_pools
               else f"no AI+ICI comparator arm reported {subtype}")
        st.info(f"No comparison of this cohort with pooled AI+ICI: {why}.")


@section(self_contained=True)
def render_forest(subtype: str, shown: BenchmarkDisplay, bm: SubtypeBenchmark,
                  cohort: ThisCohort) -> None:
    """The forest plot, its reference lines and the summary of findings (the typed reference
    is its decision threshold): typing a reference reruns only this section."""
    e = endpoint_of(bm)
    reference = link_number_input(
        st.container(width=260), f"Reference {e.short} (%)", min_value=0.0, max_value=100.0,
        value=None, step=1.0, key="reference", placeholder="none",
        help=f"Draws a dashed line on the forest plot, e.g. a historical {e.short} you want "
             "to beat.",
    )
    # A typed reference is added to the cached spec as two layers (no rebuild). The
    # figure's subtitle explains every mark it shows, so the PNG and SVG carry their legend.
    chart = with_reference(shown.spec, None if reference is None else reference / 100)
    eortc = chosen_reference_lines(bm)
    for line in eortc:
        chart = with_reference(chart, line.rate, line.chart_label)
    show_chart(chart, key="forest")
    if eortc:
        st.caption(plain(reference_sentence(bm, eortc)))
    chart_downloads(chart, f"forest_{subtype}", "forest")
    csv_file(shown.forest_csv, "Download forest data (CSV)", f"forest_{subtype}.csv",
             "dl_forest")
    show_certainty(bm, cohort, None if reference is None else reference / 100)


def chosen_reference_lines(bm: SubtypeBenchmark) -> list[ReferenceLine]:
    """The EORTC reference values the user draws on a progression-free-rate forest plot."""
    offered = eortc_reference_lines(bm.options.endpoint, bm.subtype)
    if not offered:
        return []
    by_id = {line.id: line for line in offered}

    def name(rid: str) -> str:
        return f"{by_id[rid].chart_label}: {100 * by_id[rid].rate:.0f}%"

    # the URL carries the shown names; a link may also give the ids
    keep_valid_link_values("eortc_refs", list(by_id), name)
    chosen = st.multiselect(
        "EORTC reference values", list(by_id), key="eortc_refs", bind="query-params",
        format_func=name, placeholder="none",
        help="Progression-free-rate reference values of the EORTC Soft Tissue and Bone Sarcoma "
             "Group (data/reference_values.csv), for all soft-tissue sarcoma and this subtype "
             "at this landmark; each is drawn as a dashed line labelled with its source.")
    return [by_id[rid] for rid in chosen if rid in by_id]


def render_safety(bm: SubtypeBenchmark) -> None:
    """On the grade >= 3 TRAE endpoint, why each rate is an arm's (all its treated patients),
    not this subtype's alone."""
    if endpoint_of(bm).code != "grade3":
        return
    st.info(SAFETY_NOTE, icon=":material/health_and_safety:")


def render_class_pools(bm: SubtypeBenchmark, shown: BenchmarkDisplay, subtype: str,
                       options: AnalysisOptions) -> None:
    interval = options.interval_name
    e = endpoint_of(bm)
    st.subheader(f"Pooled {e.short} by regimen class ({interval})")
    st.dataframe(
        shown.classes,
        hide_index=True,
        column_order=["class", "k", "estimate", "low", "high", "i2", "tau2", "events", "n",
                      "scope", "estimable"],
        column_config=pool_columns(interval, e) | {"scope": "What is pooled",
                                                "estimable": "Estimable"},
        key="class_table",
    )
    st.caption(HETEROGENEITY_BLANKS + (BAYES_BLANKS if options.method == "BAYES" else "")
               + ".")
    csv_file(shown.classes_csv, "Download class pools (CSV)", f"class_pools_{subtype}.csv",
             "dl_classes")
    if bm.q_between is not None:
        st.caption(f"Test for subgroup differences between classes: Q = {bm.q_between:.2f}, "
                   f"df {bm.q_between_df}, {p_text(bm.q_between_p)}.")
    if bm.fit.pi_low is not None:
        st.caption(f"Prediction interval for the {rate_phrase(bm)} of a new arm (all included "
                   "arms): "
                   f"{percent(bm.fit.pi_low)}–{percent(bm.fit.pi_high)}.")


def render_comparisons(shown: BenchmarkDisplay, cohort: ThisCohort, subtype: str,
                       interval: str, e: Endpoint) -> None:
    """This cohort against each comparator arm, in an expander."""
    box = folded(f"{plain(cohort.label)} against each comparator arm", "comparisons_open")
    if box is None:
        return
    with box:
        st.dataframe(
            shown.comparisons,
            hide_index=True,
            # the answer first (difference, interval, evidence, test), the two rates after
            column_order=["b_label", "difference", "low", "high", "p", "prob_positive", "test",
                          "a_estimate", "b_estimate"],
            column_config={
                "b_label": "Comparator arm",
                "a_estimate": st.column_config.NumberColumn(f"This cohort {e.short} %",
                                                            format="%.1f"),
                "b_estimate": st.column_config.NumberColumn(f"Comparator {e.short} %",
                                                            format="%.1f"),
                "difference": st.column_config.NumberColumn("Difference (points)",
                                                            format="%+.1f"),
                "low": st.column_config.NumberColumn(f"{interval} low", format="%+.1f"),
                "high": st.column_config.NumberColumn(f"{interval} high", format="%+.1f"),
                "p": st.column_config.NumberColumn("p", format="%.3f"),
                "prob_positive": st.column_config.NumberColumn(
                    "P(difference > 0)", format="%.3f",
                    help=f"Posterior probability that this cohort's {e.short} is above the "
                         "arm's"),
                "test": "Method",
            },
            key="comparison_table",
        )
        csv_file(shown.comparisons_csv, "Download comparisons (CSV)",
                 f"comparisons_{subtype}.csv", "dl_comparisons")


def render_methods(bm: SubtypeBenchmark) -> None:
    st.subheader("Methods")
    st.code(bm.methods_paragraph(), language=None, wrap_lines=True)
    for note in bm.notes:
        st.caption(plain(note))


def render_rates(subtype: str, options: AnalysisOptions, cohort: ThisCohort) -> None:
    """The page for an endpoint that is a proportion of patients."""
    try:
        bm = subtype_benchmark(subtype, options)
    except BenchmarkError as err:
        st.error(refusal_text(options, err))
        return
    shown = benchmark_display(subtype, options, cohort)
    render_questions(bm, cohort, subtype, options)
    render_safety(bm)
    render_forest(subtype, shown, bm, cohort)
    render_class_pools(bm, shown, subtype, options)
    if bm.comparisons:
        render_comparisons(shown, cohort, subtype, options.interval_name, endpoint_of(bm))
    render_methods(bm)


cohort = this_cohort()
options = analysis_options()
render_intro(cohort)
subtype = choose_subtype()
if endpoint_is_median(options):  # a time in months: its own pooling, table and forest
    render_median_benchmark(subtype, options, cohort)
else:
    render_rates(subtype, options, cohort)
