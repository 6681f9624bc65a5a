"""IPD format: validation (one fixture per error), reading, aggregation, and the synthetic example.

The example's expected counts are the seed paper's published numbers (Liu et al., Sci Rep 2023,
doi 10.1038/s41598-023-30412-6): Table 1 (histology, treatment line), Results "Efficacy"
(27 evaluable: CR 3, PR 10, SD 10; ASPS 7 evaluable: 5 PR, 2 SD; non-ASPS 20: 3 CR, 5 PR, 8 SD),
Discussion (AS: both responded; LMS: 1 of 2; DDLPS: 0 of 3 evaluable), follow-up range
0.8-25.5 months, median PFS 8.90 months, median OS not reached.
"""

from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pandas as pd
import pytest

from comparators.evidence.ipd import IPDError, aggregate_ipd, read_ipd, regimen_class
from comparators.stats.survival import km_fit

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "ipd"
EXAMPLE = ROOT / "data" / "example_ipd.csv"
TEMPLATE = ROOT / "data" / "ipd_template.csv"


# ---------------------------------------------------------------- one fixture per error


@pytest.mark.parametrize(
    "fixture, message",
    [
        ("bad_event.csv", "row 4, column 'pfs_event': expected 0 or 1, got 2"),
        ("missing_column.csv", "missing required column(s): time_unit"),
        ("extra_column.csv", "unexpected column(s): favourite_colour"),
        ("wrong_type.csv", "row 2, column 'pfs_time': expected a number, got 'two'"),
        ("duplicate_id.csv", "row 3, column 'id': duplicate id 'P1' (first used in row 1)"),
        ("unknown_subtype.csv", "row 1, column 'subtype': unknown subtype 'OSTEO'"),
        (
            "unknown_response.csv",
            "row 3, column 'best_response': unknown best response 'MR' (known: CR, PR, SD, PD, NE)",
        ),
        ("negative_time.csv", "row 2, column 'os_time': time must be >= 0, got -3"),
        ("nan_time.csv", "row 3, column 'pfs_time': value is missing"),
        ("inf_time.csv", "row 3, column 'os_time': value is infinite"),
        (
            "absurd_time.csv",
            "row 1, column 'os_time': 300 months is more than the plausible maximum",
        ),
        ("pfs_exceeds_os.csv", "row 3, column 'pfs_time': PFS (13) is longer than OS"),
        ("bad_time_unit.csv", "row 2, column 'time_unit': unknown time unit"),
        ("pr_not_shrinking.csv", "row 1, column 'best_pct_change': PR needs a decrease"),
        ("empty.csv", "empty.csv is empty"),
        ("header_only.csv", "header but no patient rows"),
        ("binary_renamed.csv", "is not a text CSV file"),
    ],
)
def test_each_error_fixture_names_row_and_column(fixture: str, message: str) -> None:
    with pytest.raises(IPDError) as exc:
        read_ipd(FIX / fixture)
    assert message in str(exc.value)


def test_ipd_error_is_a_value_error() -> None:
    assert issubclass(IPDError, ValueError)


# ---------------------------------------------------------------- reading variants


def test_valid_csv_and_unit_conversion() -> None:
    df = read_ipd(FIX / "valid.csv")
    assert list(df["id"]) == ["P1", "P2", "P3", "P4"]
    assert df["pfs_event"].dtype.kind == "i" and df["best_pct_change"].dtype.kind == "f"
    tpl = read_ipd(TEMPLATE)
    # EXAMPLE-2 is in days: 62 days = 62 / (365.25 / 12) months
    assert tpl.loc[1, "pfs_months"] == pytest.approx(62 / 30.4375)
    assert tpl.loc[1, "os_months"] == pytest.approx(190 / 30.4375)


def test_semicolon_latin1_decimal_comma() -> None:
    df = read_ipd(FIX / "semicolon_latin1.csv")
    assert df.loc[0, "best_pct_change"] == pytest.approx(-45.5)
    assert df.loc[0, "note"] == "réponse partielle"


