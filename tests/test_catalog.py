"""The curated comparator catalog: real data loads, checked facts are present, bad tables fail
with a message that names the file, the row (and CSV line) and the column.

Facts are checked against ../shared/reference/trial-facts.md and the publications named there
(each assertion says where the number comes from), not against our own output.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from comparators.evidence.catalog import (
    COUNT_COLUMNS,
    DESIGNS,
    REGIMEN_CLASSES,
    SOURCE_TYPES,
    TRIAL_COLUMNS,
    VERIFIED,
    Catalog,
    CatalogError,
    catalog_rows_json,
    load_catalog,
    load_catalog_info,
    reference_links,
    subtype_lookup,
    trials_for,
    validate_cohort_rows,
)
from comparators.reports.citations import vancouver

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


def test_every_row_says_what_its_numbers_were_read_from(catalog: Catalog) -> None:
    """data/README.md, "Provenance": source_ref is a reference key, source_type one of five,
    data_cut a date, year-month, year or 'final'; seed-paper rows are exactly the flagged ones."""
    t = catalog.trials
    refs = set(catalog.references["ref"])
    assert t["source_ref"].notna().all() and set(t["source_ref"]) <= refs
    assert set(t["source_type"]) <= set(SOURCE_TYPES)
    assert t["data_cut"].str.fullmatch(r"final|\d{4}(-\d{2}(-\d{2})?)?").all()
    seed = t["source_type"] == "seed paper"
    assert set(t.loc[seed, "source_ref"]) == {"LIU2023"}
    # locators name only what was read: no internal curation notes, no unnamed news site
    assert not t["locator"].str.contains("trial-facts|aichuangreng", regex=True).any()
    # every overlap points at another study that is in the table
    overlaps = t["overlaps_with"].dropna()
    assert set(overlaps) <= set(t["study"])
    assert (overlaps != t.loc[overlaps.index, "study"]).all()


def test_catalog_version_file(catalog: Catalog) -> None:
    info = load_catalog_info()
    assert catalog.info == info
    assert re.fullmatch(r"\d+\.\d+\.\d+", info.catalog_version)
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", info.literature_last_checked)
    assert info.to_dict() == {"catalog_version": info.catalog_version,
                              "literature_last_checked": info.literature_last_checked}


def test_rows_cite_what_their_numbers_came_from(catalog: Catalog) -> None:
    """Issue 13: rows whose ref is not the document their numbers were read from."""
    # Somaiah: counts are the Biomedicines 2022 review table's earlier cut (published before the
    # Lancet Oncol paper), and the overall row no longer mixes in the paper's PFS.
    som = catalog.trials[catalog.trials["study"] == "SOMAIAH2022"]
    assert set(som["source_ref"]) == {"BIO2022"} and set(som["source_type"]) == {"review table"}
    overall = row(catalog, "SOMAIAH2022", "SARCOMA")
    assert pd.isna(overall["pfs_median_months"]) and "treated" in overall["note"]
    assert catalog.reference("BIO2022")["pmid"] == "35327375"
    # IMMUNOSARC 5/46 is the Clin Cancer Res 2020 review's cut, not the JITC paper's
    imm = row(catalog, "IMMUNOSARC", "STS")
    assert imm["source_ref"] == "CCR2020" and imm["ref"] == "MARTINBROTO2020"
    # SARC028's CR/PR split is read from the ASCO 2017 final-results abstract 11008
    ups = row(catalog, "SARC028", "UPS")
    assert (ups["source_ref"], ups["source_type"]) == ("BURGESS2017ASCO", "conference abstract")
    assert (int(ups["cr"]), int(ups["pr"])) == (1, 3) and "11008" in ups["locator"]
    # ALTER0203 ASPS: ESMO 2019 abstract 1694P, data cut-off 30 April 2017
    alter = row(catalog, "ALTER0203", "ASPS")
    assert (alter["source_ref"], alter["data_cut"]) == ("ALTER0203ESMO2019", "2017-04-30")
    assert catalog.reference("WILKY2019")["pmid"] == "31078463"
    # the TQB2450 + anlotinib STS study's ASPS patients may be inside the ASPS-only study
    assert row(catalog, "TQB2450-ANLO", "ASPS")["overlaps_with"] == "TQB2450-ASPS"


def test_added_trials_as_published(catalog: Catalog) -> None:
    """A sample of the catalog 2.0.0 rows, each against the sentence its locator quotes."""
    # Kummar, J Clin Oncol 2013 (PMID 23630200): 15 of 43 partial responses, 26 SD
    kummar = row(catalog, "KUMMAR2013", "ASPS")
    assert counts(kummar) == (15, 43) and int(kummar["sd"]) == 26
    # geptanolimab (PMID 33046518): 14 of 37 by independent review
    assert counts(row(catalog, "GEPTANOLIMAB-ASPS", "ASPS")) == (14, 37)
    # AcSé pembrolizumab (Lancet Oncol 2023): ASPS 8 of 14 (1 CR, 7 PR); its ESMO 2020 cut
    # (5/13) re-counts the same patients
    acse = row(catalog, "ACSE-PEMBRO", "ASPS")
    assert counts(acse) == (8, 14) and (int(acse["cr"]), int(acse["pr"])) == (1, 7)
    assert row(catalog, "ACSE-PEMBRO-2020", "ASPS")["overlaps_with"] == "ACSE-PEMBRO"
    # A091401 expansion, final report: N+I 2/12 and N 1/12 in each of UPS and DDLPS
    for subtype in ("UPS", "DDLPS"):
        assert counts(row(catalog, "A091401-EXP", subtype, "nivolumab + ipilimumab")) == (2, 12)
        assert counts(row(catalog, "A091401-EXP", subtype, "nivolumab")) == (1, 12)
    # REGOMUNE (ESMO 2022 1494P): 4 PR of 43, an arm total without subtype counts
    rego = row(catalog, "REGOMUNE", "STS")
    assert counts(rego) == (4, 43) and "not reported" in rego["note"]
    # Benson 2016: 5 PR among 44 uterine sarcomas, all in the 39 uterine LMS
    assert counts(row(catalog, "BENSON2016", "LMS")) == (5, 39)
    assert counts(row(catalog, "BENSON2016", "STS")) == (5, 44)
    # SINANLOSARC shares the seed cohort's hospital: marked as possibly overlapping
    assert row(catalog, "SINANLOSARC", "SARCOMA")["overlaps_with"] == "LIU2023"


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
    # read from the ASCO Post's summary of the paper: a news item, so a secondary source
    assert row(catalog, "WILKY2019", "ASPS")["verified"] == "secondary source"
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
    assert counts(alter) == (9, 38) and alter["derived"] == "yes"
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
        # NLM/Vancouver: six authors then "et al.", volume(issue):pages, doi, PMID
        "Tawbi HA, Burgess M, Bolejack V, Van Tine BA, Schuetze SM, Hu J, et al. Pembrolizumab in "
        "advanced soft-tissue sarcoma and bone sarcoma (SARC028): a multicentre, two-cohort, "
        "single-arm, open-label, phase 2 trial. Lancet Oncol. 2017;18(11):1493-1501. "
        "doi:10.1016/S1470-2045(17)30624-1. PMID: 28988646."
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
    assert cat.info is not None and cat.info.catalog_version == "0.1.0"
    assert [r.version for r in cat.info.history] == ["0.1.0"]


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, "catalog.json: file not found"),
        ("{not json", "catalog.json: unreadable JSON"),
        ('{"catalog_version": "2", "literature_last_checked": "2026-12-01"}',
         "key 'catalog_version': '2' is not a version"),
        ('{"catalog_version": "2.0.0", "literature_last_checked": "2026-02-30"}',
         "key 'literature_last_checked': '2026-02-30' is not a date"),
    ],
    ids=["missing", "not-json", "bad-version", "impossible-date"],
)
def test_catalog_json_must_be_readable(tmp_path: Path, content: str | None, words: str) -> None:
    data = fixture_dir(tmp_path)
    if content is None:
        (data / "catalog.json").unlink()
    else:
        (data / "catalog.json").write_text(content)
    with pytest.raises(CatalogError) as info:
        load_catalog(data)
    assert words in info.value.problems[0], info.value.problems[0]


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
        "trials_bad_source_type.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'source_type'",
        "unknown source type 'press release'",
    ),
    (
        "trials_unknown_source_ref.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'source_ref'",
        "unknown reference 'NOSUCHSOURCE'",
    ),
    (
        "trials_bad_data_cut.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'data_cut'",
        "'2020-13' is not a data cut",
    ),
    (
        "trials_seed_paper_mismatch.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'source_ref'",
        "a 'seed paper' row must be read from LIU2023, not 'REFA'",
    ),
    (
        "trials_unknown_overlap.csv",
        "trials.csv",
        "trials.csv row 3 (line 4)",
        "'overlaps_with'",
        "'NOSUCHSTUDY' is not a study",
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
        "upload.csv row 1 (line 2), column 'pfs_median_months': expected a number, got 'abc'"
        in problems
    )
    assert (
        "upload.csv row 2 (line 3), column 'pfs_median_months': value is infinite (inf); "
        "expected a finite number" in problems
    )
    assert any(
        p.startswith("upload.csv row 2 (line 3), columns 'study', 'arm', 'subtype': duplicate")
        for p in problems
    )


# --------------------------------------------------------------------------- catalog 3.0.0


def test_verification_status_follows_the_documented_rule() -> None:
    """data/README.md, "Verification": the level depends only on what the numbers were read
    from and whether that is the study's own report."""
    from comparators.evidence.labels import verification_status

    for own in (True, False):
        assert verification_status("seed paper", own) == "seed paper only"
        assert verification_status("review table", own) == "secondary source"
        assert verification_status("news summary", own) == "secondary source"
    for kind in ("full paper", "conference abstract", "registry results"):
        assert verification_status(kind, True) == "primary source"
        assert verification_status(kind, False) == "secondary source"


