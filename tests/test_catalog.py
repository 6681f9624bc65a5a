"""The curated comparator catalog: real data loads, checked facts are present, bad tables fail
with a message that names the file, the row (and CSV line) and the column.

Facts are checked against ../shared/reference/trial-facts.md and the publications named there
(each assertion says where the number comes from), not against our own output.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from comparators.evidence.catalog import (
    COUNT_COLUMNS,
    DESIGNS,
    REGIMEN_CLASSES,
    TRIAL_COLUMNS,
    VERIFIED,
    Catalog,
    CatalogError,
    catalog_rows_json,
    load_catalog,
    reference_links,
    subtype_lookup,
    trials_for,
    validate_cohort_rows,
    vancouver,
)

FIXTURES = Path(__file__).parent / "fixtures" / "catalog"


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


def row(cat: Catalog, study: str, subtype: str, arm: str | None = None) -> pd.Series:
    t = cat.trials
    hit = t[(t["study"] == study) & (t["subtype"] == subtype)]
    if arm is not None:
        hit = hit[hit["arm"] == arm]
    assert len(hit) == 1, f"expected one row for {study}/{arm}/{subtype}, found {len(hit)}"
    return hit.iloc[0]


def counts(r: pd.Series) -> tuple[int, int]:
    return int(r["responders"]), int(r["evaluable"])


# --------------------------------------------------------------------------- the real data


def test_real_catalog_loads_with_proper_dtypes(catalog: Catalog) -> None:
    assert list(catalog.trials.columns[: len(TRIAL_COLUMNS)]) == list(TRIAL_COLUMNS)
    for col in COUNT_COLUMNS:
        assert str(catalog.trials[col].dtype) == "Int64", col
    assert catalog.trials["evaluable"].notna().all()
    assert catalog.trials["responders"].notna().all()
    assert set(catalog.trials["regimen_class"]) <= set(REGIMEN_CLASSES)
    assert set(catalog.trials["design"]) <= set(DESIGNS)
    assert set(catalog.trials["verified"]) <= set(VERIFIED)
    assert not catalog.trials.duplicated(["study", "arm", "subtype"]).any()


def test_every_row_has_a_reference_with_an_identifier(catalog: Catalog) -> None:
    refs = catalog.references.set_index("ref")
    for key in catalog.trials["ref"]:
        assert key in refs.index, key
        ref = refs.loc[key]
        assert any(
            pd.notna(ref[c]) and str(ref[c]).strip() for c in ("doi", "pmid", "nct", "url")
        ), key
        assert reference_links(ref), key


def test_every_row_says_where_its_numbers_come_from(catalog: Catalog) -> None:
    assert catalog.trials["locator"].notna().all()
    seed_only = catalog.trials[catalog.trials["verified"] == "seed paper only"]
    # a flagged number must also explain itself
    assert seed_only["note"].notna().all()
    assert seed_only["locator"].str.contains("LIU2023").all()


def test_seed_cohort_rows_exactly_as_published(catalog: Catalog) -> None:
    """Liu et al., Sci Rep 2023: Results 'Efficacy' paragraphs and Discussion."""
    liu = catalog.trials[catalog.trials["study"] == "LIU2023"]
    assert sorted(liu["subtype"]) == ["AS", "ASPS", "DDLPS", "LMS", "STS"]
    assert set(liu["arm"]) == {"AI + ICI (real-world)"}
    assert set(liu["regimen_class"]) == {"AI+ICI"}
    assert set(liu["ici_target"]) == {"PD-1"}
    assert set(liu["design"]) == {"retrospective"}
    assert set(liu["line"]) == {"first-line 15/33, later 18/33"}
    assert set(liu["verified"]) == {"primary source"}
    sts = row(catalog, "LIU2023", "STS")
    assert counts(sts) == (13, 27)
    assert [int(sts[c]) for c in ("cr", "pr", "sd", "pd")] == [3, 10, 10, 4]
    assert (sts["pfs_median_months"], sts["pfs_low"], sts["pfs_high"]) == (8.90, 5.98, 11.82)
    assert "derived" in sts["note"]  # pd = 27 - 23 is not printed in the paper
    asps = row(catalog, "LIU2023", "ASPS")
    assert counts(asps) == (5, 7)
    assert [int(asps[c]) for c in ("cr", "pr", "sd", "pd")] == [0, 5, 2, 0]
    assert counts(row(catalog, "LIU2023", "AS")) == (2, 2)
    assert "derived" in row(catalog, "LIU2023", "AS")["note"]
    assert counts(row(catalog, "LIU2023", "LMS")) == (1, 2)
    assert counts(row(catalog, "LIU2023", "DDLPS")) == (0, 3)


def test_sarc028_subtype_counts(catalog: Catalog) -> None:
    """Tawbi et al., Lancet Oncol 2017 abstract (trial-facts.md: primary): UPS 4/10,
    liposarcoma 2/10, LMS 0/10, synovial 1/10, STS 7/40."""
    assert counts(row(catalog, "SARC028", "UPS")) == (4, 10)
    lps = row(catalog, "SARC028", "DDLPS")
    assert counts(lps) == (2, 10)
    assert lps["subtype_as_reported"] == "liposarcoma"
    assert "dedifferentiated" in lps["note"]
    assert counts(row(catalog, "SARC028", "LMS")) == (0, 10)
    assert counts(row(catalog, "SARC028", "SS")) == (1, 10)
    assert counts(row(catalog, "SARC028", "STS")) == (7, 40)
    # expansion (Burgess ASCO 2019 via BIO2022 Table 1, secondary): cumulative, flagged as such
    exp = row(catalog, "SARC028-EXP", "UPS")
    assert counts(exp) == (9, 40) and exp["verified"] == "secondary source"
    assert "do not pool" in exp["note"]
    assert counts(row(catalog, "SARC028-EXP", "LPS")) == (4, 39)


def test_a091401_per_arm_and_subtype(catalog: Catalog) -> None:
    """D'Angelo et al., Lancet Oncol 2018 via BIO2022 Table 1 (trial-facts.md: secondary)."""
    combo, nivo = "nivolumab + ipilimumab", "nivolumab"
    ups = row(catalog, "A091401", "UPS", combo)
    assert counts(ups) == (2, 6) and int(ups["unconfirmed"]) == 1
    lms = row(catalog, "A091401", "LMS", combo)
    assert counts(lms) == (2, 14)
    assert "16%" in lms["note"]  # the seed's LMS '16%' is the arm's overall ORR
    assert counts(row(catalog, "A091401", "DDLPS", combo)) == (0, 2)
    assert counts(row(catalog, "A091401", "MFS", combo)) == (1, 1)
    assert counts(row(catalog, "A091401", "AS", combo)) == (1, 3)
    assert counts(row(catalog, "A091401", "STS", combo)) == (6, 38)
    assert counts(row(catalog, "A091401", "UPS", nivo)) == (0, 5)
    assert counts(row(catalog, "A091401", "LMS", nivo)) == (1, 15)
    assert counts(row(catalog, "A091401", "DDLPS", nivo)) == (0, 3)
    assert counts(row(catalog, "A091401", "ASPS", nivo)) == (1, 1)
    assert counts(row(catalog, "A091401", "STS", nivo)) == (2, 38)


