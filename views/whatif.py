"""What if: edit this cohort's subtype counts, set a hypothetical toxicity rate, re-weight its
case mix, read it the Bayesian way.

The scenario editor and the subtype choice change every number below them (full reruns); the
toxicity, case-mix and Bayesian panels rerun alone when their own controls change."""


from collections.abc import Sequence
from dataclasses import replace

import pandas as pd
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from comparators.analysis.benchmark import BenchmarkError, SubtypeBenchmark
from comparators.analysis.borrowing import BorrowingError, PredictivePrior, class_predictive_prior
from comparators.analysis.options import AnalysisOptions
from comparators.analysis.toxicity import (
    TOXICITY_ENTRIES,
    ToxicityComparison,
    ToxicityInputError,
    compare_toxicity,
    hypothetical_toxicity,
)
from comparators.charts.whatif import (
    density_frame,
    posterior_chart,
    scenario_effect_chart,
    standardised_chart,
)
from comparators.evidence.casemix import (
    CASEMIX_METHODS,
    CaseMixError,
    CaseMixPreset,
    StandardisedRate,
    asps_share_preset,
    casemix_presets,
    cohort_strata,
    presets_frame,
    stratum_name,
)
from comparators.evidence.cohort import ThisCohort, asps_mix, itemised_counts
from comparators.evidence.scenario import (
    AGGREGATE_SUBTYPES,
    apply_scenario,
    same_counts,
    scenario_table,
)
from comparators.limits import MAX_SCENARIO_PATIENTS
from comparators.stats.bayes import (
    JEFFREYS,
    BayesInputError,
    BetaPosterior,
    BetaPrior,
    predictive_probability,
    prior_from_pooled,
)
from comparators.stats.proportions import percent
from comparators.vocab import ENDPOINTS
from views.common import (
    BY_DIGEST,
    SCENARIO_KEY,
    analysis_options,
    base_cohort,
    catalog,
    chart_downloads,
    chart_spec,
    chosen_subtype,
    cohort_banner,
    csv_download,
    plain,
    pool_columns,
    refusal_text,
    seed_cohort,
    show_chart,
    subtype_benchmark,
    this_cohort,
)
from views.editing import apply_edits, check_edits
from views.sections import section
from views.share import link_choice, link_number_input, link_slider


class _NoEvaluable(Exception):
    """This cohort has no evaluable patient at all (legal data: every patient NE)."""


EDITOR_KEY = "scenario_editor"
ORIGIN_KEY = "whatif_editor_origin"  # the cohort whose counts the editor's edits apply to


def reset_scenario() -> None:
    for key in (SCENARIO_KEY, EDITOR_KEY, ORIGIN_KEY):
        st.session_state.pop(key, None)


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=BY_DIGEST)
def target_mixes(cohort: ThisCohort, asps_share: int) -> tuple[CaseMixPreset, ...]:
    """Every preset target mix and the user's ASPS share, for `cohort` (at any level)."""
    strata = cohort_strata(cohort.rows)
    if int(strata["evaluable"].sum()) == 0:  # legal data, nothing to weigh
        raise _NoEvaluable
    presets = casemix_presets(cohort.rows, catalog().trials)
    if "ASPS" in set(strata["subtype"]):
        presets.append(asps_share_preset(cohort_strata(cohort.rows, ("ASPS",)), asps_share / 100,
                                         f"Your ASPS share ({asps_share}%)", "your input"))
    return tuple(presets)


@st.cache_resource(show_spinner=False, max_entries=64, hash_funcs=BY_DIGEST)
def standardised(cohort: ThisCohort, level: float, method: str,
                 asps_share: int) -> list[tuple[CaseMixPreset, StandardisedRate]]:
    """Every target mix applied to `cohort` at this level and interval method."""
    return [(p, p.standardise(level, method)) for p in target_mixes(cohort, asps_share)]


@st.cache_data(show_spinner=False, max_entries=32)
def predictive_prior(rows: pd.DataFrame, regimen_class: str) -> PredictivePrior:
    return class_predictive_prior(rows, regimen_class)


# --- (a) Scenario editor ----------------------------------------------------------------------


