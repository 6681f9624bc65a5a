"""`benchmark --endpoint orr|dcr|pfs3|pfs6|grade3 --json`: the chosen endpoint's numerator and
denominator pooled per regimen class, in the same JSON shape as the response benchmark.

Every expected count is read here from data/trials.csv with pandas, by the column definitions
of data/README.md ("Endpoints beyond response"), never from the engine's output: DCR =
(responders + SD) / evaluable; PFS-3/PFS-6 = rate x PFS population, rounded half up; grade >= 3
TRAE = trae_g3 / n_treated of the arm (its own row, or its all-subtype STS/SARCOMA row). This
cohort's values are the seed paper's printed numbers (Liu 2023: DCR 85.2% = 23/27; grade 3-4
TRAEs in 50% of the 30 patients evaluable for safety; no PFS rate printed).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from comparators.__main__ import main
from comparators.analysis.endpoints import endpoint_counts
from comparators.analysis.options import AnalysisOptions, OptionsError
from comparators.analysis.toxicity import hypothetical_toxicity
from comparators.stats.pooling import pool_proportions

ROOT = Path(__file__).resolve().parent.parent
TRIALS = pd.read_csv(ROOT / "data" / "trials.csv")
ALL_SUBTYPES = {"STS", "SARCOMA"}


def cli(*args: str) -> subprocess.CompletedProcess:
    """The command run in this process (the catalog is loaded once; nothing here can abort
    the interpreter: no native renderer is involved)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


def cli_process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comparators", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)


def comparators(subtype: str) -> pd.DataFrame:
    """The default benchmark's comparator rows: the subtype's rows of other studies than the
    seed's, without rows that re-count another study's patients."""
    rows = TRIALS[(TRIALS["subtype"] == subtype) & (TRIALS["study"] != "LIU2023")]
    return rows[rows["overlaps_with"].isna()]


def arm_safety_counts(row: pd.Series) -> tuple[float, float]:
    """(trae_g3, n_treated) of the row's arm: its own, else its all-subtype row's."""
    if pd.notna(row["trae_g3"]) and pd.notna(row["n_treated"]):
        return row["trae_g3"], row["n_treated"]
    arm = TRIALS[(TRIALS["study"] == row["study"]) & (TRIALS["arm"] == row["arm"])
                 & TRIALS["subtype"].isin(ALL_SUBTYPES) & TRIALS["trae_g3"].notna()]
    return (arm["trae_g3"].iloc[0], arm["n_treated"].iloc[0]) if len(arm) else (np.nan, np.nan)


def expected_counts(rows: pd.DataFrame, endpoint: str) -> pd.DataFrame:
    """Numerator and denominator per row by the data README's definitions; rows that do not
    report the endpoint dropped."""
    if endpoint == "dcr":
        num, den = rows["responders"] + rows["sd"], rows["evaluable"]
    elif endpoint in ("pfs3", "pfs6"):
        den = rows[f"{endpoint}_n"]
        num = pd.Series([half_up(r, n) for r, n in zip(rows[f"{endpoint}_rate"], den,
                                                               strict=True)],
                        index=rows.index, dtype=float)
    else:
        pairs = [arm_safety_counts(r) for _, r in rows.iterrows()]
        num = pd.Series([p[0] for p in pairs], index=rows.index)
        den = pd.Series([p[1] for p in pairs], index=rows.index)
    out = rows.assign(num=num, den=den)
    return out[out["num"].notna() & out["den"].notna() & (out["den"] > 0)]


def half_up(rate: float, n: float) -> float:
    """The printed rate (its decimal text) times n, rounded half up in exact arithmetic: how a
    reader turns '12.5% of 20' into 3 patients. NaN when either is missing."""
    if pd.isna(rate) or pd.isna(n):
        return np.nan
    return float(math.floor(Fraction(repr(float(rate))) * int(n) + Fraction(1, 2)))


