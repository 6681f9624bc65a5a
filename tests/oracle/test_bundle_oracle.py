"""Reproduction bundles rerun in R: for several subtypes and models, build the bundle the CLI
writes (`reproduce -o FILE.zip`), unzip it, run its `reproduce.R` with Rscript exactly as a
reviewer would, and compare every number it prints with `benchmark --json`'s classes.

R is the oracle (metafor's escalc + rma / rma.glmm, binom.test, qbeta); the app's numbers are
never the expected values of anything but themselves. Tolerances as tests/oracle/
test_pooling_oracle.py (why there): FE/DL/PM/ML/REML 1e-6 absolute plus 1e-6 relative, I² (in
percent) 1e-4; GLMM 2e-3 absolute or 1% relative (tau² 5e-3 or 2%). Counts, k, class names and
flags must be equal. A Bayesian benchmark's bundle must carry no R script and say which R
package reproduces it (bayesmeta); that is checked, not skipped.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from rscript import R_TIMEOUT_S, TALLY

from comparators.__main__ import main

REPO = Path(__file__).resolve().parents[2]

CASES: list[tuple[str, list[str]]] = [
    ("ASPS", []),
    ("UPS", []),  # a class of all-0% arms (exact interval) and a class of one arm
    ("LMS", []),
    ("DDLPS", []),
    ("AS", []),
    ("OS", []),
    ("ASPS", ["--method", "DL", "--hksj"]),
    ("LMS", ["--method", "PM", "--hksj", "--hksj-variant", "plain", "--level", "0.9"]),
    ("UPS", ["--method", "FE", "--measure", "ft"]),
    ("LMS", ["--method", "ML", "--measure", "arcsine"]),
    ("ASPS", ["--method", "DL", "--measure", "raw"]),
    ("ASPS", ["--method", "GLMM"]),
    ("LMS", ["--method", "GLMM", "--hksj"]),
    ("UPS", ["--ci-method", "jeffreys"]),
    ("ASPS", ["--ci-method", "wilson-cc", "--level", "0.8"]),
    ("UPS", ["--ci-method", "clopper-pearson"]),
    ("ASPS", ["--ci-method", "agresti-coull"]),
    ("UPS", ["--ci-method", "wald"]),
    ("ASPS", ["--include-cohort"]),
    ("LMS", ["--include-overlapping", "--method", "REML", "--hksj"]),
]
EXACT = ("class", "k", "events", "n", "includes_cohort", "estimable")
NUMBERS = ("estimate", "low", "high", "tau2", "i2")


def _cli(argv: list[str]) -> dict:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    assert code == 0, argv
    return json.loads(out.getvalue()) if "--json" in argv else {}


def _close(name: str, app: float | None, r: float | None, glmm: bool) -> bool:
    if app is None or r is None:
        # tau² = 0 at the boundary: R prints 0 where the app may print 0.0; null means absent
        return app is None and r is None
    if glmm:
        atol, rtol = (5e-3, 0.02) if name == "tau2" else (2e-3, 0.01)
        return abs(app - r) <= atol or abs(app - r) <= rtol * abs(r)
    atol = 1e-4 if name == "i2" else 1e-6
    return abs(app - r) <= atol + 1e-6 * abs(r)


def _unzip(data: bytes, where: Path) -> Path:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        z.extractall(where)
    (folder,) = list(where.iterdir())
    return folder


@pytest.mark.parametrize(("subtype", "extra"), CASES,
                         ids=[f"{s}{''.join(e)}" for s, e in CASES])
def test_bundle_reruns_in_r_with_the_benchmark_numbers(subtype: str, extra: list[str],
                                                       tmp_path: Path) -> None:
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript not found: the R oracle tests need r-base-core and r-cran-metafor")
    bundle = tmp_path / "bundle.zip"
    _cli(["reproduce", "--subtype", subtype, *extra, "-o", str(bundle)])
    expected = _cli(["benchmark", "--subtype", subtype, *extra, "--json"])["classes"]
    folder = _unzip(bundle.read_bytes(), tmp_path / "unzipped")
    proc = subprocess.run([rscript, "--vanilla", "reproduce.R"], cwd=folder,
                          capture_output=True, text=True, timeout=R_TIMEOUT_S)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout)["classes"]
    glmm = "GLMM" in extra
    assert [c["class"] for c in got] == [c["class"] for c in expected]
    what = f"bundle {'GLMM' if glmm else 'rma'} numbers"
    bad = []
    for app, r in zip(expected, got, strict=True):
        for key in EXACT:
            assert app[key] == r[key], (subtype, extra, app["class"], key, app[key], r[key])
        for key in NUMBERS:
            ok = _close(key, app[key], r[key], glmm)
            TALLY[(what, "agree" if ok else "DIFFER")] += 1
            if not ok:
                bad.append((app["class"], key, app[key], r[key]))
    assert not bad, (subtype, extra, bad)


def test_bundle_python_script_and_manifest(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    _cli(["reproduce", "--subtype", "LMS", "--method", "DL", "-o", str(bundle)])
    folder = _unzip(bundle.read_bytes(), tmp_path / "unzipped")
    manifest = json.loads((folder / "manifest.json").read_text())
    import hashlib

    files = sorted(p.name for p in folder.iterdir() if p.name != "manifest.json")
    assert sorted(manifest["sha256"]) == files
    for name, digest in manifest["sha256"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest
    assert manifest["catalog"] and manifest["versions"]["comparators"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([sys.executable, "reproduce.py"], cwd=folder, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    expected = _cli(["benchmark", "--subtype", "LMS", "--method", "DL", "--json"])["classes"]
    got = json.loads(proc.stdout)["classes"]
    for app, py in zip(expected, got, strict=True):
        for key in (*EXACT, *NUMBERS):
            a, b = app[key], py[key]
            assert a == b or (isinstance(a, float) and math.isclose(a, b, abs_tol=1e-12))


def test_bayesian_bundle_names_bayesmeta_and_claims_no_r_reproduction(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.zip"
    _cli(["reproduce", "--subtype", "ASPS", "--method", "BAYES", "-o", str(bundle)])
    folder = _unzip(bundle.read_bytes(), tmp_path / "unzipped")
    assert not (folder / "reproduce.R").exists()
    readme = (folder / "README.txt").read_text()
    assert "bayesmeta" in readme and "not installed" in readme
