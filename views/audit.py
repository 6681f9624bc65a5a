"""Data audit: every percentage the seed paper prints, recomputed from its counts, and its
claims about other trials checked against the catalog."""

import pandas as pd
import streamlit as st

from comparators.evidence.cohort import SEED_CITATION
from views.common import NOT_APPLICABLE, csv_download, seed_audit
from views.share import keep_valid_link_values


def render_intro(findings: pd.DataFrame) -> None:
    st.title("Data audit: the seed paper's numbers, recomputed")
    st.caption(
        f"Every percentage printed in {SEED_CITATION} — Table 1, Table 2, the results text and the "
        "discussion's claims about other trials — recomputed from its counts, with a granularity "
        "(GRIM-style) check of whether the printed value is possible at all for its denominator, "
        "and each claim about another trial compared with the comparator catalog."
    )
    inconsistent = int((~findings["consistent"]).sum())
    cols = st.columns(3)
    cols[0].metric("Claims checked", len(findings))
    cols[1].metric("Inconsistent", inconsistent)
    cols[2].metric("Consistent", len(findings) - inconsistent)


def choose_findings(findings: pd.DataFrame) -> pd.DataFrame:
    """The kinds of check and the inconsistent-only switch, bound to the URL."""
    checks = sorted(findings["check"].unique())
    keep_valid_link_values("audit_checks", checks)
    chosen = st.multiselect(
        "Kinds of check", checks, default=None if "audit_checks" in st.session_state else checks,
        key="audit_checks", bind="query-params",
        help="arithmetic: count / denominator vs the print; granularity: is the print possible "
        "for the denominator; source: the seed's claim vs the catalog; citation: reference "
        "problems.",
    )
    only_bad = st.toggle("Show only inconsistent findings", key="audit_only_bad",
                         bind="query-params")
    shown = findings[findings["check"].isin(chosen)]
    return shown[~shown["consistent"]] if only_bad else shown


def render_findings(shown: pd.DataFrame) -> None:
    st.dataframe(
        shown,
        hide_index=True,
        # the verdict and the two numbers first, then why; widths fixed so the recomputed value
        # and its explanation are on screen in a 1,400-pixel window whatever the rows hold
        column_order=["consistent", "where", "reported_pct", "recomputed_pct", "explanation",
                      "claim", "numerator", "denominator", "check"],
        column_config={
            "consistent": st.column_config.CheckboxColumn("Consistent", width=85),
            "where": st.column_config.TextColumn("Where in the paper", width=150),
            "claim": st.column_config.TextColumn("Claim as printed", width=260),
            "reported_pct": st.column_config.NumberColumn("Reported %", width=85),
            "numerator": st.column_config.NumberColumn("Numerator", width=85),
            "denominator": st.column_config.NumberColumn("Denominator", width=95),
            "recomputed_pct": st.column_config.NumberColumn("Recomputed %", width=105),
            "check": st.column_config.TextColumn("Check", width=90),
            "explanation": st.column_config.TextColumn("Explanation", width=330),
        },
        key="audit_table",
        placeholder=NOT_APPLICABLE,  # counts stay numbers, so they sort as numbers
    )
    st.caption(
        "Sorted with the inconsistent findings first, then in the paper's order. Recomputed % is "
        "rounded half-up to the printed number of decimals. For source checks, Recomputed % is the "
        f"catalog's count. {NOT_APPLICABLE}: the check uses no such number."
    )
    csv_download(shown, "Download audit (CSV)", "liu2023_audit.csv", "dl_audit")


findings = seed_audit()
render_intro(findings)
render_findings(choose_findings(findings))
