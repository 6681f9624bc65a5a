"""`summary --endpoint median_pfs`: the evidence summary of median PFS (months), in the JSON
shape of a rate's summary, as Markdown, HTML and Word; a proportion's options refused in one
line, as `benchmark` refuses them.

Expected arms, patients and sources are read here from data/trials.csv with pandas (the
subtype's rows of studies other than the seed's, without rows that re-count another study's
patients, with a `pfs_median_months`), never from the engine's output. The pooled medians
themselves are checked against R in tests/oracle/test_median_benchmark_oracle.py. This
cohort's median is the seed paper's printed one (Liu 2023, Results: median PFS 8.90 months,
95% CI 5.98–11.82, for all 27 patients; none per subtype).
"""

from __future__ import annotations

import json
from pathlib import Path

import docx
import pytest
from test_benchmark_endpoints import TRIALS, cli, cli_process, comparators

from comparators.analysis.median_pfs import NO_CERTAINTY


def with_median(subtype: str):
    rows = comparators(subtype)
    return rows[rows["pfs_median_months"].notna()]


def test_json_has_a_rates_keys_with_months_and_the_arms_from_the_catalog() -> None:
    rate = json.loads(cli("summary", "--subtype", "ASPS", "--json").stdout)
    out = cli("summary", "--subtype", "ASPS", "--endpoint", "median_pfs", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert set(rate) == set(payload)
    (section,) = payload["sections"]
    assert set(rate["sections"][0]) <= set(section)
    assert section["unit"] == "months" and section["endpoint"] == "median_pfs"
    assert section["pooled"] is None and section["comparisons"] == []
    expected = with_median("ASPS")
    want = {c: (len(g), int(g["evaluable"].sum())) for c, g in expected.groupby("regimen_class")}
    assert {c: (p["k"], p["n"]) for c, p in section["classes"].items()} == want
    assert all(p["unit"] == "months" and p["method_name"] for p in section["classes"].values())
    # every arm with a median is in the trials table, citing what it was read from
    source = expected["source_ref"].fillna(expected["ref"])
    cited = {r["number"]: r["key"] for r in payload["references"]}
    arms = {(t["study"], t["arm"]): cited[t["ref_number"]] for t in section["trials"]}
    assert arms == dict(zip(zip(expected["study"], expected["arm"], strict=True), source,
                            strict=True))
    # no cohort median for ASPS: the all-subtype one is named, and the seed paper cited for it
    assert section["cohort"] is None
    assert "not reported for ASPS; all subtypes: 8.90 months (95% CI 5.98–11.82)" in \
        section["lead"]
    assert section["endpoint_notes"] == [NO_CERTAINTY]
    assert "McGrath et al." in section["methods"]


def test_markdown_has_no_grade_table_and_says_why() -> None:
    out = cli("summary", "--subtype", "AS", "--endpoint", "median_pfs")
    assert out.returncode == 0, out.stderr
    assert "Certainty of the evidence, GRADE" not in out.stdout
    assert "thresholds in percentage points" in out.stdout
    assert "### Median PFS by regimen class (AS)" in out.stdout
    assert "## Methods" in out.stdout and "## References" in out.stdout


def test_word_and_html_files_carry_the_lead_and_the_median_forest(tmp_path: Path) -> None:
    word, page = tmp_path / "asps.docx", tmp_path / "asps.html"
    for target, fmt in ((word, "docx"), (page, "html")):
        out = cli_process("summary", "--subtype", "ASPS", "--endpoint", "median_pfs",
                          "--format", fmt, "-o", str(target))
        assert out.returncode == 0, out.stderr
    document = docx.Document(str(word))
    text = [p.text for p in document.paragraphs]
    assert any(t.startswith("In ASPS, the median progression-free survival was") for t in text)
    assert len(document.inline_shapes) == 2  # the median forest plot and the PRISMA flow
    assert any(t.startswith("Figure 1. Median progression-free survival in ASPS") for t in text)
    html = page.read_text(encoding="utf-8")
    assert html.count("<figure><svg") == 2
    assert "Median progression-free survival, ASPS" in html  # the forest's own title
    assert "In ASPS, the median progression-free survival was" in html


@pytest.mark.parametrize("args, says", [
    (("--method", "GLMM"), "the GLMM model pools proportions only"),
    (("--method", "bayes"), "the BAYES model pools proportions only"),
    (("--measure", "logit"), "--measure applies to proportions"),
    (("--ci-method", "wilson"), "--ci-method applies to proportions"),
    (("--primary-only",), "use it with the objective response rate"),
])
def test_a_proportions_option_exits_2_with_one_plain_line(args: tuple[str, ...],
                                                           says: str) -> None:
    out = cli("summary", "--subtype", "ASPS", "--endpoint", "median_pfs", *args)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and says in out.stderr
    assert "analysis." not in out.stderr and "Traceback" not in out.stderr


def test_the_catalog_still_has_asps_arms_with_and_without_an_interval() -> None:
    """The example above exercises both kinds of reporting (a guard on the data, not the code)."""
    rows = with_median("ASPS")
    assert rows["pfs_low"].notna().any() and rows["pfs_low"].isna().any()
    assert TRIALS.loc[(TRIALS["study"] == "LIU2023") & (TRIALS["subtype"] == "ASPS"),
                      "pfs_median_months"].isna().all()
