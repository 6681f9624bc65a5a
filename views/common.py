"""Thin adapters shared by the pages: cached data loading and the sidebar's options.

Not a page itself (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from comparators.audit import audit_published, findings_frame
from comparators.cohort import SeedCohort, load_seed_cohort


@st.cache_data(show_spinner=False)
def seed_cohort() -> SeedCohort:
    return load_seed_cohort()


@st.cache_data(show_spinner=False)
def seed_audit() -> pd.DataFrame:
    return findings_frame(audit_published())


def ci_options() -> tuple[str, float]:
    """The interval method and level chosen in the sidebar (defaults: Wilson, 95%)."""
    return st.session_state.get("ci_method", "wilson"), st.session_state.get("ci_level", 0.95)


def csv_download(frame: pd.DataFrame, label: str, file_name: str, key: str) -> None:
    st.download_button(
        label, frame.to_csv(index=False).encode("utf-8"), file_name=file_name,
        mime="text/csv", key=key, icon=":material/download:",
    )
