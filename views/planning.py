"""Plan the next trial: Simon two-stage, single-stage, precision and PFS sizing from evidence.

The evidence section fills the design inputs (a full rerun); each calculator below it is a
section that reruns alone when its own inputs change."""

import time

import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import BenchmarkError, SubtypeBenchmark
from comparators.analysis.options import AnalysisOptions
from comparators.analysis.trial_plan import (
    MEDIAN_DIGITS,
    ControlArm,
    PFSPlan,
    cohort_pfs_median,
    control_arms,
    default_control,
    months,
    plan_pfs_comparison,
)
from comparators.charts.planning import (
    exponential_curves,
    oc_chart,
    precision_chart,
    survival_chart,
)
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.scenario import AGGREGATE_SUBTYPES
from comparators.stats.phase2_design import (
    SIMON_NMAX_LIMIT,
    SINGLE_STAGE_RULES,
    DesignInputError,
    SimonResult,
    n_for_half_width,
    oc_curve,
    precision_table,
    simon_designs,
    single_stage_design,
)
from comparators.stats.proportions import percent
from comparators.vocab import CI_CHOICES, DEFAULT_ENDPOINT, ENDPOINTS
from views.common import (
    analysis_options,
    catalog,
    chart_downloads,
    chart_spec,
    chosen_subtype,
    cohort_banner,
    csv_download,
    endpoint_is_median,
    median_not_supported,
    plain,
    refusal_text,
    seed_cohort,
    show_chart,
    subtype_benchmark,
    this_cohort,
)
from views.sections import section
from views.share import link_choice, link_number_input

P1_SOURCES = ("This cohort's ORR", "Pooled AI+ICI ORR")


@st.cache_data(show_spinner="Searching every Simon two-stage design…", max_entries=64)
def simon_search(p0: float, p1: float, alpha: float, beta: float,
                 nmax: int) -> tuple[SimonResult, float]:
    """The exact search (cached); a progress bar while it runs, removed when it ends."""
    bar = st.progress(0.0, text=f"Exact search over every design with n ≤ {nmax}")
    last = [0.0]

    def progress(fraction: float) -> None:
        if fraction - last[0] >= 0.05 or fraction >= 1:
            last[0] = fraction
            bar.progress(min(1.0, fraction), text=f"Exact search over every design with "
                                                  f"n ≤ {nmax}: {100 * fraction:.0f}%")

    start = time.perf_counter()
    try:
        result = simon_designs(p0, p1, alpha, beta, nmax, progress=progress)
    finally:
        bar.empty()
    return result, time.perf_counter() - start


def fill_from_evidence(p0: float, p1: float) -> None:
    # Three decimals, as the inputs show them: the link stays short and reproducible.
    st.session_state["plan_p0"] = round(p0, 3)
    st.session_state["plan_p1"] = round(p1, 3)


# --- Evidence -> p0 / p1 -----------------------------------------------------------------------


