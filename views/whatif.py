"""What if: edit this cohort's subtype counts, re-weight its case mix, read it the Bayesian way."""


import pandas as pd
import streamlit as st

from comparators.analysis.benchmark import BenchmarkError, SubtypeBenchmark
from comparators.analysis.borrowing import BorrowingError, PredictivePrior, class_predictive_prior
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
from comparators.evidence.cohort import ThisCohort
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
    predictive_probability,
    prior_from_pooled,
)
from comparators.stats.proportions import percent
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
    show_chart,
    subtype_benchmark,
    this_cohort,
)
from views.editing import apply_edits, check_edits
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


base = base_cohort()  # what a scenario edits: an upload in use, else the published counts
active = this_cohort()  # drops a scenario whose cohort went away; the banner below says so
options = analysis_options()
level = options.level
level_label = options.level_text
# What the edits start from: the published counts, or the active upload under its own name.
base_name = "published" if base.kind == "published" else plain(base.label)

st.title("What if")
st.caption(
    "Change this cohort's subtype counts and see every page follow; re-weight its case mix to "
    "another trial's; read the response rate as a posterior and ask what an expansion cohort "
    "would likely show. Nothing here is observed data unless it says "
    + ("*published*." if base.kind == "published" else f"*{base_name}*.")
)
banner = st.container()

# --- (a) Scenario editor ----------------------------------------------------------------------
st.header("Scenario: edit the subtype counts")
origin_in_use = st.session_state.get(ORIGIN_KEY)
if isinstance(origin_in_use, ThisCohort) and origin_in_use.source != base.source:
    for key in (EDITOR_KEY, ORIGIN_KEY):  # edits of a cohort that is no longer in use
        st.session_state.pop(key, None)
if ORIGIN_KEY not in st.session_state or EDITOR_KEY not in st.session_state:
    # A fresh editor (first visit, after a reset, or back from another page, which clears a
    # widget's state) starts from the scenario in force, so earlier edits are not lost.
    st.session_state[ORIGIN_KEY] = active
origin: ThisCohort = st.session_state[ORIGIN_KEY]
known = set(catalog().subtype_codes) - AGGREGATE_SUBTYPES
# The edit message comes from the browser: a part that does not fit the table (a row that does
# not exist, an unknown column, a fraction of a patient) is refused here, before the editor
# would raise, edit the wrong row or truncate it; the sound part is kept and the editor
# starts afresh from it.
origin_table = scenario_table(origin)
edit_check = check_edits(st.session_state.get(EDITOR_KEY), origin_table,
                         whole=("evaluable", "responders"), max_added=len(known),
                         row_names=list(origin_table["subtype"]))
edit_refusals = list(edit_check.refused)
if edit_check.for_the_page:
    kept, kept_problems = apply_scenario(apply_edits(origin_table, edit_check.state), origin,
                                         known)
    edit_refusals += [p.text() for p in kept_problems]
    st.session_state[ORIGIN_KEY] = origin = kept
    del st.session_state[EDITOR_KEY]

left, right = st.columns([3, 2])
with left:
    edited = st.data_editor(
        scenario_table(origin),
        num_rows="dynamic",
        key=EDITOR_KEY,
        hide_index=True,
        column_config={
            "subtype": st.column_config.SelectboxColumn(
                "Subtype", options=sorted(known), required=True,
                help="Code from the subtype vocabulary (Comparator trials page)."),
            "evaluable": st.column_config.NumberColumn(
                "Evaluable", min_value=0, max_value=MAX_SCENARIO_PATIENTS, step=1, required=True,
                help="Patients evaluable for response"),
            "responders": st.column_config.NumberColumn(
                "Responders", min_value=0, max_value=MAX_SCENARIO_PATIENTS, step=1, required=True,
                help="Confirmed complete + partial responses"),
        },
    )
    scenario, problems = apply_scenario(edited, origin, known)
    for text in edit_refusals + [problem.text() for problem in problems]:
        st.error(plain(text), icon=":material/block:")
    st.button(f"Reset to the {base_name} counts", on_click=reset_scenario,
              key="scenario_reset", icon=":material/restart_alt:")
