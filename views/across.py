"""Across subtypes: every subtype's class pools and the AI+ICI minus ICI difference, read from
the same `analysis.benchmark` objects the Benchmark page shows (views.common.every_subtype)."""

import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import AcrossSubtypes
from comparators.analysis.borrowing import (
    BORROWING_ENDPOINTS,
    Borrowing,
    BorrowingError,
    borrow_across_subtypes,
)
from comparators.analysis.endpoints import SAFETY_NOTE
from comparators.analysis.metareg_across import (
    ACROSS_MODERATORS,
    AcrossMetaRegression,
    across_metareg,
)
from comparators.analysis.options import AnalysisOptions
from comparators.charts.across import class_by_subtype_chart
from comparators.charts.borrowing import shrinkage_chart
from comparators.charts.metareg import bubble_chart
from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.stats.metareg import bubble_data
from comparators.vocab import (
    DEFAULT_ENDPOINT,
    ENDPOINTS,
    MEASURE_CHOICES,
    REGIMEN_CLASSES,
    is_soft_tissue_subtype,
)
from views.common import (
    BY_DIGEST,
    analysis_options,
    catalog,
    catalog_stamp,
    chart_downloads,
    chart_spec,
    cohort_banner,
    csv_download,
    endpoint_is_median,
    every_subtype,
    export_stamp,
    median_not_supported,
    p_text,
    plain,
    pool_columns,
    refusal_text,
    show_chart,
    stop_with_link,
    this_cohort,
)
from views.sections import section
from views.share import keep_valid_link_values, link_choice, link_slider


@st.cache_resource(show_spinner=False, max_entries=32, hash_funcs=BY_DIGEST)
def borrowing(cohort: ThisCohort, regimen_class: str, tau_scale: float, exnex: bool,
              p_exchangeable: float, level: float, include_cohort: bool,
              endpoint: str = DEFAULT_ENDPOINT) -> Borrowing:
    return borrow_across_subtypes(catalog().trials, cohort, regimen_class, "half-normal",
                                  tau_scale, exnex, p_exchangeable, level, include_cohort,
                                  endpoint)


#: The half-normal prior scales on τ the borrowing section offers (logit scale).
TAU_SCALES = (0.5, 1.0, 2.0)


def render_intro(options: AnalysisOptions, cohort: ThisCohort) -> None:
    e = ENDPOINTS[options.endpoint]
    st.title("Across subtypes: where does the combination look better?")
    if endpoint_is_median(options):
        median_not_supported("Across subtypes (its class pools and meta-regression)")
        cohort_banner(cohort)
        return
    st.caption(
        f"Pooled {e.name} of angiogenesis inhibitor + immune checkpoint inhibitor "
        "(AI+ICI) arms against ICI alone (and ICI+ICI, AI alone) in every subtype the catalog "
        f"covers: {options.model_text()}, {options.interval_name}; this cohort is "
        f"{'inside' if options.include_cohort else 'outside'} the class pools (sidebar)."
    )
    cohort_banner(cohort)


def render_class_chart(shown: pd.DataFrame, options: AnalysisOptions,
                       cohort: ThisCohort) -> None:
    """Every subtype's class pools as dots and intervals."""
    interval = options.interval_name
    e = ENDPOINTS[options.endpoint]
    # short lines: a figure in a narrow window cuts a long subtitle line ("…")
    subtitle = [f"Dots: pooled {e.short} (size = patients);",
                f"lines: {interval}. Small k means little evidence.",
                f"{options.model_text()};",
                f"class pools {'incl.' if options.include_cohort else 'without'} this cohort"
                + (f"; left out: {', '.join(options.exclude)}" if options.exclude else ""),
                "Sources: the Comparator trials page;", catalog_stamp()]
    if not cohort.is_real:
        subtitle.append(f"{cohort.label}: {cohort.caveat}")
    spec = chart_spec(class_by_subtype_chart, shown.reset_index(drop=True), subtitle, interval,
                      endpoint=e)
    show_chart(spec, key="meta_chart", width="stretch")
    chart_downloads(spec, f"{e.code}_by_class_and_subtype", "meta")


