"""About: what the app is, for whom, and where the data come from. Imports nothing heavy (the
landing page's cold start stays close to a bare page's)."""

import streamlit as st

from comparators.evidence.seed import SEED_CITATION

# An upload or a what-if scenario replaces the seed cohort on every page (views.common keys).
active = st.session_state.get("this_cohort_scenario") or st.session_state.get(
    "this_cohort_upload")

st.title("Sarcoma AI + ICI explorer")
cohort_text = ("one real-world cohort (Liu et al., Sci Rep 2023, 33 patients)" if active is None
               else "your cohort")
st.markdown(
    "Benchmark subtype response rates of **angiogenesis inhibitors plus immune checkpoint "
    f"inhibitors** in advanced soft-tissue sarcoma: {cohort_text} beside a curated, sourced "
    "table of comparator trials. It is built for sarcoma investigators and grant writers; every "
    "number comes from a cited publication, and every percentage is recomputed from its counts."
)
st.subheader("Where the data come from")
if active is None:
    st.markdown(f"- **This cohort:** {SEED_CITATION} (CC BY 4.0).")
else:
    st.text(f"This cohort: {active.label} (this browser session only).")
    st.caption("The seed paper's cohort is on the Comparator trials and Data audit pages.")
st.caption(
    "Choose the confidence-interval method in the sidebar; it applies to every page. "
    "The app's link carries your choices, so you can share the view you see."
)
