"""Links to a view: the sidebar's "link to this view" control and the notice for a link whose
values could not be used or that was made under an older catalog. Kept apart from
views/common.py so the entry point imports nothing heavy (the landing page's cold start stays
close to a bare page's)."""

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

import streamlit as st

from comparators.evidence.versions import CatalogInfo, default_catalog_info, parse_version
from comparators.reports.markup import md_escape

#: The URL parameter a shared link carries: the catalog version its numbers came from.
CATALOG_PARAM = "catalog"


def share_link() -> None:
    """The link to the current view: page URL plus the non-default inputs bound to the URL.

    Only widget values travel in the link (never pickled state); an uploaded cohort or a
    what-if scenario stays in this browser session and is not shared. The link also names the
    catalog version, so whoever opens it later is told what changed since.
    """
    base = st.context.url or ""
    params = {k: v for k, v in st.query_params.to_dict().items() if v != ""}
    params[CATALOG_PARAM] = default_catalog_info().catalog_version
    link = base + ("?" + urlencode(params) if params else "")
    st.caption("Link to this view (copy with the icon)")
    st.code(link or "(available in the browser)", language=None, wrap_lines=True)


PARTLY_DROPPED_KEY = "_link_partly_dropped"  # {key: [values dropped]} for the notice


def keep_valid_link_values(
    key: str, options: Iterable[object], format_func: Callable[[Any], str] = str
) -> None:
    """Before a URL-bound multiselect: keep every usable value of its link, name the rest.

    Streamlit matches a multiselect's link values against the *shown* labels (its
    format_func), so a link typed with plain codes (``?catalog_subtype=ASPS&catalog_subtype=UPS``)
    lost every value. Codes are translated to options here; values that are neither a label
    nor a code are dropped on their own and named in the link notice.
    """
    values = st.query_params.get_all(key)
    if not values or key in st.session_state:
        return  # no link value, or the widget already has this session's value
    labels = {format_func(o) for o in options}
    if any(v in labels for v in values):
        # Streamlit keeps the values that are labels and drops the rest: name those
        bad = [v for v in values if v not in labels]
        if bad:
            st.session_state.setdefault(PARTLY_DROPPED_KEY, {})[key] = bad
        return
    codes = {str(o): o for o in options}
    kept = list(dict.fromkeys(codes[v] for v in values if v in codes))
    if not kept:
        return  # nothing usable: Streamlit uses the default and the notice says so
    # The widgets read the link as it was when the run started, so the translated value goes
    # in through session state (the widget then writes it back to the URL).
    st.session_state[key] = kept
    st.session_state.setdefault(PARTLY_DROPPED_KEY, {})[key] = [v for v in values
                                                                if v not in codes]


#: Links made before the app used codes carried display labels; they still open the same view.
LEGACY_LABELS: dict[str, dict[str, str]] = {
    "ci_method": {"Wilson": "wilson", "Clopper-Pearson": "clopper-pearson",
                  "Jeffreys": "jeffreys", "Agresti-Coull": "agresti-coull",
                  "Wilson-CC": "wilson-cc", "Wald": "wald"},
    "ci_level": {"95%": "0.95", "90%": "0.9", "80%": "0.8", "99%": "0.99"},
    "measure": {"Logit": "logit", "Freeman-Tukey": "ft", "Arcsine": "arcsine",
                "Raw proportion": "raw"},
    "method": {"Random effects, REML": "REML", "Random effects, DerSimonian-Laird": "DL",
               "Random effects, Paule-Mandel": "PM", "Random effects, ML": "ML",
               "Fixed effect": "FE", "GLMM (logistic random intercept)": "GLMM"},
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
        if new is not None:
            # The widget takes the code from session state; the old value leaves the URL so
            # the widget writes the code back there.
            del st.query_params[key]
            st.session_state[key] = float(new) if key == "ci_level" else new


def check_link_values(before: dict[str, str], notice: st.delta_generator.DeltaGenerator) -> None:
    """Tell the user when an opened link carried values that no longer apply.

    Streamlit drops a bound widget's invalid URL value and uses the default; on the first run of a
    session (a link just opened) we compare the URL before and after the page ran and say which
    values were replaced. Later runs are skipped: setting a widget back to its default also
    removes its value from the URL. A link made under another catalog version also says what
    changed since (catalog_change_notice).
    """
    if st.session_state.get("_link_checked"):
        return
    st.session_state["_link_checked"] = True
    after = st.query_params.to_dict()
    partly = st.session_state.pop(PARTLY_DROPPED_KEY, {})  # multiselects kept in part
    dropped = sorted(k for k in before if k not in after and k not in partly)
    messages = []
    if dropped:
        shown = ", ".join(md_escape(f"{k}={before[k]!r}") for k in dropped)
        valid = [md_escape(f"{k}: {', '.join(v)}") for k in dropped if (v := valid_values(k))]
        messages.append(f"This link's value for {shown} is not valid here, so the default is "
                        "used instead." + (" Valid values — " + "; ".join(valid) + "."
                                           if valid else ""))
    left_out = {k: bad for k, bad in partly.items() if bad}
    if left_out:
        shown = "; ".join(md_escape(f"{k}: {', '.join(repr(v) for v in bad)}")
                          for k, bad in sorted(left_out.items()))
        messages.append(f"This link's values {shown} are not valid here and were left out; "
                        "its other values are used.")
    changed = catalog_change_notice(before.get(CATALOG_PARAM), default_catalog_info())
    if messages:  # one element: `notice` is an st.empty placeholder
        notice.warning(" ".join(messages + ([changed] if changed else [])),
                       icon=":material/link_off:")
    elif changed:
        notice.info(changed, icon=":material/history:")


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


def valid_values(key: str) -> list[str]:
    """The values a link may carry for `key` (codes as the CLI spells them); [] if free-form.

    Imported lazily: only a link with a bad value pays for the catalog.
    """
    from comparators.vocab import CI_SHORT_NAMES, HKSJ_VARIANTS, MEASURES, METHODS

    static = {"measure": list(MEASURES), "method": list(METHODS),
              "hksj_variant": list(HKSJ_VARIANTS), "ci_method": list(CI_SHORT_NAMES),
              "ci_level": [f"{level:g}" for level in CI_LEVELS]}
    if key in static:
        return static[key]
    if key in {"subtype", "plan_subtype", "whatif_subtype", "summary_subtypes"}:
        from comparators.evidence.catalog import load_catalog
        from comparators.vocab import AGGREGATE_SUBTYPES

        return sorted(set(load_catalog().trials["subtype"].astype(str)) - AGGREGATE_SUBTYPES)
    return []


#: The confidence levels the sidebar offers (the entry point's selectbox reads this).
CI_LEVELS = (0.95, 0.90, 0.80, 0.99)
