"""Pure builders of Vega-Lite specs (plain dicts, what Altair's ``to_dict()`` gives) for
survival curves and patient-level plots (no streamlit here).

Every chart carries a title, axis titles with units and a subtitle naming the data source; when
the data are synthetic the subtitle's first line says ``SYNTHETIC example data, not patients``.

* ``km_chart``            Kaplan-Meier step curves, pointwise confidence bands, censor ticks and
                          a dashed line at S = 0.5 (from ``KMResult``/``KMGroupResult``).
* ``numbers_at_risk``     the numbers-at-risk table (one row per group, one column per time);
  ``numbers_at_risk_chart`` the same as a text strip to stack under ``km_chart`` for export
  (``km_figure`` does both).
* ``waterfall_chart``     best % change of the target lesions per evaluable patient, coloured by
                          best response, RECIST 1.1 lines at -30 % and +20 %.
* ``swimmer_chart``       one bar per patient = PFS time, star for responders, arrow for patients
                          still progression-free at last follow-up (``pfs_event == 0``).
* ``reconstruction_chart`` a reconstructed KM curve (Guyot 2012) over the digitised points.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from comparators.charts.vegalite import field, layered, named_data, tip, top_level
from comparators.stats.survival import KMGroupResult, KMResult

SYNTHETIC_LABEL = "SYNTHETIC example data, not patients"
RESPONSE_ORDER: tuple[str, ...] = ("CR", "PR", "SD", "PD", "NE")
RESPONSE_NAMES: dict[str, str] = {
    "CR": "CR (complete response)",
    "PR": "PR (partial response)",
    "SD": "SD (stable disease)",
    "PD": "PD (progressive disease)",
    "NE": "NE (not evaluable)",
}
# blue = response, orange/red = progression: readable with the common colour-vision deficiencies
RESPONSE_COLOURS: dict[str, str] = {
    "CR": "#08519c",
    "PR": "#6baed6",
    "SD": "#fdae6b",
    "PD": "#d94801",
    "NE": "#bdbdbd",
}
RECIST_PR = -30.0  # RECIST 1.1: at least a 30 % decrease in the sum of target lesions
RECIST_PD = 20.0  # RECIST 1.1: at least a 20 % increase (and 5 mm absolute)
# a five-pointed star as an SVG path in the unit square Vega scales by `size`
STAR_PATH = (
    "M0,-1L0.2245,-0.309L0.9511,-0.309L0.3633,0.118L0.5878,0.809L0,0.382L-0.5878,0.809"
    "L-0.3633,0.118L-0.9511,-0.309L-0.2245,-0.309Z"
)
MARKER_RESPONDER = "Responder (CR or PR)"
MARKER_ONGOING = "No progression at last follow-up (censored)"

KMInput = KMResult | KMGroupResult | Mapping[str, KMResult]


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _km_mapping(km_results: KMInput) -> dict[str, KMResult]:
    if isinstance(km_results, KMResult):
        return {km_results.label: km_results}
    if isinstance(km_results, KMGroupResult):
        return {g.label: g for g in km_results.groups}
    return dict(km_results)


def _title(title: str, source: str, synthetic: bool, *extra: str) -> dict:
    lines = ([SYNTHETIC_LABEL] if synthetic else []) + [source] + [e for e in extra if e]
    return {"text": title, "anchor": "start", "subtitle": lines}


# Fit the width to the container (Streamlit) or to `width` (export); the height stays the plot's
# own, so titles, legends and rotated labels never squeeze the data area.
FIT_X = {"type": "fit-x", "contains": "padding"}


def ipd_is_synthetic(ipd: pd.DataFrame) -> bool:
    """True when the IPD carries a `synthetic` column with any true value."""
    if "synthetic" not in ipd.columns:
        return False
    col = ipd["synthetic"]
    if col.dtype == bool:
        return bool(col.any())
    return bool(col.astype(str).str.strip().str.lower().isin(["true", "1", "yes"]).any())


def default_risk_times(max_time: float, step: float | None = None) -> list[float]:
    """0, step, 2*step, ... up to max_time; step 3 (<= 36), 6 (<= 72) or 12 time units."""
    if not math.isfinite(max_time) or max_time <= 0:
        return [0.0]
    if step is None:
        step = 3.0 if max_time <= 36 else 6.0 if max_time <= 72 else 12.0
    n = int(math.floor(max_time / step + 1e-9))
    return [float(step * k) for k in range(n + 1)]


def _max_time(km: Mapping[str, KMResult]) -> float:
    return max((max(r.timeline) for r in km.values() if r.timeline), default=0.0)


def km_curve_frame(km_results: KMInput) -> pd.DataFrame:
    """Long frame of every curve's steps: group, time, survival, ci_low, ci_high, n_at_risk,
    n_events, n_censored (one row per distinct time, time 0 included)."""
    parts = []
    for label, res in _km_mapping(km_results).items():
        table = res.survival_table().rename(columns={"timeline": "time"})
        table.insert(0, "group", label)
        parts.append(table)
    if not parts:
        return pd.DataFrame(
            columns=["group", "time", "survival", "ci_low", "ci_high", "n_at_risk", "n_events",
                     "n_censored"]
        )
    return pd.concat(parts, ignore_index=True)


# --------------------------------------------------------------------------------------------
# Kaplan-Meier
# --------------------------------------------------------------------------------------------


def km_chart(
    km_results: KMInput,
    title: str,
    time_unit: str = "months",
    *,
    source: str = "Source: not stated",
    synthetic: bool = False,
    y_title: str = "Survival probability",
    x_max: float | None = None,
    width: int = 560,
    height: int = 320,
) -> dict:
    """Kaplan-Meier step curves with pointwise confidence bands, censor ticks and S = 0.5."""
    km = _km_mapping(km_results)
    curves, datasets = named_data(km_curve_frame(km))
    labels = list(km)
    levels = {f"{100 * r.level:g}%" for r in km.values()}
    # "spss" is an interval for the median only; its pointwise band is the plain one
    conf = {"plain" if r.conf_type == "spss" else r.conf_type for r in km.values()}
    x_max = x_max if x_max is not None else _max_time(km)
    x = field("time", title=f"Time from start of treatment ({time_unit})",
              scale={"domain": [0, max(x_max, 1e-9)], "nice": False})
    y_scale = {"domain": [0, 1]}
    colour = field("group", "nominal", title="Group",
                   scale={"domain": labels, "scheme": "tableau10"},
                   legend=None if len(labels) == 1 else {
                       "orient": "right", "symbolType": "stroke", "symbolStrokeWidth": 3,
                       "symbolOpacity": 1, "labelLimit": 0})
    band = {"data": curves, "mark": {"type": "area", "interpolate": "step-after", "opacity": 0.18},
            "encoding": {"x": x, "y": field("ci_low", scale=y_scale), "y2": {"field": "ci_high"},
                         "color": colour},
            "transform": [{"filter": "isValid(datum.ci_low) && isValid(datum.ci_high)"}]}
    tooltip = [tip("group", "nominal", "Group"),
               tip("time", title=f"Time ({time_unit})", fmt=".1f"),
               tip("survival", title="S(t)", fmt=".3f"),
               tip("ci_low", title="CI low", fmt=".3f"), tip("ci_high", title="CI high", fmt=".3f"),
               tip("n_at_risk", title="At risk"), tip("n_events", title="Events"),
               tip("n_censored", title="Censored")]
    line = {"data": curves, "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
            "encoding": {"x": x, "y": field("survival", title=y_title, scale=y_scale,
                                            axis={"format": ".0%"}),
                         "color": colour, "tooltip": tooltip}}
    censor = {"data": curves,
              "mark": {"type": "tick", "orient": "vertical", "size": 10, "thickness": 1.5},
              "encoding": {"x": x, "y": field("survival", scale=y_scale), "color": colour,
                           "tooltip": tooltip},
              "transform": [{"filter": "datum.n_censored > 0"}]}
    half_data, half_rows = named_data([{"survival": 0.5}])
    half = {"data": half_data,
            "mark": {"type": "rule", "strokeDash": [5, 4], "color": "#666666", "strokeWidth": 1},
            "encoding": {"y": field("survival", scale=y_scale)}}
    how = (
        f"Shaded: {'/'.join(sorted(levels))} pointwise confidence band "
        f"({'/'.join(sorted(conf))}); ticks: censored; dashed line: S = 0.5 (median)"
    )
    return layered({"layer": [band, line, censor, half], "autosize": FIT_X, "height": height,
                    "title": _title(title, source, synthetic, how), "width": width},
                   {**datasets, **half_rows})


def numbers_at_risk(km_results: KMInput, times: Iterable[float]) -> pd.DataFrame:
    """Numbers at risk just before each time: one row per group, one column per time."""
    times = [float(t) for t in times]
    rows = []
    for label, res in _km_mapping(km_results).items():
        row: dict[str, object] = {"group": label}
        row.update({f"{t:g}": n for t, n in zip(times, res.at_risk(times), strict=True)})
        rows.append(row)
    return pd.DataFrame(rows, columns=["group"] + [f"{t:g}" for t in times])


def numbers_at_risk_chart(
    km_results: KMInput,
    times: Sequence[float],
    time_unit: str = "months",
    *,
    x_max: float | None = None,
    width: int = 560,
) -> dict:
    """The numbers-at-risk table as a text strip on the same time axis as ``km_chart``."""
    km = _km_mapping(km_results)
    long = numbers_at_risk(km, times).melt(id_vars="group", var_name="t", value_name="n")
    long["time"] = long["t"].astype(float)
    x_max = x_max if x_max is not None else _max_time(km)
    return top_level({
        "mark": {"type": "text", "fontSize": 11},
        "encoding": {
            "x": field("time", title=f"Numbers at risk by time ({time_unit})",
                       scale={"domain": [0, max(x_max, 1e-9)], "nice": False}),
            "y": field("group", "nominal", title=None, sort=list(km),
                       axis={"labelPadding": 16, "ticks": False, "domain": False}),
            "text": field("n"),
            "color": field("group", "nominal", legend=None,
                           scale={"domain": list(km), "scheme": "tableau10"})},
        "height": {"step": 18}, "width": width}, long)


def km_figure(
    km_results: KMInput,
    title: str,
    times: Sequence[float],
    time_unit: str = "months",
    *,
    source: str = "Source: not stated",
    synthetic: bool = False,
    y_title: str = "Survival probability",
    width: int = 560,
) -> dict:
    """``km_chart`` with its numbers-at-risk strip underneath (for PNG/SVG export)."""
    km = _km_mapping(km_results)
    x_max = max(_max_time(km), max(times, default=0.0))
    top = km_chart(km, title, time_unit, source=source, synthetic=synthetic, y_title=y_title,
                   x_max=x_max, width=width)
    bottom = numbers_at_risk_chart(km, times, time_unit, x_max=x_max, width=width)
    parts = [{k: v for k, v in chart.items()  # only the top level may size itself
              if k not in ("config", "$schema", "datasets", "autosize")} for chart in (top, bottom)]
    return layered({"vconcat": parts, "autosize": {"type": "pad", "contains": "padding"},
                    "resolve": {"scale": {"color": "independent"}}, "spacing": 12},
                   {**top["datasets"], **bottom["datasets"]})


# --------------------------------------------------------------------------------------------
# Patient-level plots
# --------------------------------------------------------------------------------------------


def _response_colour(domain: Sequence[str]) -> dict:
    return field("best_response", "nominal", title="Best response (RECIST 1.1)",
                 scale={"domain": list(domain), "range": [RESPONSE_COLOURS[r] for r in domain]},
                 legend={"orient": "top", "labelLimit": 0})


def waterfall_frame(ipd: pd.DataFrame) -> pd.DataFrame:
    """The evaluable patients with a best % change, sorted from largest increase to largest
    decrease (the waterfall's left-to-right order), with a `patient` label "subtype · id"."""
    keep = ipd["best_response"].isin(["CR", "PR", "SD", "PD"]) & ipd["best_pct_change"].notna()
    cols = [c for c in ("id", "subtype", "regimen", "line", "best_response", "best_pct_change")
            if c in ipd.columns]
    data = ipd.loc[keep, cols].copy()
    data["best_pct_change"] = data["best_pct_change"].astype(float)
    data = data.sort_values(["best_pct_change", "id"], ascending=[False, True], kind="stable")
    data["patient"] = data["subtype"].astype(str) + " · " + data["id"].astype(str)
    return data.reset_index(drop=True)


def waterfall_chart(
    ipd: pd.DataFrame,
    *,
    source: str = "Source: not stated",
    synthetic: bool | None = None,
    title: str = "Best change in target lesions per evaluable patient (waterfall plot)",
    width: int = 560,
    height: int = 300,
) -> dict:
    """One bar per evaluable patient, sorted by best % change, coloured by best response;
    dashed RECIST 1.1 lines at -30 % (partial response) and +20 % (progression)."""
    synthetic = ipd_is_synthetic(ipd) if synthetic is None else synthetic
    data = waterfall_frame(ipd)
    order = data["patient"].tolist()
    domain = [r for r in RESPONSE_ORDER if r != "NE"]
    low = min(-100.0, float(data["best_pct_change"].min()) if len(data) else -100.0)
    high = max(60.0, float(data["best_pct_change"].max()) + 5 if len(data) else 60.0)
    y = field("best_pct_change", scale={"domain": [low, high]})
    tooltip = [tip("id", "nominal", "Patient"), tip("subtype", "nominal", "Subtype"),
               *([tip("regimen", "nominal", "Regimen")] if "regimen" in data else []),
               tip("best_response", "nominal", "Best response"),
               tip("best_pct_change", title="Best change (%)", fmt=".1f")]
    patients, datasets = named_data(data)
    bars = {"data": patients, "mark": {"type": "bar"}, "encoding": {
        "x": field("patient", "nominal", sort=order,
                   title="Patient (subtype · id), sorted by best change",
                   axis={"labelAngle": -90, "labelFontSize": 9}),
        "y": {**y, "title": "Best change in sum of target lesions from baseline (%)"},
        "color": _response_colour(domain), "tooltip": tooltip}}
    pr_line = {"best_pct_change": RECIST_PR, "label": "-30%: partial response (RECIST 1.1)"}
    pd_line = {"best_pct_change": RECIST_PD, "label": "+20%: progression (RECIST 1.1)"}
    both, both_rows = named_data([pr_line, pd_line])
    pd_only, pd_rows = named_data([pd_line])
    pr_only, pr_rows = named_data([pr_line])
    rules = {"data": both, "mark": {"type": "rule", "strokeDash": [6, 4], "color": "#333333",
                                    "strokeWidth": 1}, "encoding": {"y": y}}
    # +20 % labelled on the right (where the bars shrink), -30 % on the left (where they grow)
    text = {"type": "text", "fontSize": 10, "color": "#333333"}
    label_pd = {"data": pd_only,
                "mark": {**text, "align": "right", "baseline": "bottom", "dy": -2},
                "encoding": {"y": y, "x": {"value": width - 2}, "text": field("label", "nominal")}}
    label_pr = {"data": pr_only, "mark": {**text, "align": "left", "baseline": "top", "dy": 3},
                "encoding": {"y": y, "x": {"value": 2}, "text": field("label", "nominal")}}
    n = len(data)
    return layered({
        "layer": [bars, rules, label_pd, label_pr], "autosize": FIT_X, "height": height,
        "title": _title(
            title, source, synthetic,
            f"{n} evaluable patient{'s' if n != 1 else ''} with a measured best change "
            "(not evaluable patients omitted); CR drawn at -100%",
        ),
        "width": width}, {**datasets, **both_rows, **pd_rows, **pr_rows})


def swimmer_frame(ipd: pd.DataFrame, time_col: str = "pfs_months",
                  event_col: str = "pfs_event") -> pd.DataFrame:
    """One row per patient, longest PFS first, with responder / ongoing flags."""
    cols = [c for c in ("id", "subtype", "regimen", "line", "best_response", "best_pct_change")
            if c in ipd.columns]
    data = ipd[cols].copy()
    data["pfs_months"] = ipd[time_col].astype(float)
    data["pfs_event"] = ipd[event_col].astype(int)
    data["responder"] = data["best_response"].isin(["CR", "PR"])
    data["ongoing"] = data["pfs_event"] == 0
    data["patient"] = data["subtype"].astype(str) + " · " + data["id"].astype(str)
    data = data.sort_values(["pfs_months", "id"], ascending=[False, True], kind="stable")
    return data.reset_index(drop=True)


def swimmer_chart(
    ipd: pd.DataFrame,
    *,
    source: str = "Source: not stated",
    synthetic: bool | None = None,
    title: str = "Progression-free survival per patient (swimmer plot)",
    time_col: str = "pfs_months",
    event_col: str = "pfs_event",
    time_unit: str = "months",
    width: int = 560,
) -> dict:
    """One bar per patient (PFS time), coloured by best response; a star marks responders
    (CR/PR) and an arrow patients without progression at last follow-up (pfs_event == 0).

    The IPD format has no date of response, so the star sits just past the end of the bar: it
    marks the patient, not the time of response.
    """
    synthetic = ipd_is_synthetic(ipd) if synthetic is None else synthetic
    data = swimmer_frame(ipd, time_col, event_col)
    order = data["patient"].tolist()
    domain = [r for r in RESPONSE_ORDER if r in set(data["best_response"])] or ["CR"]
    x_max = float(data["pfs_months"].max()) if len(data) else 1.0
    x_scale = {"domain": [0, x_max * 1.08 + 0.5], "nice": False}
    y = field("patient", "nominal", sort=order, title="Patient (subtype · id)",
              axis={"labelFontSize": 10, "labelOverlap": False})
    tooltip = [
        tip("id", "nominal", "Patient"), tip("subtype", "nominal", "Subtype"),
        *([tip("regimen", "nominal", "Regimen")] if "regimen" in data else []),
        tip("best_response", "nominal", "Best response"),
        tip("pfs_months", title=f"PFS ({time_unit})", fmt=".1f"),
        tip("ongoing", "nominal", "No progression at last follow-up"),
    ]
    bars = {"mark": {"type": "bar", "height": {"band": 0.7}}, "encoding": {
        "y": y, "x": field("pfs_months", title=f"Progression-free survival ({time_unit})",
                           scale=x_scale),
        "color": _response_colour(domain), "tooltip": tooltip}}
    shape = field("marker", "nominal", title="Marker",
                  scale={"domain": [MARKER_RESPONDER, MARKER_ONGOING],
                         "range": [STAR_PATH, "triangle-right"]},
                  legend={"orient": "top", "labelLimit": 0})

    def markers(flag: str, marker: str, size: int, offset: int) -> dict:
        return {"mark": {"type": "point", "filled": True, "size": size, "color": "#111111",
                         "opacity": 1},
                "encoding": {"y": y, "x": field("pfs_months", scale=x_scale),
                             "xOffset": {"value": offset}, "shape": shape, "tooltip": tooltip},
                "transform": [{"filter": f"datum.{flag}"},
                              {"calculate": f"'{marker}'", "as": "marker"}]}

    stars = markers("responder", MARKER_RESPONDER, 80, 22)
    arrows = markers("ongoing", MARKER_ONGOING, 50, 7)
    n, responders, ongoing = len(data), int(data["responder"].sum()), int(data["ongoing"].sum())
    return top_level({
        "layer": [bars, stars, arrows], "autosize": FIT_X, "height": {"step": 16},
        "title": _title(
            title, source, synthetic,
            f"{n} patients; {responders} responders (star: the format has no response date, so it "
            f"marks the patient, not the time); {ongoing} without progression at last follow-up "
            "(arrow)",
        ),
        "width": width}, data)


# --------------------------------------------------------------------------------------------
# Reconstruction (Guyot 2012)
# --------------------------------------------------------------------------------------------


def reconstruction_chart(
    digitised_points: pd.DataFrame,
    reconstructed_km: KMInput,
    *,
    source: str = "Source: digitised published curve",
    synthetic: bool = False,
    time_unit: str = "months",
    title: str = "Reconstructed Kaplan-Meier curve over the digitised points (Guyot 2012)",
    width: int = 560,
    height: int = 300,
) -> dict:
    """The KM curve of the reconstructed pseudo-IPD (step line) over the digitised points."""
    pts = pd.DataFrame(
        {
            "time": pd.to_numeric(digitised_points["time"], errors="coerce"),
            "survival": pd.to_numeric(digitised_points["survival"], errors="coerce"),
        }
    ).dropna()
    if len(pts) and pts["survival"].max() > 1.5:  # digitised in percent
        pts["survival"] = pts["survival"] / 100.0
    pts["series"] = "Digitised points"
    km = _km_mapping(reconstructed_km)
    curve = km_curve_frame(km)[["time", "survival"]].copy()
    curve["series"] = "KM of the reconstructed pseudo-IPD"
    x_max = max(float(pts["time"].max()) if len(pts) else 0.0, _max_time(km), 1e-9)
    x = field("time", title=f"Time ({time_unit})", scale={"domain": [0, x_max], "nice": False})
    y_scale = {"domain": [0, 1]}
    colour = field("series", "nominal", title=None,
                   scale={"domain": ["Digitised points", "KM of the reconstructed pseudo-IPD"],
                          "range": ["#d94801", "#08519c"]},
                   legend={"orient": "top", "labelLimit": 0})
    curve_data, datasets = named_data(curve)
    point_data, point_rows = named_data(pts)
    line = {"data": curve_data,
            "mark": {"type": "line", "interpolate": "step-after", "strokeWidth": 2},
            "encoding": {"x": x, "y": field("survival", title="Survival probability",
                                            scale=y_scale, axis={"format": ".0%"}),
                         "color": colour}}
    points = {"data": point_data, "mark": {"type": "point", "filled": True, "size": 30},
              "encoding": {"x": x, "y": field("survival", scale=y_scale), "color": colour,
                           "tooltip": [tip("time", title=f"Time ({time_unit})", fmt=".2f"),
                                       tip("survival", title="S(t) digitised", fmt=".3f")]}}
    n = sum(r.n for r in km.values())
    return layered({
        "layer": [line, points], "autosize": FIT_X, "height": height,
        "title": _title(title, source, synthetic,
                        f"{len(pts)} digitised points; pseudo-IPD of {n} patients"),
        "width": width}, {**datasets, **point_rows})


# --------------------------------------------------------------------------------------------
# Large patient tables
# --------------------------------------------------------------------------------------------


def sample_patients(ipd: pd.DataFrame, limit: int, seed: int = 2023) -> tuple[pd.DataFrame, str]:
    """At most `limit` patients for a one-mark-per-patient chart, and a sentence saying so.

    A waterfall with thousands of bars or a swimmer plot tens of thousands of pixels tall is
    unreadable, and Altair refuses to embed more than 5,000 rows (the PNG/SVG downloads then
    silently fail). Above the limit a simple random sample with a fixed seed is drawn, so the
    same file always gives the same chart; the CSV downloads keep every patient.
    """
    if len(ipd) <= limit:
        return ipd, ""
    sample = ipd.sample(n=limit, random_state=seed).sort_index()
    return sample, (f"Drawn for a random sample of {limit:,} of the {len(ipd):,} patients "
                    f"(fixed seed {seed}) so the chart stays readable; the CSV download has "
                    "every patient.")