with right:
    totals = scenario.rows[scenario.rows["subtype"].astype(str).isin(AGGREGATE_SUBTYPES)]
    if base.kind == "published":
        st.markdown(
            "Only the subtypes the paper itemises are listed: ASPS 5/7, AS 2/2, LMS 1/2 and "
            "DDLPS 0/3 of 27 response-evaluable patients (Results and Discussion). The other 13 "
            "evaluable patients (5 responders) are not itemised, so the all-subtypes row is the "
            "published 13/27 **plus the changes you make**, not the sum of the rows."
        )
    else:
        st.markdown(f"The subtypes of **{base_name}**, as aggregated from its patient rows; "
                    "the all-subtypes row moves with the changes you make.")
    if not totals.empty:
        t = totals.iloc[0]
        k_all, n_all = int(t["responders"]), int(t["evaluable"])
        st.caption(f"All subtypes in this scenario: {k_all}/{n_all} = "
                   f"{percent(k_all / max(n_all, 1))}.")

if same_counts(scenario, base):
    st.session_state.pop(SCENARIO_KEY, None)
    hypothetical = False
else:
    st.session_state[SCENARIO_KEY] = scenario
    hypothetical = True
cohort = scenario if hypothetical else base
with banner:
    cohort_banner(cohort)
    if hypothetical:
        st.caption("Every page now shows this hypothetical scenario in place of "
                   + ("the published cohort" if base.kind == "published" else base_name)
                   + ", labelled as such, until you reset it here or that cohort is replaced.")

# --- effect on the benchmark --------------------------------------------------------------------
benchmarked = chosen_subtype()
subtypes = sorted(set(scenario_table(cohort)["subtype"]) | {benchmarked})
default_subtype = benchmarked if benchmarked in subtypes else subtypes[0]
link_choice("whatif_subtype", subtypes)
subtype = st.selectbox(
    "Subtype to benchmark", subtypes, index=subtypes.index(default_subtype),
    key="whatif_subtype", bind="query-params",
    help="The benchmark page's pooled estimate for this subtype, with the sidebar's model, "
         "before and after your edits.",
)
after = before = None
try:
    after = subtype_benchmark(subtype, options)  # the benchmark page's own object
    before = subtype_benchmark(subtype, options, base)
except BenchmarkError as exc:
    st.warning(f"No {subtype} rows to pool: {exc}.")

if after is not None and before is not None:
    st.subheader(f"{subtype}: {base_name} vs this scenario")

    def own(bench: SubtypeBenchmark) -> tuple[str, float | None]:
        row = bench.cohort_row
        if row is None:
            return "no row", None
        k, n = int(row["responders"]), int(row["evaluable"])
        return f"{k}/{n}", k / n if n else None

    own_before, own_after = own(before), own(after)
    pooled_help = (f"{options.interval_name} {percent(after.fit.low)}–"
                   f"{percent(after.fit.high)}; k = {after.fit.k} arms, this cohort included")
    if hypothetical:
        cols = st.columns(3)
        cols[0].metric(f"This cohort, {base_name}", f"{percent(own_before[1])}",
                       help=own_before[0])
        delta = None if own_before[1] is None or own_after[1] is None else \
            f"{100 * (own_after[1] - own_before[1]):+.1f} pp"
        cols[1].metric("This cohort, hypothetical", f"{percent(own_after[1])}", delta=delta,
                       help=own_after[0])
        cols[2].metric(
            f"Pooled {subtype} ORR, all included arms", percent(after.fit.estimate),
            delta=f"{100 * (after.fit.estimate - before.fit.estimate):+.1f} pp vs {base_name}",
            help=pooled_help)
    else:
        cols = st.columns(3)
        cols[0].metric(f"This cohort, {base_name}", f"{percent(own_before[1])}",
                       help=own_before[0])
        cols[1].metric(f"Pooled {subtype} ORR, all included arms", percent(after.fit.estimate),
                       help=pooled_help)
        cols[2].caption("Edit a count above to see both move.")
    st.markdown(
        f"Pooled {subtype} ORR: **{percent(before.fit.estimate)}** ({level_label} CI "
        f"{percent(before.fit.low)}–{percent(before.fit.high)}) with the {base_name} counts → "
        f"**{percent(after.fit.estimate)}** ({percent(after.fit.low)}–{percent(after.fit.high)}) "
        f"{'in this scenario' if hypothetical else '(no edits yet)'}."
    )
    effect = []
    for name, bench in ((base_name, before), ("hypothetical", after)):
        if hypothetical or name == base_name:
            row = bench.cohort_row
            study = next((s for s in bench.fit.studies if s.study == bench.cohort_key), None)
            if row is not None and study is not None:
                effect.append({"quantity": "This cohort", "scenario": name,
                               "estimate": study.estimate, "low": study.low,
                               "high": study.high})
            effect.append({"quantity": f"Pooled, k = {bench.fit.k}", "scenario": name,
                           "estimate": bench.fit.estimate, "low": bench.fit.low,
                           "high": bench.fit.high})
    effect_frame = pd.DataFrame(effect)
    show_chart(
        chart_spec(scenario_effect_chart, effect_frame, f"{subtype}; {level_label} intervals"),
        key="scenario_effect_chart",
    )
    st.caption(
        f"Pooled with the sidebar's model ({options.model_text()}); class pools "
        + ("include this cohort." if options.include_cohort else
           "leave this cohort out, so only the all-arms estimate moves.")
    )

