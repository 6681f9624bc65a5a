"""Browser click-to-idle per page, beside a bare one-widget page's (issue 15).

    python bench/clicks.py [--repeat 3]

One headless Chromium (Debian's, the flags in bench/server.py), one context, one server per
app. On each page the user changes the sidebar's "Confidence level" (every page reruns with it;
the bare page changes its one number input with the + button). Click-to-idle is the time from
the click to the page being idle again: the server's ``script_finished`` frame has arrived on the
page's websocket, the app reports ``data-test-script-state='notRunning'``, and two animation
frames have passed (the browser has painted the result). Also recorded: the server-side part
(click to ``script_finished``). Budget: click-to-idle <= 3x the bare page's.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import CHROMIUM_FLAGS, start_server  # noqa: E402

BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
PAGES = {"About": "", "This cohort": "cohort", "Comparator trials": "trials",
         "Benchmark a subtype": "benchmark", "Across subtypes": "across-subtypes",
         "Evidence summary": "summary", "What if": "what-if", "Plan the next trial": "plan",
         "Survival and patients": "survival", "Data audit": "audit"}
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 120_000
LEVELS = ("0.9", "0.95")  # as the sidebar selectbox shows them


class FinishWatch:
    """Stamps every ForwardMsg script_finished the page's websocket receives."""

    def __init__(self, page) -> None:  # noqa: ANN001
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self._parse = ForwardMsg.FromString
        self.finished: list[float] = []
        page.on("websocket", lambda ws: ws.on("framereceived", self._frame))

    def _frame(self, payload) -> None:  # noqa: ANN001
        if isinstance(payload, bytes | bytearray):
            try:
                msg = self._parse(bytes(payload))
            except Exception:  # not a ForwardMsg
                return
            if msg.WhichOneof("type") == "script_finished":
                self.finished.append(time.monotonic())

    def wait_after(self, t0: float, page) -> float:  # noqa: ANN001
        end = t0 + TIMEOUT_MS / 1000
        while not any(t > t0 for t in self.finished):
            if time.monotonic() > end:
                raise TimeoutError("no script run finished")
            page.wait_for_timeout(10)
        return next(t for t in self.finished if t > t0)


def painted(page) -> None:  # noqa: ANN001
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def choose_level(page, level: str) -> None:  # noqa: ANN001
    box = page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text="Confidence level")
    box.click()
    page.get_by_role("option", name=level, exact=True).click()


def measure(page, url: str, change, repeat: int) -> tuple[list[float], list[float]]:  # noqa: ANN001
    watch = FinishWatch(page)
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-testid='stApp'] h1, [data-testid='stNumberInput']",
                           timeout=TIMEOUT_MS)
    painted(page)
    idle, server = [], []
    for i in range(repeat + 1):  # the first change warms the page's caches: not counted
        t0 = time.monotonic()
        change(page, i)
        done = watch.wait_after(t0, page)
        painted(page)
        if i:
            idle.append(time.monotonic() - t0)
            server.append(done - t0)
    return idle, server


def run(repeat: int = 3) -> list[tuple[str, float, float]]:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if not chromium:
        raise SystemExit("Debian's chromium is needed: apt-get install -y chromium")
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            bare = start_server(BARE_APP)
            try:
                page = browser.new_page()
                idle, server = measure(
                    page, bare.url,
                    lambda pg, i: pg.locator("[data-testid='stNumberInputStepUp']").click(),
                    repeat)
                rows.append(("bare one-widget page", statistics.median(idle),
                             statistics.median(server)))
                page.close()
            finally:
                bare.stop()
            app = start_server()
            try:
                for title, path in PAGES.items():
                    page = browser.new_page()
                    idle, server = measure(page, f"{app.url}/{path}",
                                           lambda pg, i: choose_level(pg, LEVELS[i % 2]), repeat)
                    rows.append((title, statistics.median(idle), statistics.median(server)))
                    page.close()
            finally:
                app.stop()
        finally:
            browser.close()
    return rows


def table(rows: list[tuple[str, float, float]]) -> str:
    bare = rows[0][1]
    out = ["| page | click-to-idle s (median) | click to script_finished s | vs bare | "
           "budget <= 3x |", "|---|---|---|---|---|"]
    for name, idle, server in rows:
        ratio = idle / bare
        out.append(f"| {name} | {idle:.3f} | {server:.3f} | {ratio:.2f}x | "
                   f"{'' if name.startswith('bare') else ('yes' if ratio <= 3 else 'no')} |")
    return "\n".join(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    print(table(run(parser.parse_args().repeat)))