def test_verified_can_never_disagree_with_source_type(catalog: Catalog) -> None:
    """Issue 23: Wilky 2019 and Blay 2023 said 'primary source' beside a review-table source.
    The expectation is rebuilt here from the raw columns, not read from the loader's column."""
    refs = catalog.references.set_index("ref")
    assert "verified" not in TRIAL_COLUMNS  # derived on load, never typed in trials.csv
    for r in catalog.trials.to_dict("records"):
        kind = r["source_type"]
        nct = refs.loc[r["ref"], "nct"], refs.loc[r["source_ref"], "nct"]
        own = r["ref"] == r["source_ref"] or (pd.notna(nct[0]) and nct[0] == nct[1])
        if kind == "seed paper":
            expected = "seed paper only"
        elif kind in ("review table", "news summary") or not own:
            expected = "secondary source"
        else:
            expected = "primary source"
        assert r["verified"] == expected, (r["study"], r["subtype"], kind, r["verified"])
    table = pd.crosstab(catalog.trials["source_type"], catalog.trials["verified"])
    for kind in ("review table", "news summary", "seed paper"):
        assert table.loc[kind].get("primary source", 0) == 0, kind


def test_each_source_is_the_kind_of_document_its_source_type_says(catalog: Catalog) -> None:
    kinds = catalog.references.set_index("ref")["kind"]
    expected = {"full paper": "article", "conference abstract": "abstract",
                "review table": "review", "news summary": "news",
                "registry results": "registry", "seed paper": "article"}
    for r in catalog.trials.to_dict("records"):
        assert kinds[r["source_ref"]] == expected[r["source_type"]], (r["study"], r["subtype"])


