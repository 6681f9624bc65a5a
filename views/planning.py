"""Plan the next trial: Simon two-stage, single-stage, precision and PFS sizing from evidence."""

import time

import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import BenchmarkError, SubtypeBenchmark
from comparators.charts.planning import (
    exponential_curves,
    oc_chart,
    precision_chart,
    survival_chart,
)
from comparators.evidence.cohort import SEED_STUDY
from comparators.evidence.scenario import AGGREGATE_SUBTYPES
from comparators.stats.event_sizing import (
    exponential_from_median,
    implied_hazard_ratio,
    patients_for_events,
    schoenfeld_events,
)
from comparators.stats.phase2_design import (
    SIMON_NMAX_LIMIT,
    DesignInputError,
    SimonResult,
    n_for_half_width,
    oc_curve,
    precision_table,
    simon_designs,
    single_stage_design,
)
from comparators.stats.proportions import percent
from comparators.vocab import CI_CHOICES
from views.common import (
    analysis_options,
    catalog,
    chart_downloads,
    chart_spec,
    chosen_subtype,
    cohort_banner,
    csv_download,
    plain,
    show_chart,
    subtype_benchmark,
    this_cohort,
)
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


cohort = this_cohort()
options = analysis_options()
ci_method, level = options.ci_method, options.level
trials = catalog().trials

st.title("Plan the next trial")
st.caption(
    "Single-arm phase II designs for the response rate, with p0 and p1 taken from the evidence "
    "the benchmark page pools, and an event-driven sizing of a randomised PFS comparison from "
    "reported medians. Every input is in the page link."
)
cohort_banner(cohort)

# --- Evidence -> p0 / p1 -----------------------------------------------------------------------
st.header("Take p0 and p1 from the evidence")
benchmarked = chosen_subtype()
codes = sorted(set(trials["subtype"].astype(str)) - AGGREGATE_SUBTYPES)
default_subtype = benchmarked if benchmarked in codes else codes[0]
ecols = st.columns(3)
link_choice("plan_subtype", codes)
subtype = ecols[0].selectbox("Subtype", codes, index=codes.index(default_subtype),
                             key="plan_subtype", bind="query-params", persist_state="session")
evidence_p0 = evidence_p1 = None
bench: SubtypeBenchmark | None
try:
    bench = subtype_benchmark(subtype, options)
except BenchmarkError as exc:
    bench = None
    st.warning(f"No {subtype} rows to pool: {exc}.")
if bench is not None and bench.class_pools:
    classes = list(bench.class_pools)
    default_class = classes.index("ICI") if "ICI" in classes else 0
    cls = ecols[1].selectbox(
        "p0 = pooled ORR of the comparator class", classes, index=default_class,
        key="plan_p0_class", bind="query-params",
        help="The class pool the benchmark page shows (same model and scope).")
    p1_source = ecols[2].radio("p1 =", P1_SOURCES, key="plan_p1_source", bind="query-params")
    class_pool = bench.class_pools[cls]
    evidence_p0 = class_pool.estimate
    p0_text = f"{class_pool.label}: {percent(evidence_p0)}"
    if p1_source == P1_SOURCES[0]:
        row = bench.cohort_row
        if row is not None and int(row["evaluable"]) > 0:
            evidence_p1 = int(row["responders"]) / int(row["evaluable"])
            p1_text = (f"{plain(cohort.label)} {percent(evidence_p1)} ({int(row['responders'])}/"
                       f"{int(row['evaluable'])}{', hypothetical' if not cohort.is_real else ''})")
        else:
            p1_text = f"{plain(cohort.label)} has no {subtype} patients evaluable for response"
    elif "AI+ICI" in bench.class_pools:
        ai = bench.class_pools["AI+ICI"]
        evidence_p1 = ai.estimate
        p1_text = f"{ai.label}: {percent(evidence_p1)}"
    else:
        p1_text = f"no AI+ICI comparator has reported {subtype}"
    st.markdown(f"Evidence for **{subtype}**: p0 ← {p0_text}; p1 ← {p1_text}.")
    st.button(
        "Fill p0 and p1 from the evidence", key="plan_fill", icon=":material/input:",
        on_click=fill_from_evidence, args=(evidence_p0, evidence_p1),
        disabled=evidence_p0 is None or evidence_p1 is None,
        help="Copies the two numbers into the design inputs below; the design reruns.",
    )
    st.caption(f"Pooled with the sidebar's model ({options.model_text()}; "
               f"{CI_CHOICES[ci_method].label} arm intervals); filled in rounded to 3 decimals.")
