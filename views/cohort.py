"""This cohort: the seed paper's tables (response, baseline, safety) or, when an upload or a
what-if scenario is in use, that cohort's response table. No widgets but downloads."""

from collections.abc import Iterable

import streamlit as st

from comparators.charts.cohort import adverse_event_chart
from comparators.evidence.cohort import (
    AE_DENOMINATOR,
    SEED_CITATION,
    SeedCohort,
    ThisCohort,
    adverse_event_summary,
    baseline_summary,
    cohort_orr_table,
    response_summary,
)
from comparators.vocab import CI_CHOICES
from views.common import (
    NOT_ESTIMABLE,
    NOT_PRINTED,
    cell_text,
    chart_spec,
    ci_options,
    cohort_banner,
    csv_download,
    plain,
    plain_label,
    seed_cohort,
    show_chart,
    this_cohort,
)

SOURCE = "Source: Liu et al., Sci Rep 2023, doi:10.1038/s41598-023-30412-6"


def render_title(active: ThisCohort) -> None:
    if active.kind != "published":
        st.title(f"This cohort: {plain(active.label)}")
        return
    st.title("This cohort: Liu et al., Sci Rep 2023")
    st.caption(
        f"{SEED_CITATION}. Retrospective, single-centre: 33 patients with advanced soft-tissue "
        "sarcoma treated with an angiogenesis inhibitor plus an immune checkpoint inhibitor "
        "(August 2020 to December 2021).")


def render_active_cohort(active: ThisCohort, method: str, level: float) -> None:
    """The cohort the other pages highlight, when it is not the seed paper's."""
    cohort_banner(active)
    st.header(f"Active cohort: {plain(active.label)}")
    st.caption(
        "Every other page (benchmark, across subtypes, summary, what-if, planning) now uses this "
        "cohort. The seed paper's own tables come back here when this cohort is no longer in use "
        "(Survival and patients, or Reset on the What if page).")
    table = cohort_orr_table(active.rows, method, level)
    rates = ("ORR %", "ORR low %", "ORR high %")
    st.dataframe(  # no rate for 0 evaluable: the caption below says why
        table.assign(**{c: cell_text(table[c], "{:.1f}", NOT_ESTIMABLE) for c in rates}),
        hide_index=True, key="active_table",
        column_config={c: st.column_config.TextColumn(c, alignment="right") for c in rates})
    none_evaluable = table.loc[table["evaluable"].astype(int) == 0, "subtype"]
    if len(none_evaluable):
        st.caption(
            f"0 evaluable: {plain(', '.join(map(str, none_evaluable)))} (every patient not "
            f"evaluable for response). The rate is {NOT_ESTIMABLE} and these rows are left out "
            "of pooling on the other pages.")
    csv_download(table, "Download active cohort (CSV)", "active_cohort.csv", "dl_active",
                 note=active_cohort_stamp(active, method, level))


def active_cohort_stamp(active: ThisCohort, method: str, level: float) -> str:
    """The export's provenance: which cohort, where its counts come from (the caveat names the
    file and says what is not observed) and the intervals its rates carry."""
    return "; ".join(filter(None, [
        plain_label(active.label), active.caveat,
        f"ORR intervals: {CI_CHOICES[method].short}, {100 * level:g}% CI"]))


def seed_table_stamp(table: str, locators: Iterable[str], *details: str) -> str:
    """The export's provenance: which of the seed paper's tables it is, and where in the paper
    its counts were read (each row's locator up to its quote: "Results, Efficacy")."""
    where = ", ".join(dict.fromkeys(str(loc).split(":")[0].strip() for loc in locators))
    return "; ".join([table, f"read from {SOURCE.removeprefix('Source: ')}, {where}", *details])


