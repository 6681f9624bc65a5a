import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import MEASURE_NAMES, METHOD_NAMES, BenchmarkError, subtype_rows
from comparators.charts.forest import forest_chart, forest_rows, with_reference
from comparators.stats.proportions import percent
from views.common import (
    BENCHMARK_DEFAULTS,
    catalog,
    chart_downloads,
    cohort_banner,
    csv_download,
    plain,
    subtype_benchmark,
    this_cohort,
)

AGGREGATES = {"STS", "SARCOMA"}  # all-subtype rows are not a subtype to benchmark


@st.cache_data(show_spinner=False, max_entries=64)
def forest_spec(rows: pd.DataFrame, reference: float | None, title: str, subtitle: list[str],
                x_title: str) -> dict:
    """Building and validating the Altair chart costs ~0.3 s; reruns reuse the spec."""
    return forest_chart(rows, reference, title, subtitle, x_title).to_dict()


cat = catalog()
cohort = this_cohort()
names = dict(zip(cat.subtypes["code"], cat.subtypes["name"], strict=True))
counts = cat.trials[~cat.trials["subtype"].isin(AGGREGATES)]["subtype"].value_counts()
subtypes = [c for c in counts.index if counts[c] >= 2]  # something to compare with

st.title("Benchmark a subtype")
st.caption(
    "This cohort beside every comparator trial arm that reported the subtype, pooled by regimen "
    "class, with heterogeneity, the test for subgroup differences and a paragraph of methods to "
    "paste into a grant."
)
cohort_banner(cohort)

controls = st.columns([2, 2, 3, 1.4])
subtype = controls[0].selectbox(
    "Subtype", subtypes, index=subtypes.index(BENCHMARK_DEFAULTS["subtype"]),
    format_func=lambda c: f"{c} – {names.get(c, c)}", key="subtype", bind="query-params",
)
measure = controls[1].selectbox(
    "Effect measure", list(MEASURE_NAMES), key="measure", bind="query-params",
    format_func={"logit": "Logit", "ft": "Freeman-Tukey", "arcsine": "Arcsine",
                 "raw": "Raw proportion"}.get,
)
method = controls[2].selectbox(
    "Model", list(METHOD_NAMES), key="method", bind="query-params",
    format_func={"REML": "Random effects, REML", "DL": "Random effects, DerSimonian-Laird",
                 "PM": "Random effects, Paule-Mandel", "ML": "Random effects, ML",
                 "FE": "Fixed effect", "GLMM": "GLMM (logistic random intercept)",
                 "BAYES": "Bayesian (half-normal τ prior)"}.get,
    help="GLMM is recommended for small counts and 0%/100% studies.",
)
hksj = controls[3].toggle("HKSJ", key="hksj", bind="query-params",
                          help="Hartung-Knapp-Sidik-Jonkman confidence interval")
options = st.columns([1.4, 1.4, 3])
reference = options[0].number_input(
    "Reference ORR (%)", min_value=0.0, max_value=100.0, value=None, step=1.0,
    key="reference", bind="query-params", placeholder="none",
    help="Draws a dashed line, e.g. a historical ORR you want to beat.",
)
overlapping = options[1].toggle(
    "Include overlapping cohorts", key="overlapping", bind="query-params",
    help="Rows that re-count another study's patients (e.g. SARC028's expansion cohorts) are "
    "left out by default so no patient is pooled twice.",
)

with st.expander("Include or leave out study arms", icon=":material/checklist:"):
    # Only the rows are needed for the checkboxes; fitting them would add a second fit.
    candidates = subtype_rows(cat.trials, cohort, subtype, overlapping)
    boxes = st.columns(2)
    excluded = tuple(
        key for i, key in enumerate(candidates["key"])
        if not boxes[i % 2].checkbox(key, value=True, key=f"include::{subtype}::{key}")
    )

try:
    bm = subtype_benchmark(subtype, measure, method, hksj, excluded, overlapping)
except BenchmarkError as err:
    st.error(f"Nothing to pool: {err}.")
    st.stop()
fit = bm.fit
cohort_row = bm.cohort_row

metrics = st.columns(5)
if cohort_row is not None:
    metrics[0].metric(plain(cohort.label), f"{cohort_row['responders']}/{cohort_row['evaluable']}",
                      help="Responders / evaluable patients")
else:
    metrics[0].metric(plain(cohort.label), "no data", help=f"No {subtype} row in this cohort")
