"""Links to a view: the sidebar's "link to this view" control and the notice for a link whose
values could not be used or that was made under an older catalog. Kept apart from
views/common.py so the entry point imports nothing heavy (the landing page's cold start stays
close to a bare page's)."""

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from comparators.errors import InputError
from comparators.evidence.versions import CatalogInfo, default_catalog_info, parse_version
from comparators.inputs import clean_text, parse_count, parse_number
from comparators.limits import MAX_LINK_VALUE_CHARS
from comparators.reports.markup import md_escape
from comparators.vocab import (
    CI_CHOICES,
    ENDPOINTS,
    HKSJ_CHOICES,
    KM_CONF_CHOICES,
    MEASURE_CHOICES,
    MODEL_CHOICES,
)

#: The URL parameter a shared link carries: the catalog version its numbers came from.
CATALOG_PARAM = "catalog"
#: Session key of the arms the user added (views/common.py); they never travel in a link, whose
#: ADDED_PARAM only says how many there were, so the page that opens it can say they are missing.
ADDED_ARMS_KEY = "added_arms"
ADDED_PARAM = "added_arms"


LINK_SLOT_KEY = "_link_slot"  # the sidebar placeholder the link is drawn in (this session's)


def link_params() -> list[tuple[str, str]]:
    """Every (key, value) the URL holds now, every value of a repeated key (a multiselect's
    choices: ``st.query_params.to_dict()`` keeps only the last), plus the values handed to a
    widget this run (a code in another case, "0,2"), which reach the URL on its next run."""
    handed: dict[str, str | list[str]] = st.session_state.get(HANDED_KEY, {})
    pairs: list[tuple[str, str]] = []
    for key in dict.fromkeys([*st.query_params.keys(), *handed]):
        if key == CATALOG_PARAM:
            continue  # the link names this app's catalog, whatever the opened link named
        values = handed[key] if key in handed else st.query_params.get_all(key)
        pairs += [(key, v) for v in ([values] if isinstance(values, str) else values) if v]
    return pairs


def share_link() -> None:
    """The link to the current view: page URL plus the non-default inputs bound to the URL,
    drawn in the sidebar's link placeholder (a section that reruns alone redraws it there:
    `redraw_link`, called by views.sections.section).

    Only widget values travel in the link (never pickled state); an uploaded cohort or a
    what-if scenario stays in this browser session and is not shared. The link also names the
    catalog version, so whoever opens it later is told what changed since.
    """
    _draw_link()
    st.session_state.pop(HANDED_KEY, None)  # in the URL from the next run on


def _draw_link() -> None:
    slot = st.session_state.get(LINK_SLOT_KEY)
    if slot is None:  # a page run on its own: draw it in the sidebar
        slot = st.sidebar.empty()
    params = [(k, v) for k, v in link_params() if k != ADDED_PARAM]
    params.append((CATALOG_PARAM, default_catalog_info().catalog_version))
    added = st.session_state.get(ADDED_ARMS_KEY)
    if added is not None and len(added):  # only this session's own added arms are counted
        params.append((ADDED_PARAM, str(len(added))))
    link = (st.context.url or "") + "?" + urlencode(params)
    with slot.container():
        st.caption("Link to this view (copy with the icon)")
        st.code(link, language=None, wrap_lines=True)


def share_link_slot() -> None:
    """Before the page runs: the sidebar placeholder the link is drawn in."""
    st.session_state[LINK_SLOT_KEY] = st.sidebar.empty()


def redraw_link() -> None:
    """The link again, from a section, in the placeholder the full run reserved for it."""
    if st.session_state.get(LINK_SLOT_KEY) is not None:
        _draw_link()


PARTLY_DROPPED_KEY = "_link_partly_dropped"  # {key: [values dropped]} for the notice
DROPPED_KEY = "_link_dropped"  # {key: (value, why)}: values the input boundary refused
OFFERED_KEY = "_link_offered"  # {key: [values]}: what the page's widget offers, for the notice
CHECKED_KEY = "_link_values_checked"  # keys whose link value was checked before its widget
UNKNOWN_KEY = "_link_unknown"  # {key: value}: parameters that are no setting of this app
HANDED_KEY = "_link_handed"  # {key: value as the URL will carry it}: handed over this run