def render_evidence(cohort: ThisCohort, options: AnalysisOptions) -> None:
    """p0 and p1 from the pooled evidence, and the button that copies them into the designs."""
    st.header("Take p0 and p1 from the evidence")
    benchmarked = chosen_subtype()
    codes = sorted(set(catalog().trials["subtype"].astype(str)) - AGGREGATE_SUBTYPES)
    default_subtype = benchmarked if benchmarked in codes else codes[0]
    ecols = st.columns(3)
    link_choice("plan_subtype", codes)
    subtype = ecols[0].selectbox("Subtype", codes, index=codes.index(default_subtype),
                                 key="plan_subtype", bind="query-params",
                                 persist_state="session")
    if endpoint_is_median(options):
        median_not_supported("Taking p0 and p1 from the evidence (response-rate designs)")
        return
    e = ENDPOINTS[options.endpoint]
    try:
        bench = subtype_benchmark(subtype, options)
    except BenchmarkError as exc:
        st.warning(refusal_text(options, exc, f"No {subtype} rows to pool"))
        return
    if not bench.class_pools:
        st.info(f"No comparator trial has reported {subtype}: set p0 and p1 by hand.")
        return
    classes = list(bench.class_pools)
    cls = ecols[1].selectbox(
        f"p0 = pooled {e.short} of the comparator class", classes,
        index=classes.index("ICI") if "ICI" in classes else 0, key="plan_p0_class",
        bind="query-params", help="The class pool the benchmark page shows (same model and "
        "scope).")
    # the options stay as links spell them; the labels name the endpoint pooled
    def p1_label(source: str) -> str:
        return source.replace("ORR", e.short)

    link_choice("plan_p1_source", P1_SOURCES, p1_label)
    p1_source = ecols[2].radio("p1 =", P1_SOURCES, key="plan_p1_source", bind="query-params",
                               format_func=p1_label)
    class_pool = bench.class_pools[cls]
    evidence_p0 = class_pool.estimate
    evidence_p1, p1_text = evidence_for_p1(bench, cohort, subtype, p1_source)
    st.markdown(f"Evidence for **{subtype}** ({plain(e.name)}): p0 ← {class_pool.label}: "
                f"{percent(evidence_p0)}; p1 ← {p1_text}.")
    # Simon's and A'Hern's designs look for a rate above p0 (efficacy): a toxicity rate,
    # where higher is worse, would turn the design's question around.
    harmful = e.code == "grade3"
    if harmful:
        st.info(f"The {e.name} is a toxicity rate (higher is worse): the designs below test "
                "for a rate above p0, so these numbers are shown for reference and not filled "
                "in. Choose an efficacy endpoint in the sidebar to fill p0 and p1.")
    st.button(
        "Fill p0 and p1 from the evidence", key="plan_fill", icon=":material/input:",
        on_click=fill_from_evidence, args=(evidence_p0, evidence_p1),
        disabled=evidence_p1 is None or harmful,
        help="Copies the two numbers into the design inputs below; the design reruns.")
    st.caption(f"Pooled with the sidebar's model ({options.model_text()}; "
               f"{CI_CHOICES[options.ci_method].label} arm intervals); filled in rounded to 3 "
               "decimals.")


def evidence_for_p1(bench: SubtypeBenchmark, cohort: ThisCohort, subtype: str,
                    source: str) -> tuple[float | None, str]:
    """p1 (None when the evidence has none) and how the page names where it came from."""
    if source == P1_SOURCES[0]:
        row = bench.cohort_row
        if row is None and bench.options.endpoint != DEFAULT_ENDPOINT:
            return None, (f"{plain(cohort.label)}: {ENDPOINTS[bench.options.endpoint].name} "
                          f"in {subtype} not reported")
        if row is None or int(row["evaluable"]) == 0:
            return None, f"{plain(cohort.label)} has no {subtype} patients evaluable for response"
        k, n = int(row["responders"]), int(row["evaluable"])
        return k / n, (f"{plain(cohort.label)} {percent(k / n)} ({k}/{n}"
                       f"{', hypothetical' if not cohort.is_real else ''})")
    if "AI+ICI" in bench.class_pools:
        ai = bench.class_pools["AI+ICI"]
        return ai.estimate, f"{ai.label}: {percent(ai.estimate)}"
    return None, f"no AI+ICI comparator has reported {subtype}"


# --- Simon two-stage and A'Hern single stage ---------------------------------------------------


