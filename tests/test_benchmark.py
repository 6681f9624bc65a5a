"""The benchmark engine: row selection, class pooling and comparisons.

Newcombe RG. Interval estimation for the difference between independent proportions:
comparison of eleven methods. Stat Med 1998;17:873-890, Table II, method 10 (hybrid score,
no continuity correction) prints the six examples below to 4 decimals.
"""

import pytest

from comparators.analysis.benchmark import (
    BenchmarkError,
    benchmark_subtype,
    newcombe_difference,
    subtype_rows,
)
from comparators.analysis.options import AnalysisOptions
from comparators.errors import InputError
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import published_cohort
from comparators.stats.proportions import proportion_ci


@pytest.mark.parametrize(
    ("a", "m", "b", "n", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (6, 7, 2, 7, 0.0582, 0.8062),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
    ],
)
def test_newcombe_1998_table_ii_method_10(a, m, b, n, low, high) -> None:
    d, lo, hi = newcombe_difference(proportion_ci(a, m), proportion_ci(b, n))
    assert d == pytest.approx(a / m - b / n)
    assert (round(lo, 4), round(hi, 4)) == (low, high)


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


def test_asps_rows_put_this_cohort_first_and_keep_every_comparator(catalog) -> None:
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    first = rows.iloc[0]
    assert first["is_cohort"] and (first["responders"], first["evaluable"]) == (5, 7)
    assert rows["key"].is_unique
    assert "WILKY2019 · axitinib + pembrolizumab" in set(rows["key"])
    assert (rows["study"] == "LIU2023").sum() == 1  # the seed's own row is not duplicated


def test_overlapping_cohorts_are_left_out_unless_asked(catalog) -> None:
    cohort = published_cohort(catalog.trials)
    assert "SARC028-EXP" not in set(subtype_rows(catalog.trials, cohort, "UPS")["study"])
    assert "SARC028-EXP" in set(subtype_rows(catalog.trials, cohort, "UPS", True)["study"])


def test_class_pools_leave_this_cohort_out_and_comparisons_cover_every_arm(catalog) -> None:
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    bm = benchmark_subtype(rows)
    ai_ici = rows[(rows["regimen_class"] == "AI+ICI") & ~rows["is_cohort"]]
    assert bm.class_pools["AI+ICI"].k == len(ai_ici)
    assert not bm.class_pools["AI+ICI"].includes_cohort
    assert bm.fit.k == len(rows)
    assert len(bm.comparisons) == len(rows) - 1
    assert all(c.a_estimate == pytest.approx(5 / 7) for c in bm.comparisons)
    estimable = [p for p in bm.class_pools.values() if p.estimable]
    assert bm.q_between is not None and bm.q_between_df == len(estimable) - 1


def test_including_the_cohort_puts_it_in_its_class_pool_only(catalog) -> None:
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    out = benchmark_subtype(rows)
    inside = benchmark_subtype(rows, AnalysisOptions(include_cohort=True))
    assert inside.class_pools["AI+ICI"].k == out.class_pools["AI+ICI"].k + 1
    assert inside.class_pools["AI+ICI"].includes_cohort
    assert inside.class_pools["ICI"].estimate == out.class_pools["ICI"].estimate
    assert "incl. this cohort" in inside.class_pools["AI+ICI"].label