elif bench is not None:
    st.info(f"No comparator trial has reported {subtype}: set p0 and p1 by hand.")

# --- Simon two-stage ---------------------------------------------------------------------------
st.header("Simon two-stage design")
icols = st.columns(5)
p0 = link_number_input(icols[0], "p0 (uninteresting ORR)", 0.001, 0.999, 0.10, 0.01,
                       format="%.3f", key="plan_p0", persist_state="session")
p1 = link_number_input(icols[1], "p1 (ORR worth pursuing)", 0.001, 0.999, 0.30, 0.01,
                       format="%.3f", key="plan_p1", persist_state="session")
alpha = link_number_input(icols[2], "alpha (one-sided)", 0.001, 0.5, 0.05, 0.01, format="%.3f",
                          key="plan_alpha", persist_state="session")
beta = link_number_input(icols[3], "beta (1 − power)", 0.01, 0.5, 0.20, 0.05, format="%.2f",
                         key="plan_beta", persist_state="session")
nmax = link_number_input(icols[4], "nmax (largest n searched)", 2, SIMON_NMAX_LIMIT, 100, 10,
                         key="plan_nmax", persist_state="session",
                         help=f"Up to {SIMON_NMAX_LIMIT} (clinfun's limit). Usually well "
                              "under a second; close p0 and p1 with a large nmax take up "
                              "to about two seconds (with a progress bar), then it is "
                              "cached.")
designs = None
try:
    # Cached by the inputs as the widgets show them (3 and 2 decimals), so a link with
    # p1=0.50123 cannot start a fresh exact search for every digit it varies.
    result, seconds = simon_search(round(float(p0), 3), round(float(p1), 3),
                                   round(float(alpha), 3), round(float(beta), 2), int(nmax))
    designs = result
except DesignInputError as exc:
    st.error(str(exc), icon=":material/error:")

if designs is not None:
    opt, mm = designs.optimal, designs.minimax
    table = pd.DataFrame([
        {"design": d.kind, "stage 1: stop if ≤ r1/n1": f"{d.r1}/{d.n1}",
         "overall: reject if ≤ r/n": f"{d.r}/{d.n}", "n1": d.n1, "n": d.n,
         "EN(p0)": d.en0, "PET(p0)": d.pet0, "attained alpha": d.alpha, "power": d.power}
        for d in (opt, mm)
    ])
    st.dataframe(
        table, hide_index=True, key="simon_table",
        column_config={
            "EN(p0)": st.column_config.NumberColumn(format="%.2f",
                                                    help="Expected sample size under p0"),
            "PET(p0)": st.column_config.NumberColumn(
                format="%.3f", help="Probability of early termination under p0"),
            "attained alpha": st.column_config.NumberColumn(format="%.4f"),
            "power": st.column_config.NumberColumn(format="%.4f"),
        },
    )
    mcols = st.columns(2)
    for col, d in zip(mcols, (opt, mm), strict=True):
        col.markdown(f"**{d.kind.capitalize()}**: {d.r1}/{d.n1}, {d.r}/{d.n} — "
                     f"EN(p0) {d.en0:.1f}, PET(p0) {percent(d.pet0)}, alpha {d.alpha:.3f}, "
                     f"power {percent(d.power)}")
        col.write(d.sentence())
    for note in designs.notes:
        st.warning(note)
    st.caption(
        f"Exact search of every design with n ≤ {designs.nmax} ({seconds:.2f} s when "
        "first computed, cached since; sizes too small for any design to reach the power, and "
        "designs that cannot beat the best EN(p0), are ruled out by bounds); reproduces R "
        "clinfun::ph2simon. "
        "Simon R. Optimal two-stage designs for phase II clinical trials. "
        "Control Clin Trials 1989;10:1-10."
    )
    oc = {f"Optimal {opt.r1}/{opt.n1}, {opt.r}/{opt.n}": oc_curve(opt),
          f"Minimax {mm.r1}/{mm.n1}, {mm.r}/{mm.n}": oc_curve(mm)}
    chart = chart_spec(oc_chart, oc, float(p0), float(p1),
                       f"p0 = {percent(float(p0))}, p1 = {percent(float(p1))}; "
                       "solid: declared promising, dashed: early stop")
    show_chart(chart, key="oc_chart")
    chart_downloads(chart, "simon_oc_curve", "dl_oc")
    csv_download(designs.to_frame(),
                 "Download the best design of each size from minimax to optimal (CSV)",
                 "simon_designs.csv", "dl_simon")