def test_utf8_bom_header() -> None:
    assert list(read_ipd(FIX / "utf8_bom.csv").columns[:2]) == ["id", "subtype"]


def test_excel_parquet_and_buffers(tmp_path: Path) -> None:
    raw = pd.read_csv(FIX / "valid.csv", dtype=str)
    xlsx = tmp_path / "ipd.xlsx"
    raw.to_excel(xlsx, index=False)
    parquet = tmp_path / "ipd.parquet"
    pd.read_csv(FIX / "valid.csv").to_parquet(parquet)
    for df in (
        read_ipd(xlsx),
        read_ipd(parquet),
        read_ipd(io.BytesIO((FIX / "valid.csv").read_bytes()), "upload.csv"),
    ):
        assert len(df) == 4 and df.loc[3, "best_response"] == "CR"
    with pytest.raises(IPDError, match="could not be read as an Excel"):
        read_ipd((FIX / "valid.csv").read_bytes(), "oops.xlsx")
    with pytest.raises(IPDError, match="unsupported file type"):
        read_ipd(b"x", "data.json")


def test_size_limit() -> None:
    with pytest.raises(IPDError, match="limit"):
        read_ipd(FIX / "valid.csv", max_bytes=100)


def test_known_subtypes_parameter() -> None:
    with pytest.raises(IPDError, match="row 1, column 'subtype': unknown subtype 'ASPS'"):
        read_ipd(FIX / "valid.csv", known_subtypes={"UPS", "LMS", "AS"})


def test_template_rows_are_marked_as_examples() -> None:
    df = read_ipd(TEMPLATE)
    assert len(df) == 2
    assert df["id"].str.startswith("EXAMPLE").all()
    assert df["note"].str.contains("EXAMPLE ROW").all()


def test_regimen_class() -> None:
    assert regimen_class("anlotinib", "sintilimab") == "AI+ICI"
    assert regimen_class("", "nivolumab/ipilimumab") == "ICI+ICI"
    assert regimen_class("", "pembrolizumab") == "ICI"
    assert regimen_class("pazopanib", "") == "AI"


# ---------------------------------------------------------------- the synthetic example


@pytest.fixture(scope="module")
def example() -> pd.DataFrame:
    return read_ipd(EXAMPLE)


def test_example_is_labelled_synthetic(example: pd.DataFrame) -> None:
    assert example["synthetic"].all()
    assert example["note"].str.contains("SYNTHETIC").all()
    assert example["id"].str.startswith("SYN-").all()


def test_example_subtype_counts_equal_table_1(example: pd.DataFrame) -> None:
    table1 = {
        "ASPS": 10,
        "DDLPS": 4,
        "UPS": 3,
        "US": 2,
        "LMS": 2,
        "CCS": 2,
        "AS": 2,
        "IMT": 2,
        "SS": 1,
        "MYOFS": 1,
        "SCS": 1,
        "MFS": 1,
        "RMS": 1,
        "MPNST": 1,
    }
    assert example["subtype"].value_counts().to_dict() == table1
    assert len(example) == 33
    assert (example["line"] == "first-line").sum() == 15  # Table 1: first-line 15 (45.5%)


def test_example_response_counts_equal_published(example: pd.DataFrame) -> None:
    rc = example["best_response"].value_counts().to_dict()
    assert rc == {"CR": 3, "PR": 10, "SD": 10, "PD": 4, "NE": 6}
    asps = example[example["subtype"] == "ASPS"]["best_response"].value_counts().to_dict()
    assert asps == {"PR": 5, "SD": 2, "NE": 3}
    non = example[example["subtype"] != "ASPS"]["best_response"].value_counts().to_dict()
    assert non == {"CR": 3, "PR": 5, "SD": 8, "PD": 4, "NE": 3}


