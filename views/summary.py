"""Evidence summary: per subtype, the two sentences a reviewer reads first, a table of the class
pools, the details, the forest plot, the trials and the data caveats; the marks' legend and the
methods once; numbered references. Exported as Word, Markdown, HTML, BibTeX, RIS, CSV and
Parquet, all from the same document (reports.summary). The fits are the benchmark page's cached
objects (views.common)."""

from __future__ import annotations

import hashlib
import io
import json

import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import BenchmarkError
from comparators.analysis.options import AnalysisOptions
from comparators.charts.forest import forest_chart
from comparators.charts.median_forest import median_forest_chart
from comparators.charts.prisma import prisma_flow_chart
from comparators.evidence.cohort import ThisCohort
from comparators.reports.citations import to_bibtex, to_ris
from comparators.reports.export import chart_png, chart_svg, neutralise_formulas, safe_csv
from comparators.reports.summary import (
    SEARCH_FIGURE,
    EvidenceSummary,
    MedianSection,
    SubtypeSection,
    SummaryError,
    build_summary,
    endpoint_of,
    md_escape,
    model_description,
    table_header,
    to_docx,
    to_html,
    to_markdown,
)
from comparators.vocab import REGIMEN_CLASSES
from views.benchmark_display import reference_values
from views.benchmark_median import NOT_FOR_MEDIANS, upper_limits
from views.certainty_display import show_certainty
from views.common import (
    BY_DIGEST,
    NOT_APPLICABLE,
    analysis_options,
    catalog,
    catalog_stamp,
    cell_text,
    chart_spec,
    cohort_banner,
    comparable_subtypes,
    csv_file,
    endpoint_is_median,
    median_benchmark,
    refusal_text,
    seed_audit,
    seed_cohort,
    show_chart,
    subtype_benchmark,
    this_cohort,
)
from views.share import keep_valid_link_values


@st.cache_data(show_spinner=False, max_entries=64)
def figure_png(spec_json: str) -> bytes:
    return chart_png(json.loads(spec_json))


@st.cache_data(show_spinner=False, max_entries=64)
def figure_svg(spec_json: str) -> str:
    return chart_svg(json.loads(spec_json))


@st.cache_data(show_spinner=False, max_entries=16)
def word_file(signature: str, _summary: EvidenceSummary, _pngs: dict[str, bytes]) -> bytes:
    return to_docx(_summary, _pngs)


@st.cache_data(show_spinner=False, max_entries=16)
def html_file(signature: str, _summary: EvidenceSummary, _svgs: dict[str, str]) -> str:
    return to_html(_summary, _svgs)


