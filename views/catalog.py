import io

import pandas as pd
import streamlit as st

from comparators.evidence.catalog import catalog_table
from comparators.reports.citations import vancouver
from comparators.reports.markup import md_escape
from comparators.stats.proportions import CI_METHODS
from views.common import catalog, ci_options, csv_download
from views.share import keep_valid_link_values


@st.cache_resource(show_spinner=False, max_entries=32)
def ci_table(method: str, level: float) -> pd.DataFrame:
    """The catalog with each row's ORR interval, shared read-only (filters copy)."""
    return catalog_table(catalog(), method, level)


cat = catalog()
method, level = ci_options()
level_label = f"{100 * level:g}% CI"

st.title("Comparator trials")
st.caption(
    "Every comparator of angiogenesis inhibitors (AI) and immune checkpoint inhibitors (ICI) in "
    "soft-tissue sarcoma that the seed paper cites for a subtype response rate, curated with "
    "its source. Rows marked *seed paper only* are the seed's claims with no independent "
    "source yet; data/README.md describes every column and the curation rules."
)
if cat.info is not None:
    with st.expander(f"What changed: catalog {cat.info.catalog_version}, literature last "
                     f"checked {cat.info.literature_last_checked}", icon=":material/history:"):
        st.markdown("\n".join(f"- **{md_escape(r.version)}** ({md_escape(r.date)}): "
                               f"{md_escape(r.summary)}" for r in reversed(cat.info.history)))
        st.caption("Each version's corrections, with the source read, are listed in "
                   "data/CURATION.md. A shared link names the catalog version it was made "
                   "with; opened later, it says what changed since.")

table = ci_table(method, level)
names = cat.subtype_names


def subtype_label(code: str) -> str:
    return f"{code} ({names.get(code, code)})"


# a link may name subtypes by code; one stale value drops only itself (views/share.py)
for link_key, column in (("catalog_class", "regimen_class"), ("catalog_design", "design"),
                         ("catalog_verified", "verified")):
    keep_valid_link_values(link_key, table[column].unique())
keep_valid_link_values("catalog_subtype", table["subtype"].unique(), subtype_label)
filters = st.columns(4)
subtypes = filters[0].multiselect(
    "Subtype", sorted(table["subtype"].unique()), key="catalog_subtype", bind="query-params",
    format_func=subtype_label, placeholder="All subtypes",
)
classes = filters[1].multiselect(
    "Regimen class", sorted(table["regimen_class"].unique()), key="catalog_class",
    bind="query-params", placeholder="All classes",
)
designs = filters[2].multiselect(
    "Design", sorted(table["design"].unique()), key="catalog_design", bind="query-params",
    placeholder="All designs",
)
statuses = filters[3].multiselect(
    "Verification", sorted(table["verified"].unique()), key="catalog_verified",
    bind="query-params", placeholder="Any status",
)
shown = table
for column, chosen in (("subtype", subtypes), ("regimen_class", classes), ("design", designs),
                       ("verified", statuses)):
    if chosen:
        shown = shown[shown[column].isin(chosen)]
# One numbered list for the rows on screen: each row cites what its numbers were read from and,
# when that is another document, the study's own reference.
numbers = {key: i for i, key in enumerate(
    dict.fromkeys(k for pair in zip(shown["source_ref"], shown["ref"], strict=True)
                  for k in pair), start=1)}
shown = shown.assign(
    read_from=[f"{numbers[s]} ({t})" for s, t in zip(shown["source_ref"], shown["source_type"],
                                                     strict=True)],
    study_ref=[None if r == s else numbers[r]
               for r, s in zip(shown["ref"], shown["source_ref"], strict=True)],
)

st.metric("Rows shown", f"{len(shown)} of {len(table)}")
st.dataframe(
    shown,
    hide_index=True,
    column_order=["study", "arm", "regimen_class", "subtype", "responders", "evaluable",
                  "orr_pct", "orr_low_pct", "orr_high_pct", "cr", "pr", "sd", "pd",
                  "unconfirmed", "pfs_median_months", "design", "verified", "derived",
                  "read_from", "study_ref", "doi_link", "pubmed_link", "clinicaltrials_link",
                  "url_link", "locator", "note"],
    column_config={
        "study": "Study", "arm": "Arm", "regimen_class": "Class", "subtype": "Subtype",
        "responders": st.column_config.NumberColumn("Responders"),
        "evaluable": st.column_config.NumberColumn("Evaluable"),
        "orr_pct": st.column_config.NumberColumn("ORR %", format="%.1f"),
        "orr_low_pct": st.column_config.NumberColumn(f"{level_label} low %", format="%.1f"),
        "orr_high_pct": st.column_config.NumberColumn(f"{level_label} high %", format="%.1f"),
        "cr": st.column_config.NumberColumn("CR"), "pr": st.column_config.NumberColumn("PR"),
        "sd": st.column_config.NumberColumn("SD"), "pd": st.column_config.NumberColumn("PD"),
        "unconfirmed": st.column_config.NumberColumn(
            "Unconfirmed", help="Unconfirmed responses, not counted as responders"),
        "pfs_median_months": st.column_config.NumberColumn("Median PFS (months)",
                                                           format="%.1f"),
        "design": "Design", "verified": "Verification",
        "derived": st.column_config.TextColumn(
            "Derived", help="yes: counts computed from the source's percentages or totals"),
        "read_from": st.column_config.TextColumn(
            "Read from", help="Number in the reference list below, and the kind of document"),
        "study_ref": st.column_config.NumberColumn(
            "Study ref.", format="%d", help="The study's own report, when the numbers were "
            "read from another document"),
        "doi_link": st.column_config.LinkColumn("DOI", display_text="doi"),
        "pubmed_link": st.column_config.LinkColumn("PubMed", display_text="PMID"),
        "clinicaltrials_link": st.column_config.LinkColumn("Registry", display_text="NCT"),
        "url_link": st.column_config.LinkColumn("Other source", display_text="link"),
        "locator": st.column_config.TextColumn("Where in the source", width="medium"),
        "note": st.column_config.TextColumn("Note", width="large"),
    },
    key="catalog_table",
)
st.caption(
    f"ORR = responders / evaluable with a {CI_METHODS[method]} {level_label} (choose the method "
    "in the sidebar). Responders are confirmed CR + PR; unconfirmed responses are counted "
    "separately. Empty cells (None) are counts the source does not report."
)
export = shown.drop(columns=[c for c in shown.columns if c.endswith("_link")]
                   + ["read_from", "study_ref"])
left, right = st.columns(2)
with left:
    csv_download(export, "Download these rows (CSV)", "comparator_trials.csv", "dl_catalog_csv")
with right:
    buffer = io.BytesIO()
    export.to_parquet(buffer, index=False)
    st.download_button("Download these rows (Parquet)", buffer.getvalue(),
                       file_name="comparator_trials.parquet",
                       mime="application/vnd.apache.parquet", key="dl_catalog_parquet",
                       icon=":material/download:", on_click="ignore")

st.header("References")
refs = cat.references.set_index("ref")
st.markdown("\n".join(f"{number}. {md_escape(vancouver(refs.loc[key]))}"  # one element
                       for key, number in numbers.items()))
