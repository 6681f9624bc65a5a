"""Survival and patients: Kaplan-Meier curves, waterfall and swimmer plots from individual patient
data (IPD), the user's own IPD upload, and pseudo-IPD reconstructed from a published curve.

By default the patient-level views show the SYNTHETIC example (data/example_ipd.csv); it never
becomes "this cohort" for the evidence pages. A valid upload does, as soon as it is read: the
curves here and every page's "this cohort" use it until the user goes back to the published
cohort. The KM and reconstruction sections rerun alone when their own widgets change.
All statistics come from comparators (survival, ipd, reconstruct); this module only caches,
places widgets and draws.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit.runtime.uploaded_file_manager import UploadedFile

import comparators.limits as limits
from comparators.analysis.digitised import DigitisedCurve, digitise
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
from views.sections import section

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PATH = ROOT / "data" / "example_ipd.csv"
TEMPLATE_PATH = ROOT / "data" / "ipd_template.csv"
IPD_FRAME_KEY = "ipd_frame"  # the uploaded patient-level frame in use (session only)
IPD_NAME_KEY = "ipd_name"  # its file name
UPLOADER_KEY = "ipd_upload"
UPLOAD_FILE_KEY = "ipd_upload_file"  # the uploader's file id of the cohort in use
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
def worked_example(subtypes: tuple[str, ...]) -> DigitisedCurve:
    """The SYNTHETIC example's PFS curve as if digitised from its figure."""
    km = km_by_group(example_ipd(subtypes), "pfs_months", "pfs_event").groups[0]
    return digitise(km, sc.default_risk_times(max(km.timeline)))


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


def subtype_codes() -> tuple[str, ...]:
    return tuple(sorted(catalog().subtype_codes))


def upload_label(name: str) -> str:
    """The name the user gave the cohort (a label, never markup), else the file's name."""
    label = clean_text(str(st.session_state.get("upload_label") or "")[:240])[:60]
    return label or f"Uploaded cohort ({name})"


def use_upload(frame: pd.DataFrame, name: str, rows: pd.DataFrame) -> None:
    synthetic = sc.ipd_is_synthetic(frame)
    caveat = (
        f"{sc.SYNTHETIC_LABEL}: {name} marks its rows synthetic=true."
        if synthetic
        else f"Aggregated from {len(frame)} patients in {name}, uploaded in this browser "
        "session only; not peer reviewed. Responses as entered (RECIST 1.1); PFS median by "
        "Kaplan-Meier."
    )
    st.session_state[UPLOAD_KEY] = ThisCohort(
        study=UPLOAD_STUDY, label=upload_label(name), rows=rows,
        kind="synthetic" if synthetic else "uploaded", caveat=caveat,
    )
    st.session_state[IPD_FRAME_KEY] = frame
    st.session_state[IPD_NAME_KEY] = name


def clean_upload_name(upload: UploadedFile) -> str:
    # The file's name is user text that reaches captions, charts and exports: cleaned once.
    return clean_text(upload.name[:1000], max_chars=1000) or "upload"


def read_upload(upload: UploadedFile) -> tuple[pd.DataFrame | None, pd.DataFrame | None, str]:
    """(patients, rows in the shared shape, '') or (None, None, why not)."""
    name = clean_upload_name(upload)
    frame, error = parse_upload(upload.getvalue(), name, subtype_codes())
    if error is not None or frame is None:
        return None, None, f"**{plain(name)}** could not be used: {plain(error)}."
    try:
        return frame, aggregate(frame, UPLOAD_STUDY), ""
    except (IPDError, SurvivalInputError, ValueError) as exc:
        return None, None, f"**{plain(name)}** could not be summarised: {plain(exc)}."


def on_upload() -> None:
    """A valid file becomes this cohort at once, before the page draws anything, so every
    section and page of this run uses it; a file that cannot be used changes nothing."""
    upload = st.session_state.get(UPLOADER_KEY)
    if upload is None:  # removed from the uploader: the cohort stays until the user goes back
        return
    frame, rows, _ = read_upload(upload)
    if frame is not None and rows is not None:
        use_upload(frame, clean_upload_name(upload), rows)
        st.session_state[UPLOAD_FILE_KEY] = upload.file_id


