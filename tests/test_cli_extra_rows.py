"""`--extra-rows FILE` on trials, benchmark and summary: the arms are validated as the catalog's
rows are, marked as added by the user, and bad input exits 2 with one line (design.md, CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from comparators.evidence.catalog import load_catalog
from comparators.evidence.labels import ADDED_BY_USER, ADDED_MARK, MARKS

ROOT = Path(__file__).resolve().parent.parent
HEADER = ("study,arm,regimen,regimen_class,ici_target,subtype,evaluable,responders,source_ref,"
          "source_type,data_cut")
ARM = ("SMITH2025,axitinib + pembrolizumab,axitinib + pembrolizumab,AI+ICI,PD-1,ASPS,10,6,"
       "Smith J. ASCO 2025 abstract 11500,conference abstract,2025-01")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "comparators", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture
def extra(tmp_path: Path) -> Path:
    path = tmp_path / "added.csv"
    path.write_text(f"{HEADER}\n{ARM}\n", encoding="utf-8")
    return path


def test_trials_lists_the_added_row_marked_as_added(extra: Path) -> None:
    out = run_cli("trials", "--subtype", "ASPS", "--extra-rows", str(extra))
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)["rows"]
    curated = load_catalog().trials
    assert len(rows) == int((curated["subtype"] == "ASPS").sum()) + 1
    added = [r for r in rows if r["added_by_user"]]
    assert [(r["study"], r["verified"]) for r in added] == [("SMITH2025", ADDED_BY_USER)]


def test_benchmark_pools_the_added_arm_in_its_class(extra: Path) -> None:
    def ai_ici(*more: str) -> dict:
        out = run_cli("benchmark", "--subtype", "ASPS", "--json", *more)
        assert out.returncode == 0, out.stderr
        return next(c for c in json.loads(out.stdout)["classes"] if c["class"] == "AI+ICI")

    before, after = ai_ici(), ai_ici("--extra-rows", str(extra))
    assert after["k"] == before["k"] + 1
    assert (after["events"], after["n"]) == (before["events"] + 6, before["n"] + 10)


def test_summary_marks_the_added_arm_and_explains_the_mark(extra: Path) -> None:
    out = run_cli("summary", "--subtype", "ASPS", "--extra-rows", str(extra))
    assert out.returncode == 0, out.stderr
    assert f"{ADDED_MARK}" in out.stdout
    assert MARKS[ADDED_MARK].legend in out.stdout
    assert "plus 1 arm added by the user" in out.stdout  # the reproducibility stamp says so


@pytest.mark.parametrize(("content", "words"), [
    (f"{HEADER}\n{ARM.replace(',2025-01', ',')}\n", "column 'data_cut': required value is empty"),
    (f"{HEADER}\n{ARM.replace(',10,6,', ',10,16,')}\n", "16 responders exceed 10 evaluable"),
    ("study,arm\nX,y\n", "required column is missing"),
    ("", "empty file"),
])
@pytest.mark.parametrize("command", [["trials"], ["benchmark", "--subtype", "ASPS"],
                                     ["summary", "--subtype", "ASPS"]])
def test_bad_extra_rows_exit_2_with_one_line(tmp_path: Path, content: str, words: str,
                                             command: list[str]) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    out = run_cli(*command, "--extra-rows", str(path))
    assert out.returncode == 2, out.stderr
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("error: ")
    assert words in out.stderr
    assert out.stdout == ""


def test_a_missing_or_oversized_extra_rows_file_is_bad_input(tmp_path: Path) -> None:
    from comparators.limits import MAX_ADDED_BYTES

    out = run_cli("trials", "--extra-rows", str(tmp_path / "none.csv"))
    assert out.returncode == 2 and out.stderr.count("\n") == 1
    big = tmp_path / "big.csv"
    big.write_bytes(b"x" * (MAX_ADDED_BYTES + 1))
    out = run_cli("trials", "--extra-rows", str(big))
    assert out.returncode == 2 and f"{MAX_ADDED_BYTES:,}" in out.stderr
