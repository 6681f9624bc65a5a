import io

import pandas as pd
import streamlit as st

from comparators.charts.prisma import prisma_flow_chart
from comparators.evidence.added_rows import (
    ADDED_REQUIRED_TEXT,
    added_row,
    catalog_format,
    combine_added_rows,
    read_added_rows,
)
from comparators.evidence.catalog import SOURCE_TYPES, Catalog, CatalogError, catalog_table
from comparators.evidence.labels import ADDED_MARK
from comparators.evidence.search_log import PrismaFlow, load_search_log, prisma_flow
from comparators.inputs import clean_text
from comparators.limits import MAX_ADDED_ARMS, MAX_ADDED_BYTES, MAX_COUNT
from comparators.reports.citations import vancouver
from comparators.reports.markup import md_escape
from comparators.vocab import (
    CI_CHOICES,
    DESIGNS,
    ICI_TARGETS,
    LINE_CODES,
    MARKS,
    REGIMEN_CLASSES,
)
from views.common import (
    BY_DIGEST,
    NOT_REPORTED,
    added_arms,
    catalog,
    chart_downloads,
    chart_spec,
    ci_options,
    csv_download,
    curated_catalog,
    set_added_arms,
    show_chart,
)
from views.share import keep_valid_link_values


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs=BY_DIGEST)
def ci_table(cat: Catalog, method: str, level: float) -> pd.DataFrame:
    """The catalog with each row's ORR interval, shared read-only (filters copy)."""
    return catalog_table(cat, method, level)


ADDED_NOTICE_KEY = "_added_arms_notice"  # what the last add did, shown once after the rerun
UPLOADS_DONE_KEY = "_added_arms_uploads"  # file ids already added (an upload stays selected)


def add_arms(new: pd.DataFrame, what: str) -> None:
    """Join `new` to the session's added arms and say so on the next run."""
    set_added_arms(combine_added_rows(added_arms(), new))
    st.session_state[ADDED_NOTICE_KEY] = f"Added {what}."


def show_refusal(exc: CatalogError, what: str) -> None:
    st.error(f"{what} was not added:\n\n" + "\n".join(f"- {md_escape(p)}"
                                                         for p in exc.problems),
             icon=":material/block:")


def render_add_arm_form() -> None:
    """One arm in the catalog's row shape, with where its numbers were read from."""
    none: list[str | None] = [None]
    count = {"min_value": 0, "max_value": MAX_COUNT, "value": None, "step": 1}
    # (column, which of the three columns, widget, label, arguments); * marks a required value
    layout: list[tuple[str, int, str, str, dict[str, object]]] = [
        ("study", 0, "text_input", "Study id *", {"placeholder": "e.g. SMITH2025"}),
        ("arm", 1, "text_input", "Arm *", {"placeholder": "e.g. axitinib + pembrolizumab"}),
        ("regimen", 2, "text_input", "Regimen *", {}),
        ("regimen_class", 0, "selectbox", "Regimen class *", {"options": REGIMEN_CLASSES}),
        ("ici_target", 1, "selectbox", "ICI target", {"options": none + list(ICI_TARGETS)}),
        ("subtype", 2, "selectbox", "Subtype *",
         {"options": sorted(curated_catalog().subtype_codes)}),
        ("evaluable", 0, "number_input", "Evaluable *", count),
        ("responders", 1, "number_input", "Responders (CR + PR) *", count),
        ("design", 2, "selectbox", "Design", {"options": none + list(DESIGNS)}),
        ("cr", 0, "number_input", "CR", count),
        ("pr", 1, "number_input", "PR", count),
        ("line_coded", 2, "selectbox", "Line", {"options": none + list(LINE_CODES)}),
        ("source_ref", 0, "text_input", "Read from *",
         {"help": "The document the numbers were read from: authors, year, journal or "
                  "meeting, and a DOI, PMID or NCT number if it has one"}),
        ("source_type", 1, "selectbox", "Source type *", {"options": SOURCE_TYPES}),
        ("data_cut", 2, "text_input", "Data cut *",
         {"placeholder": "YYYY-MM-DD, YYYY-MM, YYYY or final"}),
        ("locator", 0, "text_input", "Where in the source", {"placeholder": "e.g. Table 2"}),
        ("note", 1, "text_input", "Note", {}),
    ]
    with st.form("add_arm_form"):
        places = st.columns(3)
        fields = {column: getattr(places[where], widget)(label, key=f"add_{column}", **kwargs)
                  for column, where, widget, label, kwargs in layout}
        submitted = st.form_submit_button("Add this arm", icon=":material/add:")
    if submitted:
        given = {k: v for k, v in fields.items() if v not in (None, "")}
        try:
            add_arms(added_row(given, curated_catalog(), already=_count()), "1 arm")
        except CatalogError as exc:
            show_refusal(exc, "The arm")
        else:
            st.rerun()