#: Every key a widget binds to the URL (tests/hostile/test_link_values.py checks this list
#: against the pages), and Streamlit's own embedding parameters. Anything else is dropped.
WIDGET_LINK_KEYS = frozenset({
    "ci_method", "ci_level", "measure", "method", "hksj", "hksj_variant", "include_cohort",
    "overlapping", "primary_only", "exclude", "subtype", "reference", "reference_months",
    "catalog_subtype",
    "low_rob_only", "endpoint", "eortc_refs", "metareg_mods",
    "catalog_class", "catalog_design", "catalog_verified", "meta_all", "borrow_class",
    "borrow_tau", "borrow_exnex", "borrow_pex", "audit_checks", "audit_only_bad",
    "plan_subtype", "plan_p0_class", "plan_p1_source", "plan_single_rule", "plan_p0", "plan_p1",
    "plan_alpha", "plan_beta", "plan_nmax", "prec_p", "prec_half", "pfs_control",
    "pfs_experimental", "pfs_accrual", "pfs_follow", "pfs_alpha", "pfs_power",
    "summary_subtypes", "summary_classes", "km_endpoint", "km_group", "km_conf",
    "whatif_subtype", "tox_entry", "tox_patients", "tox_events", "tox_percent",
    "casemix_method", "casemix_asps_share", "bayes_prior", "bayes_class", "bayes_discount",
    "bayes_threshold", "pp_nmax", "pp_p0", "pp_theta",
})
#: Keys a link may carry: the widgets' values and the catalog version the link was made with.
LINK_KEYS = WIDGET_LINK_KEYS | {CATALOG_PARAM, ADDED_PARAM}
STREAMLIT_KEYS = frozenset({"embed", "embed_options"})


def _drop(key: str, raw: str, why: str) -> None:
    """Take a link value out of the URL, and say why. (A widget seeds itself from the URL the
    session opened with, so a number widget whose value is dropped is not bound on that run:
    see `_link_number`.)"""
    if key in st.query_params:
        del st.query_params[key]
    st.session_state.setdefault(DROPPED_KEY, {})[key] = (raw, why)


def check_link_input() -> None:
    """Before any widget reads the URL: drop keys that are no setting of this app and overlong
    values; the link notice names them."""
    for key in list(st.query_params.keys()):
        values = st.query_params.get_all(key)
        if key in STREAMLIT_KEYS:
            continue
        if key not in LINK_KEYS:  # named in the notice, never carried into the share link
            del st.query_params[key]
            st.session_state.setdefault(UNKNOWN_KEY, {})[key] = values[-1] if values else ""
            continue
        for raw in values:
            try:
                clean_text(raw, max_chars=MAX_LINK_VALUE_CHARS)
            except InputError as exc:
                _drop(key, raw, str(exc))
                break


def _link_number(key: str, low: float, high: float, whole: bool) -> bool:
    """Read a number widget's link value through the input boundary, before the widget does:
    out of the widget's range, not finite, or a fraction for a whole-number widget is dropped
    and named; a number written another way ("0,2") is handed to the widget as read.

    Returns False when the value was dropped: the widget is then not bound to the URL on this
    run, because Streamlit seeds it from the URL the session opened with (an int widget raised
    OverflowError on "inf" and truncated "20.5" to 20). It is bound again on the next run.
    """
    values = st.query_params.get_all(key)
    if not values:
        return True
    st.session_state.setdefault(CHECKED_KEY, set()).add(key)
    raw = values[-1]
    try:
        number = parse_link_number(raw, low, high, whole)
    except InputError as exc:
        _drop(key, raw, str(exc))
        return False
    try:
        same = float(raw) == number  # Streamlit reads the link with float()
    except ValueError:  # it cannot read "0,2" and keeps the value handed over here
        same = False
    if not same:
        _hand_over(key, number, repr(number))
    return True


def _hand_over(key: str, value: object, text: str) -> None:
    """Give the widget `key` the value a link meant, written as the widget would write it."""
    del st.query_params[key]
    st.session_state[key] = value  # the widget writes it back to the URL on its next run
    st.session_state.setdefault(HANDED_KEY, {})[key] = text


