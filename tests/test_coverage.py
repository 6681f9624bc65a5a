"""Rows added for coverage, checked against the numbers their sources print.

Each expectation below is the published number, with the record it was read in named; a derived
count is checked by asking which whole counts reproduce the printed percentage (the curation rule
for derived numbers: exactly one must fit).
"""

from __future__ import annotations

import pandas as pd
import pytest
from scipy.stats import beta

from comparators.evidence.audit import possible_percentages
from comparators.evidence.catalog import Catalog, load_catalog


@pytest.fixture(scope="module")
def trials() -> pd.DataFrame:
    catalog: Catalog = load_catalog()
    return catalog.trials


def one(trials: pd.DataFrame, study: str, subtype: str) -> pd.Series:
    rows = trials[(trials["study"] == study) & (trials["subtype"] == subtype)]
    assert len(rows) == 1, (study, subtype, len(rows))
    return rows.iloc[0]


def counts(row: pd.Series) -> tuple[int, int]:
    return int(row["responders"]), int(row["evaluable"])


def test_alter0203_leiomyosarcoma_subgroup(trials: pd.DataFrame) -> None:
    # ESMO 2019 abstract 1693P table: anlotinib n = 27, ORR 0 (0%), DCR 16 (59.26%), mPFS 5.83.
    lms = one(trials, "ALTER0203", "LMS")
    assert counts(lms) == (0, 27) and int(lms["sd"]) == 16
    assert round(100 * 16 / 27, 2) == 59.26
    assert float(lms["pfs_median_months"]) == 5.83
    assert lms["source_type"] == "conference abstract"


def test_immunosarc_bone_cohort(trials: pd.DataFrame) -> None:
    # Palmerini et al., Cancer 2025 (PubMed 39540661): two of 38 partial responses (one of four
    # DDCS, one of 17 osteosarcoma), 19 SD, 17 PD; median PFS 3.8 months (2.7-4.8).
    overall = one(trials, "IMMUNOSARC-BONE", "SARCOMA")
    assert counts(overall) == (2, 38) and (int(overall["sd"]), int(overall["pd"])) == (19, 17)
    pfs = (overall["pfs_median_months"], overall["pfs_low"], overall["pfs_high"])
    assert pfs == (3.8, 2.7, 4.8)
    assert counts(one(trials, "IMMUNOSARC-BONE", "OS")) == (1, 17)
    assert counts(one(trials, "IMMUNOSARC-BONE", "CHS")) == (1, 4)
    # A different cohort of the same registration: no patient overlap with the STS cohort.
    assert pd.isna(overall["overlaps_with"])


def test_checkpoint_and_angiogenesis_rows_with_printed_counts(trials: pd.DataFrame) -> None:
    # Tamura et al., Cancer Sci 2019: ORR 0% in STS (n = 21), median PFS 1.4 months.
    assert counts(one(trials, "TAMURA2019", "STS")) == (0, 21)
    # von Mehren et al., Cancer 2012 (S0505): 37 evaluable, no confirmed responses.
    assert counts(one(trials, "S0505", "STS")) == (0, 37)
    # Park et al., Cancer Res Treat 2021: pazopanib 24 patients, ORR 16.7% (n = 4).
    assert counts(one(trials, "PARK2021-AS", "AS")) == (4, 24)
    assert possible_percentages("16.7", 24) == [4]
    # Xie et al., J Immunother Cancer 2020 (APFAO): 20.9% (9/43); Oncologist 2019: 43.24% (16/37).
    assert counts(one(trials, "APFAO", "OS")) == (9, 43)
    assert counts(one(trials, "XIE2019-APATINIB-OS", "OS")) == (16, 37)
    # World Sarcoma Network CCS series (ESMO Open 2022): sunitinib 30%, n = 3/10.
    assert counts(one(trials, "WSN-CCS", "CCS")) == (3, 10)
    # CABONE (ASCO Post summary): Ewing 10 PR of 39, osteosarcoma 5 PR of 42.
    assert counts(one(trials, "CABONE", "EWING")) == (10, 39)
    assert counts(one(trials, "CABONE", "OS")) == (5, 42)
    # Movva et al., Clin Cancer Res 2024: 46 evaluable, seven partial responses overall.
    assert counts(one(trials, "MOVVA2024", "SARCOMA")) == (7, 46)