def render_differences(across: AcrossSubtypes, options: AnalysisOptions, stamp: str) -> None:
    """AI+ICI minus ICI alone per subtype, with the evidence of the model in use."""
    interval = options.interval_name
    st.subheader(f"AI+ICI minus ICI alone, by subtype ({interval})")
    diff = across.differences_frame("AI+ICI", "ICI")
    if diff.empty:
        st.info("No subtype has both a pooled AI+ICI and a pooled ICI-alone estimate.")
        return
    table = diff.assign(**{c: 100 * diff[c] for c in
                           ("estimate_AI+ICI", "estimate_ICI", "difference", "low", "high")})
    # p (frequentist: the p-value the interval inverts) or P(difference > 0) (Bayesian),
    # as written by the comparison itself
    st.dataframe(
        table[["subtype", "k_AI+ICI", "n_AI+ICI", "estimate_AI+ICI", "k_ICI", "n_ICI",
               "estimate_ICI", "difference", "low", "high", "evidence"]],
        hide_index=True,
        # the answer first (difference, interval, evidence), the counts behind it after
        column_order=["subtype", "difference", "low", "high", "evidence", "estimate_AI+ICI",
                      "estimate_ICI", "k_AI+ICI", "n_AI+ICI", "k_ICI", "n_ICI"],
        column_config={
            "subtype": st.column_config.TextColumn("Subtype", width=65),
            "k_AI+ICI": st.column_config.NumberColumn("AI+ICI arms (k)"),
            "n_AI+ICI": st.column_config.NumberColumn("AI+ICI patients"),
            "estimate_AI+ICI": st.column_config.NumberColumn("AI+ICI pooled %", format="%.1f"),
            "k_ICI": st.column_config.NumberColumn("ICI arms (k)"),
            "n_ICI": st.column_config.NumberColumn("ICI patients"),
            "estimate_ICI": st.column_config.NumberColumn("ICI pooled %", format="%.1f"),
            "difference": st.column_config.NumberColumn(
                "Difference", format="%+.1f", width=105,
                help="Pooled AI+ICI minus pooled ICI alone, percentage points"),
            "low": st.column_config.NumberColumn(f"{interval} low", format="%+.1f", width=90),
            "high": st.column_config.NumberColumn(f"{interval} high", format="%+.1f", width=90),
            "evidence": st.column_config.TextColumn(
                "p" if options.method != "BAYES" else "Posterior probability", width=80),
        },
        key="meta_diff_table",
    )
    names = catalog().subtype_names
    bone = sorted(names.get(s, s) for s in across.benchmarks if not is_soft_tissue_subtype(s))
    st.caption("Soft-tissue subtypes only: bone tumours" + (f" ({', '.join(bone)})" if bone else "")
               + " are left out, as in the borrowing model below.")
    csv_download(diff, "Download differences (CSV)", "ai_ici_minus_ici_by_subtype.csv",
                 "dl_meta_diff", note=stamp)


def render_pools_table(shown: pd.DataFrame, options: AnalysisOptions, stamp: str) -> None:
    interval = options.interval_name
    e = ENDPOINTS[options.endpoint]
    st.subheader(f"Pooled {e.short} by subtype and class ({interval})")
    pools = shown.assign(estimate=100 * shown["estimate"], low=100 * shown["low"],
                         high=100 * shown["high"])
    st.dataframe(
        pools[["subtype", "class", "label", "k", "events", "n", "estimate", "low", "high"]],
        hide_index=True,
        column_config={"subtype": "Subtype", "label": "Pool"} | pool_columns(interval, e),
        key="meta_table",
    )
    st.caption(
        "A naive difference of pooled estimates from different trials, not a randomised "
        "comparison: patient selection, line of therapy and response assessment differ between "
        "trials. See the Benchmark page for each subtype's trials and heterogeneity."
    )
    if e.code == "grade3":
        st.caption(SAFETY_NOTE)
    csv_download(shown, "Download pooled estimates (CSV)", f"{e.code}_by_class_and_subtype.csv",
                 "dl_meta", note=stamp)


def borrowing_controls() -> tuple[str, float, bool, float]:
    """Regimen class, τ prior scale, EXNEX and prior P(exchangeable), bound to the URL."""
    trials = catalog().trials
    present = [c for c in REGIMEN_CLASSES if c in set(trials["regimen_class"].astype(str))]
    controls = st.columns([2, 2, 1.2, 2])
    link_choice("borrow_class", present)
    regimen_class = controls[0].selectbox("Regimen class", present, key="borrow_class",
                                          bind="query-params")
    link_choice("borrow_tau", TAU_SCALES, format_func=lambda v: f"{v:g}")
    tau_scale = controls[1].segmented_control(
        "Half-normal τ prior scale", TAU_SCALES, default=1.0, key="borrow_tau",
        format_func=lambda v: f"{v:g}", bind="query-params",
        help="Scale of the half-normal prior on the between-subtype SD τ (logit scale).") or 1.0
    exnex = controls[2].toggle("EXNEX", key="borrow_exnex", bind="query-params",
                               help="Exchangeable / non-exchangeable mixture "
                                    "(Neuenschwander et al. 2016)")
    p_exchangeable = link_slider(controls[3], "Prior P(exchangeable)", 0.1, 0.9, 0.5, 0.1,
                                 key="borrow_pex", disabled=not exnex)
    return str(regimen_class), float(tau_scale), bool(exnex), float(p_exchangeable)