def test_headline_difference_is_newcombe_square_and_add_of_the_two_intervals(catalog) -> None:
    # Newcombe (Stat Med 1998;17:873) method 10 applied to a pooled interval (Zou & Donner 2008):
    # recomputed here by hand from the two intervals the benchmark object reports.
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    bm = benchmark_subtype(rows)
    c = next(h for h in bm.headline if h.a == "AI+ICI" and h.b == "ICI")
    a, b = bm.class_pools["AI+ICI"], bm.class_pools["ICI"]
    d = a.estimate - b.estimate
    assert c.difference == pytest.approx(d)
    assert c.low == pytest.approx(d - ((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
                                  ** 0.5)
    assert c.high == pytest.approx(d + ((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
                                   ** 0.5)
    assert 0 <= c.p <= 1


def test_excluding_rows_changes_the_pool_and_all_excluded_is_an_error(catalog) -> None:
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    full = benchmark_subtype(rows)
    drop = next(k for k in rows["key"] if not rows.loc[rows["key"] == k, "is_cohort"].item())
    fewer = benchmark_subtype(rows, AnalysisOptions(exclude=(drop,)))
    assert fewer.fit.k == full.fit.k - 1 and fewer.fit.estimate != full.fit.estimate
    assert fewer.excluded == (drop,) and drop in fewer.methods_paragraph()
    with pytest.raises(BenchmarkError):
        benchmark_subtype(rows, AnalysisOptions(exclude=tuple(rows["key"])))


def test_methods_paragraph_names_what_was_done(catalog) -> None:
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "UPS")
    text = benchmark_subtype(rows, AnalysisOptions(method="GLMM")).methods_paragraph()
    assert "random-intercept logistic model" in text and "continuity correction" not in text
    text = benchmark_subtype(rows, AnalysisOptions(method="DL", hksj=True)).methods_paragraph()
    assert "DerSimonian-Laird" in text and "Hartung-Knapp" in text
    zero = rows[(rows["responders"] == 0) & ~rows["is_cohort"]]
    if not zero.empty:  # 0% arms get the correction, and the text names them
        assert "continuity correction of 0.5" in text


def test_options_reject_unknown_values_and_list_the_valid_ones() -> None:
    with pytest.raises(InputError, match="REML"):
        AnalysisOptions(method="remly")
    assert AnalysisOptions(method="reml", measure="LOGIT").method == "REML"  # codes in any case
    with pytest.raises(InputError, match="level"):
        AnalysisOptions(level=95)
    assert AnalysisOptions(exclude=("b", "a", "b")).exclude == ("a", "b")


def test_primary_only_pools_only_rows_read_from_the_trials_own_papers(catalog) -> None:
    from comparators.evidence.labels import verification_marks

    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    marks = verification_marks(rows)
    primary = benchmark_subtype(rows, AnalysisOptions(primary_only=True))
    assert not set(primary.rows["key"]) & set(marks)  # every marked row left out
    unmarked = rows[~rows["key"].isin(marks) & ~rows["is_cohort"]]
    for cls, pool in primary.class_pools.items():
        assert pool.k == int((unmarked["regimen_class"] == cls).sum())
    assert "Sensitivity analysis: only arms" in primary.methods_paragraph()
    assert "primary-source only" in primary.options.stamp()


def test_summary_reports_the_primary_only_result_when_it_differs(catalog) -> None:
    from comparators.evidence.audit import audit_published
    from comparators.evidence.labels import verification_marks
    from comparators.reports.summary import build_summary

    cohort = published_cohort(catalog.trials)
    rows = subtype_rows(catalog.trials, cohort, "ASPS")
    summary = build_summary(catalog.trials, catalog.references, audit_published(), cohort,
                            ["ASPS"])
    sentence = "With only the numbers read from the trials' own full papers"
    comparators = rows[~rows["is_cohort"]]
    if set(comparators["key"]) & set(verification_marks(rows)):
        assert sentence in summary.sections[0].narrative
    else:
        assert sentence not in summary.sections[0].narrative


@pytest.mark.parametrize("primary_only", [False, True])
def test_this_cohort_is_never_compared_with_a_pool_that_contains_it(catalog, primary_only
                                                                     ) -> None:
    from comparators.analysis.benchmark import compare_cohort_with_pool
    from comparators.reports.summary import summarisable_subtypes

    cohort = published_cohort(catalog.trials)
    options = AnalysisOptions(include_cohort=True, primary_only=primary_only)
    seen = 0
    for code in summarisable_subtypes(catalog.trials):
        try:
            bm = benchmark_subtype(subtype_rows(catalog.trials, cohort, code), options)
        except BenchmarkError:
            continue
        if bm.cohort_key is None or "AI+ICI" not in bm.class_pools:
            continue
        pool = bm.class_pools["AI+ICI"]
        assert pool.includes_cohort  # the class pool holds it, as asked
        ref = bm.cohort_reference
        mine = [c for c in bm.headline if c.a == "This cohort"]
        if ref is None:  # the cohort alone in its pool: no comparison, and a note says why
            assert pool.k == 1 and not mine
            assert any("only AI+ICI arm" in n for n in bm.notes)
        else:
            assert bm.cohort_key not in ref.keys and set(ref.keys) == set(pool.keys) - {
                bm.cohort_key}
            (c,) = mine
            assert c.k_b == ref.k and c.b_estimate == ref.estimate and c.p < 1
            with pytest.raises(BenchmarkError, match="inside"):
                compare_cohort_with_pool(bm.cohort_row, pool, "This cohort", options)
        seen += 1
    assert seen >= 2


def test_only_the_pool_that_leaves_this_cohort_out_is_called_the_other_arms(catalog) -> None:
    # With this cohort inside the class pools, only the AI+ICI pool of the other arms leaves it
    # out; the ICI pool never held it, so a comparison with it names the ICI pool as it is.
    from comparators.analysis.benchmark import compare_cohort_with_pool

    bm = benchmark_subtype(subtype_rows(catalog.trials, published_cohort(catalog.trials),
                                        "ASPS"), AnalysisOptions(include_cohort=True))
    ref, ici = bm.cohort_reference, bm.class_pools["ICI"]
    assert ref is not None and not ici.includes_cohort
    (mine,) = [c for c in bm.headline if c.a == "This cohort"]
    assert mine.b_label == f"the other AI+ICI arms pooled (k = {ref.k})"
    with_ici = compare_cohort_with_pool(bm.cohort_row, ici, "This cohort", bm.options)
    assert with_ici.b_label == f"ICI pooled (k = {ici.k})"
    assert with_ici.what == f"This cohort vs ICI pooled (k = {ici.k})"
    assert all("other" not in p.short for p in bm.class_pools.values())
    # with the cohort kept out of every pool, the AI+ICI pool is the class pool as it is
    outside = benchmark_subtype(subtype_rows(catalog.trials, published_cohort(catalog.trials),
                                             "ASPS"))
    (plain,) = [c for c in outside.headline if c.a == "This cohort"]
    assert plain.b_label == f"AI+ICI pooled (k = {ref.k})"


def test_the_cli_gives_the_pages_comparison_for_a_cohort_inside_its_pool(catalog) -> None:
    import contextlib
    import io
    import json

    from comparators.__main__ import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["benchmark", "--subtype", "LMS", "--include-cohort", "--primary-only",
                     "--json"]) == 0
    payload = json.loads(out.getvalue())
    assert not any(c["what"].startswith("This cohort") for c in payload["comparisons"])
    assert any("only AI+ICI arm" in n for n in payload["notes"])
    bm = benchmark_subtype(subtype_rows(catalog.trials, published_cohort(catalog.trials), "LMS"),
                           AnalysisOptions(include_cohort=True, primary_only=True))
    assert [c["what"] for c in payload["comparisons"]] == [c.what for c in bm.headline]
