"""What the Survival and patients page shows, without drawing it: the patient-level cohort in
use, reading an upload and making it this cohort, the reconstruction editors' state, and the
page's tables. Statistics come from comparators; this module caches and arranges them.

Not a page (st.navigation only runs the files it is given).
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
from comparators.evidence.ipd import IPDError, aggregate_ipd, read_ipd
from comparators.inputs import clean_text, parse_number
from comparators.stats.reconstruct import (
    ReconstructedIPD,
    SurvivalComparison,
    compare_with,
    reconstruct_ipd,
)
from comparators.stats.survival import ConfType, KMGroupResult, SurvivalInputError, km_by_group
from comparators.vocab import KM_CONF_CHOICES
from views.common import NOT_REACHED, UPLOAD_KEY, catalog, cell_text, plain
from views.editing import apply_edits, check_edits

ROOT = Path(__file__).resolve().parent.parent

EXAMPLE_PATH = ROOT / "data" / "example_ipd.csv"
IPD_FRAME_KEY = "ipd_frame"  # the uploaded patient-level frame in use (session only)
IPD_NAME_KEY = "ipd_name"  # its file name
UPLOADER_KEY = "ipd_upload"
UPLOAD_FILE_KEY = "ipd_upload_file"  # the uploader's file id of the cohort in use
UPLOAD_STUDY = "MY-COHORT"
SEED_SOURCE = "Liu et al., Sci Rep 2023, doi:10.1038/s41598-023-30412-6"
LANDMARKS = (6.0, 12.0)
ENDPOINT_COLUMNS = {"PFS": ("pfs_months", "pfs_event"), "OS": ("os_months", "os_event")}
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
# The patient-level cohort in use
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


# --------------------------------------------------------------------------------------------
# An upload: reading it, making it this cohort, naming it, going back
# --------------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------------
# The reconstruction editors' state
# --------------------------------------------------------------------------------------------


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
# Tables
# --------------------------------------------------------------------------------------------


def upload_counts_table(rows: pd.DataFrame) -> pd.DataFrame:
    """An uploaded cohort's rows in the shared shape, medians as text (NR: not reached)."""
    medians = ("pfs_median_months", "pfs_median_low", "pfs_median_high")
    return rows[["subtype", "n", "evaluable", "responders", "cr", "pr", "sd", "pd", "ne",
                 *medians]].assign(**{c: cell_text(rows[c], "{:.2f}", NOT_REACHED)
                                      for c in medians})


def km_medians_table(km: KMGroupResult, level: float) -> pd.DataFrame:
    """Each group's median with the interval of the fit's CI type and the SPSS-style one."""
    level_label = f"{100 * level:g}% CI"
    conf_used = km.conf_type
    log_col = (f"{level_label}, {KM_CONF_CHOICES[conf_used].short} band crossing 0.5"
               if conf_used != "spss" else f"{level_label}, chosen: SPSS-style")
    spss_col = f"{level_label}, SPSS-style median ± z·SE"
    return pd.DataFrame([
        {"group": g.label, "n": g.n, "events": g.events, "median (months)": fmt(g.median),
         log_col: interval(g.median_low, g.median_high),
         spss_col: interval(g.spss_low, g.spss_high) if g.median_se_spss else "—",
         "SE (SPSS-style)": fmt(g.median_se_spss), "note": g.note or ""}
        for g in km.groups])


def landmark_table(km: KMGroupResult, level: float) -> tuple[pd.DataFrame, set[str]]:
    """S(t) at each of LANDMARKS per group with its pointwise interval and the number at risk,
    and the bands those intervals were computed with (empty when every landmark is beyond
    follow-up)."""
    level_label = f"{100 * level:g}% CI"
    rows = []
    bands: set[str] = set()
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
    return pd.DataFrame(rows), bands
