"""Page sections that rerun alone (`st.fragment`) without leaving the sidebar's link stale.

A widget inside a fragment reruns only its section, and a widget bound to the URL still
updates the URL; but the link to this view is drawn in the sidebar by the entry point after the
page, in a full run. `link_slot` gives that link a place the section can refill: after a
section reruns alone it redraws the link from the URL as the section left it.

Not a page (st.navigation only runs the files it is given).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import streamlit as st
from streamlit.delta_generator import DeltaGenerator
from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

from views.share import share_link

LINK_SLOT_KEY = "_link_slot"  # the sidebar element holding the link (this session only)

F = TypeVar("F", bound=Callable[..., Any])


def link_slot() -> DeltaGenerator:
    """The sidebar's place for the link to this view, remembered for the sections."""
    slot = st.sidebar.empty()
    st.session_state[LINK_SLOT_KEY] = slot
    return slot


def _rerunning_alone() -> bool:
    ctx = get_script_run_ctx()
    return bool(ctx is not None and ctx.fragment_ids_this_run)


def section(func: F) -> F:
    """`st.fragment(func)`, and after a rerun of the section alone, the link redrawn."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        result = func(*args, **kwargs)
        slot = st.session_state.get(LINK_SLOT_KEY)
        if _rerunning_alone() and isinstance(slot, DeltaGenerator):
            with slot.container():
                share_link()
        return result

    return st.fragment(run)  # type: ignore[return-value]