# --- (b) Case mix -------------------------------------------------------------------------------
st.header("Case mix: standardise the ORR to another trial's subtypes")
if base.kind == "published":
    casemix_note = (
        "**What is known and what is assumed.** The paper gives response counts for ASPS (5/7), "
        "AS (2/2), LMS (1/2), DDLPS (0/3) and all non-ASPS patients together (8/20); ASPS was 10 "
        "of 33 treated (30.3%, Table 1) and 7 of 27 evaluable (25.9%). So a re-weighting can only "
        "move weight between ASPS and the non-ASPS group as a whole (the non-ASPS subtypes keep "
        "this cohort's internal mix), or between the four itemised subtypes and the unitemised "
        "rest. Target subtypes without data here (e.g. SARC028's UPS and SS) are listed as "
        "missing, never dropped silently. Direct standardisation: Σ w·p with "
        "Var = Σ w²·p(1 − p)/n."
    )
else:
    casemix_note = (
        f"**What is known and what is assumed.** Strata are the subtypes of {base_name} as "
        "aggregated from its patient rows; target subtypes without data here are listed as "
        "missing, never dropped silently. Direct standardisation: Σ w·p with "
        "Var = Σ w²·p(1 − p)/n."
    )
st.info(casemix_note, icon=":material/info:")
mix_cols = st.columns([2, 2, 3])
casemix_method = mix_cols[0].radio(
    "Interval", list(CASEMIX_METHODS), key="casemix_method", horizontal=True,
    format_func={"wilson": "Wilson (effective n)", "logit": "logit"}.get,
    bind="query-params", persist_state="session", help="\n\n".join(
        f"**{k}**: {v}" for k, v in CASEMIX_METHODS.items()),
)
custom_share = link_slider(
    mix_cols[1], "Your ASPS share (%)", 0, 100, 26, key="casemix_asps_share",
    persist_state="session",
    help="Standardise ASPS vs non-ASPS to any ASPS share of the evaluable patients.",
)
try:
    results = standardised(cohort, level, casemix_method, int(custom_share))
except _NoEvaluable:
    st.info("This cohort has 0 evaluable patients (every patient not evaluable): there is no "
            "response rate to standardise.", icon=":material/info:")
    results = []
except CaseMixError as exc:
    st.error(f"Cannot standardise this cohort: {exc}")
    results = []
if results:
    frame = presets_frame(results)
    crude = results[0][1].estimate
    mix_chart = chart_spec(standardised_chart, frame, crude,
                           f"{level_label} intervals ({casemix_method}); dashed: this cohort's "
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
        },
    )
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
    note = "hypothetical scenario" if hypothetical else None
    csv_download(frame, "Download standardised rates (CSV)", "casemix.csv", "dl_casemix", note)