def parquet_bytes(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@st.cache_resource(show_spinner="Writing the summary…", max_entries=32, hash_funcs=BY_DIGEST)
def evidence_summary(cohort: ThisCohort, subtypes: tuple[str, ...], options: AnalysisOptions,
                     classes: tuple[str, ...], eortc_refs: tuple[str, ...] = ()
                     ) -> tuple[EvidenceSummary, dict[str, bytes]]:
    """The summary (from the benchmark page's cached fits) and its text exports, written once
    per cohort, subtypes, options, classes and EORTC reference values chosen on the Benchmark
    page: it is a pure function of them."""
    cat = catalog()
    summary = build_summary(
        cat.trials, cat.references, seed_audit(), cohort, list(subtypes), options,
        list(classes) or None,
        benchmarks={s: median_benchmark(s, options) if endpoint_is_median(options)
                    else subtype_benchmark(s, options, cohort) for s in subtypes},
        subtype_names=cat.subtype_names,
        claims=seed_cohort().claims, catalog_stamp=catalog_stamp(),
        reference_values=reference_values(), chosen_references=eortc_refs,
    )
    data = summary.to_frame()
    files = {
        "md": to_markdown(summary).encode("utf-8"),
        "bib": to_bibtex(summary.references_table).encode("utf-8"),
        "ris": to_ris(summary.references_table).encode("utf-8"),
        "csv": safe_csv(data),  # the frame's own settings and data_label columns stamp it
        "parquet": parquet_bytes(neutralise_formulas(data)),
    }
    return summary, files


def render_intro(cohort: ThisCohort) -> None:
    st.title("Evidence summary")
    st.caption(
        "A paragraph per subtype with the chosen endpoint (sidebar) pooled by regimen class, "
        "with confidence intervals, "
        "this cohort beside them, the trials behind every number, the data caveats from the "
        "audit, a methods paragraph and numbered references — ready to paste into a grant "
        "application."
    )
    cohort_banner(cohort)


def choose_subtypes_and_classes() -> tuple[list[str], list[str]]:
    """The subtypes to summarise and the classes the paragraphs report, bound to the URL
    (every value of each: a link carries all the subtypes chosen)."""
    available = comparable_subtypes()  # sorted codes with at least two arms
    names = catalog().subtype_names
    controls = st.columns([3, 2])
    keep_valid_link_values("summary_subtypes", available)  # invalid values named
    keep_valid_link_values("summary_classes", REGIMEN_CLASSES)
    chosen = controls[0].multiselect(
        "Subtypes", available,
        default=None if "summary_subtypes" in st.session_state  # set from a link's codes
        else ["ASPS"] if "ASPS" in available else available[:1],
        key="summary_subtypes", bind="query-params", placeholder="Choose one or more subtypes",
        help="Subtype codes as in data/subtypes.csv and the CLI: "
             + "; ".join(f"{c} {names.get(c, c)}" for c in available),
    )
    classes = controls[1].multiselect(
        "Regimen classes to report", list(REGIMEN_CLASSES), default=[], key="summary_classes",
        bind="query-params", placeholder="All classes",
        help="Limits the classes the paragraph reports. The table, the forest plot and the "
             "overall pooled estimate keep every included arm.",
    )
    return list(chosen), list(classes)


def render_section(section: SubtypeSection | MedianSection) -> dict:
    """One subtype: lead, class pools, details, forest plot, trials, caveats. Returns the
    forest plot's spec (the Word and HTML files embed it)."""
    if isinstance(section, MedianSection):
        return render_median_section(section)
    render_lead_and_pools(section)
    show_certainty(section.benchmark, cohort, key=f"summary_{section.subtype}")
    if section.details:
        st.markdown(md_escape(section.details))
    # the page shows the document's figures: their marks are explained once, above
    spec = chart_spec(forest_chart, section.forest, None, section.chart_title,
                      list(section.chart_subtitle), section.x_title, section.figure_interval,
                      legend=False, endpoint=endpoint_of(section.benchmark))
    show_chart(spec, key=f"summary_forest_{section.subtype}")
    st.caption(md_escape(section.caption))
    render_trials(section)
    if section.caveats:
        with st.expander(f"Data caveats ({len(section.caveats)})", icon=":material/warning:"):
            st.markdown("\n".join(f"- {md_escape(c)}" for c in section.caveats))
    return spec


def render_lead_and_pools(section: SubtypeSection | MedianSection) -> None:
    """A section's heading, lead, endpoint notes and class table, as every endpoint has them."""
    st.header(section.heading, divider="gray")
    st.markdown(md_escape(section.lead))
    render_endpoint_notes(section)
    st.dataframe(pd.DataFrame(list(section.pools), columns=list(section.pool_header)),
                 hide_index=True, key=f"summary_pools_{section.subtype}")
    st.caption(md_escape(section.pools_note))


def render_median_section(section: MedianSection) -> dict:
    """One subtype's median PFS (months): lead, the no-GRADE line, class table, the Benchmark
    page's forest figure (its cached spec), the arms and the caveats."""
    render_lead_and_pools(section)
    if section.details:
        st.markdown(md_escape(section.details))
    spec = chart_spec(median_forest_chart, section.benchmark)
    show_chart(spec, key=f"summary_forest_{section.subtype}")
    st.caption(md_escape(section.caption))
    st.subheader(f"Trials used ({section.subtype})")
    arms = section.trials
    st.dataframe(
        arms.assign(study=[f"{name} (this cohort)" if own else name + mark
                           for name, own, mark in zip(arms["study_label"], arms["is_cohort"],
                                                      arms["mark"], strict=True)],
                    low=cell_text(arms["low"], "{:.2f}", NOT_APPLICABLE),
                    high=upper_limits(arms["low"], arms["high"])),
        hide_index=True, key=f"summary_trials_{section.subtype}",
        column_order=["study", "arm", "regimen_class", "patients", "median", "low", "high",
                      "verified", "source_type", "ref_number"],
        column_config={"study": "Study", "arm": "Arm", "regimen_class": "Class",
                       "patients": "Patients",
                       "median": st.column_config.NumberColumn("Median PFS (months)",
                                                               format="%.2f"),
                       "low": "Lower limit", "high": "Upper limit",
                       "verified": "Verification", "source_type": "Read from",
                       "ref_number": st.column_config.NumberColumn("Ref.", format="%d")})
    if section.caveats:
        with st.expander(f"Data caveats ({len(section.caveats)})", icon=":material/warning:"):
            st.markdown("\n".join(f"- {md_escape(c)}" for c in section.caveats))
    return spec


def render_endpoint_notes(section: SubtypeSection | MedianSection) -> None:
    """Beside the lead, as in every export: why safety is an arm's (grade >= 3 TRAE), and the
    EORTC reference values of a progression-free rate (those chosen on the Benchmark page,
    else every one offered for the subtype)."""
    for note in section.endpoint_notes:
        st.caption(md_escape(note))


def render_trials(section: SubtypeSection) -> None:
    """The arms behind the section's numbers, each study named as its readers know it."""
    st.subheader(f"Trials used ({section.subtype})")
    trials = section.trials
    shown = trials.assign(
        study=[f"{name} (this cohort)" if own else name + mark
               for name, own, mark in zip(trials["study_label"], trials["is_cohort"],
                                          trials["mark"], strict=True)],
        counts=[f"{k}/{n}" for k, n in zip(trials["responders"], trials["evaluable"],
                                           strict=True)],
        estimate=100 * trials["estimate"], low=100 * trials["low"], high=100 * trials["high"],
        # blank when the numbers were read from the study's own report (Ref. is that report)
        study_ref_number=cell_text(trials["study_ref_number"], "{:.0f}", NOT_APPLICABLE),
    )[["study", "arm", "regimen_class", "counts", "estimate", "low", "high", "verified",
       "source_type", "ref_number", "study_ref_number"]]
    arm_interval = section.benchmark.options.arm_interval_name
    header = table_header(endpoint_of(section.benchmark))
    st.dataframe(
        shown, hide_index=True, key=f"summary_trials_{section.subtype}",
        column_config={
            "study": "Study", "arm": "Arm", "regimen_class": "Class",
            "counts": header[3],
            "estimate": st.column_config.NumberColumn(header[4].removesuffix(" (CI)"),
                                                      format="%.1f"),
            "low": st.column_config.NumberColumn(f"{arm_interval} low", format="%.1f"),
            "high": st.column_config.NumberColumn(f"{arm_interval} high", format="%.1f"),
            "verified": "Verification", "source_type": "Read from",
            "ref_number": st.column_config.NumberColumn(
                "Ref.", format="%d", help="The reference the numbers were read from"),
            "study_ref_number": st.column_config.TextColumn(
                "Study ref.", alignment="right",
                help="The study's own report, when the numbers were read from another "
                     f"document ({NOT_APPLICABLE} when Ref. is that report)"),
        },
    )


def render_methods_and_references(summary: EvidenceSummary) -> dict | None:
    """Methods, the PRISMA flow of the search (its spec returned: the Word and HTML files
    embed it), references."""
    st.header("Methods", divider="gray")
    st.code(summary.methods, language=None, wrap_lines=True)
    for subtype, text in summary.methods_by_subtype:
        st.code(f"{subtype}: {text}", language=None, wrap_lines=True)
    spec = None
    if summary.search_flow is not None:
        st.subheader("How the catalog was found")
        spec = chart_spec(prisma_flow_chart, summary.search_flow)
        show_chart(spec, key="summary_prisma")
        st.caption(md_escape(summary.search_caption))
    st.header("References", divider="gray")
    st.markdown("\n".join(f"{r.number}. {md_escape(r.text)}" for r in summary.references))
    return spec


def render_quick_downloads(files: dict[str, bytes], base: str, labelled: str) -> None:
    """The text exports, written with the summary."""
    quick = st.columns(5)
    quick[0].download_button(
        "Markdown", files["md"], file_name=f"{base}{labelled}.md", mime="text/markdown",
        key="dl_summary_md", icon=":material/description:", on_click="ignore",
    )
    quick[1].download_button(
        "BibTeX", files["bib"], file_name=f"{base}.bib",
        mime="application/x-bibtex", key="dl_summary_bib", icon=":material/menu_book:",
        on_click="ignore",
    )
    quick[2].download_button(
        "RIS", files["ris"], file_name=f"{base}.ris",
        mime="application/x-research-info-systems", key="dl_summary_ris",
        icon=":material/menu_book:", on_click="ignore",
    )
    with quick[3]:
        csv_file(files["csv"], "Data (CSV)", f"{base}{labelled}.csv", "dl_summary_csv")
    quick[4].download_button(
        "Data (Parquet)", files["parquet"],
        file_name=f"{base}{labelled}.parquet", mime="application/vnd.apache.parquet",
        key="dl_summary_parquet", icon=":material/dataset:", on_click="ignore",
    )


@st.fragment
def render_document_downloads(summary: EvidenceSummary, specs: dict[str, dict], signature: str,
                              base: str, labelled: str) -> None:
    """Word and HTML, which embed the figures: rendered on request, with progress; the
    button reruns this section alone."""
    st.caption("Word and HTML embed the forest plots and the PRISMA flow diagram, which are "
               "rendered on request (about half a second each).")
    if st.button("Prepare Word and HTML", key="summary_prepare", icon=":material/build:"):
        with st.status("Building the Word and HTML files…", expanded=True) as status:
            bar = st.progress(0.0, text="Rendering figures")
            steps = len(specs) * 2
            done = 0
            for key, spec in specs.items():
                spec_json = json.dumps(spec, sort_keys=True)
                name = ("PRISMA flow diagram" if key == SEARCH_FIGURE
                        else f"Forest plot {key}")
                for kind, render in (("PNG", figure_png), ("SVG", figure_svg)):
                    render(spec_json)
                    done += 1
                    bar.progress(done / steps, text=f"{name} ({kind})")
            status.update(label="Word and HTML files ready", state="complete", expanded=False)
        st.session_state["summary_exports"] = signature
    if st.session_state.get("summary_exports") != signature:
        return
    jsons = {s: json.dumps(spec, sort_keys=True) for s, spec in specs.items()}
    buttons = st.columns(5)
    buttons[0].download_button(
        "Word (.docx)", word_file(signature, summary, {s: figure_png(j) for s, j in jsons.items()}),
        file_name=f"{base}{labelled}.docx",
        mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        key="dl_summary_docx", icon=":material/article:", on_click="ignore", type="primary",
    )
    buttons[1].download_button(
        "HTML", html_file(signature, summary, {s: figure_svg(j) for s, j in jsons.items()}),
        file_name=f"{base}{labelled}.html", mime="text/html", key="dl_summary_html",
        icon=":material/html:", on_click="ignore", type="primary",
    )


def render_summary(summary: EvidenceSummary) -> dict[str, dict]:
    """The document on the page; returns the spec of each of its figures (the forest plots by
    subtype, the PRISMA flow diagram as SEARCH_FIGURE)."""
    if summary.data_label:
        st.warning(f"Every paragraph and export of this summary is labelled "
                   f"**{md_escape(summary.data_label)}**.", icon=":material/label_important:")
    if summary.legend:
        # One line per mark, escaped ("* derived" would otherwise be a Markdown list item).
        st.caption("Marks after a study or a class:  \n"
                   + "  \n".join(md_escape(line) for line in summary.legend))
    specs = {section.subtype: render_section(section) for section in summary.sections}
    search = render_methods_and_references(summary)
    if search is not None:
        specs[SEARCH_FIGURE] = search
    return specs


cohort = this_cohort()
render_intro(cohort)
chosen, classes = choose_subtypes_and_classes()
options = analysis_options()
st.caption(NOT_FOR_MEDIANS if endpoint_is_median(options) else
           f"Model: {model_description(options)} (sidebar; the same choices as on the "
           "Benchmark and Across subtypes pages).")
if not chosen:
    st.info("Choose at least one subtype to summarise.", icon=":material/info:")
    st.stop()
try:
    summary, files = evidence_summary(cohort, tuple(chosen), options, tuple(classes),
                                      tuple(st.session_state.get("eortc_refs") or ()))
except (BenchmarkError, SummaryError) as err:
    st.error(refusal_text(options, err, "Cannot build the summary"))
    st.stop()
specs = render_summary(summary)
st.header("Download", divider="gray")
base = "evidence_summary_" + "_".join(summary.subtypes)
labelled = f"_{summary.cohort_kind}" if summary.data_label else ""
# The summary and its figures are a pure function of these inputs.
signature = hashlib.sha256(repr((cohort.digest, chosen, options, classes)).encode()).hexdigest()
render_quick_downloads(files, base, labelled)
render_document_downloads(summary, specs, signature, base, labelled)
