"""Telling a browser tab that its session was not there when it reconnected.

A session lives in one server process. When the tab's websocket drops and comes back (its
replica stopped and the load balancer sent it to another, the app restarted, or the tab was
away longer than `server.disconnectedSessionTTL`), the front end asks to resume its old session;
a server that does not hold it starts a fresh one. The tab keeps its widget values and its link,
so the page looks the same, but everything kept only on the server (uploaded files, the cohort
made from them, what-if scenarios, reconstructed curves) is gone. Said once, on the fresh
session's first run, instead of letting those vanish without a word.
"""

import streamlit as st

_STARTED = "_session_started"
NOTICE = (
    "**This tab started a new session.** The server no longer held your previous one (it was "
    "restarted, or you were moved to another server), so what was kept only in that session is "
    "gone: uploaded files, the cohort made from them, what-if scenarios and reconstructed "
    "curves. Every choice in this page's link is kept. Upload or edit again to continue."
)


def asked_to_resume(subprotocols: str) -> bool:
    """Whether the websocket handshake named a session to resume.

    The front end sends `Sec-WebSocket-Protocol: streamlit, <XSRF token>, <previous session
    id>`; the third entry is there only when the tab reconnects after having had a session.
    """
    entries = [entry.strip() for entry in subprotocols.split(",")]
    return len(entries) >= 3 and bool(entries[2])


def notice_if_session_restarted() -> None:
    """On a session's first run: a warning if the tab asked to resume a session this server
    did not hold (a resumed session already carries the mark, so it never sees this)."""
    if st.session_state.get(_STARTED):
        return
    st.session_state[_STARTED] = True
    if asked_to_resume(st.context.headers.get("Sec-WebSocket-Protocol", "")):
        st.warning(NOTICE, icon=":material/sync_problem:")
