"""Entry point: page config, navigation over views/, and the sidebar every page shares."""

import streamlit as st

from comparators.vocab import CI_CHOICES
from views.process import freeze_long_lived_objects
from views.restart import notice_if_session_restarted
from views.share import (
    CI_LEVELS,
    check_link_input,
    check_link_values,
    link_choice,
    link_state,
    share_link,
    share_link_slot,
    upgrade_legacy_link,
)

st.set_page_config(page_title="Sarcoma AI+ICI explorer", page_icon=":microscope:", layout="wide")

page = st.navigation(
    [
        st.Page("views/home.py", title="About", icon=":material/info:", default=True),
        st.Page("views/cohort.py", title="This cohort", icon=":material/groups:",
                url_path="cohort"),
        st.Page("views/catalog.py", title="Comparator trials", icon=":material/table:",
                url_path="trials"),
        st.Page("views/benchmark.py", title="Benchmark a subtype", icon=":material/forest:",
                url_path="benchmark"),
        st.Page("views/across.py", title="Across subtypes", icon=":material/compare_arrows:",
                url_path="across-subtypes"),
        st.Page("views/summary.py", title="Evidence summary", icon=":material/description:",
                url_path="summary"),
        st.Page("views/whatif.py", title="What if", icon=":material/tune:", url_path="what-if"),
        st.Page("views/planning.py", title="Plan the next trial", icon=":material/calculate:",
                url_path="plan"),
        st.Page("views/survival.py", title="Survival and patients",
                icon=":material/monitoring:", url_path="survival"),
        st.Page("views/audit.py", title="Data audit", icon=":material/fact_check:",
                url_path="audit"),
    ]
)

upgrade_legacy_link()
check_link_input()  # unknown keys and unusable values leave the URL before any widget reads it
link_values = link_state()  # before any widget can drop an invalid value
link_notice = st.empty()
notice_if_session_restarted()

with st.sidebar:
    # Codes as the CLI spells them (wilson, 0.9): a link carries exactly these.
    link_choice("ci_method", CI_CHOICES.codes)
    link_choice("ci_level", list(CI_LEVELS), format_func=lambda level: f"{level:g}")
    st.selectbox(
        "Confidence interval for proportions",
        CI_CHOICES.codes,
        key="ci_method",
        bind="query-params",
        persist_state="session",
        help="wilson (default) is the seed paper's method and reproduces its printed "
        "intervals; wilson-cc adds a continuity correction; clopper-pearson is exact; "
        "also jeffreys, agresti-coull and wald.",
    )
    st.selectbox(
        "Confidence level",
        list(CI_LEVELS),
        format_func=lambda level: f"{level:g}",
        key="ci_level",
        bind="query-params",
        persist_state="session",
        help="0.95 = 95%. Every header, axis and export names the level in use.",
    )

# The pooling model, on the pages that pool. Rendered here (not in each page) so that it is one
# widget across those pages: its value carries from page to page and into every link.
if page.url_path in {"benchmark", "across-subtypes", "summary", "what-if", "plan"}:
    from views.common import model_controls

    model_controls(page.url_path)

share_link_slot()  # the link sits under the sidebar's controls; sections redraw it there
page.run()

check_link_values(link_values, link_notice)
share_link()

freeze_long_lived_objects()  # a no-op unless this run imported new modules