@section(self_contained=True)
def render_borrowing(cohort: ThisCohort, stamp: str) -> None:
    """The hierarchical model over subtypes: its controls change only this section."""
    st.subheader("Borrowing strength across subtypes (Bayesian hierarchical model)")
    options = analysis_options()
    # a subtype is a unit only of an endpoint counted on its own patients (not safety)
    borrowed = options.endpoint if options.endpoint in BORROWING_ENDPOINTS else DEFAULT_ENDPOINT
    st.caption(
        "For one regimen class, each soft-tissue subtype is a unit of a hierarchical model: a "
        "subtype with few patients is pulled towards the class mean, one with many barely "
        "moves. EXNEX lets a subtype that does not fit stay on its own (exchangeable only with "
        "the prior probability you set). Counts are summed over the class's arms within each "
        "subtype; bone sarcomas are left out, and this cohort counts only when it is inside "
        "its class pool (sidebar), as everywhere on this page."
        + ("" if borrowed == options.endpoint else
           f" This model pools the {ENDPOINTS[borrowed].name}: the "
           f"{ENDPOINTS[options.endpoint].name} chosen in the sidebar is not counted on each "
           "subtype's own patients"
           + (" (safety is reported per arm, for all its subtypes)."
              if options.endpoint == "grade3" else "."))
    )
    regimen_class, tau_scale, exnex, p_exchangeable = borrowing_controls()
    try:
        result = borrowing(cohort, regimen_class, tau_scale, exnex, p_exchangeable,
                           options.level, options.include_cohort, borrowed)
    except BorrowingError as err:
        st.info(str(err))
        return
    render_shrinkage(result, cohort, stamp)


def render_shrinkage(result: Borrowing, cohort: ThisCohort, stamp: str) -> None:
    frame = result.to_frame()
    level_pct = f"{100 * result.level:g}%"
    regimen_class = result.regimen_class
    e = ENDPOINTS[result.endpoint]
    shrink_subtitle = [f"Hollow: observed {e.short}; arrow: posterior median; band: central "
                       f"{level_pct} credible interval.", f"Prior: {result.prior}",
                       "This cohort " + ("counted" if frame["includes_cohort"].any()
                                         else "not counted") + "; bone sarcomas left out",
                       f"Sources: the Comparator trials page; {catalog_stamp()}"]
    if not cohort.is_real:
        shrink_subtitle.append(f"{cohort.label}: {cohort.caveat}")
    spec = chart_spec(shrinkage_chart, frame,
                      f"{regimen_class}: {e.short} per subtype, observed and shrunken",
                      shrink_subtitle, e)
    show_chart(spec, key="borrow_chart", width="stretch")
    chart_downloads(spec, f"shrinkage_{regimen_class}", "borrow")
    shown_cols = {"subtype": "Subtype", "arms": "Arms", "responders": e.counted,
                  "evaluable": "Evaluable" if e.code in ("orr", "dcr") else "n",
                  "observed": f"Observed {e.short} (%)",
                  "shrunk": f"Shrunken {e.short} (%)", "low": f"{level_pct} CrI low (%)",
                  "high": f"{level_pct} CrI high (%)"}
    if result.exnex:
        shown_cols["p_exchangeable"] = "P(exchangeable)"
    table = frame[list(shown_cols)].rename(columns=shown_cols)
    for col in (f"Observed {e.short} (%)", f"Shrunken {e.short} (%)",
                f"{level_pct} CrI low (%)", f"{level_pct} CrI high (%)"):
        table[col] = 100 * table[col]
    st.dataframe(
        table, hide_index=True, key="borrow_table",
        column_config={c: st.column_config.NumberColumn(c, format="%.1f")
                       for c in table.columns if "(%)" in c}
        | {"P(exchangeable)": st.column_config.NumberColumn("P(exchangeable)", format="%.2f")},
    )
    post = result.posterior
    st.caption(
        f"Class mean {e.short} {100 * post.estimate:.1f}% ({level_pct} CrI "
        f"{100 * post.low:.1f}–{100 * post.high:.1f}%); a new subtype's {e.short}: "
        f"{level_pct} predictive interval "
        f"{100 * post.pi_low:.1f}–{100 * post.pi_high:.1f}%; between-subtype τ median "
        f"{post.tau_median:.2f}. **Prior:** {result.prior}."
    )
    st.caption(result.methods_text())
    for note in result.notes:
        st.caption(plain(note))
    csv_download(frame.assign(prior=result.prior, endpoint=result.endpoint),
                 "Download shrunken estimates (CSV)", f"shrinkage_{regimen_class}.csv",
                 "dl_borrow", note=stamp)