def test_ai_ici_trials(catalog: Catalog) -> None:
    """Wilky Lancet Oncol 2019 (primary: ASPS 6/11, overall 8/32); seed-only claims flagged."""
    assert counts(row(catalog, "WILKY2019", "ASPS")) == (6, 11)
    assert row(catalog, "WILKY2019", "ASPS")["verified"] == "primary source"
    assert counts(row(catalog, "WILKY2019", "SARCOMA")) == (8, 32)
    for study, subtype, expected in [
        ("WILKY2019", "UPS", (0, 5)),
        ("WILKY2019", "LMS", (1, 6)),
        ("IMMUNOSARC", "UPS", (0, 6)),
        ("IMMUNOSARC", "ASPS", (4, 7)),
        ("IMMUNOSARC", "AS", (3, 7)),
        ("TQB2450-ANLO", "UPS", (0, 5)),
        ("TQB2450-ANLO", "ASPS", (9, 12)),
        ("TQB2450-ANLO", "LMS", (1, 4)),
        ("YOU2021", "DDLPS", (4, 11)),
    ]:
        r = row(catalog, study, subtype)
        assert counts(r) == expected, (study, subtype)
        assert r["verified"] == "seed paper only", (study, subtype)
    # IMMUNOSARC trial-wide 5/46 (CCR2020 Table 3) conflicts with the seed's subtype claims
    imm = row(catalog, "IMMUNOSARC", "STS")
    assert counts(imm) == (5, 46) and "unresolved" in imm["note"]
    # You 2021 LMS 'x/21' is impossible (study-wide LMS n = 20): left out, and the note says so
    assert catalog.trials[
        (catalog.trials["study"] == "YOU2021") & (catalog.trials["subtype"] == "LMS")
    ].empty
    assert "4/21" in row(catalog, "YOU2021", "DDLPS")["note"]
    # the later ASPS-only TQB2450 + anlotinib phase 2 (Clin Cancer Res 2024, PMID 39453774):
    # 4 CR + 19 PR of 28
    tqb = row(catalog, "TQB2450-ASPS", "ASPS")
    assert counts(tqb) == (23, 28) and (int(tqb["cr"]), int(tqb["pr"])) == (4, 19)