def relabel_upload() -> None:
    cohort = st.session_state.get(UPLOAD_KEY)
    if isinstance(cohort, ThisCohort):
        name = str(st.session_state.get(IPD_NAME_KEY, "upload"))
        st.session_state[UPLOAD_KEY] = dataclasses.replace(cohort, label=upload_label(name))


def reset_upload() -> None:
    for key in (UPLOAD_KEY, IPD_FRAME_KEY, IPD_NAME_KEY, UPLOAD_FILE_KEY, "upload_label"):
        st.session_state.pop(key, None)


def load_worked_example(example: DigitisedCurve) -> None:
    st.session_state[RECON_BASE_CURVE] = example.curve
    st.session_state[RECON_BASE_RISK] = example.risk
    st.session_state[RECON_EVENTS_KEY] = example.events
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


@dataclass(frozen=True)
class PatientLevel:
    """The patients the curves, waterfall and swimmer show: the upload in use, else the
    synthetic example, with the source line every chart and export carries."""

    ipd: pd.DataFrame
    name: str
    is_example: bool
    synthetic: bool
    source: str

    @property
    def note(self) -> str | None:
        return sc.SYNTHETIC_LABEL if self.synthetic else None


def patient_level() -> PatientLevel:
    uploaded = st.session_state.get(IPD_FRAME_KEY)
    if isinstance(uploaded, pd.DataFrame):
        name = str(st.session_state.get(IPD_NAME_KEY, "uploaded file"))
        return PatientLevel(uploaded, name, False, sc.ipd_is_synthetic(uploaded),
                            f"Source: {name}, uploaded by the user (this session only)")
    ipd = example_ipd(subtype_codes())
    return PatientLevel(
        ipd, EXAMPLE_PATH.name, True, sc.ipd_is_synthetic(ipd),
        f"Source: data/example_ipd.csv, generated by scripts/make_example_ipd.py"
        f"{example_seed(ipd)} to match the published counts of {SEED_SOURCE}")


def patients_caption(view: PatientLevel) -> None:
    """Names the patients a section shows (the upload in use, or the synthetic example)."""
    who = "the synthetic example" if view.is_example else f"**{plain(view.name)}**"
    st.caption(f"Patients: {who}, {len(view.ipd)} patients.")


def render_intro(view: PatientLevel) -> None:
    st.title("Survival and patients")
    st.caption(
        "Kaplan-Meier curves, waterfall and swimmer plots from individual patient data (IPD): "
        "one row per patient. Upload your own cohort, or reconstruct pseudo-IPD from a "
        "published curve.")
    if view.is_example:
        st.warning(
            "Synthetic example, not patient data: generated by scripts/make_example_ipd.py to "
            "match the published counts of Liu et al. 2023 (subtypes, best responses, median "
            "PFS about 8.9 months); individual times, agents and lines are invented. The "
            "evidence pages never use it as this cohort.", icon=":material/science:")
    else:
        kind = "marked synthetic" if view.synthetic else "uploaded"
        st.info(f"Patient-level views show **{plain(view.name)}** ({kind}, {len(view.ipd)} "
                "patients).", icon=":material/upload_file:")
        if view.synthetic:
            st.warning(f"{plain(view.name)}: {sc.SYNTHETIC_LABEL}.", icon=":material/science:")
    current = this_cohort()
    cohort_banner(current)
    if st.session_state.get(SCENARIO_KEY) is not None and isinstance(current, ThisCohort):
        st.caption("A what-if scenario is active; it takes precedence over an upload on the "
                   "evidence pages.")
    st.caption(f"Evidence pages highlight: **{plain(current.label)}** ({current.kind}).")


# --------------------------------------------------------------------------------------------
# Upload
# --------------------------------------------------------------------------------------------