def render_add_arms_upload() -> None:
    """Several arms from a CSV with the catalog's columns (this page's download is one)."""
    upload = st.file_uploader(
        f"Or add arms from a CSV with the catalog's columns (at most {MAX_ADDED_ARMS} arms, "
        f"{MAX_ADDED_BYTES // 1000:,} KB)", type=["csv"], key="add_arms_csv")
    if upload is None or upload.file_id in st.session_state.get(UPLOADS_DONE_KEY, ()):
        return
    st.session_state.setdefault(UPLOADS_DONE_KEY, []).append(upload.file_id)
    name = clean_text(upload.name[:1000], max_chars=1000) or "upload.csv"
    try:
        new = read_added_rows(upload.read(MAX_ADDED_BYTES + 1), curated_catalog(),
                              filename=name, already=_count())
        add_arms(new, f"{len(new)} arm{'s' if len(new) != 1 else ''} from {name}")
    except CatalogError as exc:
        show_refusal(exc, name)
    else:
        st.rerun()


def _count() -> int:
    rows = added_arms()
    return 0 if rows is None else len(rows)


def render_added_arms() -> None:
    """The arms added in this session: what they are, their download, and removing them."""
    st.header("Arms you added")
    st.caption(
        f"Add a comparator arm the catalog lacks. It joins every page and export of this "
        f"session, marked {ADDED_MARK} ({md_escape(MARKS[ADDED_MARK].legend)}). It stays in this "
        "browser session: links to a view do not carry it (they say that it is missing). "
        "Required: " + ", ".join(ADDED_REQUIRED_TEXT) + ", evaluable and responders.")
    notice = st.session_state.pop(ADDED_NOTICE_KEY, None)
    if notice:
        st.success(md_escape(notice), icon=":material/check_circle:")
    with st.expander("Add an arm", icon=":material/add_circle:", expanded=added_arms() is None):
        render_add_arm_form()
        render_add_arms_upload()
    rows = added_arms()
    if rows is None:
        return
    st.dataframe(catalog_format(rows), hide_index=True, key="added_arms_table",
                 placeholder=NOT_REPORTED,
                 column_order=["study", "arm", "regimen_class", "subtype", "responders",
                               "evaluable", "source_ref", "source_type", "data_cut", "note"])
    left, right = st.columns(2)
    with left:
        csv_download(catalog_format(rows), "Download the arms you added (catalog CSV)",
                     "added_arms.csv", "dl_added_arms")
    if right.button("Remove the arms you added", key="remove_added_arms",
                    icon=":material/delete:"):
        set_added_arms(None)
        st.session_state.pop(UPLOADS_DONE_KEY, None)
        st.rerun()