def parse_link_number(raw: str, low: float, high: float, whole: bool) -> float:
    """A number widget's link value as the input boundary reads it, within the widget's range."""
    number = parse_count(raw) if whole else parse_number(raw)
    assert number is not None
    if not low <= number <= high:
        raise InputError(f"{number:g} is outside this setting's range, {low:g} to {high:g}")
    return number


def _whole(*numbers: object) -> bool:
    """Streamlit's rule: a number widget holds ints when every number given to it is an int."""
    return all(isinstance(x, int) and not isinstance(x, bool) for x in numbers if x is not None)


def link_number_input(container: Any, label: str, min_value: Any, max_value: Any,
                      value: Any = "min", step: Any = None, *, key: str, **kwargs: Any) -> Any:
    """`container.number_input(...)` bound to the URL, its link value read through the input
    boundary first (see `_link_number`); the bounds are given once, here."""
    use_link = _link_number(key, min_value, max_value,
                            _whole(min_value, max_value, None if value == "min" else value, step))
    return container.number_input(label, min_value, max_value, value, step, key=key,
                                  bind="query-params" if use_link else None, **kwargs)


def link_slider(container: Any, label: str, min_value: Any, max_value: Any, value: Any,
                step: Any = None, *, key: str, **kwargs: Any) -> Any:
    """`container.slider(...)` bound to the URL, its link value read through the input
    boundary first."""
    use_link = _link_number(key, min_value, max_value, _whole(min_value, max_value, value, step))
    return container.slider(label, min_value, max_value, value, step, key=key,
                            bind="query-params" if use_link else None, **kwargs)


def match_link_choice(raw: str, options: Sequence[object],
                      format_func: Callable[[Any], str]) -> object:
    """The option a link value names: its label, its code in any case, or the same number,
    read as every other text is (inputs.clean_text: control characters removed)."""
    try:
        text = clean_text(raw, max_chars=MAX_LINK_VALUE_CHARS)
    except InputError:
        return None
    for option in options:
        if format_func(option) == text or str(option) == text:
            return option
    for option in options:
        if text.casefold() in (format_func(option).casefold(), str(option).casefold()):
            return option
    try:
        number = parse_number(text)
    except InputError:
        return None
    return next((o for o in options if isinstance(o, int | float) and not isinstance(o, bool)
                 and o == number), None)


def link_choice(key: str, options: Iterable[object],
                format_func: Callable[[Any], str] = str) -> None:
    """Before a URL-bound selectbox or radio: accept its link value as a label or as a code in
    any case (subtype=lms), hand it to the widget as the option it names, and drop any other
    value with the offered choices named in the link notice."""
    offered = list(options)
    st.session_state.setdefault(OFFERED_KEY, {})[key] = [format_func(o) for o in offered]
    values = st.query_params.get_all(key)
    if not values:
        return
    st.session_state.setdefault(CHECKED_KEY, set()).add(key)
    raw = values[-1]
    option = match_link_choice(raw, offered, format_func)
    if option is None:
        _drop(key, raw, "")  # the notice lists the choices offered
    elif format_func(option) != raw:  # Streamlit matches the shown label exactly
        _hand_over(key, option, format_func(option))


def keep_valid_link_values(
    key: str, options: Iterable[object], format_func: Callable[[Any], str] = str
) -> None:
    """Before a URL-bound multiselect: keep every usable value of its link, name the rest.

    Streamlit matches a multiselect's link values against the *shown* labels (its
    format_func), so a link typed with plain codes (``?catalog_subtype=ASPS&catalog_subtype=UPS``)
    lost every value. Codes (in any case) are translated to options here; values that are
    neither a label nor a code are dropped on their own and named in the link notice.
    """
    options = list(options)
    st.session_state.setdefault(OFFERED_KEY, {})[key] = [format_func(o) for o in options]
    values = st.query_params.get_all(key)
    if not values or key in st.session_state:
        return  # no link value, or the widget already has this session's value
    labels = {format_func(o) for o in options}
    if all(v in labels for v in values):
        return  # Streamlit reads them as they are
    matched = [(v, match_link_choice(v, options, format_func)) for v in values]
    kept = list(dict.fromkeys(o for _, o in matched if o is not None))
    st.session_state.setdefault(CHECKED_KEY, set()).add(key)
    if not kept:
        _drop(key, ", ".join(values), "")
        return
    # The widgets read the link as it was when the run started, so the translated value goes
    # in through session state (the widget then writes it back to the URL).
    del st.query_params[key]
    st.session_state[key] = kept
    st.session_state.setdefault(HANDED_KEY, {})[key] = [format_func(o) for o in kept]
    st.session_state.setdefault(PARTLY_DROPPED_KEY, {})[key] = [v for v, o in matched
                                                                if o is None]