def render_upload(view: PatientLevel) -> None:
    st.header("Your own cohort (individual patient data)")
    st.markdown(
        "One row per patient with the columns of the template: `id`, `subtype`, `regimen`, "
        "`ai_agent`, `ici_agent`, `line`, `best_response`, `best_pct_change`, `pfs_time`, "
        "`pfs_event`, `os_time`, `os_event`, `time_unit` (months, weeks or days; converted to "
        "months); optional `synthetic`, `note`, `age`, `sex`. Every cell is checked; the first "
        "problem is reported with its row and column. A valid file becomes this cohort on "
        "every page at once; the file stays in this browser session.")
    tcol, ecol = st.columns(2)
    tcol.download_button(
        "Download the template (CSV)", TEMPLATE_PATH.read_bytes(), file_name="ipd_template.csv",
        mime="text/csv", key="dl_template", icon=":material/download:", on_click="ignore")
    ecol.download_button(
        "Download the synthetic example (CSV)", EXAMPLE_PATH.read_bytes(),
        file_name="example_ipd.csv", mime="text/csv", key="dl_example",
        icon=":material/download:", help=sc.SYNTHETIC_LABEL, on_click="ignore")
    upload = st.file_uploader(
        f"Upload an IPD file (CSV, XLSX or Parquet, up to {MAX_MB} MB)",
        type=["csv", "xlsx", "parquet"], key=UPLOADER_KEY, max_upload_size=MAX_MB,
        on_change=on_upload,
        help="Validated against the IPD format in data/README.md. Nothing is stored on the "
        "server beyond this session.")
    if upload is not None:
        render_upload_result(upload, view)
    if isinstance(st.session_state.get(UPLOAD_KEY), ThisCohort):
        render_upload_in_use()


def render_upload_result(upload: UploadedFile, view: PatientLevel) -> None:
    """What the file in the uploader holds: why it cannot be used, or its patients."""
    name = clean_upload_name(upload)
    frame, rows, error = read_upload(upload)
    if frame is None or rows is None:
        st.error(f"{error} Nothing was changed: the patient-level views still show "
                 f"{plain(view.name)}.", icon=":material/error:")
        return
    in_use = st.session_state.get(UPLOAD_FILE_KEY) == upload.file_id
    evaluable = int(frame["best_response"].isin(["CR", "PR", "SD", "PD"]).sum())
    st.success(
        f"**{plain(name)}** is valid: {len(frame)} patients, {frame['subtype'].nunique()} "
        f"subtypes, {evaluable} evaluable for response, {int(frame['pfs_event'].sum())} PFS "
        "events." + (" It is this cohort now: the curves below and every page use it."
                     if in_use else ""), icon=":material/check_circle:")
    if not in_use:
        st.info(f"**{plain(name)}** is not in use: the pages show the published cohort. "
                "Upload it again to use it.", icon=":material/info:")
    if frame.attrs.get(ENCODING_ATTR):
        st.caption(
            f"Read as {frame.attrs[ENCODING_ATTR]} text: the file is not UTF-8. Check that "
            "accented letters and dashes look right in the rows below.")
    st.caption("First rows (times converted to months in pfs_months / os_months)")
    st.dataframe(frame.head(8), hide_index=True, key="upload_preview")
    st.caption("Counts per subtype, in the row shape every cohort shares")
    medians = ("pfs_median_months", "pfs_median_low", "pfs_median_high")
    st.dataframe(
        rows[["subtype", "n", "evaluable", "responders", "cr", "pr", "sd", "pd", "ne",
              *medians]].assign(**{c: cell_text(rows[c], "{:.2f}", NOT_REACHED)
                                   for c in medians}),
        hide_index=True, key="upload_counts",
        column_config={
            "pfs_median_months": st.column_config.TextColumn("PFS median (months)",
                                                               alignment="right"),
            "pfs_median_low": st.column_config.TextColumn("low", alignment="right"),
            "pfs_median_high": st.column_config.TextColumn("high", alignment="right"),
        })
    st.caption(f"{NOT_REACHED}: not reached (the Kaplan-Meier curve, or its confidence band, does "
               "not fall to 50% within follow-up).")


def render_upload_in_use() -> None:
    """The name of the uploaded cohort in use, and the way back to the published one."""
    cohort: ThisCohort = st.session_state[UPLOAD_KEY]
    n1, n2 = st.columns([3, 2], vertical_alignment="bottom")
    n1.text_input(
        "Name of this cohort", key="upload_label", max_chars=60, placeholder=cohort.label,
        on_change=relabel_upload, help="How every page, chart and export names your cohort.")
    n2.button(
        "Back to the published cohort", key="reset_upload", on_click=reset_upload,
        icon=":material/undo:",
        help="Evidence pages go back to the seed paper's counts; this page goes back to the "
        "synthetic example.")


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------