def render_intro(cat: Catalog) -> None:
    st.title("Comparator trials")
    st.caption(
        "Every comparator of angiogenesis inhibitors (AI) and immune checkpoint inhibitors (ICI) "
        "in soft-tissue sarcoma that the seed paper cites for a subtype response rate, curated "
        "with its source. Rows marked *seed paper only* are the seed's claims with no "
        "independent source yet; data/README.md describes every column and the curation rules.")
    if cat.info is None:
        return
    with st.expander(f"What changed: catalog {cat.info.catalog_version}, literature last "
                     f"checked {cat.info.literature_last_checked}", icon=":material/history:"):
        st.markdown("\n".join(f"- **{md_escape(r.version)}** ({md_escape(r.date)}): "
                               f"{md_escape(r.summary)}" for r in reversed(cat.info.history)))
        st.caption("Each version's corrections, with the source read, are listed in "
                   "data/CURATION.md. A shared link names the catalog version it was made "
                   "with; opened later, it says what changed since.")


def choose_rows(table: pd.DataFrame, names: dict[str, str]) -> pd.DataFrame:
    """The filters (each in the link) and the rows they keep."""
    def subtype_label(code: str) -> str:
        return f"{code} ({names.get(code, code)})"

    # a link may name subtypes by code; one stale value drops only itself (views/share.py)
    for link_key, column in (("catalog_class", "regimen_class"), ("catalog_design", "design"),
                             ("catalog_verified", "verified")):
        keep_valid_link_values(link_key, table[column].dropna().unique())
    keep_valid_link_values("catalog_subtype", table["subtype"].unique(), subtype_label)
    filters = st.columns(4)
    chosen = {
        "subtype": filters[0].multiselect(
            "Subtype", sorted(table["subtype"].unique()), key="catalog_subtype",
            bind="query-params", format_func=subtype_label, placeholder="All subtypes"),
        "regimen_class": filters[1].multiselect(
            "Regimen class", sorted(table["regimen_class"].unique()), key="catalog_class",
            bind="query-params", placeholder="All classes"),
        "design": filters[2].multiselect(
            "Design", sorted(table["design"].dropna().unique()), key="catalog_design",
            bind="query-params", placeholder="All designs"),
        "verified": filters[3].multiselect(
            "Verification", sorted(table["verified"].unique()), key="catalog_verified",
            bind="query-params", placeholder="Any status"),
    }
    shown = table
    for column, values in chosen.items():
        if values:
            shown = shown[shown[column].isin(values)]
    return shown