def by_class(frame: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    g = frame.groupby("regimen_class")
    return {str(c): (int(len(f)), int(f["num"].sum()), int(f["den"].sum())) for c, f in g}


CASES = [(s, e) for s in ("ASPS", "LMS", "UPS") for e in ("dcr", "pfs3", "pfs6", "grade3")]


@pytest.mark.parametrize(("subtype", "endpoint"), CASES)
def test_class_counts_are_the_endpoint_columns_of_the_catalog(subtype: str,
                                                              endpoint: str) -> None:
    expected = by_class(expected_counts(comparators(subtype), endpoint))
    out = cli("benchmark", "--subtype", subtype, "--endpoint", endpoint, "--json")
    if not expected:
        seed = expected_counts(TRIALS[(TRIALS["study"] == "LIU2023")
                                      & (TRIALS["subtype"] == subtype)], endpoint)
        if seed.empty:  # nothing reports it: a refusal naming the endpoint, exit 2
            assert out.returncode == 2, out.stdout
            assert "nothing to pool" in out.stderr and out.stderr.count("\n") == 1
            return
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["endpoint"] == endpoint and payload["options"]["endpoint"] == endpoint
    got = {c["class"]: (c["k"], c["events"], c["n"]) for c in payload["classes"]}
    assert got == expected
    for c in payload["classes"]:  # one arm: its own proportion, no model needed
        if c["k"] == 1:
            assert c["estimate"] == pytest.approx(c["events"] / c["n"])


def test_a_rate_on_a_half_gives_one_count_in_both_paths() -> None:
    # 12.5% of 20 is 2.5 patients: 3, as a person rounds, both as a PFS rate times its
    # population and as a hypothetical grade >= 3 TRAE percentage of patients treated
    rows = pd.DataFrame({"key": ["half"], "label": ["half"], "is_cohort": [False],
                         "responders": [1], "evaluable": [20],
                         "pfs3_rate": [0.125], "pfs3_n": [20], "pfs_rate_weeks": [""]})
    counted, _ = endpoint_counts(rows, "pfs3")
    assert (counted["responders"].iloc[0], counted["evaluable"].iloc[0]) == (3, 20)
    toxicity = hypothetical_toxicity(20, percent_treated=12.5)
    assert (toxicity.events, toxicity.patients) == (3, 20)


def test_no_pooled_catalog_count_changes_with_the_half_up_rule() -> None:
    # Where a printed PFS rate of data/trials.csv gives another count half up than pandas'
    # round-half-to-even gave, it lands on half a patient, and every such row is an all-subtype
    # (STS/SARCOMA) row, which no subtype benchmark pools: no pooled count changes.
    checked, changed = 0, []
    for landmark in ("pfs3", "pfs6"):
        rows = TRIALS[TRIALS[f"{landmark}_rate"].notna() & TRIALS[f"{landmark}_n"].notna()]
        even = (rows[f"{landmark}_rate"] * rows[f"{landmark}_n"]).round()
        for (_, row), before in zip(rows.iterrows(), even, strict=True):
            after = half_up(row[f"{landmark}_rate"], row[f"{landmark}_n"])
            if after != before:
                assert after == before + 1  # only a half rounds differently, and only up
                changed.append((landmark, row["study"], row["subtype"]))
        checked += len(rows)
    assert checked >= 10  # the catalog's PFS rates were read
    assert all(subtype in ALL_SUBTYPES for _, _, subtype in changed), changed
    assert cli("benchmark", "--subtype", "STS", "--endpoint", "pfs3").returncode == 2  # no pool


def test_pooled_safety_is_the_pool_of_the_arms_counts() -> None:
    rows = expected_counts(comparators("ASPS"), "grade3")
    ici = rows[rows["regimen_class"] == "ICI"]
    assert len(ici) >= 2  # Chen 2023 (atezolizumab) and geptanolimab: ASPS-only arms
    fit = pool_proportions(ici["num"].astype(int).to_numpy(), ici["den"].astype(int).to_numpy())
    payload = json.loads(cli("benchmark", "--subtype", "ASPS", "--endpoint", "grade3",
                             "--json").stdout)
    (pooled,) = [c for c in payload["classes"] if c["class"] == "ICI"]
    assert (pooled["estimate"], pooled["low"], pooled["high"]) == pytest.approx(
        (fit.estimate, fit.low, fit.high))


def test_this_cohort_takes_the_seed_papers_numbers_or_is_not_reported() -> None:
    dcr = json.loads(cli("benchmark", "--subtype", "ASPS", "--endpoint", "dcr",
                         "--json").stdout)
    seed = TRIALS[(TRIALS["study"] == "LIU2023") & (TRIALS["subtype"] == "ASPS")].iloc[0]
    assert (dcr["cohort"]["responders"], dcr["cohort"]["evaluable"]) == (
        seed["responders"] + seed["sd"], seed["evaluable"])  # 5 PR + 2 SD of 7
    # grade 3-4 TRAEs "in 50% of patients" (Results, Safety): 15 of the 30 evaluable for
    # safety, reported for the whole cohort (the arm), so every subtype's cohort row has it
    g3 = json.loads(cli("benchmark", "--subtype", "ASPS", "--endpoint", "grade3",
                        "--json").stdout)
    assert (g3["cohort"]["responders"], g3["cohort"]["evaluable"]) == (15, 30)
    assert any("Safety is reported per arm" in n for n in g3["notes"])
    pfs = json.loads(cli("benchmark", "--subtype", "ASPS", "--endpoint", "pfs3",
                         "--json").stdout)
    assert pfs["cohort"] is None  # the seed paper prints no PFS rate
    assert any(n.startswith("Not reported (3-month progression-free rate)")
               and "this cohort" in n for n in pfs["notes"])
    weeks = expected_counts(comparators("ASPS"), "pfs3")["pfs_rate_weeks"].eq("yes").sum()
    assert any(f"{weeks} arm" in n and "12 weeks" in n for n in pfs["notes"]) == bool(weeks)


def test_orr_is_the_default_and_unchanged() -> None:
    plain = json.loads(cli("benchmark", "--subtype", "LMS", "--json").stdout)
    orr = json.loads(cli("benchmark", "--subtype", "LMS", "--endpoint", "ORR", "--json").stdout)
    assert plain == orr and plain["endpoint"] == "orr"
    expected = comparators("LMS").assign(num=lambda f: f["responders"],
                                         den=lambda f: f["evaluable"])
    got = {c["class"]: (c["k"], c["events"], c["n"]) for c in plain["classes"]}
    assert got == by_class(expected[expected["den"] > 0])


def test_text_output_and_refusals_name_the_endpoint() -> None:
    out = cli_process("benchmark", "--subtype", "ASPS", "--endpoint", "grade3")
    assert out.returncode == 0
    assert out.stdout.startswith("ASPS, grade ≥ 3 treatment-related adverse event rate:")
    bad = cli("benchmark", "--subtype", "ASPS", "--endpoint", "os")
    assert bad.returncode == 2 and "choose from orr, dcr, pfs3, pfs6, grade3" in bad.stderr
    primary = cli("benchmark", "--subtype", "ASPS", "--endpoint", "dcr", "--primary-only")
    assert primary.returncode == 2 and "response counts only" in primary.stderr


def test_options_carry_the_endpoint_into_the_stamp_and_methods() -> None:
    assert AnalysisOptions(endpoint="PFS6").endpoint == "pfs6"
    with pytest.raises(OptionsError, match="endpoint"):
        AnalysisOptions(endpoint="median")
    assert AnalysisOptions(endpoint="grade3").stamp().startswith(
        "endpoint: grade ≥ 3 treatment-related adverse event rate; model:")
    assert "endpoint" not in AnalysisOptions().stamp()  # the default stamp as before
    from comparators.analysis.benchmark import benchmark_subtype, subtype_rows
    from comparators.evidence.catalog import load_catalog
    from comparators.evidence.cohort import published_cohort

    catalog = load_catalog()
    rows = subtype_rows(catalog.trials, published_cohort(catalog.trials), "ASPS",
                        endpoint="pfs3")
    text = benchmark_subtype(rows, AnalysisOptions(endpoint="pfs3")).methods_paragraph()
    assert text.startswith("3-month progression-free rates (patients progression-free at 3 "
                           "months")
    assert "ORR" not in text and "Objective response" not in text
