"""Page sections that rerun alone (`st.fragment`) without leaving the sidebar's link stale.

The link to this view is drawn in the sidebar by the entry point after the page, in a full
run, from the URL the widgets write. A section rerunning alone cannot redraw it: a fragment may
write outside itself only into a place it reserved in the last full run, and the link of that
run would stay beside it. So a section reruns alone only when the widget that changed is not
in the link; a change to a linked widget (every widget in `WIDGET_LINK_KEYS`) reruns the app,
which redraws the link. Editors, buttons and other unlinked controls keep the saving.

Not a page (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from views.share import WIDGET_LINK_KEYS

LINKED_KEY = "_linked_values"  # the linked widgets' values at the last full run

F = TypeVar("F", bound=Callable[..., Any])


def rerunning_alone() -> bool:
    """True while a section reruns by itself (not in a full run of the app)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def linked_values() -> dict[str, Any]:
    state = st.session_state
    return {key: state[key] for key in sorted(WIDGET_LINK_KEYS) if key in state}


def section(func: F) -> F:
    """`st.fragment(func)` that hands over to a full run when a linked widget changed."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not rerunning_alone():
            result = func(*args, **kwargs)
            st.session_state[LINKED_KEY] = linked_values()
            return result
        if linked_values() != st.session_state.get(LINKED_KEY):
            st.rerun(scope="app")  # the link in the sidebar must show the new value
        return func(*args, **kwargs)

    return st.fragment(run)  # type: ignore[return-value]
