"""The explorer's engine: pure, typed statistics and data for the sarcoma AI+ICI explorer.

Nothing here imports streamlit; every function is usable from a notebook or the CLI
(`python -m comparators`).
"""