#: The confidence levels the sidebar offers (the entry point's selectbox reads this).
CI_LEVELS = (0.95, 0.90, 0.80, 0.99)
#: Links made before the app used codes carried display labels; they still open the same view
#: (the choice tables keep each choice's old labels).
LEGACY_LABELS: dict[str, dict[str, str]] = {
    "ci_method": CI_CHOICES.legacy_codes(),
    "ci_level": {f"{100 * level:g}%": f"{level:g}" for level in CI_LEVELS},
    "measure": MEASURE_CHOICES.legacy_codes(),
    "method": MODEL_CHOICES.legacy_codes(),
    "km_conf": KM_CONF_CHOICES.legacy_codes(),
}


def upgrade_legacy_link() -> None:
    """On a session's first run, rewrite old label values ('Jeffreys', '90%', 'LMS – leio…')
    to the codes the widgets now use, before any widget reads the URL."""
    if st.session_state.get("_link_upgraded"):
        return
    st.session_state["_link_upgraded"] = True
    for key, value in st.query_params.to_dict().items():
        new = LEGACY_LABELS.get(key, {}).get(value)
        if new is None and key in {"subtype", "plan_subtype", "whatif_subtype"} and " – " in value:
            new = value.split(" – ")[0]  # "LMS – leiomyosarcoma" -> "LMS"
        if new is not None:  # the link drawn on this run already carries the code
            _hand_over(key, float(new) if key == "ci_level" else new, new)


def link_state() -> dict[str, list[str]]:
    """The URL's values, every value of a repeated key (a multiselect's choices)."""
    return {key: st.query_params.get_all(key) for key in st.query_params.keys()}


def check_link_values(link: dict[str, list[str]],
                      notice: st.delta_generator.DeltaGenerator) -> None:
    """Tell the user when an opened link carried values that could not be used.

    Values refused by the input boundary (unknown keys, numbers out of range, choices not
    offered) are named with the reason, on whatever run refused them. On the first run of a
    session (a link just opened) the URL before and after the page ran is also compared, for
    the widgets whose values Streamlit alone checks; a value the widget holds (one equal to the
    default leaves the URL) is not called invalid. A link made under another catalog
    version also says what changed since (catalog_change_notice).
    """
    refused: dict[str, tuple[str, str]] = st.session_state.pop(DROPPED_KEY, {})
    checked: set[str] = st.session_state.pop(CHECKED_KEY, set())
    offered: dict[str, list[str]] = st.session_state.get(OFFERED_KEY, {})
    first = not st.session_state.get("_link_checked")
    st.session_state["_link_checked"] = True
    messages = []
    if refused:
        shown = "; ".join(md_escape(f"{k}={raw!r}" + (f" ({why})" if why else ""))
                          for k, (raw, why) in sorted(refused.items()))
        valid = [md_escape(f"{k}: {', '.join(v)}") for k in sorted(refused)
                 if (v := offered.get(k) or valid_values(k))]
        messages.append(f"This link's value for {shown} is not valid here, so the default is "
                        "used instead." + (" Valid values — " + "; ".join(valid) + "."
                                           if valid else ""))
    unknown: dict[str, str] = st.session_state.pop(UNKNOWN_KEY, {})
    if unknown:
        shown = ", ".join(md_escape(f"{k}={raw!r}") for k, raw in sorted(unknown.items()))
        what = "parameter is" if len(unknown) == 1 else "parameters are"
        messages.append(f"This link's {what} not a setting of this app and left out of the "
                        f"link to this view: {shown}.")
    partly = st.session_state.pop(PARTLY_DROPPED_KEY, {})  # multiselects kept in part
    if first:
        after = set(st.query_params.keys())
        dropped = sorted(k for k in link if k not in after and k not in partly
                         and k not in refused and k not in checked
                         and not all(_holds(k, raw) for raw in link[k]))
        before = {k: ", ".join(link[k]) for k in dropped}  # as the link wrote them
        if dropped:
            shown = ", ".join(md_escape(f"{k}={before[k]!r}") for k in dropped)
            valid = [md_escape(f"{k}: {', '.join(v)}") for k in dropped
                     if (v := offered.get(k) or valid_values(k))]
            messages.append(f"This link's value for {shown} is not valid here, so the default "
                            "is used instead." + (" Valid values — " + "; ".join(valid) + "."
                                                  if valid else ""))
    left_out = {k: bad for k, bad in partly.items() if bad}
    if left_out:
        shown = "; ".join(md_escape(f"{k}: {', '.join(repr(v) for v in bad)}")
                          for k, bad in sorted(left_out.items()))
        messages.append(f"This link's values {shown} are not valid here and were left out; "
                        "its other values are used.")
    changed = (catalog_change_notice((link.get(CATALOG_PARAM) or [None])[-1],
                                     default_catalog_info())
               if first else "")  # once per session: the link was opened on the first run
    if first and link.get(ADDED_PARAM):
        messages.append(added_arms_notice(link[ADDED_PARAM][-1]))
        if ADDED_PARAM in st.query_params:
            del st.query_params[ADDED_PARAM]
    if messages:  # one element: `notice` is an st.empty placeholder
        notice.warning(" ".join(messages + ([changed] if changed else [])),
                       icon=":material/link_off:")
    elif changed:
        notice.info(changed, icon=":material/history:")