# --- Single stage ------------------------------------------------------------------------------
st.header("Single-stage exact design (A'Hern)")
try:
    single = single_stage_design(float(p0), float(p1), float(alpha), float(beta))
    s = st.columns(3)
    s[0].metric("Patients", single.n)
    s[1].metric("Responses needed", f"≥ {single.r}")
    s[2].metric("Attained alpha / power", f"{single.alpha:.3f} / {percent(single.power)}")
    st.write(single.sentence())
    st.caption("A'Hern RP. Sample size tables for exact single-stage phase II designs. "
               "Stat Med 2001;20:859-866.")
except DesignInputError as exc:
    st.error(str(exc), icon=":material/error:")

# --- Precision -----------------------------------------------------------------------------------
st.header("Precision: how many patients for a given confidence interval?")
pc = st.columns(2)
anticipated = link_number_input(pc[0], "Anticipated ORR", 0.01, 0.99, 0.30, 0.01,
                                format="%.2f", key="prec_p",
                                help="Default 30%; try p1 from above.")
half = link_number_input(pc[1], "Target half-width (percentage points)", 1.0, 49.0, 15.0, 1.0,
                         format="%.0f", key="prec_half")
try:
    n_needed = n_for_half_width(float(anticipated), float(half) / 100, level, ci_method)
    top = max(60, int(n_needed * 1.5))
    ns = sorted(set(range(5, top + 1, max(1, top // 120))) | {n_needed})
    prec = precision_table(float(anticipated), ns, level, ci_method)
    st.metric(f"Patients for a {100 * level:g}% CI of ±{half:g} points", n_needed)
    row = prec[prec["n"] == n_needed].iloc[0]
    st.write(
        f"With {n_needed} evaluable patients and an observed ORR near "
        f"{percent(float(anticipated))} "
        f"({int(row['responders'])}/{n_needed}), the {100 * level:g}% "
        f"{CI_CHOICES[ci_method].label} "
        f"interval is {percent(row['low'])}–{percent(row['high'])} (half-width "
        f"{100 * row['half_width']:.1f} points)."
    )
    show_chart(chart_spec(precision_chart, prec, float(half) / 100, n_needed,
                          f"{CI_CHOICES[ci_method].label}, {100 * level:g}% (sidebar)"),
               key="precision_chart")
except DesignInputError as exc:
    st.error(str(exc), icon=":material/error:")

# --- PFS what-if ----------------------------------------------------------------------------------
st.header("PFS what-if: a randomised comparison sized from reported medians")
own = cohort.row("STS")
published_own = trials[(trials["study"] == SEED_STUDY) & (trials["subtype"] == "STS")]
own_median = None
# A scenario edited from the seed cohort falls back on the seed's median; an upload never does.
fallback = published_own.iloc[0] if cohort.replaces == SEED_STUDY and not published_own.empty \
    else None
for candidate in (own, fallback):
    if candidate is not None and not pd.isna(candidate.get("pfs_median_months")):
        own_median = float(candidate["pfs_median_months"])
        break
with_pfs = trials[trials["pfs_median_months"].notna() & (trials["study"] != SEED_STUDY)]
labels = {
    f"{r.study}|{r.arm}|{r.subtype}":
        f"{r.study} · {r.arm} · {r.subtype}: {float(r.pfs_median_months):g} months"
    for r in with_pfs.itertuples(index=False)
}
medians = {key: float(r.pfs_median_months) for key, r in
           zip(labels, with_pfs.itertuples(index=False), strict=True)}
keys = list(labels)
default_control = next((k for k in keys if k.startswith("ALTER0203|") and k.endswith("|STS")),
                       keys[0] if keys else "")
if own_median is None or not keys:
    st.info("No reported medians to compare.")
else:
    fc = st.columns(2)
    control: str = fc[0].selectbox("Control arm (reported median PFS)", keys,
                                   index=keys.index(default_control),
                                   format_func=lambda k: labels.get(k, k),
                              key="pfs_control", bind="query-params")
    experimental = link_number_input(
        fc[1], "Experimental arm median PFS (months)", 0.1, 120.0, own_median, 0.1, format="%.2f",
        key="pfs_experimental",
        help=f"Default: this cohort's {own_median:g} months"
             + (" (all 33 treated, Fig. 3a)." if cohort.kind == "published" else "."))
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
        "Also draw", keys, default=[k for k in keys if k.split("|")[2] in AGGREGATE_SUBTYPES
                                    and k != control],
        format_func=lambda k: labels.get(k, k), key="pfs_overlay")
    try:
        m_c = medians[control]
        hr = implied_hazard_ratio(m_c, float(experimental))
        events = schoenfeld_events(hr, float(pfs_alpha), float(power))
        size = patients_for_events(events, exponential_from_median(m_c),
                                   exponential_from_median(float(experimental)),
                                   float(accrual), float(follow))
        r = st.columns(3)
        r[0].metric("Implied hazard ratio", f"{hr:.2f}",
                    help="Exponential PFS: HR = median(control) / median(experimental)")
        r[1].metric("Events needed (Schoenfeld)", size.events)
        r[2].metric("Patients to enrol", size.patients)
        st.write(
            f"Under exponential PFS, a median of {float(experimental):g} months against "
            f"{m_c:g} months ({labels[control].split(':')[0]}) implies a hazard ratio of "
            f"{hr:.2f}; detecting it with two-sided alpha {float(pfs_alpha):g} and "
            f"{percent(float(power), 0)} power needs {size.events} events (Schoenfeld, Biometrics "
            f"1983;39:499-503). " + size.sentence()
        )
        curves = {f"This cohort ({'hypothetical, ' if not cohort.is_real else ''}"
                  f"median {float(experimental):g} mo)": float(experimental),
                  labels[control] + " (control)": m_c}
        curves.update({labels[k]: medians[k] for k in overlay if k != control})
        frame = exponential_curves(curves)
        own_label = next(iter(curves))
        chart = chart_spec(survival_chart, frame, own_label, [
            "S(t) = exp(−ln2·t/median); cross-trial: populations, lines and PFS definitions "
            "differ", "Medians as reported in data/trials.csv"])
        show_chart(chart, key="pfs_chart")
        chart_downloads(chart, "pfs_exponential", "dl_pfs")
        own_note = ("this cohort's 8.90-month median is for all 33 treated patients (the "
                    "paper's interval 5.98–11.82 is SPSS-style symmetric); "
                    if cohort.kind == "published" else
                    f"{plain(cohort.label)}'s median is {own_median:g} months; ")
        st.caption(
            f"Caveats: {own_note}comparator medians come from other populations, subtypes and "
            "lines. A hazard ratio implied by two single-arm medians is a planning guess, not "
            "an estimate of effect."
        )
    except (DesignInputError, KeyError) as exc:
        st.error(f"Cannot size the PFS comparison: {exc}", icon=":material/error:")
