"""Unit tests of comparators.charts.planning and charts.whatif: each builder's data and encodings.

Reference numbers: Simon (Control Clin Trials 1989;10:1-10), p0 0.1 / p1 0.3, alpha 0.05,
beta 0.2: optimal 1/10, 5/29 (alpha 0.047, power 0.805 as clinfun::ph2simon prints); the
exponential model's S(median) = 1/2 by construction.
"""

import math

import pandas as pd
import pytest

from comparators.charts.planning import (
    exponential_curves,
    oc_chart,
    precision_chart,
    survival_chart,
)
from comparators.charts.whatif import (
    density_frame,
    posterior_chart,
    scenario_effect_chart,
    standardised_chart,
)
from comparators.stats.bayes import JEFFREYS, BetaPosterior
from comparators.stats.phase2_design import oc_curve, precision_table, simon_designs
from comparators.vocab import HIGHLIGHT_COLOUR


def _layers(spec: dict) -> list[dict]:
    return spec.get("layer", [spec])


def test_oc_chart_draws_both_designs_and_marks_p0_p1() -> None:
    result = simon_designs(0.1, 0.3)
    opt, mm = result.optimal, result.minimax
    assert (opt.r1, opt.n1, opt.r, opt.n) == (1, 10, 5, 29)
    chart = oc_chart({"Optimal": oc_curve(opt), "Minimax": oc_curve(mm)}, 0.1, 0.3)
    spec = chart
    assert spec["title"]["text"] == "Operating characteristics over the true ORR"
    lines = _layers(spec)[0]
    assert lines["encoding"]["x"]["title"] == "True objective response rate (%)"
    data = pd.DataFrame(spec["datasets"][lines["data"]["name"]])
    assert set(data["design"]) == {"Optimal", "Minimax"}
    at_p0 = data[(data["design"] == "Optimal") & (data["p"].round(6) == 10)
                 & (data["quantity"] == "P(declared promising)")]
    assert at_p0["probability"].iloc[0] == pytest.approx(opt.alpha)
    rules = pd.DataFrame(spec["datasets"][_layers(spec)[1]["data"]["name"]])
    assert rules["x"].tolist() == pytest.approx([10, 30])


def test_posterior_chart_has_prior_posterior_and_threshold() -> None:
    post = BetaPosterior.from_counts(5, 7, JEFFREYS)
    frame = density_frame(post)
    assert set(frame["curve"]) == {"Prior", "Posterior"}
    # The Beta(5.5, 2.5) density integrates to ~1 over the grid.
    p = frame[frame["curve"] == "Posterior"]
    assert (p["density"] * (p["p"].diff().fillna(0))).sum() == pytest.approx(1, abs=0.01)
    spec = posterior_chart(frame, 0.3)
    rule = _layers(spec)[-1]
    assert pd.DataFrame(spec["datasets"][rule["data"]["name"]])["t"].tolist() == [30]


def test_precision_chart_marks_the_target() -> None:
    table = precision_table(0.3, range(10, 60, 5))
    spec = precision_chart(table, 0.15, 33)
    assert len(_layers(spec)) == 3
    assert _layers(spec)[0]["encoding"]["y"]["title"] == "CI half-width (percentage points)"


def test_exponential_curves_halve_at_the_median() -> None:
    curves = exponential_curves({"A": 8.9, "B": 6.27}, t_max=17.8, points=3)
    a = curves[curves["label"] == "A"]
    assert a["survival"].tolist() == pytest.approx([1, 0.5, 0.25])
    b = curves[curves["label"] == "B"]
    assert b["survival"].iloc[1] == pytest.approx(math.exp(-math.log(2) * 8.9 / 6.27))
    spec = survival_chart(curves, "A")
    assert _layers(spec)[0]["encoding"]["y"]["title"] == "Progression-free (exponential model)"


def test_standardised_chart_flags_partial_mixes() -> None:
    frame = pd.DataFrame({
        "mix": ["own", "SARC028 mix", "none"], "estimate": [13 / 27, 0.25, float("nan")],
        "low": [0.307, 0.05, float("nan")], "high": [0.66, 0.66, float("nan")],
        "coverage": [1.0, 0.5, 0.0], "missing": ["", "UPS, SS", "UPS"]})
    spec = standardised_chart(frame, crude=13 / 27)
    data = pd.DataFrame(spec["datasets"][_layers(spec)[0]["data"]["name"]])
    assert data["mix"].tolist() == ["own", "SARC028 mix"]  # no estimate, no dot
    assert data["complete"].tolist() == ["all target subtypes", "partial (subtypes missing)"]
    assert data["estimate"].iloc[0] == pytest.approx(100 * 13 / 27)


def test_scenario_effect_chart_colours_published_and_hypothetical() -> None:
    frame = pd.DataFrame({"quantity": ["This cohort"] * 2, "scenario": ["published",
                          "hypothetical"], "estimate": [5 / 7, 1.0], "low": [0.36, 0.65],
                          "high": [0.92, 1.0]})
    spec = scenario_effect_chart(frame)
    color = _layers(spec)[0]["encoding"]["color"]
    assert color["scale"]["domain"] == ["published", "hypothetical"]


def test_scenario_effect_chart_gives_every_estimate_its_own_labelled_line() -> None:
    # Two quantities before and after an edit: four lines, none sharing a row or a label.
    frame = pd.DataFrame({"quantity": ["This cohort", "This cohort", "Pooled, k = 9",
                                       "Pooled, k = 9"],
                          "scenario": ["Hospital X", "hypothetical"] * 2,
                          "estimate": [0.5, 0.7, 0.4, 0.42], "low": [0.2, 0.4, 0.3, 0.31],
                          "high": [0.8, 0.9, 0.5, 0.52]})
    spec = scenario_effect_chart(frame)
    y = _layers(spec)[0]["encoding"]["y"]
    assert y["field"] == "line" and len(y["sort"]) == 4 == len(set(y["sort"]))
    assert y["sort"][0] == "This cohort (Hospital X)"
    assert _layers(spec)[0]["encoding"]["color"]["scale"]["domain"] == ["Hospital X",
                                                                         "hypothetical"]
    assert spec["height"] == {"step": 30}


def test_survival_chart_draws_every_catalog_arm_at_once() -> None:
    # The page's "Also draw" menu offers every control arm of the catalog (39 today): more
    # lines than the palette's ten colours, which repeat.
    from comparators.analysis.trial_plan import control_arms
    from comparators.evidence.catalog import load_catalog

    arms = control_arms(load_catalog().trials)
    medians = {"This cohort": 8.9, **{arm.label: arm.median for arm in arms.values()}}
    assert len(medians) > 31
    colour = survival_chart(exponential_curves(medians), "This cohort")["layer"][0]["encoding"][
        "color"]["scale"]
    assert colour["domain"] == list(medians)
    assert colour["range"][0] == HIGHLIGHT_COLOUR
    assert HIGHLIGHT_COLOUR not in colour["range"][1:]
    assert colour["range"][1:11] == colour["range"][11:21]
