"""The baseline: a bare Streamlit page with one widget (bench/run.py compares against it)."""

import streamlit as st

st.number_input("A number", value=1)
