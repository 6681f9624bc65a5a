"""Borrowing across subtypes (analysis.borrowing) and its shrinkage chart (charts.borrowing)."""

import csv
from pathlib import Path

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

DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.fixture(scope="module")
def evidence():
    trials = load_catalog().trials
    return trials, published_cohort(trials)


def test_units_are_subtypes_never_aggregates(evidence) -> None:
    trials, cohort = evidence
    units = subtype_units(trials, cohort, "AI+ICI")
    assert not set(units["subtype"]) & {"STS", "SARCOMA"}
    assert units["subtype"].is_unique and (units["evaluable"] > 0).all()
    assert not units["includes_cohort"].any()  # outside the class pools unless asked, as elsewhere
    inside = subtype_units(trials, cohort, "AI+ICI", include_cohort=True).set_index("subtype")
    assert inside.loc["ASPS", "includes_cohort"]


def _csv(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("regimen_class", ["ICI", "AI+ICI"])
def test_units_are_the_soft_tissue_arms_of_the_class_read_from_the_csv(
        evidence, regimen_class: str) -> None:
    """The units are the class's arms in trials.csv, one soft-tissue subtype each: bone tumours
    (their subtypes.csv note says so: osteosarcoma, Ewing, chondrosarcoma, chordoma), aggregate
    rows, the seed paper's own rows and rows that re-count another study's patients are left
    out; this cohort is not counted unless asked."""
    trials, cohort = evidence
    bone = {row["code"] for row in _csv("subtypes.csv")
            if row["note"].lower().startswith(("bone sarcoma", "bone tumour"))}
    assert {"OS", "EWING", "CHS"} <= bone
    arms: dict[str, list[tuple[int, int]]] = {}
    for row in _csv("trials.csv"):
        if (row["regimen_class"] == regimen_class and row["study"] != cohort.study
                and not row["overlaps_with"] and int(row["evaluable"]) > 0
                and row["subtype"] not in bone | {"STS", "SARCOMA"}):
            arms.setdefault(row["subtype"], []).append((int(row["responders"]),
                                                        int(row["evaluable"])))
    units = subtype_units(trials, cohort, regimen_class).set_index("subtype")
    assert set(units.index) == set(arms)
    assert not set(units.index) & bone
    for subtype, counts in arms.items():
        assert units.loc[subtype, "arms"] == len(counts)
        assert units.loc[subtype, "responders"] == sum(x for x, _ in counts)
        assert units.loc[subtype, "evaluable"] == sum(n for _, n in counts)


def test_this_cohort_counts_only_when_asked(evidence) -> None:
    # Liu et al. 2023 (the seed), Table 2: ASPS 5/7 responders on AI+ICI.
    trials, cohort = evidence
    out = borrow_across_subtypes(trials, cohort, "AI+ICI").units.set_index("subtype")
    inside = borrow_across_subtypes(trials, cohort, "AI+ICI", include_cohort=True)
    units = inside.units.set_index("subtype")
    assert units.loc["ASPS", "responders"] - out.loc["ASPS", "responders"] == 5
    assert units.loc["ASPS", "evaluable"] - out.loc["ASPS", "evaluable"] == 7
    assert "this cohort is counted among the AI+ICI arms" in inside.methods_text()


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
