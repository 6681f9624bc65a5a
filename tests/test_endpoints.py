"""Endpoints beyond response in the catalog (data/README.md, trials.csv): PFS rates at 3 and 6
months, grade >= 3 treatment-related adverse events and discontinuations for toxicity, the
coded treatment line and the derived publication year.

Expected values are the published numbers, with the publication named; the generic checks
tie every value to the sentence its locator quotes. The validator's refusals are checked on
small tables in the row shape and on one broken catalog fixture.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from comparators.evidence.catalog import (
    AGGREGATE_SUBTYPES,
    DERIVED_TRIAL_COLUMNS,
    ENDPOINT_GROUPS,
    PFS_RATE_COLUMNS,
    TRIAL_COLUMNS,
    Catalog,
    CatalogError,
    load_catalog,
    validate_cohort_rows,
)
from comparators.vocab import LINE_CODES
from tests.test_catalog import row as one

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


# --------------------------------------------------------------------------- published numbers


def test_pfs_rates_as_published(catalog: Catalog) -> None:
    # Wilky et al., Lancet Oncol 2019 (via the ASCO Post summary and Clin Cancer Res 2020
    # Table 3): 3-month PFS 65.6% of all 33 patients, 72.7% of the 12 with ASPS.
    wilky = one(catalog, "WILKY2019", "SARCOMA")
    assert (wilky["pfs3_rate"], wilky["pfs3_n"]) == (0.656, 33)
    assert (one(catalog, "WILKY2019", "ASPS")["pfs3_rate"],
            one(catalog, "WILKY2019", "ASPS")["pfs3_n"]) == (0.727, 12)
    # SARC028 (Burgess, ASCO 2017 final results; Tawbi, Lancet Oncol 2017): 12-week PFS 55%
    # in soft-tissue sarcoma, 28% in bone sarcoma; 12 weeks counts as 3 months, flagged.
    sarc = one(catalog, "SARC028", "STS")
    assert sarc["pfs3_rate"] == 0.55 and sarc["pfs_rate_weeks"] == "yes"
    assert one(catalog, "SARC028-BONE", "SARCOMA")["pfs3_rate"] == 0.28
    # Somaiah et al., Lancet Oncol 2022: 12-week PFS 49% (57 treated), ASPS 80% (10),
    # adipocytic tumours 17% (6).
    assert one(catalog, "SOMAIAH2022", "SARCOMA")[["pfs3_rate", "pfs3_n"]].tolist() == [0.49, 57]
    assert one(catalog, "SOMAIAH2022", "ASPS")[["pfs3_rate", "pfs3_n"]].tolist() == [0.80, 10]
    assert one(catalog, "SOMAIAH2022", "LPS")[["pfs3_rate", "pfs3_n"]].tolist() == [0.17, 6]
    # IMMUNOSARC in Clin Cancer Res 2020 Table 3 (the cut the row's counts share): 3-month 69%,
    # 6-month 50% of 50; the paper's later 6-month 48% is named in the note.
    immuno = one(catalog, "IMMUNOSARC", "STS")
    assert immuno[["pfs3_rate", "pfs6_rate", "pfs6_n"]].tolist() == [0.69, 0.50, 50]
    assert "48%" in immuno["pfs_rate_note"]
    # O'Sullivan Coyne et al., Clin Cancer Res 2022 (cabozantinib): 6-month PFS 49.3% of 54.
    assert one(catalog, "CABO-STS", "STS")[["pfs6_rate", "pfs6_n"]].tolist() == [0.493, 54]
    # Xie et al., J Immunother Cancer 2020 (APFAO): 6-month PFS 50.9% of 43.
    assert one(catalog, "APFAO", "OS")[["pfs6_rate", "pfs6_n"]].tolist() == [0.509, 43]
    # Palmerini et al., Cancer 2025 (IMMUNOSARC bone): 6-month PFS rate 42% of 38 evaluable.
    assert one(catalog, "IMMUNOSARC-BONE", "SARCOMA")["pfs6_rate"] == 0.42


def test_safety_as_published(catalog: Catalog) -> None:
    # Liu et al., Sci Rep 2023 (the seed cohort): grade 3-4 TRAEs in 50% of the 30 patients
    # evaluable for safety (15/30, derived), three serious TRAEs stopped therapy permanently.
    liu = one(catalog, "LIU2023", "STS")
    assert liu[["trae_g3", "n_treated", "discontinued_toxicity"]].tolist() == [15, 30, 3]
    assert liu["safety_derived"] == "yes" and "15/30" in liu["safety_note"]
    # The subtype rows of the same arm carry no safety (it is reported per arm).
    for sub in ("ASPS", "AS", "LMS", "DDLPS"):
        assert pd.isna(one(catalog, "LIU2023", sub)["n_treated"])
    # Anlotinib + TQB2450 in ASPS (Clin Cancer Res 2024): grade 3-4 TRAEs in 44.8% of 29.
    tqb = one(catalog, "TQB2450-ASPS", "ASPS")
    assert (tqb["trae_g3"], tqb["n_treated"]) == (13, 29)
    assert round(100 * 13 / 29, 1) == 44.8
    # First-line anlotinib (Clin Cancer Res 2024): ten (25.0%) of 40 had TRAEs >= grade 3.
    assert one(catalog, "ANLO-1L-2024", "STS")[["trae_g3", "n_treated"]].tolist() == [10, 40]
    # Atezolizumab in ASPS (Chen, NEJM 2023, via the ASCO Post): treatment-related grade 3 in
    # eight (15%) of 52, none discontinued for adverse events.
    atezo = one(catalog, "ATEZO-ASPS", "ASPS")
    assert atezo[["trae_g3", "n_treated", "discontinued_toxicity"]].tolist() == [8, 52, 0]
    # Lenvatinib + pembrolizumab (Movva, Clin Cancer Res 2024): grade >= 3 TRAEs in 29/51.
    assert one(catalog, "MOVVA2024", "SARCOMA")[["trae_g3", "n_treated"]].tolist() == [29, 51]


def test_every_rate_is_the_percentage_its_locator_quotes(catalog: Catalog) -> None:
    """A rate of 0.656 must come from a sentence printing 65.6%; its n from the locator or the
    note (where the number of patients is said)."""
    t = catalog.trials
    rows = t[t[list(PFS_RATE_COLUMNS)].notna().any(axis=1)]
    assert len(rows) >= 15
    for _, r in rows.iterrows():
        note = "" if pd.isna(r["pfs_rate_note"]) else r["pfs_rate_note"]
        quoted = f"{r['pfs_rate_locator']} {note}"
        for rate, n in (("pfs3_rate", "pfs3_n"), ("pfs6_rate", "pfs6_n")):
            if pd.isna(r[rate]):
                continue
            assert f"{100 * r[rate]:g}%" in r["pfs_rate_locator"], (r["study"], rate)
            assert re.search(rf"\b{int(r[n])}\b", quoted), (r["study"], n)


def test_every_safety_count_is_the_percentage_its_locator_quotes(catalog: Catalog) -> None:
    t = catalog.trials
    rows = t[t["trae_g3"].notna()]
    assert len(rows) >= 5
    for _, r in rows.iterrows():
        pct = 100 * int(r["trae_g3"]) / int(r["n_treated"])
        shown = {f"{pct:.0f}%", f"{pct:.1f}%", f"{int(r['trae_g3'])}/{int(r['n_treated'])}"}
        said = f"{r['safety_locator']} {'' if pd.isna(r['safety_note']) else r['safety_note']}"
        assert any(s in said for s in shown), (r["study"], shown)
        if pd.notna(r["safety_derived"]):  # "yes": the note shows the arithmetic
            assert f"{int(r['trae_g3'])}/{int(r['n_treated'])}" in r["safety_note"]


def test_safety_sits_on_the_arm_and_rates_never_rise(catalog: Catalog) -> None:
    t = catalog.trials
    arm_rows = t.groupby(["study", "arm"])["subtype"].transform("size")
    with_safety = t["n_treated"].notna()
    assert with_safety.sum() >= 6
    assert (t.loc[with_safety, "subtype"].isin(AGGREGATE_SUBTYPES)
            | (arm_rows[with_safety] == 1)).all()
    both = t["pfs3_rate"].notna() & t["pfs6_rate"].notna()
    assert (t.loc[both, "pfs6_rate"] <= t.loc[both, "pfs3_rate"]).all()
    assert ((t["trae_g3"] <= t["n_treated"]) | t["trae_g3"].isna()).all()


def test_line_coded(catalog: Catalog) -> None:
    t = catalog.trials
    assert set(t["line_coded"].dropna()) <= set(LINE_CODES)
    # Liu 2023 Table 1: 15 first-line, 18 second-line or later -> mixed, on every row.
    assert set(t.loc[t["study"] == "LIU2023", "line_coded"]) == {"mixed"}
    assert one(catalog, "ANLO-1L-2024", "STS")["line_coded"] == "first line"
    assert set(t.loc[t["study"] == "A091401", "line_coded"]) == {"pretreated"}
    # ALTER0203: ASPS patients were exempt from previous chemotherapy (18 first-line).
    assert one(catalog, "ALTER0203", "ASPS")["line_coded"] == "mixed"
    assert one(catalog, "ALTER0203", "LMS")["line_coded"] == "pretreated"
    # Free text that states both kinds of patient is never coded as one of them.
    both = t["line"].str.contains(r"first-line \d+.*later", regex=True, na=False)
    assert both.any() and (t.loc[both, "line_coded"] == "mixed").all()


def test_year_is_derived_from_the_rows_own_report(catalog: Catalog) -> None:
    assert "year" in DERIVED_TRIAL_COLUMNS and "year" not in TRIAL_COLUMNS
    assert str(catalog.trials["year"].dtype) == "Int64"
    assert one(catalog, "WILKY2019", "SARCOMA")["year"] == 2019  # Lancet Oncol 2019
    assert one(catalog, "LIU2023", "STS")["year"] == 2023
    assert one(catalog, "SARC028", "STS")["year"] == 2017  # Tawbi, Lancet Oncol 2017
    # ALTER0203's reference is its registry record (no year): the year of the ASCO 2018
    # abstract its numbers were read from.
    assert one(catalog, "ALTER0203", "STS")["year"] == 2018
    # The seed paper cited for another study's numbers gives no year to that study.
    assert pd.isna(one(catalog, "TQB2450-ANLO", "ASPS")["year"])
    # A review table is never the study's publication.
    assert pd.isna(one(catalog, "ZHOU2020", "LMS")["year"])


# --------------------------------------------------------------------------- refusals


def rows(*changes: dict[str, Any]) -> pd.DataFrame:
    """An arm with an STS row and an LMS row in the row shape, each changed as given."""
    base: dict[str, Any] = {"study": "S", "arm": "a", "evaluable": 20, "responders": 4,
                            "source_ref": "REFA"}
    recs = [dict(base, subtype="STS"), dict(base, subtype="LMS", evaluable=8, responders=1)]
    for rec, change in zip(recs, changes, strict=False):
        rec.update(change)
    return pd.DataFrame(recs)


def refusal(*changes: dict[str, Any], known_refs: set[str] | None = None) -> list[str]:
    with pytest.raises(CatalogError) as info:
        validate_cohort_rows(rows(*changes), "upload.csv", {"STS", "LMS"},
                             known_refs=known_refs)
    return info.value.problems


PFS = {"pfs3_rate": 0.6, "pfs3_n": 20, "pfs_rate_locator": "Table 2"}
SAFETY = {"n_treated": 15, "trae_g3": 5, "safety_locator": "Results"}


def test_valid_endpoints_load() -> None:
    clean = validate_cohort_rows(rows(dict(PFS, pfs6_rate=0.4, pfs6_n=20, **SAFETY,
                                           line_coded="Pretreated")),
                                 "upload.csv", {"STS", "LMS"})
    assert str(clean["pfs3_rate"].dtype) == "Float64" and clean.loc[0, "pfs6_rate"] == 0.4
    assert str(clean["trae_g3"].dtype) == "Int64" and clean.loc[0, "trae_g3"] == 5
    assert clean.loc[0, "line_coded"] == "pretreated"  # codes in any case, stored canonical


@pytest.mark.parametrize(
    ("change", "column", "words"),
    [
        (dict(PFS, pfs3_rate=65.6), "pfs3_rate", "65.6 is not a fraction between 0 and 1"),
        (dict(PFS, pfs3_n=None), "pfs3_n", "empty, but pfs3_rate is given"),
        (dict(PFS, pfs3_rate=None), "pfs3_n", "given without pfs3_rate"),
        (dict(PFS, pfs3_n=0), "pfs3_n", "a rate of 0 patients"),
        (dict(PFS, pfs6_rate=0.7, pfs6_n=20), "pfs6_rate",
         "0.7 at 6 months is above 0.6 at 3 months"),
        (dict(PFS, pfs_rate_locator=None), "pfs_rate_locator", "required when a PFS rate"),
        (dict(PFS, pfs_rate_derived="yes"), "pfs_rate_note", "derived = yes"),
        (dict(PFS, pfs_rate_source_ref="REFA"), "pfs_rate_source_ref",
         "is the row's own source_ref; leave it empty"),
        (dict(PFS, pfs_rate_source_ref="REFB"), "pfs_rate_note", "read from 'REFB'"),
        ({"pfs_rate_locator": "Fig. 2"}, "pfs_rate_locator", "the row has no PFS rate value"),
        ({"pfs_rate_weeks": "yes"}, "pfs_rate_weeks", "the row has no PFS rate value"),
        (dict(SAFETY, trae_g3=16), "trae_g3",
         "16 patients with a grade >= 3 treatment-related adverse event exceed 15 treated"),
        (dict(SAFETY, discontinued_toxicity=20), "discontinued_toxicity",
         "20 patients who discontinued for toxicity exceed 15 treated"),
        (dict(SAFETY, n_treated=None), "n_treated", "empty, but trae_g3 is given"),
        ({"n_treated": 15, "safety_locator": "Results"}, "n_treated",
         "given without trae_g3 or discontinued_toxicity"),
        (dict(SAFETY, safety_derived="yes"), "safety_note", "derived = yes"),
        (dict(SAFETY, safety_source_ref="REFB"), "safety_note", "read from 'REFB'"),
        ({"line_coded": "second line"}, "line_coded", "unknown line code 'second line'"),
        (dict(PFS, pfs_rate_weeks="12"), "pfs_rate_weeks", "unknown weeks flag '12'"),
    ],
    ids=["rate-not-fraction", "rate-without-n", "n-without-rate", "n-zero", "rate-rises",
         "no-locator", "derived-no-note", "own-source", "other-source-no-note",
         "provenance-without-values", "weeks-without-values", "trae-exceed-treated",
         "discontinued-exceed-treated", "events-without-treated", "treated-without-events",
         "safety-derived-no-note", "safety-other-source-no-note", "unknown-line-code",
         "bad-weeks-flag"],
)
def test_endpoint_refusals_name_row_column_and_rule(change: dict[str, Any], column: str,
                                                    words: str) -> None:
    problems = refusal(change)
    assert any(p.startswith(f"upload.csv row 1 (line 2), column '{column}'") and words in p
               for p in problems), problems


def test_safety_on_a_subtype_row_is_refused() -> None:
    problems = refusal({}, SAFETY)
    assert problems == [
        "upload.csv row 2 (line 3), column 'n_treated': safety on a LMS subtype row; safety is "
        "reported per arm, so it belongs on the arm's STS or SARCOMA row (this arm has 2 rows)"
    ]
    # An arm of one histology has no aggregate row: its only row carries the arm's safety.
    single = rows({}, SAFETY).iloc[[1]].reset_index(drop=True)
    assert validate_cohort_rows(single, "upload.csv", {"LMS"}).loc[0, "trae_g3"] == 5


def test_endpoint_sources_must_be_references() -> None:
    problems = refusal(dict(SAFETY, safety_source_ref="NOSUCH", safety_note="later cut"),
                       known_refs={"REFA"})
    assert ("upload.csv row 1 (line 2), column 'safety_source_ref': unknown reference "
            "'NOSUCH' (not in references.csv)") in problems


def test_every_group_has_its_own_provenance_columns() -> None:
    for group in ENDPOINT_GROUPS:
        assert set(group.values) | set(group.provenance) <= set(TRIAL_COLUMNS)
    assert TRIAL_COLUMNS[-1] == "safety_note"  # appended after the response columns


def test_broken_catalog_file_names_file_row_line_and_column(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(FIXTURES / "valid", data)
    trials = pd.read_csv(data / "trials.csv", dtype=str, keep_default_na=False)
    trials.loc[2, ["pfs6_rate", "pfs6_n", "pfs_rate_locator"]] = ["1.5", "10", "Fig. 2"]
    trials.to_csv(data / "trials.csv", index=False)
    with pytest.raises(CatalogError) as info:
        load_catalog(data)
    assert info.value.problems[0] == (
        "trials.csv row 3 (line 4), column 'pfs6_rate': 1.5 is not a fraction between 0 and 1 "
        "(write 65.6% as 0.656)")