@section
def render_response_designs() -> None:
    """The design inputs and the two designs that read them."""
    st.header("Simon two-stage design")
    icols = st.columns(5)
    p0 = link_number_input(icols[0], "p0 (uninteresting ORR)", 0.001, 0.999, 0.10, 0.01,
                           format="%.3f", key="plan_p0", persist_state="session")
    p1 = link_number_input(icols[1], "p1 (ORR worth pursuing)", 0.001, 0.999, 0.30, 0.01,
                           format="%.3f", key="plan_p1", persist_state="session")
    alpha = link_number_input(icols[2], "alpha (one-sided)", 0.001, 0.5, 0.05, 0.01,
                              format="%.3f", key="plan_alpha", persist_state="session")
    beta = link_number_input(icols[3], "beta (1 − power)", 0.01, 0.5, 0.20, 0.05,
                             format="%.2f", key="plan_beta", persist_state="session")
    nmax = link_number_input(icols[4], "nmax (largest n searched)", 2, SIMON_NMAX_LIMIT, 100,
                             10, key="plan_nmax", persist_state="session",
                             help=f"Up to {SIMON_NMAX_LIMIT} (clinfun's limit). Usually well "
                                  "under a second; close p0 and p1 with a large nmax take up "
                                  "to about two seconds (with a progress bar), then it is "
                                  "cached.")
    render_simon(float(p0), float(p1), float(alpha), float(beta), int(nmax))
    render_single_stage(float(p0), float(p1), float(alpha), float(beta))


def render_simon(p0: float, p1: float, alpha: float, beta: float, nmax: int) -> None:
    try:
        # Cached by the inputs as the widgets show them (3 and 2 decimals), so a link with
        # p1=0.50123 cannot start a fresh exact search for every digit it varies.
        designs, seconds = simon_search(round(p0, 3), round(p1, 3), round(alpha, 3),
                                        round(beta, 2), nmax)
    except DesignInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    opt, mm = designs.optimal, designs.minimax
    table = pd.DataFrame([
        {"design": d.kind, "stage 1: stop if ≤ r1/n1": f"{d.r1}/{d.n1}",
         "overall: reject if ≤ r/n": f"{d.r}/{d.n}", "n1": d.n1, "n": d.n,
         "EN(p0)": d.en0, "PET(p0)": d.pet0, "attained alpha": d.alpha, "power": d.power}
        for d in (opt, mm)])
    st.dataframe(table, hide_index=True, key="simon_table", column_config={
        "EN(p0)": st.column_config.NumberColumn(format="%.2f",
                                                help="Expected sample size under p0"),
        "PET(p0)": st.column_config.NumberColumn(
            format="%.3f", help="Probability of early termination under p0"),
        "attained alpha": st.column_config.NumberColumn(format="%.4f"),
        "power": st.column_config.NumberColumn(format="%.4f"),
    })
    for col, d in zip(st.columns(2), (opt, mm), strict=True):
        col.markdown(f"**{d.kind.capitalize()}**: {d.r1}/{d.n1}, {d.r}/{d.n} — "
                     f"EN(p0) {d.en0:.1f}, PET(p0) {percent(d.pet0)}, alpha {d.alpha:.3f}, "
                     f"power {percent(d.power)}")
        col.write(d.sentence())
    for note in designs.notes:
        st.warning(note)
    st.caption(
        f"Exact search of every design with n ≤ {designs.nmax} ({seconds:.2f} s when first "
        "computed, cached since; sizes too small for any design to reach the power, and designs "
        "that cannot beat the best EN(p0), are ruled out by bounds); reproduces R "
        "clinfun::ph2simon. Simon R. Optimal two-stage designs for phase II clinical trials. "
        "Control Clin Trials 1989;10:1-10.")
    oc = {f"Optimal {opt.r1}/{opt.n1}, {opt.r}/{opt.n}": oc_curve(opt),
          f"Minimax {mm.r1}/{mm.n1}, {mm.r}/{mm.n}": oc_curve(mm)}
    chart = chart_spec(oc_chart, oc, p0, p1, f"p0 = {percent(p0)}, p1 = {percent(p1)}; "
                       "solid: declared promising, dashed: early stop")
    show_chart(chart, key="oc_chart")
    chart_downloads(chart, "simon_oc_curve", "dl_oc")
    csv_download(designs.to_frame(),
                 "Download the best design of each size from minimax to optimal (CSV)",
                 "simon_designs.csv", "dl_simon")