def km_input(view: PatientLevel, endpoint: str, group_by: str) -> tuple[pd.DataFrame, str | None]:
    """The time, event and (optional) group columns the fit needs."""
    time_col, event_col = ENDPOINT_COLUMNS[endpoint]
    data = view.ipd[[time_col, event_col]].copy()
    if group_by == "none":
        return data, None
    if group_by == "asps":
        data["group"] = view.ipd["subtype"].eq("ASPS").map(
            {True: "ASPS", False: "Other subtypes"})
    else:
        data["group"] = view.ipd[group_by].astype(str).str.strip().replace("", "none")
    return data, "group"


@section
def render_km(view: PatientLevel, level: float) -> None:
    st.header("Kaplan-Meier curves")
    patients_caption(view)
    c1, c2, c3 = st.columns(3)
    endpoint = c1.radio(
        "Endpoint", list(ENDPOINTS), format_func=lambda k: ENDPOINTS[k], key="km_endpoint",
        horizontal=True, bind="query-params", persist_state="session")
    group_by = c2.selectbox(
        "Group by", list(GROUPINGS), format_func=lambda k: GROUPINGS[k], key="km_group",
        bind="query-params", persist_state="session")
    conf_type = c3.selectbox(
        "Median CI type", KM_CONF_CHOICES.codes, format_func=lambda k: KM_CONF_CHOICES[k].short,
        key="km_conf", bind="query-params", persist_state="session",
        help="log: R survival's default; log-log: SAS and lifelines; plain: linear Greenwood "
             "band; SPSS-style: median ± z·SE, the form the seed paper prints.")
    data, group_col = km_input(view, endpoint, group_by)
    time_col, event_col = ENDPOINT_COLUMNS[endpoint]
    try:
        km = fit_km(data, time_col, event_col, group_col, level, conf_type)
    except (SurvivalInputError, ValueError) as exc:
        st.error(f"The Kaplan-Meier fit failed: {plain(exc)}")
        return
    endpoint_name = ENDPOINTS[endpoint]
    title = endpoint_name + ("" if group_col is None else f": {GROUPINGS[group_by]}")
    risk_times = sc.default_risk_times(max(max(g.timeline) for g in km.groups))
    y_title = f"{endpoint_name} probability"
    show_chart(chart_spec(sc.km_chart, km, title, "months", source=view.source,
                          synthetic=view.synthetic, y_title=y_title), key="km_chart")
    st.caption(f"Numbers at risk ({endpoint}, months from start of treatment)")
    st.dataframe(sc.numbers_at_risk(km, risk_times), hide_index=True, key="km_risk_table")
    chart_downloads(  # the curve with its risk table, built when a download asks for it
        lambda: chart_spec(sc.km_figure, km, title, risk_times, "months", source=view.source,
                           synthetic=view.synthetic, y_title=y_title),
        f"km_{endpoint.lower()}_{group_by}", "dl_km")
    render_logrank(km)
    render_km_medians(km, endpoint, level)
    render_landmarks(km, endpoint, level)
    km_export = pd.concat([g.survival_table().assign(group=g.label) for g in km.groups])
    csv_download(km_export, "Download the KM step table (CSV)",
                 f"km_{endpoint.lower()}_{group_by}.csv", "dl_km_csv", note=view.note)


def render_logrank(km: KMGroupResult) -> None:
    if km.logrank_p is None:
        return
    st.markdown(
        f"**Log-rank test** across {len(km.groups)} groups: χ² = {km.logrank_chi2:.2f}, "
        f"df = {km.logrank_df}, p = {km.logrank_p:.3g}.")
    small = [g.label for g in km.groups if g.n < 5]
    if small:
        st.caption(f"{len(small)} group(s) have fewer than 5 patients; their curves and the "
                   "log-rank test say little.")


