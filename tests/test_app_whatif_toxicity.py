"""AppTest of the What-if page's toxicity section: a hypothetical grade >= 3 TRAE rate for this
cohort beside the pooled grade >= 3 TRAE rate of each regimen class.

Expected numbers are derived here from data/trials.csv with pandas (data/README.md: grade >= 3
TRAE = trae_g3 / n_treated of the arm, on its all-subtype row when the arm treated several
histologies), pooled with the default model (logit, REML: stats.pooling, checked against metafor
in tests/oracle), and differenced with the square-and-add interval (Newcombe, Stat Med
1998;17:873; Zou & Donner 2008) built here from statsmodels' Wilson interval. This cohort's
observed rate is the seed paper's (Liu 2023, Results: grade 3-4 TRAEs in 50% of the 30 patients
evaluable for safety).
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from apptest import open_page, page_text
from statsmodels.stats.proportion import proportion_confint
from test_benchmark_endpoints import comparators, expected_counts

from comparators.stats.pooling import pool_proportions

PAGE = "views/whatif.py"


def class_safety(subtype: str, regimen_class: str) -> list[tuple[int, int]]:
    """(patients with a grade >= 3 TRAE, patients treated) of each comparator arm of the class
    that reported `subtype` and reports safety (its own row's, else its arm's all-subtype
    row's: test_benchmark_endpoints.expected_counts)."""
    rows = expected_counts(comparators(subtype), "grade3")
    rows = rows[rows["regimen_class"] == regimen_class]
    return [(int(x), int(n)) for x, n in zip(rows["num"], rows["den"], strict=True)]


def square_and_add(k: int, n: int, pooled: float, low: float, high: float
                   ) -> tuple[float, float, float]:
    """k/n (Wilson) minus a pooled rate with its interval: Newcombe's method 10 / MOVER."""
    p = k / n
    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    d = p - pooled
    return (d, d - math.hypot(p - lo, high - pooled), d + math.hypot(hi - p, pooled - low))


def toxicity_table(at) -> pd.DataFrame:
    return next(d.value for d in at.dataframe if "difference" in d.value.columns
                and "pool" in d.value.columns)


def metrics(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def test_a_hypothetical_rate_beside_each_class_pool() -> None:
    at = open_page(PAGE, {"whatif_subtype": "ASPS", "tox_patients": "30", "tox_events": "15"})
    text = page_text(at)
    assert "Toxicity: a hypothetical grade ≥ 3 TRAE rate" in text
    assert "This cohort reports 15 of 30 patients treated (50.0%)" in text  # Liu 2023
    assert "Safety is reported per arm" in text  # the pools are the arms' all-subtype counts
    shown = metrics(at)
    assert shown["Hypothetical grade ≥ 3 TRAE"][0] == "50.0%"
    table = toxicity_table(at)
    for cls in ("AI+ICI", "ICI"):
        arms = class_safety("ASPS", cls)
        assert arms, cls
        fit = pool_proportions([a for a, _ in arms], [n for _, n in arms])
        label = f"{cls} pooled (k = {len(arms)})"
        row = table[table["pool"] == label].iloc[0]
        assert (row["k"], row["events"], row["n"]) == (
            len(arms), sum(a for a, _ in arms), sum(n for _, n in arms))
        assert row["pooled"] == pytest.approx(100 * fit.estimate)
        d, lo, hi = square_and_add(15, 30, fit.estimate, fit.low, fit.high)
        assert (row["difference"], row["low"], row["high"]) == pytest.approx(
            (100 * d, 100 * lo, 100 * hi), abs=1e-6)
        value, delta = shown[f"{label}: grade ≥ 3 TRAE"]
        assert value == f"{100 * fit.estimate:.1f}%"
        assert delta == f"{100 * d:+.1f} pp hypothetical vs pooled"
        assert f"{100 * d:+.1f} points from {label}" in text


def test_with_this_cohort_inside_its_pool_only_its_own_class_is_the_other_arms() -> None:
    # this cohort (Liu 2023, AI+ICI) inside the class pools: the hypothetical rate is compared
    # with the AI+ICI arms other than this cohort, and with the ICI pool as it is
    at = open_page(PAGE, {"whatif_subtype": "ASPS", "tox_patients": "30", "tox_events": "15",
                          "include_cohort": "true"})
    table = toxicity_table(at)
    ai_ici, ici = class_safety("ASPS", "AI+ICI"), class_safety("ASPS", "ICI")
    assert list(table["pool"]) == [f"the other AI+ICI arms pooled (k = {len(ai_ici)})",
                                   f"ICI pooled (k = {len(ici)})"]
    shown = metrics(at)
    assert f"ICI pooled (k = {len(ici)}): grade ≥ 3 TRAE" in shown
    assert "points from the other ICI arms" not in page_text(at)


def test_a_percentage_is_rounded_to_whole_patients_and_linked() -> None:
    at = open_page(PAGE, {"whatif_subtype": "ASPS", "tox_entry": "percent",
                          "tox_patients": "40", "tox_percent": "12.5"})
    text = page_text(at)
    assert "12.5% of 40 patients treated = 5 patients" in text
    assert metrics(at)["Hypothetical grade ≥ 3 TRAE"][0] == "12.5%"
    assert "5/40 patients treated" in text
    # typing another rate reruns the section
    at.number_input(key="tox_percent").set_value(25.0).run()
    assert not at.exception
    assert "25% of 40 patients treated = 10 patients" in page_text(at)


def test_impossible_rates_are_refused_with_the_limit_named() -> None:
    at = open_page(PAGE, {"whatif_subtype": "ASPS", "tox_patients": "30", "tox_events": "31"})
    errors = " ".join(e.value for e in at.error)
    assert "Patients with a grade ≥ 3 TRAE: 31 is more than the 30 patients treated" in errors
    assert not any("difference" in d.value.columns for d in at.dataframe
                   if "pool" in d.value.columns)
    # a link value beyond the widget's bound is dropped and named, not used
    at = open_page(PAGE, {"whatif_subtype": "ASPS", "tox_patients": "20000",
                          "tox_events": "15"})
    text = page_text(at)
    assert "outside this setting's range, 1 to 10000" in text
    assert "Hypothetical grade ≥ 3 TRAE" not in metrics(at)


def test_nothing_is_compared_until_a_rate_is_entered() -> None:
    at = open_page(PAGE, {"whatif_subtype": "ASPS"})
    assert "Enter the patients treated and the rate to compare it." in page_text(at)
    assert "Hypothetical grade ≥ 3 TRAE" not in metrics(at)
