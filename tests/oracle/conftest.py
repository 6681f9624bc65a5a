"""Print the oracle tally (comparisons run and agreeing, by model) after the run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from rscript import TALLY  # noqa: E402


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001
    if not TALLY:
        return
    terminalreporter.section("R oracle comparisons")
    for (what, outcome), count in sorted(TALLY.items()):
        terminalreporter.write_line(f"{what:>42}: {outcome}: {count}")