#: data/README.md, references.csv: what a complete reference of each kind has.
COMPLETE = {
    "article": ("authors", "title", "journal", "year", "volume", "pages", "doi", "pmid"),
    "review": ("authors", "title", "journal", "year", "volume", "pages", "doi", "pmid"),
    "abstract": ("authors", "title", "journal", "year", "volume", "pages"),
    "news": ("authors", "title", "journal", "year", "url"),
    "registry": ("title", "journal", "nct"),
}


def test_every_reference_is_complete_or_says_where_the_rest_was_searched(
        catalog: Catalog) -> None:
    """Issue 23: authors up to six then 'et al.', title, journal, year, volume, pages, DOI and
    PMID; a field that is missing is named in `searched` with where it was looked for."""
    complete = 0
    for r in catalog.references.to_dict("records"):
        text = {k: ("" if pd.isna(v) else str(v)) for k, v in r.items()}
        missing = [f for f in COMPLETE[text["kind"]] if not text[f]]
        names = [n for n in re.sub(r",?\s*et al\.?$", "", text["authors"]).split(",") if n.strip()]
        assert len(names) <= 6, (r["ref"], "Vancouver lists six authors at most")
        if text["authors"].endswith("et al.") and len(names) < 6:
            missing.append("authors")
        searched = text["searched"]
        for field in missing:
            assert re.search(rf"(^|\| |, ){field}\b[^:|]*:", searched) or \
                re.match(rf"^([a-z]+, )*{field}(, [a-z]+)*:", searched), (r["ref"], field)
        complete += not missing
        for field in ("authors", "title", "journal"):
            assert "not recorded" not in text[field] and not text[field].startswith("["), \
                (r["ref"], field)
    assert complete >= 6  # catalog 3.0.0: CURATION.md lists the count