def test_monotherapy_comparators(catalog: Catalog) -> None:
    # Chen et al., NEJM 2023 (PMID 37672694): 19/52, 1 CR + 18 PR;
    # the seed's 16/43 interim is in the note
    atezo = row(catalog, "ATEZO-ASPS", "ASPS")
    assert counts(atezo) == (19, 52)
    assert (int(atezo["cr"]), int(atezo["pr"])) == (1, 18)
    assert "16 of 43" in atezo["note"]
    # Somaiah via BIO2022 Table 1: UPS 1/5, AS 1/5, LMS 0/5, LPS 0/6, ASPS 5/10, chordoma 1/5
    for subtype, expected in [
        ("UPS", (1, 5)),
        ("AS", (1, 5)),
        ("LMS", (0, 5)),
        ("LPS", (0, 6)),
        ("ASPS", (5, 10)),
        ("CHORDOMA", (1, 5)),
    ]:
        assert counts(row(catalog, "SOMAIAH2022", subtype)) == expected, subtype
    # Maki J Clin Oncol 2009 (PMID 19451436): angiosarcoma 5/37, all partial responses
    maki = row(catalog, "MAKI2009", "AS")
    assert counts(maki) == (5, 37) and (int(maki["cr"]), int(maki["pr"])) == (0, 5)
    # Kollár Acta Oncol 2017 abstract: AS 8/40 (mPFS 3.0, 2.1-4.4), EHE 2/10, intimal 2/2
    kollar = row(catalog, "KOLLAR2017", "AS")
    assert counts(kollar) == (8, 40)
    assert (kollar["pfs_median_months"], kollar["pfs_low"], kollar["pfs_high"]) == (3.0, 2.1, 4.4)
    assert counts(row(catalog, "KOLLAR2017", "EHE")) == (2, 10)
    assert counts(row(catalog, "KOLLAR2017", "INTIMAL")) == (2, 2)
    # ALTER0203: ASPS 9/38 derived from 22.22% of 18 + 25.00% of 20;
    # the seed misattributes it to Chi 2018
    alter = row(catalog, "ALTER0203", "ASPS")
    assert counts(alter) == (9, 38) and alter["verified"] == "derived"
    assert alter["pfs_median_months"] == 18.23
    assert "Chi 2018" in alter["note"]


def test_trials_for_and_json(catalog: Catalog) -> None:
    asps = trials_for(catalog, "asps")
    assert set(asps["subtype"]) == {"ASPS"}
    assert "LIU2023" in set(asps["study"])
    assert len(trials_for(catalog)) == len(catalog.trials)
    with pytest.raises(CatalogError, match="unknown subtype code 'NOPE'"):
        trials_for(catalog, "NOPE")
    payload = catalog_rows_json(catalog, "ASPS")
    text = json.dumps(payload, allow_nan=False)  # strictly JSON-safe
    rows = json.loads(text)["rows"]
    assert len(rows) == len(asps)
    first = payload["rows"][0]
    assert list(first) == list(catalog.trials.columns)
    assert type(first["evaluable"]) is int and type(first["responders"]) is int
    liu_as = next(r for r in catalog_rows_json(catalog, "AS")["rows"] if r["study"] == "LIU2023")
    assert liu_as["cr"] is None and liu_as["pfs_median_months"] is None