def numbered(shown: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """One numbered list for the rows on screen: each row cites what its numbers were read from
    and, when that is another document, the study's own reference."""
    numbers = {key: i for i, key in enumerate(
        dict.fromkeys(k for pair in zip(shown["source_ref"], shown["ref"], strict=True)
                      for k in pair if isinstance(k, str)), start=1)}
    return shown.assign(
        read_from=[f"{numbers[s]} ({t})" for s, t in zip(shown["source_ref"],
                                                         shown["source_type"], strict=True)],
        study_ref=[None if not isinstance(r, str) or r == s else numbers[r]
                   for r, s in zip(shown["ref"], shown["source_ref"], strict=True)],
    ), numbers


def render_rows(shown: pd.DataFrame, total: int, method: str, level: float) -> None:
    level_label = f"{100 * level:g}% CI"
    st.metric("Rows shown", f"{len(shown)} of {total}")
    st.dataframe(
        shown,
        hide_index=True,
        column_order=["study", "arm", "regimen_class", "subtype", "responders", "evaluable",
                      "orr_pct", "orr_low_pct", "orr_high_pct", "cr", "pr", "sd", "pd",
                      "unconfirmed", "pfs_median_months", "design", "verified", "derived",
                      "read_from", "study_ref", "doi_link", "pubmed_link", "clinicaltrials_link",
                      "url_link", "locator", "note"],
        column_config={
            "study": "Study", "arm": "Arm", "regimen_class": "Class", "subtype": "Subtype",
            "responders": st.column_config.NumberColumn("Responders"),
            "evaluable": st.column_config.NumberColumn("Evaluable"),
            "orr_pct": st.column_config.NumberColumn("ORR %", format="%.1f"),
            "orr_low_pct": st.column_config.NumberColumn(f"{level_label} low %", format="%.1f"),
            "orr_high_pct": st.column_config.NumberColumn(f"{level_label} high %",
                                                          format="%.1f"),
            "cr": st.column_config.NumberColumn("CR"), "pr": st.column_config.NumberColumn("PR"),
            "sd": st.column_config.NumberColumn("SD"), "pd": st.column_config.NumberColumn("PD"),
            "unconfirmed": st.column_config.NumberColumn(
                "Unconfirmed", help="Unconfirmed responses, not counted as responders"),
            "pfs_median_months": st.column_config.NumberColumn("Median PFS (months)",
                                                               format="%.1f"),
            "design": "Design", "verified": "Verification",
            "derived": st.column_config.TextColumn(
                "Derived", help="yes: counts computed from the source's percentages or totals"),
            "read_from": st.column_config.TextColumn(
                "Read from", help="Number in the reference list below, and the kind of document"),
            "study_ref": st.column_config.NumberColumn(
                "Study ref.", format="%d", help="The study's own report, when the numbers were "
                "read from another document"),
            "doi_link": st.column_config.LinkColumn("DOI", display_text="doi"),
            "pubmed_link": st.column_config.LinkColumn("PubMed", display_text="PMID"),
            "clinicaltrials_link": st.column_config.LinkColumn("Registry", display_text="NCT"),
            "url_link": st.column_config.LinkColumn("Other source", display_text="link"),
            "locator": st.column_config.TextColumn("Where in the source", width="medium"),
            "note": st.column_config.TextColumn("Note", width="large"),
        },
        key="catalog_table",
        placeholder=NOT_REPORTED,  # counts stay numbers, so they sort as numbers
    )
    st.caption(
        f"ORR = responders / evaluable with a {CI_CHOICES[method].label} {level_label} (choose "
        "the method in the sidebar). Responders are confirmed CR + PR; unconfirmed responses are "
        f"counted separately. {NOT_REPORTED}: not reported by the source.")


def render_row_downloads(shown: pd.DataFrame) -> None:
    export = shown.drop(columns=[c for c in shown.columns if c.endswith("_link")]
                        + ["read_from", "study_ref"])
    left, right = st.columns(2)
    with left:
        csv_download(export, "Download these rows (CSV)", "comparator_trials.csv",
                     "dl_catalog_csv")
    with right:
        buffer = io.BytesIO()
        export.to_parquet(buffer, index=False)
        st.download_button("Download these rows (Parquet)", buffer.getvalue(),
                           file_name="comparator_trials.parquet",
                           mime="application/vnd.apache.parquet", key="dl_catalog_parquet",
                           icon=":material/download:", on_click="ignore")


def render_references(cat: Catalog, numbers: dict[str, int]) -> None:
    st.header("References")
    refs = cat.references.set_index("ref")
    st.markdown("\n".join(  # one element; an added arm's source is shown as its user typed it
        f"{number}. {md_escape(vancouver(refs.loc[key]) if key in refs.index else key)}"
        + ("" if key in refs.index else f" {ADDED_MARK} (added by the user, as entered)")
        for key, number in numbers.items()))


@st.cache_resource(show_spinner=False)
def search_flow() -> PrismaFlow:
    return prisma_flow(load_search_log(catalog=curated_catalog()))


def render_search() -> None:
    """How the curated catalog was found: the PRISMA 2020 flow drawn from data/search_log.csv
    and data/search_records.csv (evidence.search_log)."""
    st.header("How the catalog was found")
    flow = search_flow()
    spec = chart_spec(prisma_flow_chart, flow)
    show_chart(spec, key="prisma_chart")
    st.caption(md_escape(flow.note()) + " Arms a user adds are not part of this flow.")
    chart_downloads(spec, "prisma_flow", "dl_prisma")


cat = catalog()
method, level = ci_options()
render_intro(cat)
table = ci_table(cat, method, level)
shown, numbers = numbered(choose_rows(table, cat.subtype_names))
render_rows(shown, len(table), method, level)
render_row_downloads(shown)
render_references(cat, numbers)
render_search()
render_added_arms()
