"""AppTest of median PFS as the chosen endpoint: what the user sees on every page.

The benchmark page's class pools must be the engine's `benchmark_median` (whose numbers are
checked against R from data/trials.csv in tests/oracle/test_median_benchmark_oracle.py), drawn
on a months axis; the arms shown are read here from data/trials.csv. The pages that pool only
proportions say so in one line; a link carries the endpoint and reopens the same numbers.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
from apptest import chart_data, chart_specs, open_link, open_page, page_text

from comparators.analysis.benchmark import subtype_rows
from comparators.analysis.median_pfs import benchmark_median
from comparators.analysis.options import AnalysisOptions
from comparators.evidence.catalog import default_data_dir, load_catalog
from comparators.evidence.cohort import published_cohort

NOT_SUPPORTED = "median PFS (months) is not supported here"
TAPPAS = "TAPPAS · pazopanib"


def class_table(at) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return next(d.value for d in at.dataframe if "method_name" in d.value.columns
                ).set_index("class")


def shared_link(at) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    (code,) = [c.value for c in at.code if "catalog=" in c.value]
    return parse_qs(urlsplit(code).query)


def engine(subtype: str, **options: object):  # type: ignore[no-untyped-def]
    catalog = load_catalog()
    cohort = published_cohort(catalog.trials)
    return benchmark_median(subtype_rows(catalog.trials, cohort, subtype),
                            AnalysisOptions(endpoint="median_pfs", **options), cohort)  # type: ignore[arg-type]


def test_benchmark_shows_class_medians_on_a_months_axis() -> None:
    at = open_link("views/benchmark.py", {"subtype": "ASPS", "endpoint": "median_pfs"})
    assert at.selectbox(key="endpoint").value == "median_pfs"
    (spec,) = [s for s in chart_specs(at) if "Median progression-free" in str(s.get("title"))]
    x_titles = {layer["encoding"]["x"].get("title") for layer in spec["layer"]
                if "x" in layer.get("encoding", {})} - {None}
    assert x_titles == {"Median PFS (months)"}
    for layer in spec["layer"]:
        x = layer.get("encoding", {}).get("x", {})
        assert "%" not in str(x.get("axis", {})) and x.get("scale", {}).get("domain") != [0, 100]
    domain = spec["layer"][0]["encoding"]["x"]["scale"]["domain"]
    trials = pd.read_csv(default_data_dir() / "trials.csv")
    asps = trials[(trials["subtype"] == "ASPS") & (trials["study"] != "LIU2023")
                  & trials["overlaps_with"].isna() & trials["pfs_median_months"].notna()]
    assert domain[0] == 0 and domain[1] >= asps["pfs_median_months"].max()
    # the arms drawn are the catalog's ASPS arms with a median, in months
    drawn = next(d for d in chart_data(at) if "kind" in d.columns)
    assert sorted(drawn.loc[drawn["kind"] == "arm", "estimate"]) == \
        sorted(asps["pfs_median_months"])
    # the class table is the engine's result (checked against R), formatted in months
    table = class_table(at)
    want = engine("ASPS")
    assert list(table.index) == list(want.class_pools)
    for cls, pool in want.class_pools.items():
        assert table.loc[cls, "estimate"] == f"{pool.estimate:.2f}"
        assert table.loc[cls, "k"] == pool.k and table.loc[cls, "method_name"] == pool.method_name
    text = page_text(at)
    assert "median PFS not reported" in text and "not reported for ASPS" in text
    assert "Certainty of the evidence (GRADE) is not rated for median PFS" in text
    assert "percentage points" in text
    (methods,) = [c.value for c in at.code if "Median progression-free survival" in c.value]
    assert "McGrath et al." in methods and methods == want.methods_paragraph()


def test_log_median_inverse_variance_pool_and_a_reference_in_months() -> None:
    at = open_link("views/benchmark.py", {"subtype": "AS", "endpoint": "median_pfs",
                                          "exclude": TAPPAS, "reference_months": "6"})
    table = class_table(at)
    pool = engine("AS", exclude=(TAPPAS,)).class_pools["AI"]
    assert pool.method == "iv-log"
    assert table.loc["AI", "low"] == f"{pool.low:.2f}" and table.loc["AI", "k"] == 2
    assert "log-medians" in "\n".join(c.value for c in at.code)
    lines = [d for d in chart_data(at) if "reference" in d.columns]
    assert lines and lines[0]["reference"].tolist() == [6.0]
    assert lines[0]["text"].tolist() == ["reference 6 months"]


def test_a_link_keeps_median_pfs_and_reopens_the_same_numbers() -> None:
    at = open_link("views/benchmark.py", {"subtype": "AS", "endpoint": "MEDIAN_PFS",
                                          "exclude": TAPPAS, "reference_months": "4.5"})
    link = shared_link(at)
    assert link["endpoint"] == ["median_pfs"] and link["subtype"] == ["AS"]
    assert link["reference_months"] == ["4.5"] and link["exclude"] == [TAPPAS]
    again = open_link("views/benchmark.py", {k: v[-1] for k, v in link.items()})
    assert again.selectbox(key="endpoint").value == "median_pfs"
    assert again.number_input(key="reference_months").value == 4.5
    pd.testing.assert_frame_equal(class_table(again), class_table(at))
    assert shared_link(again) == link


@pytest.mark.parametrize("raw", ["-5", "1e400", "abc", "nan", "300"])
def test_a_hostile_reference_in_months_is_refused_not_drawn(raw: str) -> None:
    at = open_link("views/benchmark.py", {"subtype": "ASPS", "endpoint": "median_pfs",
                                          "reference_months": raw})
    assert at.number_input(key="reference_months").value is None
    assert not [d for d in chart_data(at) if "reference" in d.columns]


def test_a_model_for_proportions_is_one_clear_line_on_the_benchmark_page() -> None:
    at = open_link("views/benchmark.py", {"subtype": "ASPS", "endpoint": "median_pfs",
                                          "method": "GLMM"})
    (error,) = at.error
    assert "Cannot pool median PFS" in error.value and "proportions only" in error.value


PAGES = ["views/home.py", "views/cohort.py", "views/catalog.py", "views/benchmark.py",
         "views/across.py", "views/summary.py", "views/whatif.py", "views/planning.py",
         "views/survival.py", "views/audit.py"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_with_median_pfs_in_the_link(page: str) -> None:
    at = open_page(page, {"endpoint": "median_pfs"})  # asserts no exception
    assert at.title
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("page, what", [
    ("views/across.py", "Across subtypes (its class pools and meta-regression)"),
    ("views/planning.py", "Taking p0 and p1 from the evidence"),
])
def test_pages_that_pool_proportions_say_so_in_one_line(page: str, what: str) -> None:
    at = open_page(page, {"endpoint": "median_pfs"})
    (line,) = [i.value for i in at.info if NOT_SUPPORTED in i.value]
    assert line.startswith(what)
    assert shared_link(at)["endpoint"] == ["median_pfs"]


def test_across_keeps_its_borrowing_section_which_pools_response() -> None:
    at = open_page("views/across.py", {"endpoint": "median_pfs"})
    assert "Borrowing strength across subtypes" in page_text(at)
    assert not [s for s in chart_specs(at) if "by subtype" in str(s.get("title"))]


def test_what_if_pools_response_whatever_the_endpoint() -> None:
    at = open_page("views/whatif.py", {"endpoint": "median_pfs"})
    assert "Endpoint: ORR (objective response rate) on this page." in page_text(at)
    assert shared_link(at)["endpoint"] == ["median_pfs"]


def test_an_uploaded_cohorts_own_kaplan_meier_median_is_shown() -> None:
    from pathlib import Path

    from lifelines import KaplanMeierFitter

    from comparators.evidence.ipd import read_ipd

    fixture = Path(__file__).resolve().parent / "fixtures" / "ipd" / "valid.csv"
    at = open_page("views/survival.py")
    at.file_uploader[0].upload("my_cohort.csv", fixture.read_bytes(), "text/csv")
    at.run()
    at.switch_page("views/benchmark.py")
    at.run()
    at.selectbox(key="endpoint").set_value("median_pfs").run()
    at.selectbox(key="subtype").set_value("LMS").run()
    assert not at.exception
    patients = read_ipd(fixture)
    lms = patients[patients["subtype"] == "LMS"]
    km = KaplanMeierFitter().fit(lms["pfs_months"], lms["pfs_event"]).median_survival_time_
    (metric,) = [m for m in at.metric if m.label.endswith(": median PFS")]
    assert metric.value == f"{km:.2f} months"
    assert "Kaplan-Meier median of the uploaded patients" in page_text(at)
    at.selectbox(key="subtype").set_value("ASPS").run()  # one patient, censored: not reached
    (metric,) = [m for m in at.metric if m.label.endswith(": median PFS")]
    assert metric.value == "not reached" and "not reached for ASPS" in page_text(at)
