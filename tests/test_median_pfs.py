"""Median PFS as a benchmark endpoint (analysis.median_pfs) and `benchmark --endpoint median_pfs`.

Expected values are read from data/trials.csv with pandas, from the seed paper's printed
numbers (Liu et al., Sci Rep 2023, Results: "The median PFS for all 33 patients was 8.90 months
(95% CI 5.98-11.82)"; no subtype's median is printed) or computed by lifelines on the example
patients; the class pools themselves are checked against R in
tests/oracle/test_median_benchmark_oracle.py.
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from lifelines import KaplanMeierFitter

from comparators.__main__ import main
from comparators.analysis.benchmark import BenchmarkError, benchmark_subtype, subtype_rows
from comparators.analysis.endpoints import EndpointError, endpoint_counts
from comparators.analysis.median_pfs import benchmark_median
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.catalog import load_catalog
from comparators.evidence.cohort import ThisCohort, published_cohort
from comparators.evidence.ipd import aggregate_ipd, read_ipd

ROOT = Path(__file__).resolve().parent.parent
TRIALS = pd.read_csv(ROOT / "data" / "trials.csv")
MEDIAN = AnalysisOptions(endpoint="median_pfs")


@pytest.fixture(scope="module")
def catalog():  # type: ignore[no-untyped-def]
    return load_catalog()


def bench(catalog, subtype: str, options: AnalysisOptions = MEDIAN,  # type: ignore[no-untyped-def]
          cohort: ThisCohort | None = None):
    cohort = cohort or published_cohort(catalog.trials)
    rows = subtype_rows(catalog.trials, cohort, subtype, options.include_overlapping)
    return benchmark_median(rows, options, cohort)


def cli(*args: str) -> subprocess.CompletedProcess:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def test_this_cohorts_median_is_the_seed_papers_printed_one(catalog) -> None:
    whole = bench(catalog, "STS").cohort
    assert (whole.estimate, whole.low, whole.high) == (8.90, 5.98, 11.82)
    assert whole.source == "printed in the seed paper"
    asps = bench(catalog, "ASPS").cohort
    assert not asps.reported and asps.estimate is None
    assert asps.text.startswith("not reported for ASPS") and "8.90 months" in asps.text


def test_an_uploaded_cohorts_median_is_its_kaplan_meier_median(catalog) -> None:
    patients = read_ipd(ROOT / "data" / "example_ipd.csv")
    cohort = ThisCohort("MY-COHORT", "Uploaded", aggregate_ipd(patients), kind="synthetic",
                        caveat="synthetic", replaces="")
    subtype = "ASPS"
    mine = patients[patients["subtype"] == subtype]
    km = KaplanMeierFitter().fit(mine["pfs_months"], mine["pfs_event"])
    got = bench(catalog, subtype, cohort=cohort).cohort
    assert got.estimate == pytest.approx(float(km.median_survival_time_))
    assert "Kaplan-Meier" in got.source
    # the seed study is a comparator beside an uploaded cohort: its AI+ICI rows stay in
    assert bench(catalog, "STS", cohort=cohort).class_pools["AI+ICI"].k == 4


def test_a_class_of_one_arm_is_that_arms_own_median(catalog) -> None:
    row = TRIALS[(TRIALS["study"] == "ALTER0203") & (TRIALS["subtype"] == "LMS")].iloc[0]
    lms = bench(catalog, "LMS")
    assert list(lms.class_pools) == ["AI"]
    pool = lms.class_pools["AI"]
    assert pool.pooled is None and pool.k == 1
    assert (pool.estimate, pool.low, pool.high) == (row["pfs_median_months"], None, None)
    assert "one arm" in pool.label and "one arm" in lms.methods_paragraph()


def test_arms_pooled_are_the_catalog_rows_with_a_median(catalog) -> None:
    rows = TRIALS[(TRIALS["subtype"] == "ASPS") & (TRIALS["study"] != "LIU2023")
                  & TRIALS["overlaps_with"].isna() & TRIALS["pfs_median_months"].notna()]
    asps = bench(catalog, "ASPS")
    assert {c: p.k for c, p in asps.class_pools.items()} == \
        rows.groupby("regimen_class").size().to_dict()
    assert sorted(asps.arms_frame()["median"]) == sorted(rows["pfs_median_months"])


def test_the_method_text_is_read_from_each_pooled_result(catalog) -> None:
    both = bench(catalog, "AS", AnalysisOptions(endpoint="median_pfs",
                                                exclude=("TAPPAS · pazopanib",)))
    ai = both.class_pools["AI"]
    assert ai.method == "iv-log" and ai.k == 2
    text = both.methods_paragraph()
    assert ai.pooled is not None and ai.pooled.methods_text() in text
    assert "log-medians by inverse-variance weighting (McGrath et al. 2025" in text
    asps = bench(catalog, "ASPS").methods_paragraph()
    assert "weighted median of medians, weighted by patients (McGrath et al., Stat Med 2019)" \
        in asps


def test_this_cohort_enters_its_class_pool_only_when_asked(catalog) -> None:
    outside = bench(catalog, "STS").class_pools["AI+ICI"]
    inside = bench(catalog, "STS", AnalysisOptions(endpoint="median_pfs",
                                                   include_cohort=True)).class_pools["AI+ICI"]
    assert not outside.includes_cohort and inside.includes_cohort
    assert inside.k == outside.k + 1 and "LIU2023 · AI + ICI (real-world)" in inside.keys


@pytest.mark.parametrize("options", [
    AnalysisOptions(endpoint="median_pfs", method="GLMM"),
    AnalysisOptions(endpoint="median_pfs", method="BAYES"),
    AnalysisOptions(endpoint="median_pfs", primary_only=True),
])
def test_options_a_median_cannot_use_are_refused(catalog, options: AnalysisOptions) -> None:
    with pytest.raises(BenchmarkError):
        bench(catalog, "ASPS", options)


def test_the_proportion_pipeline_refuses_a_median(catalog) -> None:
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS")
    with pytest.raises(BenchmarkError, match="time in months"):
        benchmark_subtype(rows, MEDIAN)
    with pytest.raises(EndpointError, match="months"):
        endpoint_counts(rows, "median_pfs")


# --------------------------------------------------------------------------------- the CLI


def test_cli_json_has_the_benchmark_shape_in_months() -> None:
    orr = json.loads(cli("benchmark", "--subtype", "ASPS", "--json").stdout)
    run = cli("benchmark", "--subtype", "ASPS", "--endpoint", "median_pfs", "--json")
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert set(orr) <= set(got)
    assert got["endpoint"] == "median_pfs" and got["unit"] == "months"
    assert {c["class"] for c in got["classes"]} == {"AI+ICI", "ICI", "AI"}
    for c in got["classes"]:
        assert set(orr["classes"][0]) <= set(c) and c["unit"] == "months"
        arms = [a["median"] for a in got["arms"] if a["class"] == c["class"]]
        assert min(arms) <= c["estimate"] <= max(arms)  # a median of months, not a fraction
    assert got["cohort"] is None and got["cohort_note"].startswith("not reported for ASPS")
    assert "McGrath" in got["methods"]


def test_cli_text_names_months_and_the_method() -> None:
    run = cli("benchmark", "--subtype", "AS", "--endpoint", "median_pfs",
              "--exclude", "TAPPAS · pazopanib")
    assert run.returncode == 0, run.stderr
    assert "(months)" in run.stdout and "AI pooled, comparators only (k = 2)" in run.stdout
    assert "log-medians" in run.stdout


@pytest.mark.parametrize("extra, says", [
    (["--measure", "logit"], "--measure applies to proportions"),
    (["--ci-method", "wilson"], "--ci-method applies to proportions"),
    (["--method", "GLMM"], "pools proportions only"),
    (["--method", "BAYES"], "pools proportions only"),
    (["--primary-only"], "response counts only"),
])
def test_cli_refuses_proportion_only_options_in_one_line(extra: list[str], says: str) -> None:
    run = cli("benchmark", "--subtype", "ASPS", "--endpoint", "median_pfs", *extra, "--json")
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.count("\n") == 1 and says in run.stderr


def test_cli_measure_still_works_for_proportions() -> None:
    assert cli("benchmark", "--subtype", "ASPS", "--measure", "ft", "--json").returncode == 0


# ------------------------------------------------------------------------------ the figure


RENDER = ("import json, sys, vl_convert as vlc; "
          "sys.stdout.write(vlc.vegalite_to_svg(json.load(sys.stdin)))")


def test_the_forest_is_valid_vega_lite_and_renders_in_months(catalog) -> None:
    import sys

    import altair as alt

    from comparators.charts.median_forest import median_forest_chart, with_months_reference

    asps = bench(catalog, "ASPS")
    spec = with_months_reference(median_forest_chart(asps), 48.0)
    alt.LayerChart.from_dict(spec)  # raises on a spec the schema rejects
    domains = {str(layer["encoding"]["x"]["scale"]["domain"]) for layer in spec["layer"]
               if "scale" in layer.get("encoding", {}).get("x", {})}
    (domain,) = domains  # one axis for every layer, widened to show the reference
    assert domain.startswith("[0, ") and float(domain[4:-1]) >= 48
    # rendered in a subprocess: a native renderer that aborts fails the test, not pytest
    run = subprocess.run([sys.executable, "-c", RENDER], input=json.dumps({**spec, "width": 600}),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Median PFS (months)" in run.stdout and "reference 48 months" in run.stdout
    assert "%" not in run.stdout.replace("100%", "")


def test_a_median_exports_stamp_names_no_proportion_setting() -> None:
    """Every export of a median summary carries the stamp: it named the logit scale and
    Wilson study intervals, which a median pooling never uses."""
    from comparators.analysis.options import AnalysisOptions

    stamp = AnalysisOptions(endpoint="median_pfs").stamp()
    assert "median progression-free survival" in stamp and "McGrath" in stamp
    assert "logit" not in stamp and "Wilson" not in stamp and "REML" not in stamp
    assert "logit scale" in AnalysisOptions().stamp()  # a proportion's stamp keeps them


def test_the_median_forest_legend_names_only_the_groups_it_draws() -> None:
    """The legend listed ICI+ICI and 'This cohort' on an ASPS figure that draws neither."""
    from comparators.analysis.benchmark import subtype_rows
    from comparators.analysis.median_pfs import benchmark_median
    from comparators.analysis.options import AnalysisOptions
    from comparators.charts.median_forest import median_forest_chart, median_forest_rows
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort
    from comparators.vocab import CLASS_COLOURS

    cat = load_catalog()
    cohort = published_cohort(cat.trials)
    options = AnalysisOptions(endpoint="median_pfs")
    for subtype in ("ASPS", "AS", "LMS"):
        mb = benchmark_median(subtype_rows(cat.trials, cohort, subtype, False, {},
                                           "median_pfs"), options, cohort)
        drawn = set(median_forest_rows(mb)["group"])
        scales = [layer["encoding"]["color"]["scale"]
                  for layer in median_forest_chart(mb)["layer"]
                  if "scale" in layer.get("encoding", {}).get("color", {})]
        assert scales, subtype
        for scale in scales:
            assert set(scale["domain"]) == drawn, (subtype, scale["domain"], drawn)
            assert all(CLASS_COLOURS.get(g, colour) == colour
                       for g, colour in zip(scale["domain"], scale["range"], strict=True))
