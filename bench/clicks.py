"""Browser click-to-idle per page, beside a bare one-widget page's.

    python bench/clicks.py [--repeat 3]

One headless Chromium (Debian's, the flags in bench/server.py), one context, one server per
app. On each page the user changes the sidebar's "Confidence level" (every page reruns with it);
the bare page has the same selectbox, so both measure the same two clicks. Opening the list is
not timed; click-to-idle is the time, measured inside the page, from the pointer going down on the
option to the page being idle again: the app's ``data-test-script-state`` has gone from
``running`` back to ``notRunning`` and two animation frames have passed (the browser has painted
the result). Also recorded: how long the page showed the script running (the server's rerun and
the delivery of its deltas). Budget: click-to-idle <= 3x the bare page's, for the first use of
a value on the page (its results not yet cached) as for a value met before.

A shared link's first open: a fresh browser context (no cache, no cookies) opens a link carrying
a view nobody has opened since the server started (subtype, model, level, endpoint), timed from
navigation start to the first run painted. The bare page's first open, timed the same way on its
own server, is the baseline. Budget: <= 1.5x.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import CHROMIUM_FLAGS, chromium_path, start_server  # noqa: E402

BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
PAGES = {"About": "", "This cohort": "cohort", "Comparator trials": "trials",
         "Benchmark a subtype": "benchmark", "Across subtypes": "across-subtypes",
         "Evidence summary": "summary", "What if": "what-if", "Plan the next trial": "plan",
         "Survival and patients": "survival", "Data audit": "audit"}
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
TIMEOUT_MS = 120_000
LEVELS = ("0.9", "0.95")  # as the sidebar selectbox shows them


# Timed inside the page (performance.now()), with no websocket hook: forwarding every frame to
# Python over the DevTools protocol slowed the very thing being measured.
RECORDER = """() => {
  window.__clicks = [];
  document.addEventListener('pointerdown', () => window.__clicks.push(['down', performance.now()]),
                            true);
  new MutationObserver((records) => {
    for (const r of records) {
      const state = r.target.getAttribute('data-test-script-state');
      window.__clicks.push([r.oldValue + '>' + state, performance.now()]);
      if (r.oldValue === 'running' && state === 'notRunning') {  // painted: two frames later
        requestAnimationFrame(() => requestAnimationFrame(
          () => window.__clicks.push(['painted', performance.now()])));
      }
    }
  }).observe(document.body, {attributes: true, attributeOldValue: true, subtree: true,
                             attributeFilter: ['data-test-script-state']});
}"""


def painted(page) -> None:  # noqa: ANN001
    page.wait_for_selector(IDLE, timeout=TIMEOUT_MS)
    page.evaluate("new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")


def open_levels(page) -> None:  # noqa: ANN001
    """Open the sidebar's "Confidence level" list (UI only: no rerun, not timed), once the
    previous list has closed (a click while it closes would only toggle it)."""
    page.wait_for_selector("[role='listbox']", state="detached", timeout=TIMEOUT_MS)
    page.locator("[data-testid='stSidebar'] [data-testid='stSelectbox']").filter(
        has_text="Confidence level").click()


def shown_level(page) -> str:  # noqa: ANN001
    """The value the sidebar's "Confidence level" selectbox shows."""
    return page.locator("[data-testid='stSidebar'] input[aria-label='Confidence level']"
                        ).input_value()


def choose_level(page, level: str) -> None:  # noqa: ANN001
    """The timed click: pick `level` in the open list, which reruns the page."""
    page.get_by_role("option", name=level, exact=True).click()


def measure(page, url: str, repeat: int) -> tuple[list[float], list[float], float]:  # noqa: ANN001
    """Click-to-idle and script-running time of `repeat` level changes on `url`, and the
    click-to-idle of the first change (a level this page has not shown yet) (seconds)."""
    page.goto(url, timeout=TIMEOUT_MS)
    page.wait_for_selector("[data-testid='stApp'] h1, [data-testid='stNumberInput']",
                           timeout=TIMEOUT_MS)
    painted(page)
    page.evaluate(RECORDER)
    idle: list[float] = []
    running: list[float] = []
    first = float("nan")
    for _ in range(repeat + 4):  # the first change meets cold caches: reported apart
        if len(idle) == repeat:
            break
        # Always the level not shown now: choosing by turn after a lost click could pick the
        # value already shown (no rerun, so a second lost click).
        target = LEVELS[0] if shown_level(page) == LEVELS[1] else LEVELS[1]
        open_levels(page)
        page.get_by_role("option", name=target, exact=True).wait_for()
        page.evaluate("() => { window.__clicks = []; }")
        choose_level(page, target)
        try:
            page.wait_for_function("() => window.__clicks.some(e => e[0] === 'painted')",
                                   timeout=30_000)
        except Exception:  # noqa: BLE001 - a lost click is reported, not timed
            print(f"  no rerun seen after a click on {url}: "
                  f"{page.evaluate('() => window.__clicks')}", file=sys.stderr)
            continue
        events = page.evaluate("() => window.__clicks")
        at = {name: t for name, t in reversed(events)}  # first time of each event
        if math.isnan(first):  # a lost click is tried again: the level is still new
            first = (at["painted"] - at["down"]) / 1000
            continue
        idle.append((at["painted"] - at["down"]) / 1000)
        running.append((at["running>notRunning"] - at["notRunning>running"]) / 1000)
    return idle, running, first


