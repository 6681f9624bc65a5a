"""`summary ... --endpoint orr|dcr|pfs3|pfs6|grade3`: the evidence summary of the chosen
endpoint, read by the same --endpoint parser as `benchmark`; a bad value exits 2 with one line.

Expected counts are read here from data/trials.csv with pandas by data/README.md's column
definitions (grade >= 3 TRAE = trae_g3 / n_treated of the arm's all-subtype row when the arm
treated several histologies), never from the engine's output.
"""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from test_benchmark_endpoints import (
    TRIALS,
    by_class,
    cli,
    cli_process,
    comparators,
    expected_counts,
)


def test_summary_pools_the_chosen_endpoint() -> None:
    out = cli("summary", "--subtype", "ASPS", "--endpoint", "GRADE3", "--json")
    assert out.returncode == 0, out.stderr
    (section,) = json.loads(out.stdout)["sections"]
    expected = by_class(expected_counts(comparators("ASPS"), "grade3"))
    assert expected["ICI"][0] >= 2
    got = {c: (p["k"], p["events"], p["n"]) for c, p in section["classes"].items()}
    assert got == expected
    # this cohort: grade 3-4 TRAEs in 50% of the 30 patients evaluable for safety (Liu 2023,
    # Results), the whole cohort's
    assert "the grade ≥ 3 treatment-related adverse event rate was 15 of 30" in section["lead"]
    assert section["endpoint_notes"][0].startswith("Safety is reported per arm")


def test_markdown_names_the_endpoint_and_orr_stays_the_default() -> None:
    pfs = cli("summary", "--subtype", "LMS", "--endpoint", "pfs6")
    assert pfs.returncode == 0, pfs.stderr
    assert "Pooled PFS-6 by regimen class (LMS)" in pfs.stdout
    assert "EORTC reference values for the 6-month progression-free rate" in pfs.stdout
    plain = cli("summary", "--subtype", "LMS")
    orr = cli("summary", "--subtype", "LMS", "--endpoint", "orr")
    assert plain.stdout == orr.stdout and "Pooled ORR by regimen class (LMS)" in plain.stdout


@pytest.mark.parametrize("value", ["os", "", "grade 3", "orr;rm"])
def test_a_bad_endpoint_exits_2_with_one_line(value: str) -> None:
    out = cli("summary", "--subtype", "ASPS", "--endpoint", value)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "--endpoint" in out.stderr
    assert "choose from orr, dcr, pfs3, pfs6, grade3" in out.stderr
    assert "Traceback" not in out.stderr


def test_an_endpoint_the_subtype_does_not_report_exits_2() -> None:
    out = cli("summary", "--subtype", "ASPS", "--endpoint", "pfs6")
    if not TRIALS.loc[TRIALS["subtype"] == "ASPS", "pfs6_rate"].isna().all():
        pytest.fail("the catalog now has an ASPS 6-month rate: choose another example")
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    assert "6-month progression-free rate" in out.stderr and "nothing to pool" in out.stderr


def test_word_file_of_the_safety_summary(tmp_path: Path) -> None:
    target = tmp_path / "asps_safety.docx"
    out = cli_process("summary", "--subtype", "ASPS", "--endpoint", "grade3", "--format",
                      "docx", "-o", str(target))
    assert out.returncode == 0, out.stderr
    text = "\n".join(p.text for p in docx.Document(str(target)).paragraphs)
    assert "Pooled grade ≥ 3 TRAE by regimen class (ASPS)" in text
    assert "Safety is reported per arm: each comparator arm" in text
