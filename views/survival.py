"""Survival and patients: Kaplan-Meier curves, waterfall and swimmer plots from individual patient
data (IPD), the user's own IPD upload, and pseudo-IPD reconstructed from a published curve.

By default the patient-level views show the SYNTHETIC example (data/example_ipd.csv); it never
becomes "this cohort" for the evidence pages. An uploaded file does, once the user asks for it.
All statistics come from comparators (survival, ipd, reconstruct); this module only caches,
places widgets and draws.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

import comparators.limits as limits
from comparators.charts import survival as sc
from comparators.errors import InputError
from comparators.evidence.cohort import ThisCohort
from comparators.evidence.ipd import (
    DEFAULT_MAX_BYTES,
    ENCODING_ATTR,
    IPDError,
    aggregate_ipd,
    read_ipd,
)
from comparators.inputs import clean_text, parse_number
from comparators.stats.reconstruct import (
    ReconstructedIPD,
    ReconstructionError,
    SurvivalComparison,
    compare_with,
    reconstruct_ipd,
)
from comparators.stats.survival import (
    SPSS_METHOD,
    ConfType,
    KMGroupResult,
    SurvivalInputError,
    km_by_group,
)
from comparators.vocab import KM_CONF_CHOICES
from views.common import (
    NOT_REACHED,
    SCENARIO_KEY,
    UPLOAD_KEY,
    catalog,
    cell_text,
    chart_downloads,
    chart_spec,
    ci_options,
    cohort_banner,
    csv_download,
    plain,
    seed_cohort,
    show_chart,
    this_cohort,
)
from views.editing import apply_edits, check_edits

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PATH = ROOT / "data" / "example_ipd.csv"
TEMPLATE_PATH = ROOT / "data" / "ipd_template.csv"
IPD_FRAME_KEY = "ipd_frame"  # the uploaded patient-level frame in use (session only)
IPD_NAME_KEY = "ipd_name"  # its file name
UPLOAD_STUDY = "MY-COHORT"
MAX_MB = max(1, DEFAULT_MAX_BYTES // 1_000_000)
SEED_SOURCE = "Liu et al., Sci Rep 2023, doi:10.1038/s41598-023-30412-6"
LANDMARKS = (6.0, 12.0)

ENDPOINTS = {"PFS": "Progression-free survival", "OS": "Overall survival"}
ENDPOINT_COLUMNS = {"PFS": ("pfs_months", "pfs_event"), "OS": ("os_months", "os_event")}
GROUPINGS = {
    "none": "No grouping (all patients)",
    "subtype": "Subtype",
    "asps": "ASPS vs other subtypes",
    "regimen": "Regimen",
    "ai_agent": "Angiogenesis inhibitor",
    "ici_agent": "Checkpoint inhibitor",
    "line": "Treatment line",
}
RECON_CURVE_KEY, RECON_RISK_KEY, RECON_EVENTS_KEY = "recon_curve", "recon_risk", "recon_events"
RECON_BASE_CURVE, RECON_BASE_RISK = "recon_curve_base", "recon_risk_base"
RECON_IS_EXAMPLE = "recon_is_example"


# --------------------------------------------------------------------------------------------
# Cached adapters (pure functions of hashable inputs)
# --------------------------------------------------------------------------------------------


@st.cache_data(show_spinner=False)
def example_ipd(subtypes: tuple[str, ...]) -> pd.DataFrame:
    return read_ipd(EXAMPLE_PATH, known_subtypes=subtypes)


@st.cache_data(show_spinner=False, max_entries=8)
def parse_upload(
    raw: bytes, name: str, subtypes: tuple[str, ...]
) -> tuple[pd.DataFrame | None, str | None]:
    """(frame, None) or (None, message naming row and column); errors are cached too."""
    try:
        return read_ipd(raw, filename=name, known_subtypes=subtypes), None
    except (IPDError, SurvivalInputError, ValueError) as exc:
        return None, str(exc)


@st.cache_data(show_spinner=False, max_entries=16)
def aggregate(frame: pd.DataFrame, study: str) -> pd.DataFrame:
    return aggregate_ipd(frame, study=study)


@st.cache_data(show_spinner=False, max_entries=64)
def fit_km(
    data: pd.DataFrame, time_col: str, event_col: str, group_col: str | None, level: float,
    conf_type: ConfType = "log",
) -> KMGroupResult:
    return km_by_group(data, time_col, event_col, group_col, level=level, conf_type=conf_type)


@st.cache_data(show_spinner=False, max_entries=16)
def reconstruct(curve: pd.DataFrame, risk: pd.DataFrame,
                total_events: int | None) -> ReconstructedIPD:
    return reconstruct_ipd(curve, risk, total_events)


@st.cache_data(show_spinner=False, max_entries=16)
def compare(ipd_a: pd.DataFrame, ipd_b: pd.DataFrame, level: float) -> SurvivalComparison:
    return compare_with(ipd_a, ipd_b, level=level,
                        names=("the current patient-level cohort", "the reconstructed arm"))


@st.cache_data(show_spinner=False)
def worked_example(subtypes: tuple[str, ...]) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """A 'digitised' PFS curve, its numbers at risk and total events, computed from the
    SYNTHETIC example IPD: the corners of every KM step, as a digitiser would click them."""
    ipd = example_ipd(subtypes)
    km = km_by_group(ipd, "pfs_months", "pfs_event").groups[0]
    points: list[tuple[float, float]] = []
    previous = 1.0
    for t, s, d in zip(km.timeline, km.survival, km.n_events, strict=True):
        if d > 0 and points:
            points.append((t, previous))  # top of the drop
        points.append((t, s))
        previous = s
    curve = pd.DataFrame(points, columns=["time", "survival"]).round({"time": 2, "survival": 3})
    curve = curve.drop_duplicates(ignore_index=True)
    times = sc.default_risk_times(max(km.timeline))
    risk = pd.DataFrame({"time": times, "n_risk": km.at_risk(times)})
    risk = risk[(risk["n_risk"] > 0) & (risk["time"] < max(km.timeline))].reset_index(drop=True)
    return curve, risk, km.events


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 2) -> str:
    return "NR" if x is None else f"{x:.{digits}f}"


def interval(low: float | None, high: float | None, digits: int = 2) -> str:
    if low is None and high is None:
        return "not estimable"
    return f"{fmt(low, digits)}–{fmt(high, digits)}"


def example_seed(ipd: pd.DataFrame) -> str:
    notes = " ".join(ipd["note"].astype(str)) if "note" in ipd.columns else ""
    hit = re.search(r"seed (\d+)", notes)
    return f" (seed {hit.group(1)})" if hit else ""


def use_upload(frame: pd.DataFrame, name: str, rows: pd.DataFrame) -> None:
    synthetic = sc.ipd_is_synthetic(frame)
    # The name the user gave the cohort (a label, never markup), else the file's name.
    label = clean_text(str(st.session_state.get("upload_label") or "")[:240])[:60]
    caveat = (
        f"{sc.SYNTHETIC_LABEL}: {name} marks its rows synthetic=true."
        if synthetic
        else f"Aggregated from {len(frame)} patients in {name}, uploaded in this browser "
        "session only; not peer reviewed. Responses as entered (RECIST 1.1); PFS median by "
        "Kaplan-Meier."
    )
    st.session_state[UPLOAD_KEY] = ThisCohort(
        study=UPLOAD_STUDY,
        label=label or f"Uploaded cohort ({name})",
        rows=rows,
        kind="synthetic" if synthetic else "uploaded",
        caveat=caveat,
    )
    st.session_state[IPD_FRAME_KEY] = frame
    st.session_state[IPD_NAME_KEY] = name


def reset_upload() -> None:
    for key in (UPLOAD_KEY, IPD_FRAME_KEY, IPD_NAME_KEY):
        st.session_state.pop(key, None)


def load_worked_example(curve: pd.DataFrame, risk: pd.DataFrame, events: int) -> None:
    st.session_state[RECON_BASE_CURVE] = curve
    st.session_state[RECON_BASE_RISK] = risk
    st.session_state[RECON_EVENTS_KEY] = events
    st.session_state[RECON_IS_EXAMPLE] = True
    for key in (RECON_CURVE_KEY, RECON_RISK_KEY):  # drop edits so the editors show the example
        st.session_state.pop(key, None)


def checked_edits(key: str, base_key: str, whole: tuple[str, ...] = ()) -> list[str]:
    """Refuse the parts of a reconstruction editor's edit message that do not fit its table
    (views.editing); on a refusal the table keeps the sound edits and the editor restarts."""
    base = st.session_state[base_key]
    check = check_edits(st.session_state.get(key), base, whole, limits.MAX_CURVE_POINTS)
    if check.for_the_page:
        edited = apply_edits(base, check.state)
        for column in edited.columns:  # numbers as the boundary reads them; the rest empty
            edited[column] = [_number_or_none(v) for v in edited[column]]
        st.session_state[base_key] = edited.astype(float).reset_index(drop=True)
        del st.session_state[key]
    return list(check.refused)


def _number_or_none(value: object) -> float | None:
    try:
        return parse_number(value, required=False)
    except InputError:
        return None


def clear_reconstruction() -> None:
    st.session_state[RECON_BASE_CURVE] = pd.DataFrame({"time": [], "survival": []}, dtype=float)
    st.session_state[RECON_BASE_RISK] = pd.DataFrame({"time": [], "n_risk": []}, dtype=float)
    st.session_state[RECON_EVENTS_KEY] = None
    st.session_state[RECON_IS_EXAMPLE] = False
    for key in (RECON_CURVE_KEY, RECON_RISK_KEY):
        st.session_state.pop(key, None)


# --------------------------------------------------------------------------------------------
# Which patient-level cohort
# --------------------------------------------------------------------------------------------

subtypes = tuple(sorted(catalog().subtype_codes))
_, level = ci_options()
level_label = f"{100 * level:g}% CI"

uploaded_frame = st.session_state.get(IPD_FRAME_KEY)
if isinstance(uploaded_frame, pd.DataFrame):
    ipd = uploaded_frame
    ipd_name = str(st.session_state.get(IPD_NAME_KEY, "uploaded file"))
    is_example = False
else:
    ipd = example_ipd(subtypes)
    ipd_name = EXAMPLE_PATH.name
    is_example = True
synthetic = sc.ipd_is_synthetic(ipd)
if is_example:
    source = (
        f"Source: data/example_ipd.csv, generated by scripts/make_example_ipd.py"
        f"{example_seed(ipd)} to match the published counts of {SEED_SOURCE}"
    )
else:
    source = f"Source: {ipd_name}, uploaded by the user (this session only)"
note = sc.SYNTHETIC_LABEL if synthetic else None

st.title("Survival and patients")
st.caption(
    "Kaplan-Meier curves, waterfall and swimmer plots from individual patient data (IPD): one "
    "row per patient. Upload your own cohort, or reconstruct pseudo-IPD from a published curve."
)

if is_example:
    st.warning(
        "Synthetic example, not patient data: generated by scripts/make_example_ipd.py to "
        "match the published counts of Liu et al. 2023 (subtypes, best responses, median PFS "
        "about 8.9 months); individual times, agents and lines are invented. The evidence pages "
        "never use it as this cohort.",
        icon=":material/science:",
    )
else:
    kind = "marked synthetic" if synthetic else "uploaded"
    st.info(
        f"Patient-level views show **{plain(ipd_name)}** ({kind}, {len(ipd)} patients).",
        icon=":material/upload_file:",
    )
    if synthetic:
        st.warning(f"{plain(ipd_name)}: {sc.SYNTHETIC_LABEL}.", icon=":material/science:")

current = this_cohort()
cohort_banner(current)
if st.session_state.get(SCENARIO_KEY) is not None and isinstance(current, ThisCohort):
    st.caption("A what-if scenario is active; it takes precedence over an upload on the "
               "evidence pages.")
st.caption(f"Evidence pages highlight: **{plain(current.label)}** ({current.kind}).")

# --------------------------------------------------------------------------------------------
# Upload
# --------------------------------------------------------------------------------------------

st.header("Your own cohort (individual patient data)")
st.markdown(
    "One row per patient with the columns of the template: `id`, `subtype`, `regimen`, "
    "`ai_agent`, `ici_agent`, `line`, `best_response`, `best_pct_change`, `pfs_time`, "
    "`pfs_event`, `os_time`, `os_event`, `time_unit` (months, weeks or days; converted to "
    "months); optional `synthetic`, `note`, `age`, `sex`. Every cell is checked; the first "
    "problem is reported with its row and column. The file stays in this browser session."
)
tcol, ecol = st.columns(2)
tcol.download_button(
    "Download the template (CSV)", TEMPLATE_PATH.read_bytes(), file_name="ipd_template.csv",
    mime="text/csv", key="dl_template", icon=":material/download:", on_click="ignore",
)
ecol.download_button(
    "Download the synthetic example (CSV)", EXAMPLE_PATH.read_bytes(),
    file_name="example_ipd.csv", mime="text/csv", key="dl_example",
    icon=":material/download:", help=sc.SYNTHETIC_LABEL, on_click="ignore",
)
upload = st.file_uploader(
    f"Upload an IPD file (CSV, XLSX or Parquet, up to {MAX_MB} MB)",
    type=["csv", "xlsx", "parquet"],
    key="ipd_upload",
    max_upload_size=MAX_MB,
    help="Validated against the IPD format in data/README.md. Nothing is stored on the server "
    "beyond this session.",
)
if upload is not None:
    # The file's name is user text that reaches captions, charts and exports: cleaned once.
    upload_name = clean_text(upload.name[:1000], max_chars=1000) or "upload"
    frame, error = parse_upload(upload.getvalue(), upload_name, subtypes)
    if error is not None or frame is None:
        st.error(
            f"**{plain(upload_name)}** could not be used: {plain(error)}. "
            f"Nothing was changed: the patient-level views still show {plain(ipd_name)}.",
            icon=":material/error:",
        )
    else:
        try:
            rows = aggregate(frame, UPLOAD_STUDY)
        except (IPDError, SurvivalInputError, ValueError) as exc:
            st.error(f"**{plain(upload_name)}** could not be summarised: {plain(exc)}")
        else:
            evaluable = int(frame["best_response"].isin(["CR", "PR", "SD", "PD"]).sum())
            st.success(
                f"**{plain(upload_name)}** is valid: {len(frame)} patients, "
                f"{frame['subtype'].nunique()} subtypes, {evaluable} evaluable for response, "
                f"{int(frame['pfs_event'].sum())} PFS events.",
                icon=":material/check_circle:",
            )
            if frame.attrs.get(ENCODING_ATTR):
                st.caption(
                    f"Read as {frame.attrs[ENCODING_ATTR]} text: the file is not UTF-8. Check "
                    "that accented letters and dashes look right in the rows below.")
            st.caption("First rows (times converted to months in pfs_months / os_months)")
            st.dataframe(frame.head(8), hide_index=True, key="upload_preview")
            st.caption("Counts per subtype, in the row shape every cohort shares")
            medians = ("pfs_median_months", "pfs_median_low", "pfs_median_high")
            st.dataframe(
                rows[["subtype", "n", "evaluable", "responders", "cr", "pr", "sd", "pd", "ne",
                      *medians]].assign(**{c: cell_text(rows[c], "{:.2f}", NOT_REACHED)
                                           for c in medians}),
                hide_index=True,
                key="upload_counts",
                column_config={
                    "pfs_median_months": st.column_config.TextColumn("PFS median (months)",
                                                                       alignment="right"),
                    "pfs_median_low": st.column_config.TextColumn("low", alignment="right"),
                    "pfs_median_high": st.column_config.TextColumn("high", alignment="right"),
                },
            )
            st.caption(f"{NOT_REACHED}: not reached (the Kaplan-Meier curve, or its confidence "
                       "band, does not fall to 50% within follow-up).")
            in_use = st.session_state.get(IPD_NAME_KEY) == upload_name and frame.equals(
                st.session_state.get(IPD_FRAME_KEY, pd.DataFrame()))
            st.text_input(
                "Name of this cohort", key="upload_label", max_chars=60,
                placeholder=f"Uploaded cohort ({upload_name})",
                help="How every page, chart and export names your cohort.")
            st.button(
                "Use as this cohort", key="use_upload", type="primary",
                on_click=use_upload, args=(frame, upload_name, rows), disabled=in_use,
                icon=":material/check:",
                help="Highlights this cohort on every page (this session only) and shows its "
                "patient-level views here.",
            )
            if in_use:
                st.caption("In use as this cohort.")
if UPLOAD_KEY in st.session_state or IPD_FRAME_KEY in st.session_state:
    st.button(
        "Stop using the upload", key="reset_upload", on_click=reset_upload,
        icon=":material/undo:",
        help="Evidence pages go back to the seed paper's counts; this page goes back "
        "to the synthetic example.",
    )

# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------

st.header("Kaplan-Meier curves")
c1, c2, c3 = st.columns(3)
endpoint = c1.radio(
    "Endpoint", list(ENDPOINTS), format_func=lambda k: ENDPOINTS[k], key="km_endpoint",
    horizontal=True, bind="query-params", persist_state="session",
)
group_by = c2.selectbox(
    "Group by", list(GROUPINGS), format_func=lambda k: GROUPINGS[k], key="km_group",
    bind="query-params", persist_state="session",
)
conf_type = c3.selectbox(
    "Median CI type", KM_CONF_CHOICES.codes, format_func=lambda k: KM_CONF_CHOICES[k].short,
    key="km_conf",
    bind="query-params", persist_state="session",
    help="log: R survival's default; log-log: SAS and lifelines; plain: linear Greenwood band; "
         "SPSS-style: median ± z·SE, the form the seed paper prints.",
)
time_col, event_col = ENDPOINT_COLUMNS[endpoint]
km_data = ipd[[time_col, event_col]].copy()
group_col: str | None = None
if group_by == "asps":
    km_data["group"] = ipd["subtype"].eq("ASPS").map({True: "ASPS", False: "Other subtypes"})
    group_col = "group"
elif group_by != "none":
    km_data["group"] = ipd[group_by].astype(str).str.strip().replace("", "none")
    group_col = "group"

km: KMGroupResult | None
try:
    km = fit_km(km_data, time_col, event_col, group_col, level, conf_type)
except (SurvivalInputError, ValueError) as exc:
    km = None
    st.error(f"The Kaplan-Meier fit failed: {plain(exc)}")

if km is not None:
    endpoint_name = ENDPOINTS[endpoint]
    title = endpoint_name + ("" if group_col is None else f": {GROUPINGS[group_by]}")
    max_time = max(max(g.timeline) for g in km.groups)
    risk_times = sc.default_risk_times(max_time)
    chart = chart_spec(sc.km_chart, km, title, "months", source=source, synthetic=synthetic,
                       y_title=f"{endpoint_name} probability")
    show_chart(chart, key="km_chart")
    st.caption(f"Numbers at risk ({endpoint}, months from start of treatment)")
    st.dataframe(sc.numbers_at_risk(km, risk_times), hide_index=True, key="km_risk_table")
    chart_downloads(  # the curve with its risk table, built when a download asks for it
        lambda: chart_spec(sc.km_figure, km, title, risk_times, "months", source=source,
                           synthetic=synthetic, y_title=f"{endpoint_name} probability"),
        f"km_{endpoint.lower()}_{group_by}", "dl_km",
    )
    if km.logrank_p is not None:
        st.markdown(
            f"**Log-rank test** across {len(km.groups)} groups: χ² = {km.logrank_chi2:.2f}, "
            f"df = {km.logrank_df}, p = {km.logrank_p:.3g}."
        )
        small = [g.label for g in km.groups if g.n < 5]
        if small:
            st.caption(
                f"{len(small)} group(s) have fewer than 5 patients; their curves and the "
                "log-rank test say little."
            )

    st.subheader(f"Median {endpoint} with two kinds of interval")
    conf_used = km.conf_type
    log_col = (f"{level_label}, {KM_CONF_CHOICES[conf_used].short} band crossing 0.5"
               if conf_used != "spss" else f"{level_label}, chosen: SPSS-style")
    spss_col = f"{level_label}, SPSS-style median ± z·SE"
    medians = pd.DataFrame(
        [
            {
                "group": g.label,
                "n": g.n,
                "events": g.events,
                "median (months)": fmt(g.median),
                log_col: interval(g.median_low, g.median_high),
                spss_col: interval(g.spss_low, g.spss_high) if g.median_se_spss else "—",
                "SE (SPSS-style)": fmt(g.median_se_spss),
                "note": g.note or "",
            }
            for g in km.groups
        ]
    )
    st.dataframe(medians, hide_index=True, key="km_medians")
    st.caption(
        f"NR: not reached. Median CI type used: **{KM_CONF_CHOICES[conf_used].short}**, "
        f"{KM_CONF_CHOICES[conf_used].label}; medians and quartiles follow R survival (midpoint "
        f"rule where S(t) = 0.5 over an interval; limits as quantile.survfit). "
        f"SPSS-style: {SPSS_METHOD} (the uniform-kernel density estimate of Klein & "
        "Moeschberger 2003, Sec. 4.5, and Collett 1994, Sec. 2.4); this is the interval the seed "
        "paper prints. A negative lower limit is shown as computed."
    )
    outcomes = seed_cohort().outcomes
    if endpoint == "PFS":
        pfs = outcomes.iloc[0]
        st.info(
            f"**Published, for comparison** ({SEED_SOURCE}, Abstract and Figure 3a): median PFS "
            f"{pfs['value']:.2f} months (printed interval {pfs['low']:.2f}–{pfs['high']:.2f}, "
            "the paper's symmetric SPSS-style interval), all 33 patients.",
            icon=":material/menu_book:",
        )
    else:
        st.info(
            f"**Published, for comparison** ({SEED_SOURCE}, Figure 3b): median OS not reached "
            "at the data cut-off (1 October 2022).",
            icon=":material/menu_book:",
        )

    st.subheader("Landmark rates")
    landmark_rows = []
    for g in km.groups:
        row: dict[str, object] = {"group": g.label}
        for t in LANDMARKS:
            if t > max(g.timeline):
                row[f"S({t:g} months), {level_label}"] = "beyond follow-up"
                row[f"at risk at {t:g}"] = 0
                continue
            lm = g.landmark(t)
            row[f"S({t:g} months), {level_label}"] = (
                f"{100 * lm.survival:.1f}% (no interval)" if lm.low is None or lm.high is None
                else f"{100 * lm.survival:.1f}% ({100 * lm.low:.1f}–{100 * lm.high:.1f})"
            )
            row[f"at risk at {t:g}"] = lm.n_at_risk
        landmark_rows.append(row)
    st.dataframe(pd.DataFrame(landmark_rows), hide_index=True, key="km_landmarks")
    st.caption(
        f"{endpoint} rate at {' and '.join(f'{t:g}' for t in LANDMARKS)} months with the "
        "pointwise log-log (Greenwood) interval."
    )
    km_export = pd.concat([g.survival_table().assign(group=g.label) for g in km.groups])
    csv_download(km_export, "Download the KM step table (CSV)",
                 f"km_{endpoint.lower()}_{group_by}.csv", "dl_km_csv", note=note)

# --------------------------------------------------------------------------------------------
# Waterfall and swimmer
# --------------------------------------------------------------------------------------------

st.header("Patient-level response: waterfall and swimmer plots")
st.caption(
    "Like Figure 2 of the seed paper. Best response by RECIST 1.1; the dashed lines mark "
    "-30% (partial response) and +20% (progression)."
)
wf_data = sc.waterfall_frame(ipd)
if wf_data.empty:
    st.info("No evaluable patient has a best % change recorded, so there is no waterfall plot.")
else:
    wf_ipd, wf_sampled = sc.sample_patients(
        ipd[ipd["id"].isin(wf_data["id"])], limits.MAX_WATERFALL_BARS)
    waterfall = chart_spec(sc.waterfall_chart, wf_ipd, source=source, synthetic=synthetic)
    show_chart(waterfall, key="waterfall_chart")
    if wf_sampled:
        st.caption(wf_sampled)
    chart_downloads(waterfall, "waterfall", "dl_waterfall")
    csv_download(wf_data.drop(columns="patient"), "Download the waterfall data (CSV)",
                 "waterfall.csv", "dl_waterfall_csv", note=note)

sw_ipd, sw_sampled = sc.sample_patients(ipd, limits.MAX_SWIMMER_LANES)
swimmer = chart_spec(sc.swimmer_chart, sw_ipd, source=source, synthetic=synthetic)
show_chart(swimmer, key="swimmer_chart")
if sw_sampled:
    st.caption(sw_sampled)
chart_downloads(swimmer, "swimmer", "dl_swimmer")
csv_download(sc.swimmer_frame(ipd).drop(columns="patient"), "Download the swimmer data (CSV)",
             "swimmer.csv", "dl_swimmer_csv", note=note)

# --------------------------------------------------------------------------------------------
# Reconstruction from a published curve
# --------------------------------------------------------------------------------------------

st.header("Reconstruct patient data from a published curve")
st.markdown(
    "Guyot P, Ades AE, Ouwens MJNM, Welton NJ. *BMC Med Res Methodol* 2012;12:9 "
    "(doi:10.1186/1471-2288-12-9). Enter points digitised from a published Kaplan-Meier curve "
    "(time in months; survival as a fraction or in %) and the numbers at risk printed under it "
    "(the first at time 0); the total number of events helps when it is reported. The result is "
    "pseudo-IPD, one row per patient, that reproduces the curve: not the trial's records."
)
example_curve, example_risk, example_events = worked_example(subtypes)
b1, b2 = st.columns(2)
b1.button(
    "Load the worked example (synthetic data)",
    key="recon_example", on_click=load_worked_example,
    args=(example_curve, example_risk, example_events), icon=":material/auto_fix_high:",
    help="Fills the tables with a PFS curve, its numbers at risk and its total events computed "
    "from data/example_ipd.csv (SYNTHETIC example data, not patients), as if digitised.",
)
b2.button("Clear the tables", key="recon_clear", on_click=clear_reconstruction,
          icon=":material/delete:")
if RECON_BASE_CURVE not in st.session_state:
    clear_reconstruction()
edit_refusals = (checked_edits(RECON_CURVE_KEY, RECON_BASE_CURVE)
                 + checked_edits(RECON_RISK_KEY, RECON_BASE_RISK, whole=("n_risk",)))
for refusal in edit_refusals:
    st.error(plain(refusal), icon=":material/block:")
e1, e2 = st.columns([3, 2])
with e1:
    st.caption("Digitised curve")
    curve_in = st.data_editor(
        st.session_state[RECON_BASE_CURVE], num_rows="dynamic", key=RECON_CURVE_KEY,
        hide_index=True,
        column_config={
            "time": st.column_config.NumberColumn("time (months)", min_value=0.0,
                                                  max_value=limits.MAX_MONTHS,
                                                  format="%.2f"),
            "survival": st.column_config.NumberColumn("survival (0–1 or %)", min_value=0.0,
                                                      max_value=100.0, format="%.3f"),
        },
    )
with e2:
    st.caption("Numbers at risk")
    risk_in = st.data_editor(
        st.session_state[RECON_BASE_RISK], num_rows="dynamic", key=RECON_RISK_KEY,
        hide_index=True,
        column_config={
            "time": st.column_config.NumberColumn("time (months)", min_value=0.0),
            "n_risk": st.column_config.NumberColumn("number at risk", min_value=0, step=1,
                                                    max_value=limits.MAX_AT_RISK),
        },
    )
    total_events = st.number_input(
        "Total events (optional)", min_value=0, max_value=limits.MAX_AT_RISK, step=1,
        key=RECON_EVENTS_KEY,
        placeholder="not reported",
    )
recon_example = bool(st.session_state.get(RECON_IS_EXAMPLE))
curve_rows = pd.DataFrame(curve_in).dropna(how="any")
risk_rows = pd.DataFrame(risk_in).dropna(how="any")
if len(curve_rows) < 2 or len(risk_rows) < 1:
    st.info(
        "Enter at least two digitised points and the number at risk at time 0 (or load the "
        "worked example) to reconstruct.",
        icon=":material/edit_note:",
    )
else:
    try:
        recon = reconstruct(
            curve_rows.reset_index(drop=True), risk_rows.reset_index(drop=True),
            None if total_events is None else int(total_events),
        )
        pseudo = recon.ipd
        pseudo_km = fit_km(pseudo, "time", "event", None, level, conf_type)
    except (ReconstructionError, SurvivalInputError, ValueError) as exc:
        st.error(f"The reconstruction failed: {plain(exc)}", icon=":material/error:")
    else:
        for recon_warning in recon.notes:  # numbers the curve could not honour, and by how much
            st.warning(f"Not every number could be met: {plain(recon_warning)}.",
                       icon=":material/warning:")
        recon_source = (
            "Source: worked example, a PFS curve computed from data/example_ipd.csv"
            if recon_example
            else "Source: points digitised by the user"
        )
        show_chart(
            chart_spec(sc.reconstruction_chart, curve_rows, pseudo_km, source=recon_source,
                       synthetic=recon_example),
            key="recon_chart",
        )
        g = pseudo_km.groups[0]
        m1, m2, m3 = st.columns(3)
        m1.metric("Pseudo-IPD patients", g.n, help=f"{g.events} events")
        m2.metric("Median PFS of the pseudo-IPD (months)", fmt(g.median))
        m2.caption(f"{level_label} {interval(g.median_low, g.median_high)} "
                   f"({KM_CONF_CHOICES[g.conf_type].short})")
        mine = pd.DataFrame({"time": ipd["pfs_months"].astype(float),
                             "event": ipd["pfs_event"].astype(int)})
        try:
            comparison = compare(mine, pseudo, level)
        except (ReconstructionError, ValueError) as exc:
            st.error(f"The comparison failed: {plain(exc)}")
        else:
            m3.metric("Hazard ratio, reconstructed vs current cohort", f"{comparison.hr:.2f}")
            m3.caption(
                f"{level_label} {comparison.hr_low:.2f}–{comparison.hr_high:.2f} (Cox, Efron "
                f"ties); log-rank p = {comparison.logrank_p:.3g}"
            )
            st.caption(
                f"PFS of the reconstructed arm against the current patient-level cohort "
                f"({plain(ipd_name)}, {comparison.n_a} patients, {comparison.events_a} events). "
                "HR above 1: the reconstructed arm progresses sooner. Pseudo-IPD reproduces a "
                "curve, not its covariates: the comparison is unadjusted and across studies."
            )
        recon_note = "Pseudo-IPD reconstructed from a digitised curve (Guyot 2012), not patients"
        if recon_example:
            recon_note = f"{sc.SYNTHETIC_LABEL}; {recon_note}"
        csv_download(pseudo, "Download the pseudo-IPD (CSV)", "pseudo_ipd.csv", "dl_pseudo",
                     note=recon_note)
