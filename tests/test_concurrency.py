"""Many users at once against one real server: 20 concurrent browser contexts in one headless
Chromium (async Playwright), each doing its own thing (uploads on /survival, URL-bound numbers on
/benchmark and /plan), checking it only ever sees its own values, never an exception; rerun
latency p50/p95 and the server's peak RSS are printed and bounded.

The driver lives in bench/concurrency.py (`python bench/concurrency.py` runs it standalone).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import concurrency  # noqa: E402

pytestmark = pytest.mark.browser
SESSIONS = 20
DURATION = 50.0  # seconds from the first arrival to the last new interaction
RSS_BUDGET_MB = 400


@pytest.fixture(scope="module")
def report() -> concurrency.Report:
    server = concurrency.start_server()
    try:
        result = concurrency.run(SESSIONS, DURATION, server=server)
    finally:
        server.stop()
    print("\n" + result.summary())
    return result


def test_every_session_ran_and_finished(report: concurrency.Report) -> None:
    assert report.sessions == SESSIONS == len(report.logs)
    assert not report.errors, report.errors
    assert all(log.latencies for log in report.logs), [
        (log.index, log.kind) for log in report.logs if not log.latencies]
    assert {log.kind for log in report.logs} == {"upload", "benchmark", "plan"}


def test_no_session_sees_another_sessions_data_or_an_exception(
        report: concurrency.Report) -> None:
    assert not report.problems, report.problems
    assert sum(log.checks for log in report.logs) >= SESSIONS


def test_rerun_latency_is_measured_and_bounded(report: concurrency.Report) -> None:
    # 20 Chromium renderers and the server share 2 CPU cores in CI, so the bound is generous;
    # the printed p50/p95 are the figures to read.
    assert len(report.latencies) >= SESSIONS
    assert report.percentile(50) < 20, report.summary()
    assert report.percentile(95) < 60, report.summary()


def test_server_memory_stays_under_budget(report: concurrency.Report) -> None:
    assert report.peak_rss_mb > 0
    assert report.hwm_mb < RSS_BUDGET_MB, report.summary()
