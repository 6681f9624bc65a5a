"""Risk of bias per study (MINORS, data/risk_of_bias.csv): every catalog study is judged on the
eight items, the overall judgement follows the documented rule, bad tables fail naming row and
column, and the CLI prints the contract's shape.

Expectations come from the catalog, the raw CSV and the rule as data/README.md states it, so
adding a study (with its eight rows) never breaks a test.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from curated_tables import data_copy, edit_first, read_rows, rewrite

from comparators.evidence.catalog import CatalogError, default_data_dir, load_catalog
from comparators.evidence.risk_of_bias import (
    ITEMS,
    JUDGEMENTS,
    OVERALL,
    ROB_FILE,
    load_risk_of_bias,
    overall_judgement,
)

ROOT = Path(__file__).resolve().parent.parent
#: The rule in data/README.md ("Risk of bias"), written out here independently of the module.
README_POINTS = {"low": 2, "high": 1, "unclear": 0}


def readme_overall(judgements: list[str]) -> str:
    if judgements.count("unclear") >= 4:
        return "unclear"
    score = sum(README_POINTS[j] for j in judgements)
    return "low" if score >= 14 else "high" if score <= 7 else "some concerns"


def raw_rows() -> list[dict[str, str]]:
    return read_rows(default_data_dir() / ROB_FILE)


@pytest.fixture(scope="module")
def rob():
    return load_risk_of_bias()


def test_every_catalog_study_has_the_eight_items_once(rob) -> None:
    studies = load_catalog().studies
    assert [s.study for s in rob.studies] == studies
    for s in rob.studies:
        assert [i.item for i in s.items] == list(ITEMS), s.study
    pairs = [(r["study"], r["item"]) for r in raw_rows()]
    assert len(pairs) == len(set(pairs)) == len(studies) * len(ITEMS)


def test_judgements_come_from_the_vocabulary_and_judged_items_cite_a_record(rob) -> None:
    for r in raw_rows():
        assert r["item"] in ITEMS and r["judgement"] in JUDGEMENTS
        if r["judgement"] != "unclear":
            assert r["support"].strip() and r["source_ref"].strip(), r
        assert "\n" not in r["support"], "a support is one line"


def test_the_seed_cohort_is_judged(rob) -> None:
    # The seed paper states its retrospective design and RECIST 1.1 assessment (Liu 2023,
    # Abstract and Methods), so neither item can be 'unclear'.
    liu = rob.study("LIU2023")
    assert liu.judgement("prospective") == "high"
    assert liu.judgement("endpoints") == "low"


@pytest.mark.parametrize("judgements, expected", [
    (["low"] * 8, "low"),                                   # 16
    (["low"] * 7 + ["high"], "low"),                        # 15
    (["low"] * 6 + ["high"] * 2, "low"),                    # 14: lowest 'low'
    (["low"] * 5 + ["high"] * 3, "some concerns"),          # 13
    (["low"] * 5 + ["unclear"] * 3, "some concerns"),       # 10
    (["high"] * 8, "some concerns"),                        # 8: lowest 'some concerns'
    (["high"] * 7 + ["unclear"], "high"),                   # 7
    (["high"] * 5 + ["unclear"] * 3, "high"),               # 5
    (["low"] * 4 + ["unclear"] * 4, "unclear"),             # half unclear
    (["unclear"] * 8, "unclear"),
])
def test_overall_rule(judgements: list[str], expected: str) -> None:
    assert overall_judgement(judgements) == expected == readme_overall(judgements)
    assert expected in OVERALL


def test_overall_of_every_study_follows_the_rule(rob) -> None:
    by_study: dict[str, list[str]] = {}
    for r in raw_rows():
        by_study.setdefault(r["study"], []).append(r["judgement"])
    for s in rob.studies:
        assert s.overall == readme_overall(by_study[s.study]), s.study
        assert s.score == sum(README_POINTS[j] for j in by_study[s.study])


@pytest.mark.parametrize("bad", [["low"] * 7, ["low"] * 7 + ["maybe"]])
def test_overall_rule_refuses_an_incomplete_or_unknown_set(bad: list[str]) -> None:
    with pytest.raises(ValueError):
        overall_judgement(bad)


# --------------------------------------------------------------------------- bad tables


CASES = {
    "unknown item": (edit_first({"item": "aim"}, item="blinding"), "column 'item': unknown item"),
    "unknown judgement": (edit_first({"judgement": "low"}, judgement="moderate"),
                          "column 'judgement': unknown judgement"),
    "judged without support": (edit_first({"judgement": "high"}, support=""),
                               "column 'support'"),
    "unknown study": (edit_first({"item": "aim"}, study="NOT-A-STUDY"), "column 'study'"),
    "unknown reference": (edit_first({"judgement": "low"}, source_ref="NOPE2020"),
                          "not a key in references.csv"),
    "record the study does not rely on": (
        edit_first({"study": "LIU2023", "judgement": "low"}, source_ref="MAKI2009"),
        "not a record LIU2023's catalog rows rely on"),
    "overlong support": (edit_first({"judgement": "low"}, support="x" * 1001),
                         "column 'support': the text is 1,001 characters long, more than the "
                         "limit of 1,000"),
    "missing item": (lambda rows: [r for r in rows
                                   if not (r["study"] == "LIU2023" and r["item"] == "follow_up")],
                     "study LIU2023 (in trials.csv) has no judgement for 'follow_up'"),
    "item judged twice": (lambda rows: rows + [dict(rows[0])], "judged twice"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_table_names_row_and_column(tmp_path: Path, case: str) -> None:
    change, expected = CASES[case]
    data = data_copy(tmp_path)
    rewrite(data / ROB_FILE, change)
    with pytest.raises(CatalogError) as err:
        load_risk_of_bias(data)
    assert expected in str(err.value)
    if case not in {"missing item"}:
        assert f"{ROB_FILE} row " in str(err.value) and "(line " in str(err.value)


def test_cells_are_read_as_the_catalog_reads_them(tmp_path: Path) -> None:
    # comparators/inputs.py: codes in any case, text without control characters, bidirectional
    # overrides or line breaks (the same verdict as a trials.csv cell).
    data = data_copy(tmp_path)
    rewrite(data / ROB_FILE, edit_first(
        {"study": "LIU2023", "item": "aim"}, study=" liu2023", item="AIM", judgement="Low ",
        support="Introduction:\x1b[31m 'we designed\u202e a retrospective study'\nlast line"))
    aim = load_risk_of_bias(data).study("LIU2023").items[0]
    assert (aim.item, aim.judgement) == ("aim", "low")
    assert aim.support == "Introduction:[31m 'we designed a retrospective study' last line"


def test_missing_column_is_named(tmp_path: Path) -> None:
    data = data_copy(tmp_path)
    rewrite(data / ROB_FILE, lambda rows: [{k: v for k, v in r.items() if k != "support"}
                                           for r in rows])
    with pytest.raises(CatalogError, match="column 'support': required column is missing"):
        load_risk_of_bias(data)


# --------------------------------------------------------------------------- CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comparators", *args], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_cli_json_has_the_contract_shape() -> None:
    out = run_cli("rob", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert {"tool", "studies"} <= set(payload) and "MINORS" in payload["tool"]
    studies = load_catalog().studies
    assert [s["study"] for s in payload["studies"]] == studies
    for s in payload["studies"]:
        assert s["overall"] in OVERALL
        assert [i["item"] for i in s["items"]] == list(ITEMS)
        assert all({"item", "judgement", "support"} <= set(i) for i in s["items"])


def test_cli_one_study_and_text_output() -> None:
    out = run_cli("rob", "--study", "SARC028", "--json")
    assert out.returncode == 0, out.stderr
    assert [s["study"] for s in json.loads(out.stdout)["studies"]] == ["SARC028"]
    text = run_cli("rob")
    assert text.returncode == 0 and "LIU2023: " in text.stdout and "score " in text.stdout


def test_cli_study_id_in_any_case() -> None:
    out = run_cli("rob", "--study", "sarc028", "--json")
    assert out.returncode == 0, out.stderr
    assert [s["study"] for s in json.loads(out.stdout)["studies"]] == ["SARC028"]


def test_cli_unknown_study_is_bad_input_in_one_line() -> None:
    out = run_cli("rob", "--study", "NO-SUCH-STUDY", "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "NO-SUCH-STUDY" in out.stderr