# --- (c) Bayesian view --------------------------------------------------------------------------
st.header("Bayesian view")
row = cohort.row(subtype)
if row is None:
    st.info(f"This cohort has no {subtype} row: add one in the scenario above to read it here.")
else:
    k, n = int(row["responders"]), int(row["evaluable"])
    st.markdown(f"This cohort's {subtype}: **{k}/{n}** responders"
                f"{' (hypothetical)' if hypothetical else ''}.")
    bcols = st.columns(3)
    prior_kind = bcols[0].radio(
        "Prior", ["Jeffreys", "Pooled comparator class", "Predictive of a new arm (Bayesian)"],
        key="bayes_prior",
        bind="query-params", persist_state="session",
        help="Jeffreys Beta(0.5, 0.5) is nearly uninformative. A pooled class prior counts the "
             "class's patients at the pooled rate, down-weighted by the discount (power prior).",
    )
    classes = list(after.class_fits) if after is not None else []
    bench_after = after
    prior = JEFFREYS
    prior_text = "Jeffreys Beta(0.5, 0.5)"
    if prior_kind == "Pooled comparator class":
        if not classes or bench_after is None:
            st.warning(f"No comparator class has reported {subtype}; using Jeffreys.")
        else:
            cls = bcols[1].selectbox("Comparator class", classes, key="bayes_class",
                                     bind="query-params")
            discount = link_slider(
                bcols[2], "Discount weight a0", 0.0, 1.0, 0.5, 0.05, key="bayes_discount",
                help="0 ignores the comparators; 1 counts their patients as if in this cohort.")
            fit = bench_after.class_fits[cls]
            patients = bench_after.class_pools[cls].n
            prior = prior_from_pooled(fit.estimate, patients, discount)
            prior_text = (f"{cls} pooled {percent(fit.estimate)} over {patients} patients "
                          f"(k = {fit.k}) × discount {discount:g} → Beta({prior.a:.2f}, "
                          f"{prior.b:.2f}), prior effective sample size {prior.effective_n:.1f}")
    elif prior_kind == "Predictive of a new arm (Bayesian)":
        if not classes or bench_after is None:
            st.warning(f"No comparator class has reported {subtype}; using Jeffreys.")
        else:
            cls = bcols[1].selectbox("Comparator class", classes, key="bayes_class",
                                     bind="query-params")
            try:
                predictive = predictive_prior(bench_after.rows, cls)
            except BorrowingError as exc:
                st.warning(f"{exc}; using Jeffreys.")
            else:
                prior, prior_text = predictive.prior, predictive.describe()
    threshold = link_slider(st, "Threshold ORR for P(ORR > threshold) (%)", 1, 99, 30,
                            key="bayes_threshold") / 100
    try:
        post = BetaPosterior.from_counts(k, n, prior)
        lo, hi = post.credible_interval(level)
        m = st.columns(3)
        m[0].metric("Posterior mean ORR", percent(post.mean))
        m[1].metric(f"{level_label} credible interval", f"{percent(lo)}–{percent(hi)}")
        m[2].metric(f"P(ORR > {percent(threshold, 0)})", percent(post.prob_above(threshold)))
        st.caption(f"Prior: {prior_text}. Posterior Beta({post.a:.2f}, {post.b:.2f}) = prior + "
                   f"{k} responders and {n - k} non-responders; equal-tailed interval.")
        show_chart(
            chart_spec(posterior_chart, density_frame(post), threshold,
                       f"{subtype}, {k}/{n}; shaded: P(ORR > {percent(threshold, 0)})"),
            key="posterior_chart",
        )
    except BayesInputError as exc:
        st.error(str(exc))

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
        st.metric("Predictive probability of success", percent(pp.pp))
        st.write(pp.sentence())
        with st.expander("Every possible number of further responders"):
            st.dataframe(pp.to_frame(), hide_index=True, key="pp_table")
    except BayesInputError as exc:
        st.error(f"Predictive probability: {exc}.")
