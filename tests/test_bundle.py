"""The reproduction bundle's files (reports.bundle), without R: what goes in, what never does.
The numbers are checked against R in tests/oracle/test_bundle_oracle.py."""

from __future__ import annotations

import io
import json
import zipfile

import pandas as pd

from comparators.analysis.benchmark import benchmark_subtype
from comparators.analysis.options import AnalysisOptions
from comparators.reports.bundle import build_bundle, bundle_files, r_test


def _rows(label: str) -> pd.DataFrame:
    return pd.DataFrame({
        "study": ["S1", "S2", "ME"], "arm": ["a", "b", "c"], "subtype": "ASPS",
        "regimen_class": ["AI", "AI", "AI+ICI"], "responders": [3, 4, 2],
        "evaluable": [10, 12, 5], "is_cohort": [False, False, True],
        "key": ["S1 · a", "S2 · b", "ME · c"], "label": ["S1", label, "This cohort"]})


def test_user_text_stays_out_of_the_scripts_and_is_inert_in_the_csv() -> None:
    hostile = '=HYPERLINK("http://x")"); system("rm -rf /'
    files = bundle_files(benchmark_subtype(_rows(hostile), AnalysisOptions()), "catalog 4.0.0")
    assert b"HYPERLINK" not in files["reproduce.R"] and b"HYPERLINK" not in files["reproduce.py"]
    rows = pd.read_csv(io.BytesIO(files["rows.csv"]))
    assert rows.loc[1, "label"].startswith("'=")
    # this cohort is outside its class pool by default: not in the rows R pools
    assert list(rows["in_class_pool"]) == [1, 1, 0]
    assert json.loads(files["options.json"])["options"]["method"] == "REML"


def test_settings_follow_the_options() -> None:
    bm = benchmark_subtype(_rows("x"), AnalysisOptions(method="PM", measure="ft", hksj=True,
                                                      hksj_variant="plain", level=0.9))
    r = bundle_files(bm)["reproduce.R"].decode()
    for line in ('MEASURE <- "PFT"', 'METHOD <- "PM"', 'TEST <- "knha"', "LEVEL <- 90.0",
                 'TO <- "none"'):
        assert line in r
    assert r_test("GLMM", True, "adhoc") == "t" and r_test("REML", True, "adhoc") == "adhoc"
    assert r_test("REML", False, "plain") == "z"


def test_zip_is_deterministic_and_bayesian_bundles_have_no_r_script() -> None:
    bm = benchmark_subtype(_rows("x"), AnalysisOptions())
    assert build_bundle(bm, "c") == build_bundle(bm, "c")
    bayes = benchmark_subtype(_rows("x"), AnalysisOptions(method="BAYES"))
    names = zipfile.ZipFile(io.BytesIO(build_bundle(bayes))).namelist()
    assert "reproduce_ASPS/reproduce.R" not in names
    assert "reproduce_ASPS/reproduce.py" in names