def render_single_stage(p0: float, p1: float, alpha: float, beta: float) -> None:
    st.header("Single-stage exact design (A'Hern)")
    # codes as options (a bound widget writes what it shows into the link), meanings as captions
    rule = st.radio(
        "Rule", list(SINGLE_STAGE_RULES), key="plan_single_rule", bind="query-params",
        horizontal=True,
        captions=["attained alpha and power meet the nominal values",
                  "A'Hern's printed tables: attained values round to the nominal at 3 decimals"],
        help="A'Hern's tables accept designs whose attained alpha or power only rounds to the "
             "nominal value at three decimals, so some of their cells are a few patients "
             "smaller than the exact rule gives.")
    try:
        single = single_stage_design(p0, p1, alpha, beta, rule=str(rule))
    except DesignInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    s = st.columns(3)
    s[0].metric("Patients", single.n)
    s[1].metric("Responses needed", f"≥ {single.r}")
    s[2].metric("Attained alpha / power", f"{single.alpha:.3f} / {percent(single.power)}")
    st.write(single.sentence())
    st.caption("A'Hern RP. Sample size tables for exact single-stage phase II designs. "
               "Stat Med 2001;20:859-866.")


# --- Precision -----------------------------------------------------------------------------------


@section
def render_precision(level: float, ci_method: str) -> None:
    st.header("Precision: how many patients for a given confidence interval?")
    pc = st.columns(2)
    anticipated = float(link_number_input(
        pc[0], "Anticipated ORR", 0.01, 0.99, 0.30, 0.01, format="%.2f", key="prec_p",
        help="Default 30%; try p1 from above."))
    half = float(link_number_input(pc[1], "Target half-width (percentage points)", 1.0, 49.0,
                                   15.0, 1.0, format="%.0f", key="prec_half"))
    try:
        n_needed = n_for_half_width(anticipated, half / 100, level, ci_method)
        top = max(60, int(n_needed * 1.5))
        ns = sorted(set(range(5, top + 1, max(1, top // 120))) | {n_needed})
        prec = precision_table(anticipated, ns, level, ci_method)
    except DesignInputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.metric(f"Patients for a {100 * level:g}% CI of ±{half:g} points", n_needed)
    row = prec[prec["n"] == n_needed].iloc[0]
    st.write(
        f"With {n_needed} evaluable patients and an observed ORR near {percent(anticipated)} "
        f"({int(row['responders'])}/{n_needed}), the {100 * level:g}% "
        f"{CI_CHOICES[ci_method].label} "
        f"interval is {percent(row['low'])}–{percent(row['high'])} (half-width "
        f"{100 * row['half_width']:.1f} points).")
    show_chart(chart_spec(precision_chart, prec, half / 100, n_needed,
                          f"{CI_CHOICES[ci_method].label}, {100 * level:g}% (sidebar)"),
               key="precision_chart")


# --- PFS what-if ----------------------------------------------------------------------------------


@section
def render_pfs(cohort: ThisCohort) -> None:
    st.header("PFS what-if: a randomised comparison sized from reported medians")
    arms = control_arms(catalog().trials)
    own_median = cohort_pfs_median(cohort, catalog().trials)
    first_control = default_control(arms)
    if own_median is None or first_control is None:
        st.info("No reported medians to compare.")
        return
    keys = list(arms)
    fc = st.columns(2)
    control = arms[fc[0].selectbox(
        "Control arm (reported median PFS)", keys, index=keys.index(first_control),
        format_func=lambda k: arms[k].label if k in arms else k, key="pfs_control",
        bind="query-params")]
    shown_median = round(own_median, MEDIAN_DIGITS)
    experimental = float(link_number_input(
        fc[1], "Experimental arm median PFS (months)", 0.1, 120.0, shown_median, 0.1,
        format="%.2f", key="pfs_experimental",
        help=f"Default: this cohort's {months(own_median)}" + published_median_note(cohort)))
    gc = st.columns(4)
    accrual = link_number_input(gc[0], "Accrual (months)", 0.0, 240.0, 24.0, 1.0,
                                key="pfs_accrual")
    follow = link_number_input(gc[1], "Further follow-up (months)", 0.0, 240.0, 12.0, 1.0,
                               key="pfs_follow")
    pfs_alpha = link_number_input(gc[2], "alpha (two-sided)", 0.001, 0.5, 0.05, 0.01,
                                  format="%.3f", key="pfs_alpha")
    power = link_number_input(gc[3], "Power", 0.5, 0.99, 0.80, 0.05, format="%.2f",
                              key="pfs_power")
    overlay = st.multiselect(
        "Also draw", keys, default=[k for k, a in arms.items() if a.all_subtypes
                                    and k != control.key],
        format_func=lambda k: arms[k].label if k in arms else k, key="pfs_overlay")
    try:
        plan: PFSPlan | None = plan_pfs_comparison(control, experimental, float(accrual),
                                                   float(follow), float(pfs_alpha),
                                                   float(power))
    except DesignInputError as exc:
        plan = None
        st.warning(f"Not sized: {exc}.", icon=":material/block:")
    if plan is not None:
        r = st.columns(3)
        r[0].metric("Implied hazard ratio", f"{plan.hazard_ratio:.2f}",
                    help="Exponential PFS: HR = median(control) / median(experimental)")
        r[1].metric("Events needed (Schoenfeld)", plan.size.events)
        r[2].metric("Patients to enrol", plan.size.patients)
        st.write(plan.sentence())
    render_pfs_curves(cohort, control, experimental, [arms[k] for k in overlay if k in arms])
    st.caption(
        f"Caveats: {own_median_note(cohort, own_median)}comparator medians come from other "
        "populations, subtypes and lines. A hazard ratio implied by two single-arm medians is "
        "a planning guess, not an estimate of effect.")


def published_median_note(cohort: ThisCohort) -> str:
    if cohort.kind != "published":
        return "."
    pfs = seed_cohort().outcome("Median progression-free survival")
    return f" ({pfs['measure'].split('(')[-1].rstrip(')')}; {pfs['locator']})."


def own_median_note(cohort: ThisCohort, own_median: float) -> str:
    if cohort.kind != "published":
        return f"{plain(cohort.label)}'s median is {months(own_median)}; "
    pfs = seed_cohort().outcome("Median progression-free survival")
    return (f"this cohort's {pfs['value']:.2f}-month median is for "
            f"{pfs['measure'].split('(')[-1].rstrip(')')} (the paper's interval "
            f"{pfs['low']:.2f}–{pfs['high']:.2f} is SPSS-style symmetric); ")


def render_pfs_curves(cohort: ThisCohort, control: ControlArm, experimental: float,
                      overlay: list[ControlArm]) -> None:
    curves = {f"This cohort ({'hypothetical, ' if not cohort.is_real else ''}"
              f"median {months(experimental).replace(' months', ' mo')})": experimental,
              control.label + " (control)": control.median}
    curves.update({arm.label: arm.median for arm in overlay if arm.key != control.key})
    chart = chart_spec(survival_chart, exponential_curves(curves), next(iter(curves)), [
        "S(t) = exp(−ln2·t/median); cross-trial: populations, lines and PFS definitions "
        "differ", "Medians as reported in data/trials.csv"])
    show_chart(chart, key="pfs_chart")
    chart_downloads(chart, "pfs_exponential", "dl_pfs")


# --- The page ------------------------------------------------------------------------------------

cohort = this_cohort()
options = analysis_options()
st.title("Plan the next trial")
st.caption(
    "Single-arm phase II designs for the response rate, with p0 and p1 taken from the evidence "
    "the benchmark page pools, and an event-driven sizing of a randomised PFS comparison from "
    "reported medians. Every input is in the page link.")
cohort_banner(cohort)
render_evidence(cohort, options)
render_response_designs()
render_precision(options.level, options.ci_method)
render_pfs(cohort)