@pytest.mark.parametrize(
    ("study", "subtype", "printed", "n"),
    [
        # Ray-Coquard et al., Oncologist 2012: 23% response rate in the 30 pretreated patients.
        ("RAYCOQUARD2012", "AS", "23", 30),
        # TAPPAS (Cancer Therapy Advisor summary): ORR 13% in the 53 pazopanib-alone patients.
        ("TAPPAS", "AS", "13", 53),
        # Lee et al., Signal Transduct Target Ther 2019, Table 1 (CR or PR percentage of N).
        ("STACCHIOTTI2018-ASPS", "ASPS", "27", 30),
        ("FREZZA2018-ES", "ES", "0", 18),
        ("JONES2017-CHS", "CHS", "0", 8),
        ("FREZZA2014-DSRCT", "DSRCT", "22", 9),
        ("MENEGAZ2017-DSRCT", "DSRCT", "7", 29),
        ("MARUZZO2015-SFT", "SFT", "8", 13),
        ("STACCHIOTTI2014-SFT", "SFT", "0", 6),
    ],
)
def test_derived_counts_are_the_only_fit(
    trials: pd.DataFrame, study: str, subtype: str, printed: str, n: int
) -> None:
    row = one(trials, study, subtype)
    assert possible_percentages(printed, n) == [int(row["responders"])]
    assert int(row["evaluable"]) == n and row["derived"] == "yes"


def test_review_table_stable_and_progressive_counts_fit_their_percentages(
    trials: pd.DataFrame,
) -> None:
    # Lee et al. 2019 Table 1 prints SD and PrD percentages of N too; each derived count is the
    # only one that fits, and no row claims more patients than N.
    printed = {
        "STACCHIOTTI2018-ASPS": ("57", "13"), "FREZZA2018-ES": ("50", "50"),
        "JONES2017-CHS": ("75", "25"), "FREZZA2014-DSRCT": ("56", "22"),
        "MENEGAZ2017-DSRCT": ("55", "38"), "MARUZZO2015-SFT": ("62", "15"),
        "STACCHIOTTI2014-SFT": ("50", "50"),
    }
    for study, (sd, pd_) in printed.items():
        row = trials[trials["study"] == study].iloc[0]
        n = int(row["evaluable"])
        assert possible_percentages(sd, n) == [int(row["sd"])], study
        assert possible_percentages(pd_, n) == [int(row["pd"])], study
        assert int(row["responders"]) + int(row["sd"]) + int(row["pd"]) <= n, study


def test_review_table_agrees_with_rows_read_from_the_papers(trials: pd.DataFrame) -> None:
    # Lee et al. 2019 Table 1 lists Kollar (2016) vascular sarcomas N 52 at 23% and Yoo (2015)
    # Korean series N 43 at 16%: the catalog's KOLLAR2017 and PAZO-KR2015 rows (read in the papers'
    # abstracts) agree; the PAZO-KR2015 row counts the 41 response-evaluable of those 43.
    kollar = one(trials, "KOLLAR2017", "STS")
    assert counts(kollar) == (12, 52) and 12 in possible_percentages("23", 52)
    yoo = one(trials, "PAZO-KR2015", "STS")
    assert int(yoo["responders"]) in possible_percentages("16", 43)


def test_possible_overlaps_are_marked(trials: pd.DataFrame) -> None:
    assert one(trials, "STACCHIOTTI2014-SFT", "SFT")["overlaps_with"] == "MARUZZO2015-SFT"


def _exact_interval_prints_as(k: int, n: int, low: int, high: int) -> bool:
    """Clopper-Pearson 95% interval of k/n, in whole percent, as a summary prints it."""
    lo = beta.ppf(0.025, k, n - k + 1) if k else 0.0
    hi = beta.ppf(0.975, k + 1, n - k) if k < n else 1.0
    return (round(100 * lo), round(100 * hi)) == (low, high)


def test_a091902_count_is_the_only_one_fitting_the_printed_rate_and_interval(
    trials: pd.DataFrame,
) -> None:
    # Targeted Oncology summary of Alliance A091902 (cabozantinib + nivolumab, taxane-pretreated
    # angiosarcoma): 'The overall response rate (ORR) was 62% (95% CI, 38%-82%)', no denominator.
    fits = [(k, n) for n in range(5, 200) for k in possible_percentages("62", n)
            if _exact_interval_prints_as(k, n, 38, 82)]
    row = one(trials, "A091902", "AS")
    assert fits == [counts(row)] == [(13, 21)]
    assert row["derived"] == "yes" and row["source_type"] == "news summary"
    assert row["verified"] == "secondary source"
    assert float(row["pfs_median_months"]) == 9.6 and pd.isna(row["pfs_low"])
