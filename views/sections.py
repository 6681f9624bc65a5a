"""Page sections that rerun alone (`st.fragment`) without leaving the sidebar's link stale.

A section reruns alone when one of its widgets changes, then redraws the link in the sidebar
placeholder the last full run reserved for it (views.share.redraw_link), so the link carries
the new value. A linked widget (one in `WIDGET_LINK_KEYS`) that other sections also read would
leave them stale after a rerun of its own section only, so unless a section is
`self_contained` (its widgets feed nothing else: the reference line, the borrowing settings) a
change to a linked widget reruns the app. Editors, buttons and other unlinked controls always
keep the saving.

Not a page (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from views.share import WIDGET_LINK_KEYS, redraw_link

LINKED_KEY = "_linked_values"  # the linked widgets' values at the last full run

F = TypeVar("F", bound=Callable[..., Any])


def rerunning_alone() -> bool:
    """True while a section reruns by itself (not in a full run of the app)."""
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def linked_values() -> dict[str, Any]:
    state = st.session_state
    return {key: state[key] for key in sorted(WIDGET_LINK_KEYS) if key in state}


def section(func: F | None = None, *, self_contained: bool = False) -> Any:
    """`st.fragment(func)`, used bare (`@section`) or as `@section(self_contained=True)`."""

    def fragment(f: F) -> F:
        @functools.wraps(f)
        def run(*args: Any, **kwargs: Any) -> Any:
            if rerunning_alone() and not self_contained \
                    and linked_values() != st.session_state.get(LINKED_KEY):
                st.rerun(scope="app")  # other sections read the linked value too
            result = f(*args, **kwargs)
            # on every run: a fragment may replace on its own reruns only what it also wrote
            # in the last full run
            redraw_link()
            st.session_state[LINKED_KEY] = linked_values()
            return result

        return st.fragment(run)  # type: ignore[return-value]

    return fragment(func) if func is not None else fragment