def render_response(seed: SeedCohort, method: str, level: float) -> None:
    level_label = f"{100 * level:g}% CI"
    st.header("Best overall response (RECIST 1.1)")
    responses = response_summary(seed.response, method, level)
    overall = responses.iloc[0]
    pfs = seed.outcome("Median progression-free survival")
    followup = seed.outcome("Median follow-up")
    cols = st.columns(4)
    cols[0].metric(
        "Objective response rate", f"{overall['ORR %']:.1f}%",
        help=f"{overall['CR'] + overall['PR']} of {overall['evaluable']} evaluable patients")
    cols[0].caption(f"{level_label} {overall['ORR low %']:.1f}–{overall['ORR high %']:.1f}%")
    cols[1].metric("Disease control rate", f"{overall['DCR %']:.1f}%")
    cols[1].caption(f"{level_label} {overall['DCR low %']:.1f}–{overall['DCR high %']:.1f}%")
    cols[2].metric("Median PFS (months)", f"{pfs['value']:.2f}")
    cols[2].caption(f"Interval as printed {pfs['low']:.2f}–{pfs['high']:.2f} months (the "
                    "paper's, SPSS-style), all 33 patients")
    cols[3].metric("Median OS", "not reached")
    cols[3].caption(f"Median follow-up {followup['value']:.1f} months "
                    f"(range {followup['low']:.1f}–{followup['high']:.1f})")
    display = responses[["group", "evaluable", "CR", "PR", "SD", "PD"]].copy()
    for label in ("ORR", "DCR"):
        display[f"{label}, % ({level_label})"] = [
            f"{r[f'{label} %']:.1f} ({r[f'{label} low %']:.1f}–{r[f'{label} high %']:.1f})"
            for _, r in responses.iterrows()]
    st.subheader("Response by group")
    st.dataframe(display, hide_index=True, key="response_table")
    st.caption(
        f"Intervals: {CI_CHOICES[method].label}, {level_label}. Counts: Results, Efficacy. "
        "PD counts are derived (evaluable minus CR, PR and SD); the paper does not print them. "
        f"{SOURCE}.")
    csv_download(responses, "Download response table (CSV)", "liu2023_response.csv",
                 "dl_response", note=seed_table_stamp(
                     "Best overall response (RECIST 1.1) by group", seed.response["locator"],
                     "PD derived (evaluable minus CR, PR and SD)",
                     f"ORR and DCR intervals: {CI_CHOICES[method].short}, {level_label}"))


def render_baseline(seed: SeedCohort) -> None:
    st.header("Baseline characteristics (Table 1, N = 33)")
    baseline = baseline_summary(seed.baseline)
    baseline["matches print"] = (baseline["percent"].map("{:.1f}".format)
                                 == baseline["printed_percent"])
    st.dataframe(
        baseline, hide_index=True, key="baseline_table",
        column_config={
            "n": st.column_config.NumberColumn("n (patients)"),
            "denominator": st.column_config.NumberColumn("N"),
            "percent": st.column_config.NumberColumn("% (recomputed)", format="%.1f"),
            "printed_percent": st.column_config.TextColumn("% as printed"),
        })
    ages = seed.outcome("Median age")
    st.caption(
        f"Median age {ages['value']:.0f} years (range {ages['low']:.0f}–{ages['high']:.0f}). "
        f"Percentages recomputed from the counts; rows where the print differs are listed on "
        f"the audit. {SOURCE}, Table 1.")
    csv_download(baseline, "Download baseline table (CSV)", "liu2023_baseline.csv",
                 "dl_baseline", note=seed_table_stamp(
                     "Baseline characteristics", seed.baseline["locator"],
                     "percent recomputed from n / N"))


def render_safety(seed: SeedCohort) -> None:
    # where in the paper the counts were read: the rows' own locators (the paper's Table 2)
    table = ", ".join(dict.fromkeys(seed.adverse_events["locator"].astype(str)))
    st.header(f"Treatment-related adverse events ({table}, {AE_DENOMINATOR} evaluable patients)")
    events = adverse_event_summary(seed.adverse_events)
    show_chart(chart_spec(adverse_event_chart, events, f"{SOURCE}, {table}", AE_DENOMINATOR),
               key="ae_chart")
    st.dataframe(
        events.assign(  # the table prints a dash where no grade >= 3 event was reported
            grade3_n=cell_text(events["grade3_n"], "{:.0f}", NOT_PRINTED),
            grade3_percent=cell_text(events["grade3_percent"], "{:.1f}", NOT_PRINTED),
            grade3_printed=cell_text(events["grade3_printed"], "{}", NOT_PRINTED)),
        hide_index=True, key="ae_table",
        column_config={
            "event": "Adverse event",
            "any_grade_n": st.column_config.NumberColumn("Any grade, n"),
            "grade3_n": st.column_config.TextColumn("Grade ≥ 3, n", alignment="right"),
            "any_grade_percent": st.column_config.NumberColumn("Any grade, %", format="%.1f"),
            "grade3_percent": st.column_config.TextColumn("Grade ≥ 3, %", alignment="right"),
            "any_grade_printed": "Any grade, % as printed",
            "grade3_printed": "Grade ≥ 3, % as printed",
        })
    st.caption(f"Percent of {AE_DENOMINATOR} patients evaluable for safety, recomputed from the "
               f"counts. {NOT_PRINTED} : {table} prints a dash (no grade ≥ 3 event reported). "
               f"{SOURCE}, {table}.")
    csv_download(events, "Download adverse-event table (CSV)", "liu2023_adverse_events.csv",
                 "dl_ae", note=seed_table_stamp(
                     "Treatment-related adverse events", seed.adverse_events["locator"],
                     f"percent of {AE_DENOMINATOR} patients evaluable for safety, recomputed "
                     "from the counts"))


active = this_cohort()
method, level = ci_options()
render_title(active)
if active.kind != "published":
    render_active_cohort(active, method, level)  # the seed tables describe another cohort
else:
    render_response(seed_cohort(), method, level)
    render_baseline(seed_cohort())
    render_safety(seed_cohort())
