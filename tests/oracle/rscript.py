"""Run one Rscript process over files in a temporary directory (R as the test oracle).

R starts slowly (about a second with metafor), so each oracle module writes every data set to
CSV, runs ONE R script that loops over them and writes CSV results, and reads those back.
R is a test dependency (Debian r-base-core r-cran-metafor r-cran-lme4 r-cran-survival, installed
by the README's test command and .ci/run); if Rscript is missing the tests FAIL, never skip.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

R_TIMEOUT_S = 150
#: (what, outcome) -> number of comparisons; printed at the end of the run (conftest.py)
TALLY: Counter[tuple[str, str]] = Counter()


def run_r(script: str, inputs: dict[str, pd.DataFrame],
          outputs: list[str]) -> dict[str, pd.DataFrame]:
    """Write inputs as <name>.csv, run ``script`` with the directory as its working directory,
    and read back <name>.csv for every name in outputs."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript not found: the R oracle tests need Debian's r-base-core, "
                    "r-cran-metafor, r-cran-lme4 and r-cran-survival (see README, 'Set-up')")
    with tempfile.TemporaryDirectory(prefix="oracle-") as tmp:
        d = Path(tmp)
        for name, frame in inputs.items():
            frame.to_csv(d / f"{name}.csv", index=False)
        (d / "oracle.R").write_text(script)
        proc = subprocess.run([rscript, "--vanilla", "oracle.R"], cwd=d, capture_output=True,
                              text=True, timeout=R_TIMEOUT_S)
        if proc.returncode != 0:
            pytest.fail(f"Rscript failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return {name: pd.read_csv(d / f"{name}.csv") for name in outputs}