@st.cache_resource(show_spinner="Fitting the meta-regression…", max_entries=64,
                   hash_funcs=BY_DIGEST)
def meta_regression(cohort: ThisCohort, options: AnalysisOptions,
                    moderators: tuple[str, ...]) -> AcrossMetaRegression:
    return across_metareg(every_subtype(options), moderators)


@section(self_contained=True)
def render_metareg(cohort: ThisCohort, options: AnalysisOptions, stamp: str) -> None:
    """Meta-regression of every subtype's arms on the chosen moderators: its controls change
    only this section."""
    e = ENDPOINTS[options.endpoint]
    st.subheader(f"Meta-regression of the {e.short} across subtypes")
    st.caption("Does the rate depend on line of therapy, publication year or design rather "
               "than on the regimen class? Every arm pooled on this page is one unit (arm by "
               "subtype); a mixed-effects model as metafor's rma(yi, vi, mods = ~ ...) on the "
               "sidebar's measure and τ² method.")
    keep_valid_link_values("metareg_mods", list(ACROSS_MODERATORS))
    chosen = st.multiselect(
        "Moderators", list(ACROSS_MODERATORS), default=["regimen_class"], key="metareg_mods",
        bind="query-params", placeholder="Choose at least one moderator",
        help="Column names as R and the CLI spell them: "
             + "; ".join(f"{m}: {what}" for m, what in ACROSS_MODERATORS.items())
             + ". The bubble plot shows the first one chosen.")
    if not chosen:
        st.info("Choose at least one moderator.")
        return
    try:
        fit = meta_regression(cohort, options, tuple(chosen))
    except InputError as err:
        st.info(f"No meta-regression: {err}.")
        return
    result = fit.result
    adjusted = fit.ai_ici_vs_ici
    if adjusted is not None:
        others = [ACROSS_MODERATORS[m] for m in chosen if m != "regimen_class"]
        st.metric(f"AI+ICI vs ICI alone, {MEASURE_CHOICES.short(result.measure)} scale"
                  + (" (adjusted)" if others else ""), f"{adjusted.estimate:+.3f}",
                  help="The AI+ICI coefficient with ICI alone as the reference level"
                  + (f", adjusted for {', '.join(others)}" if others else ""))
        st.caption(f"{options.interval_name} {adjusted.low:+.3f} to {adjusted.high:+.3f}; "
                   f"{p_text(adjusted.p)}; k = {result.k} arms.")
    for note in result.notes:
        (st.warning if note.startswith("WARNING") else st.caption)(plain(note))
    spec = chart_spec(bubble_chart, bubble_data(result, chosen[0], scale="proportion"),
                      f"{e.short} against {ACROSS_MODERATORS[chosen[0]]}")
    show_chart(spec, key="metareg_chart", width="stretch")
    st.dataframe(result.to_frame(), hide_index=True, key="metareg_table")
    st.caption(plain(result.methods_text()))
    if fit.left_out:
        st.caption(plain(f"Left out for a missing moderator value ({len(fit.left_out)} arms): "
                         + ", ".join(fit.left_out) + "."))
    csv_download(result.to_frame(), "Download coefficients (CSV)", "metareg.csv", "dl_metareg",
                 note=stamp)


cohort = this_cohort()
options = analysis_options()
render_intro(options, cohort)
if endpoint_is_median(options):  # the borrowing section pools response, whatever the endpoint
    render_borrowing(cohort, export_stamp(options, cohort))
    stop_with_link()
if options.primary_only and options.endpoint != DEFAULT_ENDPOINT:
    st.error(refusal_text(options))
    st.stop()
across = every_subtype(options)
data = across.pools_frame()
both = set(data.loc[data["class"] == "AI+ICI", "subtype"]) & set(
    data.loc[data["class"].isin(["ICI", "ICI+ICI"]), "subtype"])
show_all = st.toggle("Show every subtype (also those without an AI+ICI vs ICI comparison)",
                     key="meta_all", bind="query-params")
shown = data if show_all else data[data["subtype"].isin(both)]
stamp = export_stamp(options, cohort)
render_class_chart(shown, options, cohort)
render_differences(across, options, stamp)
render_pools_table(shown, options, stamp)
st.divider()
render_metareg(cohort, options, stamp)
st.divider()
render_borrowing(cohort, stamp)
