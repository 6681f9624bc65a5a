import streamlit as st

from comparators.evidence.seed import SEED_CITATION

st.title("Sarcoma AI + ICI explorer")
st.markdown(
    "Benchmark subtype response rates of **angiogenesis inhibitors plus immune checkpoint "
    "inhibitors** in advanced soft-tissue sarcoma: one real-world cohort (Liu et al., Sci Rep "
    "2023, 33 patients) beside a curated, sourced table of comparator trials. "
    "It is built for sarcoma investigators and grant writers; every number comes from a cited "
    "publication, and every percentage is recomputed from its counts."
)
st.subheader("Where the data come from")
st.markdown(f"- **This cohort:** {SEED_CITATION} (CC BY 4.0).")
st.caption(
    "Choose the confidence-interval method in the sidebar; it applies to every page. "
    "The app's link carries your choices, so you can share the view you see."
)