def render_km_medians(km: KMGroupResult, endpoint: str, level: float) -> None:
    level_label = f"{100 * level:g}% CI"
    st.subheader(f"Median {endpoint} with two kinds of interval")
    conf_used = km.conf_type
    log_col = (f"{level_label}, {KM_CONF_CHOICES[conf_used].short} band crossing 0.5"
               if conf_used != "spss" else f"{level_label}, chosen: SPSS-style")
    spss_col = f"{level_label}, SPSS-style median ± z·SE"
    medians = pd.DataFrame([
        {"group": g.label, "n": g.n, "events": g.events, "median (months)": fmt(g.median),
         log_col: interval(g.median_low, g.median_high),
         spss_col: interval(g.spss_low, g.spss_high) if g.median_se_spss else "—",
         "SE (SPSS-style)": fmt(g.median_se_spss), "note": g.note or ""}
        for g in km.groups])
    st.dataframe(medians, hide_index=True, key="km_medians")
    st.caption(
        f"NR: not reached. Median CI type used: **{KM_CONF_CHOICES[conf_used].short}**, "
        f"{KM_CONF_CHOICES[conf_used].label}; medians and quartiles follow R survival (midpoint "
        f"rule where S(t) = 0.5 over an interval; limits as quantile.survfit). "
        f"SPSS-style: {SPSS_METHOD} (the uniform-kernel density estimate of Klein & "
        "Moeschberger 2003, Sec. 4.5, and Collett 1994, Sec. 2.4); this is the interval the "
        "seed paper prints. A negative lower limit is shown as computed.")
    render_published_median(endpoint)


def render_published_median(endpoint: str) -> None:
    """The seed paper's own median, beside the curves (data/liu2023/outcomes.csv)."""
    if endpoint == "PFS":
        pfs = seed_cohort().outcome("Median progression-free survival")
        st.info(
            f"**Published, for comparison** ({SEED_SOURCE}, {pfs['locator']}): median PFS "
            f"{pfs['value']:.2f} {pfs['unit']} (printed interval {pfs['low']:.2f}–"
            f"{pfs['high']:.2f}, the paper's symmetric SPSS-style interval), "
            f"{pfs['measure'].split('(')[-1].rstrip(')')}.", icon=":material/menu_book:")
    else:
        os_ = seed_cohort().outcome("Median overall survival")
        st.info(f"**Published, for comparison** ({SEED_SOURCE}, {os_['locator']}): median OS "
                f"{os_['note'][0].lower()}{os_['note'][1:]}.", icon=":material/menu_book:")


def render_landmarks(km: KMGroupResult, endpoint: str, level: float) -> None:
    level_label = f"{100 * level:g}% CI"
    st.subheader("Landmark rates")
    rows = []
    bands: set[str] = set()  # the interval each landmark was computed with
    for g in km.groups:
        row: dict[str, object] = {"group": g.label}
        for t in LANDMARKS:
            if t > max(g.timeline):
                row[f"S({t:g} months), {level_label}"] = "beyond follow-up"
                row[f"at risk at {t:g}"] = 0
                continue
            lm = g.landmark(t)
            bands.add(lm.conf_type)
            row[f"S({t:g} months), {level_label}"] = (
                f"{100 * lm.survival:.1f}% (no interval)" if lm.low is None or lm.high is None
                else f"{100 * lm.survival:.1f}% ({100 * lm.low:.1f}–{100 * lm.high:.1f})")
            row[f"at risk at {t:g}"] = lm.n_at_risk
        rows.append(row)
    st.dataframe(pd.DataFrame(rows), hide_index=True, key="km_landmarks")
    when = f"{endpoint} rate at {' and '.join(f'{t:g}' for t in LANDMARKS)} months"
    if not bands:
        st.caption(f"{when}: beyond follow-up in every group.")
        return
    named = " and ".join(KM_CONF_CHOICES[b].short for b in sorted(bands))
    st.caption(f"{when} with the pointwise {named} (Greenwood) interval"
               + ("; the SPSS-style form is the median's, so a landmark takes the plain band"
                  if km.conf_type == "spss" else "") + ".")


# --------------------------------------------------------------------------------------------
# Waterfall and swimmer
# --------------------------------------------------------------------------------------------