def test_interim_rows_cite_their_interim_report(catalog: Catalog) -> None:
    """A row that overlaps a later study is an earlier cut (or a possible duplicate): it cites
    the report it was read from, never the later study's own paper. (Case series known only
    from one review table cite that review, data/README.md rule 7: it is neither's paper.)"""
    t = catalog.trials
    kinds = dict(zip(catalog.references["ref"], catalog.references["kind"], strict=True))
    for r in t[t["overlaps_with"].notna()].to_dict("records"):
        later = {ref for ref in t.loc[t["study"] == r["overlaps_with"], "ref"]
                 if kinds[ref] != "review"}
        assert r["ref"] not in later, (r["study"], r["ref"], later)


def test_catalog_3_corrections(catalog: Catalog) -> None:
    """Each checked against the sentence the row's locator quotes (issue 23, item 1)."""
    # A091401 expansion (Seligson/Chen abstract): 66 evaluated, 12 + 12 + 9 per arm; the arm
    # total is the sum of its cohorts, not BIO2022's 36
    t = catalog.trials
    for arm in ("nivolumab", "nivolumab + ipilimumab"):
        cohorts = t[(t["study"] == "A091401-EXP") & (t["arm"] == arm) & (t["subtype"] != "STS")]
        total = row(catalog, "A091401-EXP", "STS", arm)
        assert counts(total) == (int(cohorts["responders"].sum()),
                                 int(cohorts["evaluable"].sum()))
        assert total["source_ref"] == "SELIGSON-A091401EXP" and total["derived"] == "yes"
    assert counts(row(catalog, "A091401-EXP", "STS", "nivolumab")) == (2, 33)
    assert counts(row(catalog, "A091401-EXP", "STS", "nivolumab + ipilimumab")) == (4, 33)
    # Ben-Ami, Cancer 2017;123(17):3285-90: none of 12 responded; its own reference now
    benami = row(catalog, "BENAMI2017", "LMS")
    assert counts(benami) == (0, 12) and benami["ref"] == benami["source_ref"] == "BENAMI2017"
    assert catalog.reference("BENAMI2017")["doi"] == "10.1002/cncr.30738"
    # Quiroga, BMC Cancer 2020;20:527: 3 PR in 26 evaluable; subtypes only in BIO2022
    quiroga = row(catalog, "QUIROGA2020", "SARCOMA")
    assert counts(quiroga) == (3, 26) and quiroga["source_type"] == "full paper"
    for sub in ("UPS", "LMS", "DDLPS"):
        assert row(catalog, "QUIROGA2020", sub)["source_type"] == "review table"
    # CMB305 (Chawla, J Clin Oncol 2021): synovial sarcoma or myxoid liposarcoma only
    cmb = row(catalog, "ATEZO-CMB305", "STS")
    assert cmb["ref"] == "CHAWLA2021" and cmb["data_cut"] == "2021"
    assert "synovial" in cmb["subtype_as_reported"] and "not all" in cmb["note"]
    # ATEZO-ASPS: SD/PD were only in news summaries, which are not the row's source
    atezo = row(catalog, "ATEZO-ASPS", "ASPS")
    assert pd.isna(atezo["sd"]) and pd.isna(atezo["pd"]) and pd.isna(atezo["unconfirmed"])
    # CABO-STS (O'Sullivan Coyne, Clin Cancer Res 2022;28(2):279-288)
    cabo = catalog.reference("CABO-STS2022")
    assert (cabo["pmid"], cabo["doi"], cabo["nct"]) == (
        "34716194", "10.1158/1078-0432.CCR-21-2480", "NCT01755195")
    assert cabo["authors"].startswith("O'Sullivan Coyne G, Kummar S, Hu J")
    # SARC028 final-results abstract 11008 is Burgess et al.'s
    assert catalog.reference("BURGESS2017ASCO")["authors"].startswith(
        "Burgess MA, Bolejack V, Van Tine BA")
    assert catalog.reference("BMR2023")[["volume", "pages"]].tolist() == ["11", "75"]
    blay = catalog.reference("BLAY2023")
    assert blay[["volume", "issue", "pages"]].tolist() == ["24", "8", "892-902"]