def added_arms_notice(raw: str) -> str:
    """What a user opening a link made while arms were added should know: they are not here."""
    try:
        count = parse_count(raw, maximum=10**6)
    except InputError as exc:
        return md_escape(f"This link's value for {ADDED_PARAM}={raw[:40]!r} is not valid here "
                         f"({exc}).")
    arms = "arm that is" if count == 1 else "arms that are"
    return md_escape(f"This link was made with {count} user-added {arms} not included: "
                     "added arms stay in the browser session that added them, so the numbers "
                     "here may differ. To see them, add the same arms on the Comparator trials "
                     "page (their author can download them as a CSV there).")


def catalog_change_notice(link_version: str | None, info: CatalogInfo) -> str:
    """What a user opening a link should know about the catalog it was made with ('' when the
    link names this catalog, or no catalog at all): the versions since and what each changed."""
    if link_version is None or link_version == info.catalog_version:
        return ""
    now = (f"this app uses comparator catalog {info.catalog_version} (literature last checked "
           f"{info.literature_last_checked})")
    if parse_version(link_version) is None:
        return md_escape(f"This link's catalog value {link_version[:40]!r} is not a catalog "
                         f"version; {now}.")
    since = info.changes_since(link_version)
    if not since:
        return md_escape(f"This link was made with catalog {link_version}, which is newer "
                         f"than this app's: {now}. Its numbers may differ from what you see.")
    changes = " ".join(f"{r.version} ({r.date}): {r.summary}" for r in since)
    return md_escape(f"This link was made with catalog {link_version}; {now}, so some numbers "
                     f"may differ from the ones it showed. Changed since — {changes}")


def _holds(key: str, raw: str) -> bool:
    """True when the widget `key` holds the value the link gave (Streamlit takes a value equal
    to the widget's default out of the URL, which is not a refusal)."""
    if key not in st.session_state:
        return False
    value = st.session_state[key]
    if isinstance(value, bool):
        return raw.strip().lower() == str(value).lower()
    if isinstance(value, int | float):
        try:
            return parse_number(raw) == value
        except InputError:
            return False
    if isinstance(value, list | tuple):
        return raw in [str(v) for v in value]
    return str(value) == raw


def valid_values(key: str) -> list[str]:
    """The values a link may carry for `key` when no widget of this run said what it offers
    (codes as the CLI spells them); [] otherwise. Subtypes are never listed from here: each
    page offers its own (those with enough arms), and a notice lists only what is offered."""
    static = {"measure": MEASURE_CHOICES.codes, "method": MODEL_CHOICES.codes,
              "hksj_variant": HKSJ_CHOICES.codes, "ci_method": CI_CHOICES.codes,
              "ci_level": [f"{level:g}" for level in CI_LEVELS], "endpoint": list(ENDPOINTS)}
    return static.get(key, [])

