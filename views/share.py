"""The sidebar's "link to this view" control; kept apart from views/common.py so the entry point
imports nothing heavy (the landing page's cold start stays close to a bare page's)."""

from urllib.parse import urlencode

import streamlit as st


def share_link() -> None:
    """The link to the current view: page URL plus the non-default inputs bound to the URL.

    Only widget values travel in the link (never pickled state); an uploaded cohort or a
    what-if scenario stays in this browser session and is not shared.
    """
    base = st.context.url or ""
    params = {k: v for k, v in st.query_params.to_dict().items() if v != ""}
    link = base + ("?" + urlencode(params) if params else "")
    st.caption("Link to this view (copy with the icon)")
    st.code(link or "(available in the browser)", language=None, wrap_lines=True)