#: Shared links for the first-open budget: views nobody opened since the server started.
SHARED_LINKS = {
    "Benchmark, LMS, DL, 90%, PFS-6": "benchmark?subtype=LMS&method=DL&ci_level=0.9&endpoint=pfs6",
    "Benchmark, UPS, GLMM": "benchmark?subtype=UPS&method=GLMM",
    "Across subtypes, PM, 80%": "across-subtypes?method=PM&ci_level=0.8",
    "Evidence summary, DDLPS and AS": "summary?summary_subtypes=DDLPS&summary_subtypes=AS",
}


# The browser's main-thread work, from its performance timeline: tasks over 50 ms.
LONG_TASKS = """window.__busy = 0; new PerformanceObserver(list => {
  for (const e of list.getEntries()) window.__busy += e.duration; }
).observe({type: 'longtask', buffered: true});"""


def first_open(browser, url: str) -> tuple[float, float, float]:  # noqa: ANN001
    """Seconds from navigation start to the first script run painted, in a fresh context;
    the page's DOMContentLoaded (the app's static files loaded and parsed) and the
    front end's long tasks (main-thread work in tasks over 50 ms) within that time."""
    context = browser.new_context()
    context.add_init_script(LONG_TASKS)
    try:
        page = context.new_page()
        page.goto(url, timeout=TIMEOUT_MS)
        page.wait_for_selector("[data-testid='stApp'] h1, [data-testid='stNumberInput']",
                               timeout=TIMEOUT_MS)
        painted(page)
        now, loaded, busy = page.evaluate(
            "() => [performance.now(), performance.getEntriesByType('navigation')[0]"
            ".domContentLoadedEventEnd, window.__busy]")
        return now / 1000, loaded / 1000, busy / 1000
    finally:
        context.close()


Row = tuple[str, float, float, float]  # name, click-to-idle, script running, first use
Open = tuple[str, tuple[float, float, float]]  # name, first_open's three times


def run(repeat: int = 3) -> tuple[list[Row], list[Open]]:
    from playwright.sync_api import sync_playwright

    chromium = chromium_path()
    rows: list[Row] = []
    opens: list[Open] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        try:
            bare = start_server(BARE_APP)
            try:
                opens.append(("bare one-widget page", first_open(browser, bare.url)))
                page = browser.new_page()
                idle, server, first = measure(page, bare.url, repeat)
                rows.append(("bare one-widget page", statistics.median(idle),
                             statistics.median(server), first))
                page.close()
            finally:
                bare.stop()
            app = start_server()
            try:
                # A running process has imported every page's modules (the first visitor of
                # a new process pays that once: bench/run.py's cold start); the links' views
                # are still new to it.
                for path in PAGES.values():
                    first_open(browser, f"{app.url}/{path}")
                for title, link in SHARED_LINKS.items():
                    opens.append((title, first_open(browser, f"{app.url}/{link}")))
                for title, path in PAGES.items():
                    page = browser.new_page()
                    idle, server, first = measure(page, f"{app.url}/{path}", repeat)
                    rows.append((title, statistics.median(idle), statistics.median(server),
                                 first))
                    page.close()
            finally:
                app.stop()
        finally:
            browser.close()
    return rows, opens


def table(rows: list[Row], opens: list[Open]) -> str:
    bare = rows[0][1]  # the bare page caches nothing: its every click is a first use
    out = ["| page | click-to-idle s (median) | script running s (median) | vs bare | "
           "first use of a value s | vs bare | budget <= 3x |",
           "|---|---|---|---|---|---|---|"]
    for name, idle, server, first in rows:
        ok = max(idle, first) <= 3 * bare
        out.append(f"| {name} | {idle:.3f} | {server:.3f} | {idle / bare:.2f}x | {first:.3f} | "
                   f"{first / bare:.2f}x | "
                   f"{'' if name.startswith('bare') else ('yes' if ok else 'no')} |")
    base = opens[0][1][0]
    out += ["", "| shared link, first open | navigation to painted s | vs bare | budget <= 1.5x | "
            "static files loaded (DOMContentLoaded) s | front-end long tasks s |",
            "|---|---|---|---|---|---|"]
    for name, (seconds, loaded, busy) in opens:
        ok = "" if name.startswith("bare") else ("yes" if seconds <= 1.5 * base else "no")
        out.append(f"| {name} | {seconds:.3f} | {seconds / base:.2f}x | {ok} | {loaded:.3f} | "
                   f"{busy:.3f} |")
    return "\n".join(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    print(table(*run(parser.parse_args().repeat)))
