import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import pooled_by_class
from comparators.charts.cohort import class_by_subtype_chart
from comparators.evidence.cohort import ThisCohort
from views.common import (
    benchmark_options,
    catalog,
    chart_downloads,
    ci_options,
    cohort_banner,
    csv_download,
    this_cohort,
)


@st.cache_data(show_spinner=False, max_entries=32)
def pooled(trials: pd.DataFrame, cohort: ThisCohort, measure: str, method: str, hksj: bool,
           level: float) -> pd.DataFrame:
    return pooled_by_class(trials, cohort, measure, method, hksj, level)


@st.cache_data(show_spinner=False, max_entries=32)
def chart_spec(data: pd.DataFrame, subtitle: list[str]) -> dict:
    return class_by_subtype_chart(data, subtitle).to_dict()


cohort = this_cohort()
options = benchmark_options()
_, level = ci_options()

st.title("Across subtypes: where does the combination look better?")
st.caption(
    "Pooled objective response rate of angiogenesis inhibitor + immune checkpoint inhibitor "
    "(AI+ICI) arms against ICI alone (and ICI+ICI, AI alone) in every subtype the catalog "
    "covers. This cohort counts as AI+ICI evidence. The model follows the Benchmark page's "
    f"choice: {options['measure']} / {options['method']}"
    + (" with HKSJ" if options["hksj"] else "") + "."
)
cohort_banner(cohort)

data = pooled(catalog().trials, cohort, options["measure"], options["method"], options["hksj"],
              level)
both = set(data.loc[data["class"] == "AI+ICI", "subtype"]) & set(
    data.loc[data["class"].isin(["ICI", "ICI+ICI"]), "subtype"])
show_all = st.toggle("Show every subtype (also those without an AI+ICI vs ICI comparison)",
                     key="meta_all", bind="query-params")
shown = data if show_all else data[data["subtype"].isin(both)]

subtitle = ["Dots: pooled ORR (size = evaluable patients); lines: 95% CI. "
            "Small k means little evidence.", "Sources: data/trials.csv"]
if not cohort.is_real:
    subtitle.append(f"{cohort.label}: {cohort.caveat}")
spec = chart_spec(shown.reset_index(drop=True), subtitle)
st.vega_lite_chart(spec, key="meta_chart", width="stretch")
chart_downloads(spec, "orr_by_class_and_subtype", "meta")

wide = 100 * shown.pivot_table(index="subtype", columns="class", values="estimate")
if {"AI+ICI", "ICI"} <= set(wide.columns):
    wide["AI+ICI minus ICI (points)"] = wide["AI+ICI"] - wide["ICI"]
st.subheader("Pooled ORR (%) by subtype and class")
st.dataframe(
    wide,
    column_config={c: st.column_config.NumberColumn(c, format="%.1f") for c in wide.columns},
    key="meta_table",
)
st.caption(
    "A naive difference of pooled estimates from different trials, not a randomised "
    "comparison: patient selection, line of therapy and response assessment differ between "
    "trials. See the Benchmark page for each subtype's trials and heterogeneity."
)
csv_download(shown, "Download pooled estimates (CSV)", "orr_by_class_and_subtype.csv",
             "dl_meta", note=None if cohort.is_real else cohort.caveat)