def render_waterfall(view: PatientLevel) -> None:
    st.header("Patient-level response: waterfall and swimmer plots")
    patients_caption(view)
    st.caption(
        "Like Figure 2 of the seed paper. Best response by RECIST 1.1; the dashed lines mark "
        "-30% (partial response) and +20% (progression).")
    data = sc.waterfall_frame(view.ipd)
    if data.empty:
        st.info("No evaluable patient has a best % change recorded, so there is no waterfall "
                "plot.")
        return
    shown, sampled = sc.sample_patients(view.ipd[view.ipd["id"].isin(data["id"])],
                                        limits.MAX_WATERFALL_BARS)
    waterfall = chart_spec(sc.waterfall_chart, shown, source=view.source,
                           synthetic=view.synthetic)
    show_chart(waterfall, key="waterfall_chart")
    if sampled:
        st.caption(sampled)
    chart_downloads(waterfall, "waterfall", "dl_waterfall")
    csv_download(data.drop(columns="patient"), "Download the waterfall data (CSV)",
                 "waterfall.csv", "dl_waterfall_csv", note=view.note)


def render_swimmer(view: PatientLevel) -> None:
    shown, sampled = sc.sample_patients(view.ipd, limits.MAX_SWIMMER_LANES)
    swimmer = chart_spec(sc.swimmer_chart, shown, source=view.source, synthetic=view.synthetic)
    show_chart(swimmer, key="swimmer_chart")
    if sampled:
        st.caption(sampled)
    chart_downloads(swimmer, "swimmer", "dl_swimmer")
    csv_download(sc.swimmer_frame(view.ipd).drop(columns="patient"),
                 "Download the swimmer data (CSV)", "swimmer.csv", "dl_swimmer_csv",
                 note=view.note)


# --------------------------------------------------------------------------------------------
# Reconstruction from a published curve
# --------------------------------------------------------------------------------------------


@section
def render_guyot(view: PatientLevel, level: float) -> None:
    st.header("Reconstruct patient data from a published curve")
    st.markdown(
        "Guyot P, Ades AE, Ouwens MJNM, Welton NJ. *BMC Med Res Methodol* 2012;12:9 "
        "(doi:10.1186/1471-2288-12-9). Enter points digitised from a published Kaplan-Meier "
        "curve (time in months; survival as a fraction or in %) and the numbers at risk printed "
        "under it (the first at time 0); the total number of events helps when it is reported. "
        "The result is pseudo-IPD, one row per patient, that reproduces the curve: not the "
        "trial's records.")
    b1, b2 = st.columns(2)
    b1.button(
        "Load the worked example (synthetic data)", key="recon_example",
        on_click=load_worked_example, args=(worked_example(subtype_codes()),),
        icon=":material/auto_fix_high:",
        help="Fills the tables with a PFS curve, its numbers at risk and its total events "
        "computed from data/example_ipd.csv (SYNTHETIC example data, not patients), as if "
        "digitised.")
    b2.button("Clear the tables", key="recon_clear", on_click=clear_reconstruction,
              icon=":material/delete:")
    curve_rows, risk_rows, total_events = render_recon_inputs()
    if len(curve_rows) < 2 or len(risk_rows) < 1:
        st.info("Enter at least two digitised points and the number at risk at time 0 (or load "
                "the worked example) to reconstruct.", icon=":material/edit_note:")
        return
    try:
        recon = reconstruct(curve_rows.reset_index(drop=True), risk_rows.reset_index(drop=True),
                            total_events)
        # the median interval of the pseudo-IPD uses the Kaplan-Meier section's CI type
        pseudo_km = fit_km(recon.ipd, "time", "event", None, level,
                           st.session_state.get("km_conf", "log"))
    except (ReconstructionError, SurvivalInputError, ValueError) as exc:
        st.error(f"The reconstruction failed: {plain(exc)}", icon=":material/error:")
        return
    render_reconstruction(view, level, curve_rows, recon, pseudo_km)


