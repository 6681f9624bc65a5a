"""Links to a view: the sidebar's "link to this view" control and the notice for a link whose
values could not be used. Kept apart from views/common.py so the entry point
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


def check_link_values(before: dict[str, str], notice: st.delta_generator.DeltaGenerator) -> None:
    """Tell the user when an opened link carried values that no longer apply.

    Streamlit drops a bound widget's invalid URL value and uses the default; on the first run of a
    session (a link just opened) we compare the URL before and after the page ran and say which
    values were replaced. Later runs are skipped: setting a widget back to its default also
    removes its value from the URL.
    """
    if st.session_state.get("_link_checked"):
        return
    st.session_state["_link_checked"] = True
    after = st.query_params.to_dict()
    dropped = sorted(k for k in before if k not in after)
    if dropped:
        shown = ", ".join(f"{k}={before[k]!r}" for k in dropped)
        notice.warning(
            f"This link's value for {shown} is not valid here, so the default is used instead.",
            icon=":material/link_off:",
        )
