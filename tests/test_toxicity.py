"""analysis.toxicity: a hypothetical grade >= 3 TRAE rate, its bounds checked before any work,
compared with the grade >= 3 TRAE class pools of a subtype's benchmark (never with a pool that
holds this cohort's observed rate).

Expected counts come from data/trials.csv via tests/test_app_whatif_toxicity.class_safety
(pandas, by data/README.md's definitions); intervals from statsmodels' Wilson interval.
"""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import proportion_confint
from test_app_whatif_toxicity import class_safety

from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
from comparators.analysis.options import AnalysisOptions
from comparators.analysis.toxicity import (
    ToxicityInputError,
    compare_toxicity,
    hypothetical_toxicity,
)
from comparators.errors import InputError
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.limits import MAX_SCENARIO_PATIENTS


@pytest.fixture(scope="module")
def cat():
    return load_catalog()


def safety_benchmark(cat, subtype: str = "ASPS", **options):
    return benchmark_subtype(
        subtype_rows(cat.trials, published_cohort(cat.trials), subtype, endpoint="grade3"),
        AnalysisOptions(endpoint="grade3", **options))


@pytest.mark.parametrize(("args", "message"), [
    ((0, 0), "Patients treated: must be at least 1"),
    ((MAX_SCENARIO_PATIENTS + 1, 1), f"more than the limit of {MAX_SCENARIO_PATIENTS:,}"),
    (("1e400", 1), "Patients treated"),
    ((30, 31), "31 is more than the 30 patients treated"),
    ((30, -1), "negative"),
    ((30, 2.5), "not a whole number"),
    ((30, None, 100.5), "100.5 is outside 0 to 100"),
    ((30, None, "nan"), "Grade ≥ 3 TRAE (%)"),
    ((30, None, None), "not both or neither"),
    ((30, 15, 50), "not both or neither"),
])
def test_bounds_are_checked_and_named(args, message: str) -> None:
    with pytest.raises(ToxicityInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        hypothetical_toxicity(*args)
    assert issubclass(ToxicityInputError, InputError)  # every page and the CLI catch it


@pytest.mark.parametrize(("share", "n", "events"), [
    (50, 30, 15), (12.5, 40, 5), (33.3, 30, 10), (1, 30, 0), (2, 25, 1), (0, 9, 0), (100, 9, 9)])
def test_a_percentage_becomes_whole_patients_rounded_half_up(share, n, events) -> None:
    h = hypothetical_toxicity(n, percent_treated=share)
    assert (h.events, h.patients, h.percent) == (events, n, share)
    assert h.describe().startswith(f"{share:g}% of {n} patients treated = {events} patient")


def test_compared_with_each_class_pool_of_the_safety_benchmark(cat) -> None:
    bm = safety_benchmark(cat)
    result = compare_toxicity(hypothetical_toxicity(30, 15), bm)
    assert result.observed == (15, 30)  # Liu 2023: grade 3-4 TRAEs in 50% of 30
    assert [p.regimen_class for p in result.pools] == list(bm.class_pools)
    assert all(p is bm.class_pools[p.regimen_class] for p in result.pools)  # the same objects
    for pool in result.pools:
        arms = class_safety("ASPS", pool.regimen_class)
        assert (pool.k, pool.events, pool.n) == (len(arms), sum(a for a, _ in arms),
                                                sum(n for _, n in arms))
    assert (result.low, result.high) == pytest.approx(
        proportion_confint(15, 30, alpha=0.05, method="wilson"))
    frame = result.to_frame()
    assert list(frame["pool"]) == [p.short for p in result.pools]
    assert frame["difference"].tolist() == pytest.approx([0.5 - p.estimate for p in result.pools])
    assert result.notes[0].startswith("Safety is reported per arm")


def test_the_cohort_inside_its_pool_is_compared_with_the_other_arms(cat) -> None:
    bm = safety_benchmark(cat, include_cohort=True)
    assert bm.class_pools["AI+ICI"].includes_cohort
    result = compare_toxicity(hypothetical_toxicity(30, 3), bm)
    ai_ici = result.pools[0]
    assert ai_ici is bm.cohort_reference and not ai_ici.includes_cohort
    labels = list(result.to_frame()["pool"])
    assert labels[0] == f"the other AI+ICI arms pooled (k = {ai_ici.k})"
    assert labels[1] == bm.class_pools["ICI"].short  # a pool without the cohort, as it is


def test_bayesian_model_gives_posterior_probabilities(cat) -> None:
    result = compare_toxicity(hypothetical_toxicity(30, 3), safety_benchmark(cat, method="BAYES"))
    frame = result.to_frame()
    assert frame["p"].isna().all() and frame["prob_positive"].between(0, 1).all()
    assert "P(difference > 0)" in result.sentence() and "95% CrI" in result.sentence()


def test_an_orr_benchmark_is_refused(cat) -> None:
    orr = benchmark_subtype(subtype_rows(cat.trials, published_cohort(cat.trials), "ASPS"))
    with pytest.raises(ValueError, match="endpoint='grade3'"):
        compare_toxicity(hypothetical_toxicity(30, 15), orr)