def render_recon_inputs() -> tuple[pd.DataFrame, pd.DataFrame, int | None]:
    """The digitised curve, the numbers at risk and the total events, as entered."""
    if RECON_BASE_CURVE not in st.session_state:
        clear_reconstruction()
    refusals = (checked_edits(RECON_CURVE_KEY, RECON_BASE_CURVE)
                + checked_edits(RECON_RISK_KEY, RECON_BASE_RISK, whole=("n_risk",)))
    for refusal in refusals:
        st.error(plain(refusal), icon=":material/block:")
    e1, e2 = st.columns([3, 2])
    with e1:
        st.caption("Digitised curve")
        curve_in = st.data_editor(
            st.session_state[RECON_BASE_CURVE], num_rows="dynamic", key=RECON_CURVE_KEY,
            hide_index=True, column_config={
                "time": st.column_config.NumberColumn(
                    "time (months)", min_value=0.0, max_value=limits.MAX_MONTHS, format="%.2f"),
                "survival": st.column_config.NumberColumn(
                    "survival (0–1 or %)", min_value=0.0, max_value=100.0, format="%.3f"),
            })
    with e2:
        st.caption("Numbers at risk")
        risk_in = st.data_editor(
            st.session_state[RECON_BASE_RISK], num_rows="dynamic", key=RECON_RISK_KEY,
            hide_index=True, column_config={
                "time": st.column_config.NumberColumn("time (months)", min_value=0.0),
                "n_risk": st.column_config.NumberColumn(
                    "number at risk", min_value=0, step=1, max_value=limits.MAX_AT_RISK),
            })
        total_events = st.number_input(
            "Total events (optional)", min_value=0, max_value=limits.MAX_AT_RISK, step=1,
            key=RECON_EVENTS_KEY, placeholder="not reported")
    return (pd.DataFrame(curve_in).dropna(how="any"), pd.DataFrame(risk_in).dropna(how="any"),
            None if total_events is None else int(total_events))


def render_reconstruction(view: PatientLevel, level: float, curve_rows: pd.DataFrame,
                          recon: ReconstructedIPD, pseudo_km: KMGroupResult) -> None:
    """The reconstructed curve over the digitised points, and the pseudo-IPD against the
    patient-level cohort in use."""
    level_label = f"{100 * level:g}% CI"
    example = bool(st.session_state.get(RECON_IS_EXAMPLE))
    for recon_warning in recon.notes:  # numbers the curve could not honour, and by how much
        st.warning(f"Not every number could be met: {plain(recon_warning)}.",
                   icon=":material/warning:")
    recon_source = ("Source: worked example, a PFS curve computed from data/example_ipd.csv"
                    if example else "Source: points digitised by the user")
    show_chart(chart_spec(sc.reconstruction_chart, curve_rows, pseudo_km, source=recon_source,
                          synthetic=example), key="recon_chart")
    g = pseudo_km.groups[0]
    m1, m2, m3 = st.columns(3)
    m1.metric("Pseudo-IPD patients", g.n, help=f"{g.events} events")
    m2.metric("Median PFS of the pseudo-IPD (months)", fmt(g.median))
    m2.caption(f"{level_label} {interval(g.median_low, g.median_high)} "
               f"({KM_CONF_CHOICES[g.conf_type].short})")
    mine = pd.DataFrame({"time": view.ipd["pfs_months"].astype(float),
                         "event": view.ipd["pfs_event"].astype(int)})
    try:
        comparison = compare(mine, recon.ipd, level)
    except (ReconstructionError, ValueError) as exc:
        st.error(f"The comparison failed: {plain(exc)}")
    else:
        m3.metric("Hazard ratio, reconstructed vs current cohort", f"{comparison.hr:.2f}")
        m3.caption(f"{level_label} {comparison.hr_low:.2f}–{comparison.hr_high:.2f} (Cox, "
                   f"Efron ties); log-rank p = {comparison.logrank_p:.3g}")
        st.caption(
            f"PFS of the reconstructed arm against the current patient-level cohort "
            f"({plain(view.name)}, {comparison.n_a} patients, {comparison.events_a} events). "
            "HR above 1: the reconstructed arm progresses sooner. Pseudo-IPD reproduces a "
            "curve, not its covariates: the comparison is unadjusted and across studies.")
    note = "Pseudo-IPD reconstructed from a digitised curve (Guyot 2012), not patients"
    csv_download(recon.ipd, "Download the pseudo-IPD (CSV)", "pseudo_ipd.csv", "dl_pseudo",
                 note=f"{sc.SYNTHETIC_LABEL}; {note}" if example else note)


# --------------------------------------------------------------------------------------------
# The page
# --------------------------------------------------------------------------------------------

_, level = ci_options()
view = patient_level()
render_intro(view)
render_upload(view)
render_km(view, level)
render_waterfall(view)
render_swimmer(view)
render_guyot(view, level)
