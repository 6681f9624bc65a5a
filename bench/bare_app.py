"""The baseline: a bare Streamlit page (bench/run.py, loadgen.py and clicks.py compare against
it). loadgen changes its number input; clicks.py picks from its sidebar selectbox, the same
widget and the same two clicks as on the app's pages, so the ratio compares like with like."""

import streamlit as st

st.number_input("A number", value=1)
with st.sidebar:
    st.selectbox("Confidence level", (0.95, 0.9), format_func=lambda level: f"{level:g}")
