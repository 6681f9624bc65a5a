"""Print the hostile-input census after the run: inputs tried, handled and failed, by kind.

Each test case counts as one input unless it records how many it tried with
`record_property("inputs", n)` (a loop over a table). A failing case counts all its inputs as
failed, so the census never overstates what was handled.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

KINDS = {
    "test_parsing_table": "one value table through every parser and entry point",
    "test_link_values": "link (URL) values on every page",
    "test_entry_points": "uploads, editor, CLI and links through the real pages",
    "test_editor_messages": "what-if editor messages",
    "test_state_follows_source": "state that outlives its source",
    "test_readers": "readers a small file could stall",
    "test_input_bounds": "readers a small file could stall",
    "test_work_bounds": "work without a ceiling",
    "test_wrong_answers": "wrong without a word, pages that break",
    "test_cli_contract": "CLI contract",
    "test_renderers": "text reaching a native renderer",
    "test_security": "text becoming markup, formulas or state",
}
CENSUS: Counter[tuple[str, str]] = Counter()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    kind = KINDS.get(Path(report.nodeid.split("::")[0]).stem)
    if kind is None or report.when != "call" or report.skipped:
        return
    inputs = int(dict(report.user_properties).get("inputs", 1))
    CENSUS[(kind, "handled" if report.passed else "failed")] += inputs


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]  # noqa: ANN001
    if not CENSUS:
        return
    terminalreporter.section("Hostile-input census (inputs tried = handled + failed)")
    for kind in dict.fromkeys(KINDS.values()):
        handled, failed = CENSUS[(kind, "handled")], CENSUS[(kind, "failed")]
        if handled or failed:
            terminalreporter.write_line(f"{kind:>56}: tried {handled + failed:>6}, "
                                        f"handled {handled:>6}, failed {failed}")
    handled = sum(n for (_, outcome), n in CENSUS.items() if outcome == "handled")
    failed = sum(n for (_, outcome), n in CENSUS.items() if outcome == "failed")
    terminalreporter.write_line(f"{'all kinds':>56}: tried {handled + failed:>6}, "
                                f"handled {handled:>6}, failed {failed}")
