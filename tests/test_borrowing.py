"""Borrowing across subtypes (analysis.borrowing) and its shrinkage chart (charts.borrowing)."""

import pandas as pd
import pytest

from comparators.analysis.borrowing import (
    BorrowingError,
    borrow_across_subtypes,
    subtype_units,
)
from comparators.charts.borrowing import shrinkage_chart
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort


@pytest.fixture(scope="module")
def evidence():
    trials = load_catalog().trials
    return trials, published_cohort(trials)


def test_units_are_subtypes_never_aggregates(evidence) -> None:
    trials, cohort = evidence
    units = subtype_units(trials, cohort, "AI+ICI")
    assert not set(units["subtype"]) & {"STS", "SARCOMA"}
    assert units["subtype"].is_unique and (units["evaluable"] > 0).all()
    assert units.loc[units["subtype"] == "ASPS", "includes_cohort"].item()


def test_fit_reports_prior_and_exnex_probabilities(evidence) -> None:
    trials, cohort = evidence
    plain = borrow_across_subtypes(trials, cohort, "AI+ICI")
    assert "normal prior on μ (mean 0, sd 2)" in plain.prior
    assert "p_exchangeable" not in plain.to_frame()
    ex = borrow_across_subtypes(trials, cohort, "AI+ICI", exnex=True, p_exchangeable=0.5)
    frame = ex.to_frame()
    assert frame["p_exchangeable"].between(0, 1).all()
    assert "EXNEX" in ex.prior and "Neuenschwander" in ex.methods_text()
    # EXNEX lets the most extreme subtype (UPS, 0 responders) stay nearer its own data.
    ups = frame.set_index("subtype").loc["UPS"]
    assert ups["shrunk"] < plain.to_frame().set_index("subtype").loc["UPS", "shrunk"]


def test_refusals(evidence) -> None:
    trials, cohort = evidence
    one = trials[trials["subtype"] == "ASPS"]
    with pytest.raises(BorrowingError, match="at least 2"):
        borrow_across_subtypes(one, cohort.__class__(**{**cohort.__dict__,
                                                         "rows": cohort.rows.iloc[0:0]}),
                               "AI+ICI")
    with pytest.raises(BorrowingError, match="between 0.05 and 0.95"):
        borrow_across_subtypes(trials, cohort, "AI+ICI", exnex=True, p_exchangeable=1.0)
    with pytest.raises(BorrowingError, match="unknown regimen class"):
        borrow_across_subtypes(trials, cohort, "chemo")


def test_shrinkage_chart_points_arrows_from_observed_to_shrunken() -> None:
    frame = pd.DataFrame({"subtype": ["A", "B"], "arms": [1, 2], "responders": [0, 9],
                          "evaluable": [10, 10], "observed": [0.0, 0.9],
                          "shrunk": [0.1, 0.8], "low": [0.01, 0.6], "high": [0.3, 0.95]})
    spec = shrinkage_chart(frame, "t", ["s"])
    data = next(iter(spec["datasets"].values()))
    shapes = {d["subtype"]: d["direction"] for d in data}
    assert shapes == {"A": "triangle-right", "B": "triangle-left"}
    assert {d["subtype"]: d["shrunk"] for d in data} == {"A": 10.0, "B": 80.0}


def test_predictive_prior_for_a_new_arm_is_weaker_than_the_pooled_patients(evidence) -> None:
    from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
    from comparators.analysis.borrowing import class_predictive_prior

    trials, cohort = evidence
    bench = benchmark_subtype(subtype_rows(trials, cohort, "ASPS"))
    pp = class_predictive_prior(bench.rows, "ICI")
    comparators = bench.rows[(bench.rows["regimen_class"] == "ICI") & ~bench.rows["is_cohort"]]
    assert pp.k == len(comparators)
    assert pp.patients == int(comparators["evaluable"].sum())
    # A new arm varies around the class mean: its prior carries less than the pooled patients.
    assert 0 < pp.prior.effective_n < pp.patients
    assert pp.posterior.pi_low < pp.prior.mean < pp.posterior.pi_high
    assert "Beta(" in pp.describe() and "half-normal prior on τ (scale 1)" in pp.describe()
    with pytest.raises(BorrowingError, match="no chemo comparator"):
        class_predictive_prior(bench.rows, "chemo")