def editor_origin(base: ThisCohort, active: ThisCohort) -> ThisCohort:
    """The cohort whose counts the editor's edits apply to; a part of the browser's edit message
    that does not fit the table is refused here and named (see views/editing.py)."""
    origin_in_use = st.session_state.get(ORIGIN_KEY)
    if isinstance(origin_in_use, ThisCohort) and origin_in_use.source != base.source:
        for key in (EDITOR_KEY, ORIGIN_KEY):  # edits of a cohort that is no longer in use
            st.session_state.pop(key, None)
    if ORIGIN_KEY not in st.session_state or EDITOR_KEY not in st.session_state:
        # A fresh editor (first visit, after a reset, or back from another page, which clears
        # a widget's state) starts from the scenario in force, so earlier edits are not lost.
        st.session_state[ORIGIN_KEY] = active
    return st.session_state[ORIGIN_KEY]


def checked_origin(origin: ThisCohort, known: set[str]) -> tuple[ThisCohort, list[str]]:
    """The origin with the sound part of a refused edit message applied, and the refusals."""
    table = scenario_table(origin)
    check = check_edits(st.session_state.get(EDITOR_KEY), table,
                        whole=("evaluable", "responders"), max_added=len(known),
                        row_names=list(table["subtype"]))
    refusals = list(check.refused)
    if check.for_the_page:
        kept, kept_problems = apply_scenario(apply_edits(table, check.state), origin, known)
        refusals += [p.text() for p in kept_problems]
        st.session_state[ORIGIN_KEY] = origin = kept
        del st.session_state[EDITOR_KEY]
    return origin, refusals


def render_scenario_editor(base: ThisCohort, active: ThisCohort, base_name: str) -> ThisCohort:
    """The subtype-count editor; returns the scenario it holds (the base if unedited)."""
    st.header("Scenario: edit the subtype counts")
    known = set(catalog().subtype_codes) - AGGREGATE_SUBTYPES
    origin, refusals = checked_origin(editor_origin(base, active), known)
    left, right = st.columns([3, 2])
    with left:
        edited = st.data_editor(
            scenario_table(origin), num_rows="dynamic", key=EDITOR_KEY, hide_index=True,
            column_config={
                "subtype": st.column_config.SelectboxColumn(
                    "Subtype", options=sorted(known), required=True,
                    help="Code from the subtype vocabulary (Comparator trials page)."),
                "evaluable": st.column_config.NumberColumn(
                    "Evaluable", min_value=0, max_value=MAX_SCENARIO_PATIENTS, step=1,
                    required=True,
                    help="Patients evaluable for response"),
                "responders": st.column_config.NumberColumn(
                    "Responders", min_value=0, max_value=MAX_SCENARIO_PATIENTS, step=1,
                    required=True,
                    help="Confirmed complete + partial responses"),
            })
        scenario, problems = apply_scenario(edited, origin, known)
        for text in refusals + [problem.text() for problem in problems]:
            st.error(plain(text), icon=":material/block:")
        st.button(f"Reset to the {base_name} counts", on_click=reset_scenario,
                  key="scenario_reset", icon=":material/restart_alt:")
    with right:
        render_scenario_totals(base, scenario, base_name)
    return scenario