def test_example_subtype_responses_match_discussion(example: pd.DataFrame) -> None:
    agg = aggregate_ipd(example).set_index("subtype")
    assert (agg.loc["AS", "responders"], agg.loc["AS", "evaluable"]) == (2, 2)
    assert (agg.loc["LMS", "responders"], agg.loc["LMS", "evaluable"]) == (1, 2)
    assert (agg.loc["DDLPS", "responders"], agg.loc["DDLPS", "evaluable"]) == (0, 3)
    sts = agg.loc["STS"]
    assert (sts["n"], sts["evaluable"], sts["responders"]) == (33, 27, 13)  # ORR 13/27 = 48.1%
    assert (sts["cr"], sts["pr"], sts["sd"], sts["pd"], sts["ne"]) == (3, 10, 10, 4, 6)


def test_example_recist_consistency(example: pd.DataFrame) -> None:
    pct = example.set_index("best_response")["best_pct_change"]
    assert (pct.loc["CR"] == -100).all()
    assert (pct.loc["PR"] <= -30).all()
    assert ((pct.loc["SD"] > -30) & (pct.loc["SD"] <= 20)).all()
    assert (pct.loc["PD"] > 20).all()
    assert pct.loc["NE"].isna().all()


def test_example_follow_up_and_pfs_median(example: pd.DataFrame) -> None:
    assert example["os_time"].min() == 0.8 and example["os_time"].max() == 25.5
    assert (example["pfs_time"] <= example["os_time"]).all()
    pfs = km_fit(example["pfs_months"], example["pfs_event"], "PFS")
    assert pfs.median is not None and abs(pfs.median - 8.90) <= 0.30
    assert km_fit(example["os_months"], example["os_event"], "OS").median is None


def test_example_file_is_what_the_seeded_generator_writes(example: pd.DataFrame) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_example_ipd", ROOT / "scripts" / "make_example_ipd.py"
    )
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    seed = int(example["note"].iloc[0].split("seed ")[1].split(")")[0])
    regenerated = mod.generate(seed)
    assert mod.acceptable(regenerated)
    committed = pd.read_csv(EXAMPLE)
    pd.testing.assert_series_equal(regenerated["pfs_time"], committed["pfs_time"])
    pd.testing.assert_series_equal(regenerated["best_response"], committed["best_response"])


# ---------------------------------------------------------------- aggregation shape


def test_aggregate_row_shape() -> None:
    agg = aggregate_ipd(read_ipd(FIX / "valid.csv"), study="TEST")
    assert {
        "study",
        "arm",
        "subtype",
        "evaluable",
        "responders",
        "cr",
        "pr",
        "sd",
        "pd",
        "regimen_class",
        "pfs_median_months",
    } <= set(agg.columns)
    assert agg["subtype"].iloc[-1] == "STS" and agg["n"].iloc[-1] == 4
    assert (agg["study"] == "TEST").all() and (agg["regimen_class"] == "AI+ICI").all()
    assert agg["subtype"].tolist().count("STS") == 1


def test_aggregated_rows_are_in_the_catalog_row_shape_and_pass_its_validator() -> None:
    from comparators.evidence.catalog import TRIAL_COLUMNS, load_catalog, validate_cohort_rows

    cat = load_catalog()
    data = (Path(__file__).resolve().parent.parent / "data" / "example_ipd.csv").read_bytes()
    rows = aggregate_ipd(read_ipd(data, filename="example.csv", known_subtypes=cat.subtype_codes))
    assert set(TRIAL_COLUMNS) <= set(rows.columns)  # the one row shape, nothing missing
    assert str(rows["evaluable"].dtype) == "Int64"  # as the catalog loads counts
    again = validate_cohort_rows(rows, "again", cat.subtype_codes)  # the catalog's own rules
    assert again[["evaluable", "responders"]].equals(rows[["evaluable", "responders"]])