def test_reference_formatting(catalog: Catalog) -> None:
    tawbi = catalog.reference("TAWBI2017")
    assert vancouver(tawbi) == (
        "Tawbi HA, Burgess M, Bolejack V, et al. Pembrolizumab in advanced soft-tissue sarcoma and "
        "bone sarcoma (SARC028): a multicentre, two-cohort, single-arm, open-label, phase 2 trial. "
        "Lancet Oncol. 2017;18:1493-1501. doi:10.1016/S1470-2045(17)30624-1."
    )
    links = reference_links(catalog.reference("DANGELO2018"))
    assert links == {
        "doi": "https://doi.org/10.1016/S1470-2045(18)30006-8",
        "pubmed": "https://pubmed.ncbi.nlm.nih.gov/29370992/",
        "clinicaltrials": "https://clinicaltrials.gov/study/NCT02500797",
    }
    assert (
        vancouver({"title": "T", "journal": "J", "year": 2020, "pages": "e1"}) == "T. J. 2020;e1."
    )
    assert reference_links({"doi": None, "pmid": float("nan"), "nct": ""}) == {}


def test_subtype_lookup_maps_synonyms(catalog: Catalog) -> None:
    lookup = subtype_lookup(catalog.subtypes)
    assert lookup["alveolar soft-part sarcoma"] == "ASPS"
    assert lookup["malignant fibrous histiocytoma"] == "UPS"
    assert lookup["de-differentiated liposarcoma"] == "DDLPS"
    assert lookup["liposarcoma"] == "LPS"


# --------------------------------------------------------------------------- broken fixtures


def fixture_dir(tmp_path: Path, replace: str | None = None, name: str | None = None) -> Path:
    """A copy of the valid fixture tables with one file replaced by a broken one."""
    target = tmp_path / "data"
    shutil.copytree(FIXTURES / "valid", target)
    if replace is not None:
        assert name is not None
        shutil.copy(FIXTURES / replace, target / name)
    return target


def test_valid_fixture_loads(tmp_path: Path) -> None:
    cat = load_catalog(fixture_dir(tmp_path))
    assert len(cat.trials) == 4
    assert str(cat.trials["unconfirmed"].dtype) == "Int64"


BROKEN = [
    # (fixture file, replaces, expected location, expected column, words in the message)
    (
        "trials_missing_column.csv",
        "trials.csv",
        "trials.csv header (line 1)",
        "'responders'",
        "missing",
    ),
    (
        "trials_non_integer_count.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'evaluable'",
        "'10.5' is not a whole number",
    ),
    (
        "trials_negative_count.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'sd'",
        "-1 is negative",
    ),
    (
        "trials_responders_exceed_evaluable.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'responders'",
        "12 responders exceed 10 evaluable",
    ),
    (
        "trials_cr_pr_mismatch.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'responders'",
        "cr 1 + pr 1 = 2, not 1 responders",
    ),
    (
        "trials_outcomes_exceed_evaluable.csv",
        "trials.csv",
        "trials.csv row 1 (line 2)",
        "'pd'",
        "cr + pr + sd + pd = 11 exceed 10 evaluable",
    ),
    (
        "trials_unknown_subtype.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'subtype'",
        "unknown subtype code 'XYZ'",
    ),
    (
        "trials_unknown_regimen_class.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'regimen_class'",
        "unknown regimen class 'chemotherapy'",
    ),
    (
        "trials_unknown_ref.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'ref'",
        "unknown reference 'NOSUCHREF'",
    ),
    (
        "trials_duplicate_row.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'subtype'",
        "duplicate of row 1 (line 2)",
    ),
    (
        "trials_bad_pfs_interval.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'pfs_low'",
        "lower limit 5 is above the median 4",
    ),
    (
        "references_no_identifier.csv",
        "references.csv",
        "references.csv row 2 (line 3)",
        "'url'",
        "'REFB' has no doi, pmid, nct or url",
    ),
]