def render_scenario_totals(base: ThisCohort, scenario: ThisCohort, base_name: str) -> None:
    if base.kind == "published":
        st.markdown(
            f"Only the subtypes the paper itemises are listed: {itemised_counts(base.rows)} "
            "(Results and Discussion). So the all-subtypes row is the published total **plus "
            "the changes you make**, not the sum of the rows.")
    else:
        st.markdown(f"The subtypes of **{base_name}**, as aggregated from its patient rows; "
                    "the all-subtypes row moves with the changes you make.")
    totals = scenario.rows[scenario.rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    if not totals.empty:
        k_all, n_all = int(totals.iloc[0]["responders"]), int(totals.iloc[0]["evaluable"])
        st.caption(f"All subtypes in this scenario: {k_all}/{n_all} = "
                   f"{percent(k_all / max(n_all, 1))}.")


def keep_scenario(scenario: ThisCohort, base: ThisCohort) -> bool:
    """Put the scenario in force for every page (True), or drop it when it equals `base`."""
    if same_counts(scenario, base):
        st.session_state.pop(SCENARIO_KEY, None)
        return False
    st.session_state[SCENARIO_KEY] = scenario
    return True


# --- effect on the benchmark --------------------------------------------------------------------


def render_subtype_choice(cohort: ThisCohort) -> str:
    benchmarked = chosen_subtype()
    subtypes = sorted(set(scenario_table(cohort)["subtype"]) | {benchmarked})
    default_subtype = benchmarked if benchmarked in subtypes else subtypes[0]
    link_choice("whatif_subtype", subtypes)
    return st.selectbox(
        "Subtype to benchmark", subtypes, index=subtypes.index(default_subtype),
        key="whatif_subtype", bind="query-params",
        help="The benchmark page's pooled estimate for this subtype, with the sidebar's model, "
             "before and after your edits.")


def own_rate(bench: SubtypeBenchmark) -> tuple[str, float | None]:
    row = bench.cohort_row
    if row is None:
        return "no row", None
    k, n = int(row["responders"]), int(row["evaluable"])
    return f"{k}/{n}", k / n if n else None


def render_effect(subtype: str, base: ThisCohort, options: AnalysisOptions, base_name: str,
                  hypothetical: bool) -> SubtypeBenchmark | None:
    """This cohort's and the pooled ORR before and after the edits; returns the benchmark in
    force (None when the subtype has no rows to pool)."""
    try:
        after = subtype_benchmark(subtype, options)  # the benchmark page's own object
        before = subtype_benchmark(subtype, options, base)
    except BenchmarkError as exc:
        st.warning(f"No {subtype} rows to pool: {exc}.")
        return None
    st.subheader(f"{subtype}: {base_name} vs this scenario")
    render_effect_metrics(subtype, before, after, options, base_name, hypothetical)
    st.markdown(
        f"Pooled {subtype} ORR: **{percent(before.fit.estimate)}** ({options.level_text} CI "
        f"{percent(before.fit.low)}–{percent(before.fit.high)}) with the {base_name} counts → "
        f"**{percent(after.fit.estimate)}** ({percent(after.fit.low)}–{percent(after.fit.high)}) "
        f"{'in this scenario' if hypothetical else '(no edits yet)'}.")
    shown = [(base_name, before)] + ([("hypothetical", after)] if hypothetical else [])
    show_chart(chart_spec(scenario_effect_chart, effect_frame(shown),
                          f"{subtype}; {options.level_text} intervals"),
               key="scenario_effect_chart")
    st.caption(
        f"Pooled with the sidebar's model ({options.model_text()}); class pools "
        + ("include this cohort." if options.include_cohort else
           "leave this cohort out, so only the all-arms estimate moves."))
    return after


def render_effect_metrics(subtype: str, before: SubtypeBenchmark, after: SubtypeBenchmark,
                          options: AnalysisOptions, base_name: str, hypothetical: bool) -> None:
    own_before, own_after = own_rate(before), own_rate(after)
    pooled_help = (f"{options.interval_name} {percent(after.fit.low)}–"
                   f"{percent(after.fit.high)}; k = {after.fit.k} arms, this cohort included")
    cols = st.columns(3)
    cols[0].metric(f"This cohort, {base_name}", f"{percent(own_before[1])}",
                   help=own_before[0])
    if not hypothetical:
        cols[1].metric(f"Pooled {subtype} ORR, all included arms", percent(after.fit.estimate),
                       help=pooled_help)
        cols[2].caption("Edit a count above to see both move.")
        return
    delta = None if own_before[1] is None or own_after[1] is None else \
        f"{100 * (own_after[1] - own_before[1]):+.1f} pp"
    cols[1].metric("This cohort, hypothetical", f"{percent(own_after[1])}", delta=delta,
                   help=own_after[0])
    cols[2].metric(
        f"Pooled {subtype} ORR, all included arms", percent(after.fit.estimate),
        delta=f"{100 * (after.fit.estimate - before.fit.estimate):+.1f} pp vs {base_name}",
        help=pooled_help)


def effect_frame(shown: list[tuple[str, SubtypeBenchmark]]) -> pd.DataFrame:
    """This cohort's and the pooled estimate of each benchmark, for the effect chart."""
    effect = []
    for name, bench in shown:
        study = next((s for s in bench.fit.studies if s.study == bench.cohort_key), None)
        if bench.cohort_row is not None and study is not None:
            effect.append({"quantity": "This cohort", "scenario": name,
                           "estimate": study.estimate, "low": study.low, "high": study.high})
        effect.append({"quantity": f"Pooled, k = {bench.fit.k}", "scenario": name,
                       "estimate": bench.fit.estimate, "low": bench.fit.low,
                       "high": bench.fit.high})
    return pd.DataFrame(effect)


# --- Toxicity -------------------------------------------------------------------------------------


@section(self_contained=True)
def render_toxicity(subtype: str, options: AnalysisOptions) -> None:
    """A hypothetical grade >= 3 TRAE rate for this cohort beside the Benchmark page's pooled
    grade >= 3 TRAE rate of each regimen class (its own cached objects); reruns alone."""
    st.header("Toxicity: a hypothetical grade ≥ 3 TRAE rate")
    safety = replace(options, endpoint="grade3")
    try:
        bench = subtype_benchmark(subtype, safety)
    except BenchmarkError as exc:
        st.info(refusal_text(safety, exc, f"No {subtype} arm to compare a toxicity rate with"),
                icon=":material/info:")
        return
    own = bench.cohort_row
    st.caption(
        f"Set this cohort's rate of patients with a grade ≥ 3 treatment-related adverse event "
        f"and compare it with the pooled rate of each regimen class in {subtype} (the Benchmark "
        "page's numbers for this endpoint). "
        + ("This cohort reports "
           f"{int(own['responders'])} of {int(own['evaluable'])} patients treated "
           f"({percent(int(own['responders']) / int(own['evaluable']))})." if own is not None
           else "This cohort reports no grade ≥ 3 TRAE rate."))
    cols = st.columns([2, 2, 2])
    link_choice("tox_entry", list(TOXICITY_ENTRIES))
    # shown as their codes (what a link carries), each with what it means
    entry = cols[0].radio("Enter the rate as", list(TOXICITY_ENTRIES), key="tox_entry",
                          captions=list(TOXICITY_ENTRIES.values()), bind="query-params",
                          persist_state="session")
    patients = link_number_input(cols[1], "Patients treated", 1, MAX_SCENARIO_PATIENTS, None, 1,
                                 key="tox_patients", placeholder="e.g. 30",
                                 help="The safety population: patients who received a dose.")
    if entry == "percent":
        events, share = None, link_number_input(
            cols[2], "Grade ≥ 3 TRAE (%)", 0.0, 100.0, None, 0.1, key="tox_percent",
            placeholder="e.g. 50", help="Rounded half up to whole patients of those treated.")
    else:
        share, events = None, link_number_input(
            cols[2], "Patients with a grade ≥ 3 TRAE", 0, MAX_SCENARIO_PATIENTS, None, 1,
            key="tox_events", placeholder="e.g. 15")
    if patients is None or (events if entry == "count" else share) is None:
        st.caption("Enter the patients treated and the rate to compare it.")
        return
    try:
        hypothetical = hypothetical_toxicity(patients, events, share)
    except ToxicityInputError as exc:
        st.error(plain(str(exc)), icon=":material/block:")
        return
    render_toxicity_result(compare_toxicity(hypothetical, bench), options)


def render_toxicity_result(result: ToxicityComparison, options: AnalysisOptions) -> None:
    h = result.hypothetical
    cols = st.columns(1 + len(result.pools))
    cols[0].metric("Hypothetical grade ≥ 3 TRAE", percent(h.estimate),
                   help=f"{h.describe()}; {result.level_text} CI {percent(result.low)}–"
                        f"{percent(result.high)} (Wilson)")
    cols[0].caption(f"{h.events}/{h.patients} patients treated")
    for box, pool, diff in zip(cols[1:], result.pools, result.differences, strict=True):
        box.metric(f"{diff.b_label}: grade ≥ 3 TRAE", percent(pool.estimate),
                   delta=f"{100 * diff.difference:+.1f} pp hypothetical vs pooled",
                   delta_color="inverse", help=diff.test)
        box.caption(f"{result.interval} {100 * diff.low:+.1f} to {100 * diff.high:+.1f}; "
                    f"{diff.evidence}")
    st.markdown(result.sentence())
    for note in result.notes:
        st.caption(plain(note))
    frame = result.to_frame()
    shown = frame.assign(**{c: 100 * frame[c] for c in ("pooled", "pooled_low", "pooled_high",
                                                        "difference", "low", "high")})
    columns = pool_columns(options.interval_name, ENDPOINTS["grade3"])
    st.dataframe(
        shown[["pool", "k", "events", "n", "pooled", "pooled_low", "pooled_high", "difference",
               "low", "high", "evidence"]],
        hide_index=True, key="toxicity_table",
        column_config={
            "pool": "Compared with", **{c: columns[c] for c in ("k", "events", "n")},
            "pooled": st.column_config.NumberColumn("Pooled grade ≥ 3 TRAE %", format="%.1f"),
            "pooled_low": st.column_config.NumberColumn(f"{options.interval_name} low",
                                                        format="%.1f"),
            "pooled_high": st.column_config.NumberColumn(f"{options.interval_name} high",
                                                         format="%.1f"),
            "difference": st.column_config.NumberColumn("Hypothetical − pooled (points)",
                                                        format="%+.1f"),
            "low": st.column_config.NumberColumn("Difference low", format="%+.1f"),
            "high": st.column_config.NumberColumn("Difference high", format="%+.1f"),
            "evidence": "Evidence",
        })
    csv_download(frame, "Download the toxicity comparison (CSV)", "toxicity_whatif.csv",
                 "dl_toxicity", "hypothetical toxicity rate")


# --- (b) Case mix -------------------------------------------------------------------------------


def casemix_note(base: ThisCohort, base_name: str) -> str:
    method = ("Direct standardisation: Σ w·p with Var = Σ w²·p(1 − p)/n.")
    if base.kind != "published":
        return (f"**What is known and what is assumed.** Strata are the subtypes of {base_name} "
                "as aggregated from its patient rows; target subtypes without data here are "
                f"listed as missing, never dropped silently. {method}")
    return (
        f"**What is known and what is assumed.** The paper gives response counts for "
        f"{itemised_counts(base.rows)}; {asps_mix(seed_cohort(), base.rows)}. So a "
        "re-weighting can only move weight between ASPS and the non-ASPS group as a whole (the "
        "non-ASPS subtypes keep this cohort's internal mix), or between the itemised subtypes "
        "and the unitemised rest. Target subtypes without data here (e.g. SARC028's UPS and SS) "
        f"are listed as missing, never dropped silently. {method}")


@section
def render_casemix(cohort: ThisCohort, base: ThisCohort, base_name: str, level: float,
                   hypothetical: bool) -> None:
    st.header("Case mix: standardise the ORR to another trial's subtypes")
    st.info(casemix_note(base, base_name), icon=":material/info:")
    mix_cols = st.columns([2, 2, 3])
    method = mix_cols[0].radio(
        "Interval", list(CASEMIX_METHODS), key="casemix_method", horizontal=True,
        format_func={"wilson": "Wilson (effective n)", "logit": "logit"}.get,
        bind="query-params", persist_state="session", help="\n\n".join(
            f"**{k}**: {v}" for k, v in CASEMIX_METHODS.items()))
    custom_share = link_slider(
        mix_cols[1], "Your ASPS share (%)", 0, 100, 26, key="casemix_asps_share",
        persist_state="session",
        help="Standardise ASPS vs non-ASPS to any ASPS share of the evaluable patients.")
    try:
        results = standardised(cohort, level, method, int(custom_share))
    except _NoEvaluable:
        st.info("This cohort has 0 evaluable patients (every patient not evaluable): there is "
                "no response rate to standardise.", icon=":material/info:")
        return
    except CaseMixError as exc:
        st.error(f"Cannot standardise this cohort: {exc}")
        return
    if results:
        render_casemix_results(results, level, method, hypothetical)


def render_casemix_results(results: list[tuple[CaseMixPreset, StandardisedRate]], level: float,
                           method: str, hypothetical: bool) -> None:
    level_label = f"{100 * level:g}%"
    frame = presets_frame(results)
    mix_chart = chart_spec(standardised_chart, frame, results[0][1].estimate,
                           f"{level_label} intervals ({method}); dashed: this cohort's "
                           "crude ORR; hollow: target subtypes missing")
    show_chart(mix_chart, key="casemix_chart")
    chart_downloads(mix_chart, "casemix_standardised_orr", "dl_casemix_chart")
    shown = frame.assign(**{c: (100 * frame[c]).round(1) for c in ("estimate", "low", "high")},
                         coverage=(100 * frame["coverage"]).round(0))
    st.dataframe(
        shown[["mix", "estimate", "low", "high", "coverage", "missing", "patients", "assumption",
               "source"]],
        hide_index=True, key="casemix_table",
        column_config={
            "mix": "Target mix",
            "estimate": st.column_config.NumberColumn("Standardised ORR, %", format="%.1f"),
            "low": st.column_config.NumberColumn(f"{level_label} low, %", format="%.1f"),
            "high": st.column_config.NumberColumn(f"{level_label} high, %", format="%.1f"),
            "coverage": st.column_config.NumberColumn("Target mix covered, %", format="%.0f"),
            "missing": "No data for",
            "patients": st.column_config.NumberColumn("Patients used"),
            "assumption": st.column_config.TextColumn("Assumption", width="large"),
        })
    for _preset, result in results:
        if result.missing:
            st.warning(result.sentence(), icon=":material/warning:")
    with st.expander("Strata and weights of each mix"):
        chosen = st.selectbox("Mix", [p.name for p, _ in results], key="casemix_detail")
        preset, result = next((p, r) for p, r in results if p.name == chosen)
        st.write(result.sentence())
        detail = result.to_frame()
        detail["stratum"] = detail["subtype"].map(stratum_name)
        st.dataframe(detail, hide_index=True, key="casemix_strata")
        st.caption(preset.assumption)
    csv_download(frame, "Download standardised rates (CSV)", "casemix.csv", "dl_casemix",
                 "hypothetical scenario" if hypothetical else None)


# --- (c) Bayesian view --------------------------------------------------------------------------


def chosen_prior(subtype: str, bench: SubtypeBenchmark | None,
                 columns: Sequence[DeltaGenerator]) -> tuple[BetaPrior, str]:
    """The prior the user chose (Jeffreys, a discounted class pool or a class's predictive
    prior) and how the page describes it."""
    kind = columns[0].radio(
        "Prior", ["Jeffreys", "Pooled comparator class", "Predictive of a new arm (Bayesian)"],
        key="bayes_prior", bind="query-params", persist_state="session",
        help="Jeffreys Beta(0.5, 0.5) is nearly uninformative. A pooled class prior counts the "
             "class's patients at the pooled rate, down-weighted by the discount (power prior).")
    if kind == "Jeffreys":
        return JEFFREYS, "Jeffreys Beta(0.5, 0.5)"
    if bench is None or not bench.class_fits:
        st.warning(f"No comparator class has reported {subtype}; using Jeffreys.")
        return JEFFREYS, "Jeffreys Beta(0.5, 0.5)"
    cls = columns[1].selectbox("Comparator class", list(bench.class_fits), key="bayes_class",
                               bind="query-params")
    if kind == "Pooled comparator class":
        discount = link_slider(
            columns[2], "Discount weight a0", 0.0, 1.0, 0.5, 0.05, key="bayes_discount",
            help="0 ignores the comparators; 1 counts their patients as if in this cohort.")
        fit, patients = bench.class_fits[cls], bench.class_pools[cls].n
        prior = prior_from_pooled(fit.estimate, patients, discount)
        return prior, (f"{cls} pooled {percent(fit.estimate)} over {patients} patients "
                       f"(k = {fit.k}) × discount {discount:g} → Beta({prior.a:.2f}, "
                       f"{prior.b:.2f}), prior effective sample size {prior.effective_n:.1f}")
    try:
        predictive = predictive_prior(bench.rows, cls)
    except BorrowingError as exc:
        st.warning(f"{exc}; using Jeffreys.")
        return JEFFREYS, "Jeffreys Beta(0.5, 0.5)"
    return predictive.prior, predictive.describe()


@section
def render_bayes(cohort: ThisCohort, subtype: str, bench: SubtypeBenchmark | None,
                 level: float, hypothetical: bool) -> None:
    st.header("Bayesian view")
    row = cohort.row(subtype)
    if row is None:
        st.info(f"This cohort has no {subtype} row: add one in the scenario above to read it "
                "here.")
        return
    k, n = int(row["responders"]), int(row["evaluable"])
    st.markdown(f"This cohort's {subtype}: **{k}/{n}** responders"
                f"{' (hypothetical)' if hypothetical else ''}.")
    prior, prior_text = chosen_prior(subtype, bench, st.columns(3))
    threshold = link_slider(st, "Threshold ORR for P(ORR > threshold) (%)", 1, 99, 30,
                            key="bayes_threshold") / 100
    try:
        post = BetaPosterior.from_counts(k, n, prior)
    except BayesInputError as exc:
        st.error(str(exc))
    else:
        render_posterior(post, subtype, k, n, level, threshold, prior_text)
    render_predictive(k, n, prior)


def render_posterior(post: BetaPosterior, subtype: str, k: int, n: int, level: float,
                     threshold: float, prior_text: str) -> None:
    lo, hi = post.credible_interval(level)
    m = st.columns(3)
    m[0].metric("Posterior mean ORR", percent(post.mean))
    m[1].metric(f"{100 * level:g}% credible interval", f"{percent(lo)}–{percent(hi)}")
    m[2].metric(f"P(ORR > {percent(threshold, 0)})", percent(post.prob_above(threshold)))
    st.caption(f"Prior: {prior_text}. Posterior Beta({post.a:.2f}, {post.b:.2f}) = prior + "
               f"{k} responders and {n - k} non-responders; equal-tailed interval.")
    show_chart(chart_spec(posterior_chart, density_frame(post), threshold,
                          f"{subtype}, {k}/{n}; shaded: P(ORR > {percent(threshold, 0)})"),
               key="posterior_chart")


def render_predictive(k: int, n: int, prior: BetaPrior) -> None:
    st.subheader("Predictive probability for an expansion cohort (Lee & Liu 2008)")
    pcols = st.columns(3)
    nmax = link_number_input(pcols[0], "Maximum patients (nmax)", 1, 500, 30, 1, key="pp_nmax",
                             help="Total patients in the expanded cohort, including the "
                                  f"{n} already treated.")
    p0 = link_number_input(pcols[1], "p0 (uninteresting ORR)", 0.01, 0.99, 0.30, 0.01,
                           key="pp_p0", format="%.2f")
    theta_t = link_number_input(pcols[2], "θ_T (posterior threshold for success)", 0.50, 0.999,
                                0.90, 0.01, key="pp_theta", format="%.3f")
    st.latex(r"\mathrm{PP}=\sum_{y=0}^{m}\Pr(Y=y\mid x)\,"
             r"\mathbb{I}\!\left[\Pr(p>p_0\mid x+y,\,n_{\max})>\theta_T\right]")
    st.latex(r"\Pr(Y=y\mid x)=\mathrm{BetaBin}(y;\,m,\,a+x,\,b+n-x)")
    st.latex(r"\Pr(p>p_0\mid x+y,\,n_{\max})=1-I_{p_0}(a+x+y,\;b+n_{\max}-x-y)")
    st.caption(f"x = {k} responders of n = {n} so far, m = nmax − n patients to come, "
               "Beta(a, b) the prior above, I the regularised incomplete beta function. "
               "Lee JJ, Liu DD. Clin Trials 2008;5:93-106.")
    try:
        pp = predictive_probability(k, n, int(nmax), float(p0), float(theta_t), prior)
    except BayesInputError as exc:
        st.error(f"Predictive probability: {exc}.")
        return
    st.metric("Predictive probability of success", percent(pp.pp))
    st.write(pp.sentence())
    with st.expander("Every possible number of further responders"):
        st.dataframe(pp.to_frame(), hide_index=True, key="pp_table")


# --- The page ------------------------------------------------------------------------------------

base = base_cohort()  # what a scenario edits: an upload in use, else the published counts
active = this_cohort()  # drops a scenario whose cohort went away; the banner below says so
options = analysis_options()
# What the edits start from: the published counts, or the active upload under its own name.
base_name = "published" if base.kind == "published" else plain(base.label)
st.title("What if")
st.caption(
    "Change this cohort's subtype counts and see every page follow; set a hypothetical "
    "toxicity rate beside the pooled ones; re-weight its case mix to another trial's; read the "
    "response rate as a posterior and ask what an expansion cohort would likely show. "
    "Nothing here is observed data unless it says "
    + ("*published*." if base.kind == "published" else f"*{base_name}*."))
banner = st.container()
scenario = render_scenario_editor(base, active, base_name)
hypothetical = keep_scenario(scenario, base)
cohort = scenario if hypothetical else base
with banner:
    cohort_banner(cohort)
    if hypothetical:
        st.caption("Every page now shows this hypothetical scenario in place of "
                   + ("the published cohort" if base.kind == "published" else base_name)
                   + ", labelled as such, until you reset it here or that cohort is replaced.")
subtype = render_subtype_choice(cohort)
after = render_effect(subtype, base, options, base_name, hypothetical)
render_toxicity(subtype, options)
render_casemix(cohort, base, base_name, options.level, hypothetical)
render_bayes(cohort, subtype, after, options.level, hypothetical)
