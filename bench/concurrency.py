"""Many users at once: one `streamlit run` server, one headless Chromium, N browser contexts.

    python bench/concurrency.py [--sessions 20] [--duration 45]

Each context is one user session doing something of its own, repeatedly, for `duration` seconds:
- odd sessions upload their own IPD file on /survival (ids and file name carry the session
  number), which is their cohort at once, and check the page shows *their* file;
- even sessions alternate between /benchmark?subtype=...&reference=NN and /plan?plan_p0=...
  (URL-bound widgets) and type session-specific values into a number input.
After every interaction a session checks it sees its own value and never another session's
(no `session_NN` name of another session, no uploaded-cohort banner on a session that never
uploaded) and that no `[data-testid='stException']` is shown.

Rerun latency is the time from the interaction to the server's `script_finished` message
arriving on that page's websocket (then the page must also show
`data-test-script-state='notRunning'`). The server's VmRSS / VmHWM are
sampled from /proc every 0.25 s. Prints sessions, duration, interactions, p50/p95 latency and
peak RSS; tests/test_concurrency.py runs the same scenario and asserts on it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import CHROMIUM_FLAGS, Server, start_server  # noqa: E402

APP = "[data-testid='stApp']"
IDLE = f"{APP}[data-test-script-state='notRunning']"
EXCEPTION = "[data-testid='stException']"
TIMEOUT_MS = 90_000
THINK = 1.0  # seconds a user pauses between interactions
MAX_UPLOAD_ROUNDS = 2  # upload + use, per upload session
MAX_TYPED_VALUES = 4  # values typed per number session
VALID_ROWS = (
    "{sid}-P1,ASPS,anlotinib+sintilimab,anlotinib,sintilimab,later-line,PR,-45,11.3,0,14.0,0,"
    "months",
    "{sid}-P2,UPS,apatinib+camrelizumab,apatinib,camrelizumab,first-line,PD,25,2.1,1,6.0,1,"
    "months",
    "{sid}-P3,LMS,anlotinib+toripalimab,anlotinib,toripalimab,later-line,SD,-5,8.0,1,12.5,0,"
    "months",
)
HEADER = ("id,subtype,regimen,ai_agent,ici_agent,line,best_response,best_pct_change,pfs_time,"
          "pfs_event,os_time,os_event,time_unit")



# ------------------------------------------------------------------------------ server


class RssSampler(threading.Thread):
    """Samples /proc/PID/status VmRSS and VmHWM (kB) of the server process."""

    def __init__(self, pid: int, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[int] = []
        self.hwm_kb = 0
        self._halt = threading.Event()

    @staticmethod
    def read(pid: int) -> dict[str, int]:
        out = {}
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    key, value = line.split(":", 1)
                    out[key] = int(value.split()[0])
        return out

    def run(self) -> None:
        while not self._halt.is_set():
            try:
                values = self.read(self.pid)
            except OSError:
                return
            self.samples.append(values.get("VmRSS", 0))
            self.hwm_kb = max(self.hwm_kb, values.get("VmHWM", 0))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    @property
    def peak_rss_mb(self) -> float:
        return max(self.samples, default=0) / 1024

    @property
    def hwm_mb(self) -> float:
        return self.hwm_kb / 1024


# ------------------------------------------------------------------------------ sessions


@dataclass
class SessionLog:
    index: int
    kind: str
    latencies: list[float] = field(default_factory=list)  # seconds
    load: float | None = None  # first page load to idle, seconds
    checks: int = 0
    problems: list[str] = field(default_factory=list)  # leaks, exceptions, wrong values
    errors: list[str] = field(default_factory=list)  # driver errors (timeouts)
    step: str = "start"  # the last step begun, for error reports


def ipd_csv(index: int, round_: int) -> bytes:
    sid = f"S{index:02d}R{round_}"
    rows = [r.format(sid=sid) for r in VALID_ROWS]
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def file_name(index: int, round_: int) -> str:
    return f"session_{index:02d}_r{round_}.csv"


SESSION_NAME = re.compile(r"session_(\d\d)_r\d+\.csv")


class RunWatch:
    """Times script runs from the websocket: each ForwardMsg `script_finished` the server sends
    to this page is stamped when it arrives (exact even when the browser batches its DOM
    updates so the script-state attribute never visibly flips)."""

    def __init__(self, page) -> None:  # noqa: ANN001
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._parse = ForwardMsg.FromString
        self.finished: list[float] = []
        page.on("websocket", self._attach)

    def _attach(self, ws) -> None:  # noqa: ANN001
        ws.on("framereceived", self._frame)

    def _frame(self, payload) -> None:  # noqa: ANN001
        if not isinstance(payload, bytes | bytearray):
            return
        try:
            msg = self._parse(bytes(payload))
        except Exception:  # not a ForwardMsg (should not happen): ignore the frame
            return
        if msg.WhichOneof("type") == "script_finished":
            self.finished.append(time.monotonic())

    async def rerun(self, page, action) -> float:  # noqa: ANN001
        """Run `action` (a coroutine factory); seconds until the run it caused finished and
        the page is idle again."""
        t0 = time.monotonic()
        await action()
        end = t0 + TIMEOUT_MS / 1000
        while not any(t > t0 for t in self.finished):
            if time.monotonic() > end:
                raise TimeoutError(f"no script run finished within {TIMEOUT_MS / 1000:.0f} s")
            await asyncio.sleep(0.05)
        done = next(t for t in self.finished if t > t0)
        await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
        return done - t0


async def goto(page, url: str) -> float:  # noqa: ANN001
    """Open `url`; seconds until the first run has drawn the page and is idle."""
    start = time.monotonic()
    await page.goto(url, timeout=TIMEOUT_MS)
    await page.wait_for_selector(f"{APP} h1", timeout=TIMEOUT_MS)  # the script has run
    await page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    return time.monotonic() - start


async def check_common(page, log: SessionLog, own_name: str | None) -> str:  # noqa: ANN001
    """No exception; no other session's file name; returns the page's visible text."""
    log.checks += 1
    if await page.locator(EXCEPTION).count():
        log.problems.append(f"session {log.index}: exception element shown")
    text = await page.locator(APP).inner_text(timeout=TIMEOUT_MS)
    for match in SESSION_NAME.finditer(text):
        if int(match.group(1)) != log.index:
            log.problems.append(f"session {log.index} sees {match.group(0)} (LEAK)")
    if own_name is None and "Uploaded cohort" in text:
        log.problems.append(f"session {log.index} never uploaded but shows an uploaded cohort")
    return text


async def upload_session(page, base: str, log: SessionLog, deadline: float) -> None:  # noqa: ANN001
    watch = RunWatch(page)
    log.load = await goto(page, f"{base}/survival")
    round_ = 0
    while True:
        name = file_name(log.index, round_)
        uploader = page.locator("[data-testid='stFileUploaderDropzoneInput']")
        payload = {"name": name, "mimeType": "text/csv", "buffer": ipd_csv(log.index, round_)}
        log.step = f"upload {name}"
        log.latencies.append(await watch.rerun(
            page, lambda u=uploader, f=payload: u.set_input_files(f)))
        await page.get_by_text(f"{name} is valid: 3 patients").first.wait_for(
            timeout=TIMEOUT_MS)
        text = await check_common(page, log, name)
        if f"Patient-level views show {name}" not in text:
            log.problems.append(f"session {log.index}: own upload {name} not shown in use")
        if f"Uploaded cohort ({name})" not in text:
            log.problems.append(f"session {log.index}: cohort banner is not {name}")
        round_ += 1
        if time.monotonic() > deadline or round_ >= MAX_UPLOAD_ROUNDS:
            break
        await asyncio.sleep(THINK)


async def settled_value(box, expected: str, wait: float = 60.0) -> str:  # noqa: ANN001
    """The input's value once it equals `expected`, or whatever it shows after `wait` s (the
    widget can render a moment after the script state reports idle)."""
    end = time.monotonic() + wait
    while True:
        got = await box.input_value()
        if got == expected or time.monotonic() > end:
            return got
        await asyncio.sleep(0.1)


async def number_session(page, base: str, log: SessionLog, deadline: float) -> None:  # noqa: ANN001
    """Even sessions: a URL-bound number input with session-specific values."""
    watch = RunWatch(page)
    i = log.index
    if log.kind == "benchmark":
        first = 10 + i
        url = f"{base}/benchmark?reference={first}"
        label, param = "Reference ORR (%)", "reference"
        values = [first, 40 + i, 70 + i]

        def shown(v: float) -> str:
            return f"{v:.2f}"
    else:
        first = round(0.020 + 0.010 * i, 3)
        url = f"{base}/plan?plan_p0={first}"
        label, param = "p0 (uninteresting ORR)", "plan_p0"
        values = [first] + [round(0.020 + 0.010 * i + 0.001 * j, 3) for j in range(1, 9)]

        def shown(v: float) -> str:
            return f"{v:.3f}"
    log.load = await goto(page, url)
    box = page.get_by_label(label, exact=True)
    value = values[0]
    got = await settled_value(box, shown(value))
    if got != shown(value):
        log.problems.append(f"session {i}: {param} from the URL is {got!r}, "
                            f"expected {shown(value)}")
    j = 0
    while j == 0 or (time.monotonic() <= deadline and j < MAX_TYPED_VALUES):  # at least one
        await asyncio.sleep(THINK)
        j += 1
        value = values[j % len(values)]

        async def type_value(v: float = value) -> None:
            await box.fill(shown(v))
            await box.press("Enter")

        log.step = f"type {shown(value)}"
        log.latencies.append(await watch.rerun(page, type_value))
        await check_common(page, log, None)
        got = await settled_value(box, shown(value))
        if got != shown(value):
            log.problems.append(f"session {i}: {param} shows {got}, typed {shown(value)}")
        in_url = parse_qs(urlparse(page.url).query).get(param, [""])[0]
        try:
            same = abs(float(in_url) - value) < 1e-9
        except ValueError:
            same = False
        if not same:
            log.problems.append(f"session {i}: URL {page.url} has {param}={in_url!r}, "
                                f"typed {shown(value)}")


async def one_session(browser, base: str, log: SessionLog, deadline: float,  # noqa: ANN001
                      delay: float) -> None:
    await asyncio.sleep(delay)  # users arrive over the ramp-up, then all stay connected
    context = await browser.new_context(viewport={"width": 1000, "height": 700})
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        if log.kind == "upload":
            await upload_session(page, base, log, deadline)
        else:
            await number_session(page, base, log, deadline)
    except Exception as exc:  # a driver timeout is reported, not hidden
        log.errors.append(f"session {log.index} ({log.kind}) at {log.step}: "
                          f"{type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}")
    finally:
        await context.close()


def session_kind(index: int) -> str:
    if index % 2:
        return "upload"
    return "benchmark" if index % 4 == 0 else "plan"


@dataclass
class Report:
    sessions: int
    duration: float  # seconds, first navigation to the last session's end
    latencies: list[float]
    peak_rss_mb: float
    hwm_mb: float
    logs: list[SessionLog]

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        k = max(0, min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1))))
        return ordered[k]

    def load_pct(self, q: float) -> float:
        loads = sorted(g.load for g in self.logs if g.load is not None)
        if not loads:
            return float("nan")
        return loads[max(0, min(len(loads) - 1, round(q / 100 * (len(loads) - 1))))]

    @property
    def problems(self) -> list[str]:
        return [p for log in self.logs for p in log.problems]

    @property
    def errors(self) -> list[str]:
        return [e for log in self.logs for e in log.errors]

    def summary(self) -> str:
        kinds = {k: sum(1 for g in self.logs if g.kind == k)
                 for k in ("upload", "benchmark", "plan")}
        lines = [
            f"sessions: {self.sessions} concurrent browser contexts "
            f"({', '.join(f'{v} {k}' for k, v in kinds.items())})",
            f"duration: {self.duration:.1f} s",
            f"interactions (reruns timed): {len(self.latencies)}; checks: "
            f"{sum(g.checks for g in self.logs)}",
            f"rerun latency: p50 {self.percentile(50):.2f} s, p95 {self.percentile(95):.2f} s, "
            f"max {max(self.latencies, default=float('nan')):.2f} s",
            f"first page load to idle: p50 {self.load_pct(50):.2f} s, p95 "
            f"{self.load_pct(95):.2f} s",
            f"server RSS: peak sampled VmRSS {self.peak_rss_mb:.0f} MB, VmHWM {self.hwm_mb:.0f} MB",
            f"leaks / wrong values / exceptions: {len(self.problems)}; driver errors: "
            f"{len(self.errors)}",
        ]
        if self.latencies:
            lines.append(f"mean {statistics.mean(self.latencies):.2f} s")
        return "\n".join(lines + self.problems[:10] + self.errors[:10])


async def drive(base: str, sessions: int, duration: float,
                ramp: float) -> tuple[list[SessionLog], float]:
    from playwright.async_api import async_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise RuntimeError("Debian's chromium package is required")
    logs = [SessionLog(i, session_kind(i)) for i in range(sessions)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            # warm the server (first script run imports scipy/altair) before the crowd arrives
            warm = await browser.new_page()
            await goto(warm, f"{base}/survival")
            await warm.close()
            start = time.monotonic()
            deadline = start + duration
            await asyncio.gather(*(one_session(browser, base, log, deadline, i * ramp)
                                   for i, log in enumerate(logs)))
            elapsed = time.monotonic() - start
        finally:
            await browser.close()
    return logs, elapsed


def run(sessions: int = 20, duration: float = 45.0, server: Server | None = None,
        ramp: float = 1.5) -> Report:
    own = server is None
    server = server or start_server()
    sampler = RssSampler(server.proc.pid)
    sampler.start()
    try:
        logs, elapsed = asyncio.run(drive(server.url, sessions, duration, ramp))
    finally:
        sampler.stop()
        if own:
            server.stop()
    latencies = [t for log in logs for t in log.latencies]
    return Report(sessions, elapsed, latencies, sampler.peak_rss_mb, sampler.hwm_mb, logs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--duration", type=float, default=45.0,
                        help="seconds from the first session's start to the last interaction")
    parser.add_argument("--ramp", type=float, default=1.5,
                        help="seconds between two sessions' arrivals")
    args = parser.parse_args()
    report = run(args.sessions, args.duration, ramp=args.ramp)
    print(report.summary())
    return 1 if report.problems or report.errors else 0


if __name__ == "__main__":
    os.chdir(ROOT)
    sys.exit(main())