@pytest.mark.parametrize(
    ("fixture", "replaces", "location", "column", "words"),
    BROKEN,
    ids=[b[0].removesuffix(".csv") for b in BROKEN],
)
def test_broken_fixture_names_file_row_and_column(
    tmp_path: Path, fixture: str, replaces: str, location: str, column: str, words: str
) -> None:
    with pytest.raises(CatalogError) as info:
        load_catalog(fixture_dir(tmp_path, fixture, replaces))
    first = info.value.problems[0]
    assert first.startswith(location), first
    assert f"column {column}" in first or column in first.split(":")[0], first
    assert words in first, first
    assert isinstance(info.value, ValueError)


def test_error_message_matches_documented_example(tmp_path: Path) -> None:
    with pytest.raises(
        CatalogError,
        match=r"^trials\.csv row 3 \(line 4\), column 'responders': "
        r"12 responders exceed 10 evaluable$",
    ):
        load_catalog(fixture_dir(tmp_path, "trials_responders_exceed_evaluable.csv", "trials.csv"))


def test_line_numbers_follow_the_file_not_the_row_index(tmp_path: Path) -> None:
    """A blank line and a quoted multi-line note shift the CSV line of later rows."""
    data = fixture_dir(tmp_path)
    lines = (data / "trials.csv").read_text().splitlines()
    lines[1] = lines[1].replace(",fixture", ',"fixture\nsecond line"')
    lines.insert(2, "")
    lines[4] = lines[4].replace(",10,1,", ",10,12,")  # third data row: 12 responders of 10
    (data / "trials.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(CatalogError, match=r"trials\.csv row 3 \(line 6\), column 'responders'"):
        load_catalog(data)


# --------------------------------------------------------------------------- uploads


def test_validate_cohort_rows_for_an_upload() -> None:
    upload = pd.DataFrame(
        {
            "study": ["MINE", "MINE"],
            "arm": ["anlotinib + toripalimab", "anlotinib + toripalimab"],
            "subtype": ["asps", "UPS"],
            "evaluable": [6, "4"],
            "responders": [3.0, None],
            "cr": [None, None],
        }
    )
    with pytest.raises(CatalogError) as info:
        validate_cohort_rows(upload, "upload.csv", {"ASPS", "UPS"})
    assert info.value.problems == [
        "upload.csv row 2 (line 3), column 'responders': required count is empty"
    ]

    upload.loc[1, "responders"] = 1
    clean = validate_cohort_rows(upload, "upload.csv", {"ASPS", "UPS"})
    assert list(clean["subtype"]) == ["ASPS", "UPS"]
    assert str(clean["evaluable"].dtype) == "Int64" and list(clean["evaluable"]) == [6, 4]
    assert list(clean["responders"]) == [3, 1]
    assert clean["cr"].isna().all() and "pfs_median_months" in clean.columns

    upload.loc[0, "responders"] = 7
    with pytest.raises(
        CatalogError,
        match=r"upload\.csv row 1 \(line 2\), column 'responders': "
        r"7 responders exceed 6 evaluable",
    ):
        validate_cohort_rows(upload, "upload.csv", {"ASPS", "UPS"})


def test_validate_cohort_rows_reports_every_problem() -> None:
    upload = pd.DataFrame(
        {
            "study": ["S", "S"],
            "arm": ["a", "a"],
            "subtype": ["LMS", "LMS"],
            "evaluable": [5, 5],
            "responders": [1, 2],
            "pfs_median_months": ["abc", float("inf")],
        }
    )
    with pytest.raises(CatalogError) as info:
        validate_cohort_rows(upload, "upload.csv", {"LMS"})
    problems = info.value.problems
    assert (
        "upload.csv row 1 (line 2), column 'pfs_median_months': 'abc' is not a number" in problems
    )
    assert (
        "upload.csv row 2 (line 3), column 'pfs_median_months': 'inf' is not a finite number"
        in problems
    )
    assert any(
        p.startswith("upload.csv row 2 (line 3), columns 'study', 'arm', 'subtype': duplicate")
        for p in problems
    )