def _write_reference(data: Path, **fields: str) -> None:
    path = data / "references.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    for key, value in fields.items():
        frame.loc[frame["ref"] == "REFA", key] = value
    frame.to_csv(path, index=False)


@pytest.mark.parametrize(
    ("fields", "column", "words"),
    [
        ({"pmid": ""}, "pmid", "missing for a(n) article reference"),
        ({"title": "[title not recorded] A fixture trial"}, "title", "placeholder text"),
        ({"journal": "[journal not recorded; an AACR journal]"}, "journal", "placeholder"),
        ({"authors": "A A, B B, C C, D D, E E, F F, G G"}, "authors", "7 names"),
        ({"authors": "Doe J, et al."}, "authors", "missing for a(n) article reference"),
        ({"searched": "doi: nowhere"}, "searched", "names 'doi', which is filled"),
        ({"pmid": "", "searched": "somewhere"}, "searched", "is not 'field[, field]: where"),
        ({"kind": "book"}, "kind", "unknown reference kind 'book'"),
    ],
    ids=["missing-pmid", "placeholder-title", "placeholder-journal", "seven-authors",
         "et-al-too-early", "stale-search-record", "unparsable-search-record", "bad-kind"],
)
def test_incomplete_reference_fails_unless_searched(tmp_path: Path, fields: dict[str, str],
                                                    column: str, words: str) -> None:
    data = fixture_dir(tmp_path)
    _write_reference(data, **fields)
    with pytest.raises(CatalogError) as info:
        load_catalog(data)
    first = info.value.problems[0]
    assert first.startswith("references.csv row 1 (line 2)"), first
    assert f"column '{column}'" in first and words in first, first


def test_missing_field_with_a_search_record_loads(tmp_path: Path) -> None:
    data = fixture_dir(tmp_path)
    _write_reference(data, pmid="", searched="pmid: PubMed searched by title, no record")
    assert pd.isna(load_catalog(data).reference("REFA")["pmid"])


def test_source_type_must_match_the_kind_of_its_source(tmp_path: Path) -> None:
    data = fixture_dir(tmp_path)
    _write_reference(data, kind="news", searched="authors: no byline", url="https://x.test/")
    with pytest.raises(CatalogError, match=r"trials\.csv row 1 \(line 2\), column "
                                           r"'source_type': 'full paper' but 'REFA' is a\(n\) "
                                           r"news"):
        load_catalog(data)


@pytest.mark.parametrize(
    ("history", "words"),
    [
        ("version,date,summary\n", "no versions listed"),
        ("version,date,summary\n0.1.0,2026-01-10,A\n0.0.9,2026-01-11,B\n",
         "0.0.9 does not follow 0.1.0"),
        ("version,date,summary\n0.0.9,2026-01-10,A\n0.1.0,2026-01-09,B\n",
         "2026-01-09 is before the previous version's 2026-01-10"),
        ("version,date,summary\n0.0.9,2026-01-10,A\n", "the last version is 0.0.9"),
        ("version,date,summary\n0.1.0,2026-01-10,\n", "say what this version added"),
        ("version,date,summary\nv1,2026-01-10,A\n", "'v1' is not a version"),
        ("version,summary\n0.1.0,A\n", "column 'date': required column is missing"),
        (None, "catalog_history.csv: file not found"),
    ],
    ids=["empty", "not-increasing", "date-goes-back", "behind-catalog-json", "no-summary",
         "bad-version", "missing-column", "missing-file"],
)
def test_catalog_history_is_validated_on_load(tmp_path: Path, history: str | None,
                                              words: str) -> None:
    data = fixture_dir(tmp_path)
    if history is None:
        (data / "catalog_history.csv").unlink()
    else:
        (data / "catalog_history.csv").write_text(history)
    with pytest.raises(CatalogError) as info:
        load_catalog(data)
    assert words in info.value.problems[0], info.value.problems[0]


def test_shipped_history_ends_at_the_shipped_version(catalog: Catalog) -> None:
    info = catalog.info
    assert info is not None and info.history[-1].version == info.catalog_version
    assert info.history[-1].date <= info.literature_last_checked
    assert info.changes_since(info.catalog_version) == ()
    first = info.history[0].version
    assert [r.version for r in info.changes_since(first)] == \
        [r.version for r in info.history[1:]]
