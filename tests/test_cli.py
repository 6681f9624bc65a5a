"""The CLI contract (../shared/design.md): JSON on stdout, exit 2 + one stderr line on bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "comparators", *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )


def test_ci_json_reproduces_the_seed_paper() -> None:
    # Liu et al. 2023, Abstract: ORR 48.1% (95% CI 30.7-66.0%).
    out = run_cli("ci", "13", "27", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"estimate", "low", "high", "method", "level"}
    assert (round(result["low"], 3), round(result["high"], 3)) == (0.307, 0.660)
    assert result["method"] == "wilson" and result["level"] == 0.95


def test_ci_method_and_level_options() -> None:
    # Newcombe 1998 Table I: 81/263 exact interval 0.2527-0.3676.
    result = json.loads(run_cli("ci", "81", "263", "--method", "clopper-pearson", "--json").stdout)
    assert (round(result["low"], 4), round(result["high"], 4)) == (0.2527, 0.3676)
    wide = json.loads(run_cli("ci", "13", "27", "--level", "0.99", "--json").stdout)
    assert wide["low"] < 0.307 and wide["level"] == 0.99


def test_ci_plain_text_output() -> None:
    out = run_cli("ci", "13", "27")
    assert out.stdout.strip() == "13/27 = 48.1% (95% CI 30.7–66.0%) [Wilson score]"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ci", "14", "13"], "cannot exceed"),
        (["ci", "-1", "5"], "must not be negative"),
        (["ci", "1.5", "5"], "whole number"),
        (["ci", "abc", "5"], "whole number"),
        (["ci", "3", "5", "--level", "1.2"], "between 0 and 1"),
        (["ci", "3", "5", "--level", "abc"], "must be a number"),
        (["ci", "3", "5", "--method", "logit"], "invalid choice"),
        (["ci", "3", "0"], "at least 1"),
        (["ci", "3"], "required"),
        (["nonsense"], "invalid choice"),
        ([], "required"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    out = run_cli(*args, "--json") if args else run_cli()
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], out.stderr
    assert "Traceback" not in out.stderr