metrics[1].metric(f"Pooled ORR, all arms (k = {fit.k})", percent(fit.estimate))
metrics[1].caption(f"{100 * bm.level:g}% CI {percent(fit.low)}–{percent(fit.high)}")
metrics[2].metric("I² (heterogeneity)", "–" if fit.i2 is None else f"{fit.i2:.0f}%")
if fit.i2_low is not None and fit.i2_high is not None:
    metrics[2].caption(f"CI {fit.i2_low:.0f}–{fit.i2_high:.0f}%")
metrics[3].metric("τ²", "–" if fit.tau2 is None else f"{fit.tau2:.3f}")
metrics[3].caption("Q = –" if fit.q is None else
                   f"Q = {fit.q:.2f}, df {fit.q_df}, p = {fit.q_p:.3f}")
if fit.q_between is not None:
    metrics[4].metric("Subgroup difference (Q between)", f"{fit.q_between:.2f}")
    metrics[4].caption(f"df {fit.q_between_df}, p = {fit.q_between_p:.4f}")

class_of = dict(zip(bm.rows["key"], bm.rows["regimen_class"], strict=True))
rows = forest_rows(fit, class_of, highlight=bm.cohort_key)
subtitle = [f"{names.get(subtype, subtype)}; {MEASURE_NAMES[measure]}, {method}"
            + (", HKSJ" if hksj else "")]
if not cohort.is_real:
    subtitle.append(f"{cohort.label}: {cohort.caveat}")
subtitle.append("Sources: data/trials.csv (see the Comparator trials page)")
chart = with_reference(forest_spec(  # the chart is cached by its rows; a typed reference
    rows, None,                     # ORR is added as two layers (no rebuild per value)
    f"Objective response rate in {subtype}", subtitle,
    f"Objective response rate (%), {100 * bm.level:g}% CI",
), None if reference is None else reference / 100)
st.vega_lite_chart(chart, key="forest")
chart_downloads(chart, f"forest_{subtype}", "forest")
csv_download(rows.drop(columns=["row"]), "Download forest data (CSV)", f"forest_{subtype}.csv",
             "dl_forest", note=None if cohort.is_real else cohort.caveat)

st.subheader("Pooled ORR by regimen class")
classes = bm.class_table()
st.dataframe(
    classes.assign(estimate=100 * classes["estimate"], low=100 * classes["low"],
                   high=100 * classes["high"]),
    hide_index=True,
    column_config={
        "class": "Class (comparators only; 'All' includes this cohort)",
        "k": st.column_config.NumberColumn("Arms (k)"),
        "patients": st.column_config.NumberColumn("Evaluable patients"),
        "estimate": st.column_config.NumberColumn("Pooled ORR %", format="%.1f"),
        "low": st.column_config.NumberColumn("CI low %", format="%.1f"),
        "high": st.column_config.NumberColumn("CI high %", format="%.1f"),
        "tau2": st.column_config.NumberColumn("τ²", format="%.3f"),
        "i2": st.column_config.NumberColumn("I² %", format="%.0f"),
    },
    key="class_table",
)
if fit.pi_low is not None:
    st.caption(f"Prediction interval for the ORR of a new study (all arms): "
               f"{percent(fit.pi_low)}–{percent(fit.pi_high)}.")

if bm.comparisons:
    st.subheader(f"{plain(cohort.label)} compared with each comparator")
    comp = bm.comparisons_frame()
    st.dataframe(
        comp.assign(**{c: 100 * comp[c] for c in
                       ("cohort_estimate", "comparator_estimate", "difference", "low", "high")}),
        hide_index=True,
        column_config={
            "comparator": "Comparator", "kind": "Kind",
            "cohort_estimate": st.column_config.NumberColumn("This cohort %", format="%.1f"),
            "comparator_estimate": st.column_config.NumberColumn("Comparator %",
                                                                 format="%.1f"),
            "difference": st.column_config.NumberColumn("Difference (points)", format="%+.1f"),
            "low": st.column_config.NumberColumn("CI low", format="%+.1f"),
            "high": st.column_config.NumberColumn("CI high", format="%+.1f"),
            "fisher_p": st.column_config.NumberColumn("Fisher exact p", format="%.3f"),
            "note": "Note",
        },
        key="comparison_table",
    )
    csv_download(comp, "Download comparisons (CSV)", f"comparisons_{subtype}.csv",
                 "dl_comparisons", note=None if cohort.is_real else cohort.caveat)

st.subheader("Methods")
st.code(bm.methods_paragraph(), language=None, wrap_lines=True)
for note in bm.notes:
    st.caption(note)
