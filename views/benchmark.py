"""Benchmark a subtype: this cohort against the pooled comparators of its class, and AI+ICI
against ICI alone; the forest plot, the class table and the methods text, all read from one
`analysis.benchmark.SubtypeBenchmark`."""

import streamlit as st

from comparators.analysis.benchmark import BenchmarkError
from comparators.charts.forest import with_reference
from comparators.stats.proportions import percent
from views.benchmark_display import benchmark_display
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
    p_text,
    plain,
    pool_columns,
    show_chart,
    subtype_benchmark,
    this_cohort,
)
from views.share import link_choice, link_number_input

cat = catalog()
cohort = this_cohort()
options = analysis_options()
names = cat.subtype_names
subtypes = comparable_subtypes()  # at least two arms: something to compare with

st.title("Benchmark a subtype")
st.caption(
    "This cohort against the pooled comparator arms of its regimen class, and pooled AI+ICI "
    "against pooled ICI alone, with the forest plot, heterogeneity and a paragraph of methods "
    "to paste into a grant. The pooling model is in the sidebar."
)
cohort_banner(cohort)

controls = st.columns([1.2, 3, 1.6])
link_choice("subtype", subtypes)
subtype = controls[0].selectbox(
    "Subtype", subtypes, index=subtypes.index(DEFAULT_SUBTYPE),
    key="subtype", bind="query-params", persist_state="session",
    help="Subtype codes as in data/subtypes.csv and the CLI.",
)
controls[1].markdown(f"**{plain(subtype)}** – {plain(names.get(subtype, subtype))}")
reference = link_number_input(
    controls[2], "Reference ORR (%)", min_value=0.0, max_value=100.0, value=None, step=1.0,
    key="reference", placeholder="none",
    help="Draws a dashed line, e.g. a historical ORR you want to beat.",
)

try:
    bm = subtype_benchmark(subtype, options)
except BenchmarkError as err:
    st.error(f"Nothing to pool: {err}.")
    st.stop()
fit = bm.fit
interval = options.interval_name

# --- The investigator's questions ---------------------------------------------------------------
st.subheader("The questions")
cohort_row = bm.cohort_row
heads = st.columns(3)
if cohort_row is not None:
    heads[0].metric(f"{plain(cohort.label)}: ORR",
                    f"{percent(int(cohort_row['responders']) / int(cohort_row['evaluable']))}",
                    help="Responders / evaluable patients")
    heads[0].caption(f"{int(cohort_row['responders'])}/{int(cohort_row['evaluable'])} "
                     "responders/evaluable")
else:
    heads[0].metric(f"{plain(cohort.label)}: ORR", "no data",
                    help=f"No {subtype} row in this cohort")
bayes = options.method == "BAYES"
for col, comparison in zip(heads[1:], bm.headline, strict=False):
    col.metric(comparison.what, f"{100 * comparison.difference:+.1f} points",
               help=comparison.test)
    col.caption(f"{interval} {100 * comparison.low:+.1f} to {100 * comparison.high:+.1f}; "
                f"{comparison.evidence}; patients {comparison.n_a} vs {comparison.n_b}")
if cohort_row is not None and not any(c.a == "This cohort" for c in bm.headline):
    why = ("it is the only AI+ICI arm in its class pool" if "AI+ICI" in bm.class_pools
           else f"no AI+ICI comparator arm reported {subtype}")
    st.info(f"No comparison of this cohort with pooled AI+ICI: {why}.")

# --- Forest plot --------------------------------------------------------------------------------
shown = benchmark_display(subtype, options, cohort)
# A typed reference ORR is added to the cached spec as two layers (no rebuild). The figure's
# subtitle explains every mark it shows, so the PNG and SVG carry their legend.
chart = with_reference(shown.spec, None if reference is None else reference / 100)
show_chart(chart, key="forest")
chart_downloads(chart, f"forest_{subtype}", "forest")
csv_file(shown.forest_csv, "Download forest data (CSV)", f"forest_{subtype}.csv", "dl_forest")
show_certainty(bm, cohort, None if reference is None else reference / 100)

# --- Class pools --------------------------------------------------------------------------------
st.subheader(f"Pooled ORR by regimen class ({interval})")
st.dataframe(
    shown.classes,
    hide_index=True,
    column_config=pool_columns(interval) | {"scope": "What is pooled",
                                            "estimable": "Estimable"},
    key="class_table",
)
st.caption(HETEROGENEITY_BLANKS + (BAYES_BLANKS if bayes else "") + ".")
csv_file(shown.classes_csv, "Download class pools (CSV)", f"class_pools_{subtype}.csv",
         "dl_classes")
if bm.q_between is not None:
    st.caption(f"Test for subgroup differences between classes: Q = {bm.q_between:.2f}, "
               f"df {bm.q_between_df}, {p_text(bm.q_between_p)}.")
if fit.pi_low is not None:
    st.caption(f"Prediction interval for the ORR of a new arm (all included arms): "
               f"{percent(fit.pi_low)}–{percent(fit.pi_high)}.")

if bm.comparisons:
    with st.expander(f"{plain(cohort.label)} against each comparator arm"):
        st.dataframe(
            shown.comparisons,
            hide_index=True,
            column_config={
                "b_label": "Comparator arm",
                "a_estimate": st.column_config.NumberColumn("This cohort %", format="%.1f"),
                "b_estimate": st.column_config.NumberColumn("Comparator %", format="%.1f"),
                "difference": st.column_config.NumberColumn("Difference (points)",
                                                            format="%+.1f"),
                "low": st.column_config.NumberColumn(f"{interval} low", format="%+.1f"),
                "high": st.column_config.NumberColumn(f"{interval} high", format="%+.1f"),
                "p": st.column_config.NumberColumn("p", format="%.3f"),
                "prob_positive": st.column_config.NumberColumn(
                    "P(difference > 0)", format="%.3f",
                    help="Posterior probability that this cohort's ORR is above the arm's"),
                "test": "Method",
            },
            key="comparison_table",
        )
        csv_file(shown.comparisons_csv, "Download comparisons (CSV)",
                 f"comparisons_{subtype}.csv", "dl_comparisons")

st.subheader("Methods")
st.code(bm.methods_paragraph(), language=None, wrap_lines=True)
for note in bm.notes:
    st.caption(plain(note))
