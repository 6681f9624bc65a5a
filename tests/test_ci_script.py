"""The README's one test command and the CI script .ci/run stay the same command."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("chromium", "haproxy", "r-base-core", "r-cran-metafor", "r-cran-lme4",
            "r-cran-survival")


def _readme_test_command() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)\n```", text, flags=re.S)
    hits = [b for b in blocks if "python -m pytest" in b]
    assert len(hits) == 1, "README must have exactly one bash block with the test command"
    return hits[0].strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    command = _readme_test_command()
    lines = [ln for ln in (ROOT / ".ci/run").read_text().splitlines()
             if ln.strip() and not ln.lstrip().startswith("#")]
    assert command in lines


def test_test_command_installs_r_and_chromium_noninteractively() -> None:
    command = _readme_test_command()
    assert "\n" not in command  # one command line
    for pkg in PACKAGES:
        assert command.count(pkg) == 2, pkg  # checked by dpkg -s, then installed if missing
    assert "apt-get update" in command and "apt-get install -y" in command
    assert "DEBIAN_FRONTEND=noninteractive" in command
    assert command.endswith("python -m pip install -q -r requirements-dev.txt && python -m pytest")
