"""A load generator without browsers: N sessions over Streamlit's own websocket protocol.

    python bench/loadgen.py [--sessions 1 10 30] [--page benchmark] [--changes 6]
                            [--think 0] [--pages]

Each session is one websocket to ``ws://127.0.0.1:PORT/_stcore/stream`` speaking the protobuf
messages shipped with the streamlit package (``streamlit.proto.BackMsg_pb2`` /
``ForwardMsg_pb2``), exactly as the browser does: it sends a ``rerun_script`` BackMsg for the
page, reads the ForwardMsgs (deltas) until ``script_finished``, learns the page's widget ids
from the deltas, then changes widgets in a scripted sequence, each change a ``rerun_script``
carrying every widget state the session has set (as the front end does). For every change it
records the time from sending the BackMsg to receiving ``script_finished``.

Besides latency it records the server's CPU time per rerun (utime + stime from
/proc/PID/stat over the whole run, divided by the reruns), its peak RSS (VmHWM), errors
(exception deltas, timeouts, closed sockets) and isolation: every session types its own
reference value, and the text the server sends back to that session (the sidebar's
link-to-this-view shows the URL-bound values) must carry that value and no other session's.

The bare page (bench/bare_app.py, one number input) run the same way is the baseline: the same
client, server and machine, so the ratio is what carries over.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import http.cookiejar
import os
import random
import statistics
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server import Server, start_server  # noqa: E402

BARE_APP = Path(__file__).resolve().parent / "bare_app.py"
FULL_RERUNS = False  # --no-fragments: every change a full rerun, no message cache
TIMEOUT = 120.0  # seconds one rerun may take before the session records an error
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------ scenarios


@dataclass(frozen=True)
class Change:
    """One widget change: the widget's user key, the kind of value, and the value."""

    key: str
    kind: str  # "double_value" | "int_value" | "bool_value" | "string_value"
    value: object


def own_reference(index: int) -> float:
    """Session `index`'s reference ORR (%): 11, 12, ... 89; the forest plot labels its dashed
    line "reference NN%", and that label must reach this session and no other."""
    return float(11 + index % 79)


def reference_label(value: float) -> bytes:
    return f"reference {value:.0f}%".encode()


def benchmark_script(index: int, changes: int) -> list[Change]:
    """The benchmark page: a session-specific reference ORR, HKSJ on/off, the measure."""
    own = own_reference(index)  # distinct per session; the forest plot's rule carries it
    seq = [Change("reference", "double_value", own)]
    for step in range(1, changes):
        if step % 3 == 1:
            seq.append(Change("hksj", "bool_value", step % 2 == 1))
        elif step % 3 == 2:
            seq.append(Change("reference", "double_value", own + 0.2 * (step % 2)))
        else:
            seq.append(Change("reference", "double_value", own))
    return seq


def bare_script(index: int, changes: int) -> list[Change]:
    own = float(100 + index)
    return [Change("A number", "double_value", own + (step % 2)) for step in range(changes)]


def generic_script(keys: Sequence[tuple[str, str, object, object]], changes: int) -> list[Change]:
    """Alternate each (key, kind, a, b) between its two values: for the per-page budget."""
    out = []
    for step in range(changes):
        key, kind, a, b = keys[step % len(keys)]
        out.append(Change(key, kind, a if (step // len(keys)) % 2 == 0 else b))
    return out


#: One or two widgets per page for the "rerun after any widget change" budget (url path ->
#: changes). Values are options as each widget shows them (the confidence level reads "0.9");
#: every change must change what the page shows (checked in `drive`), so a value the widget
#: does not accept is an error, not a cheap rerun that changed nothing.
PAGE_WIDGETS: dict[str, list[tuple[str, str, object, object]]] = {
    "": [("ci_level", "string_value", "0.9", "0.95")],
    "cohort": [("ci_level", "string_value", "0.9", "0.95")],
    "trials": [("ci_level", "string_value", "0.9", "0.95")],
    "benchmark": [("reference", "double_value", 25.0, 30.0), ("hksj", "bool_value", True, False)],
    "across-subtypes": [("ci_level", "string_value", "0.9", "0.95")],
    "summary": [("ci_level", "string_value", "0.9", "0.95")],
    "what-if": [("pp_nmax", "double_value", 40.0, 50.0),
                ("ci_level", "string_value", "0.9", "0.95")],
    "plan": [("plan_p1", "double_value", 0.35, 0.4), ("plan_nmax", "double_value", 120.0, 150.0)],
    "survival": [("ci_level", "string_value", "0.9", "0.95")],
    "audit": [("ci_level", "string_value", "0.9", "0.95")],
}


# ------------------------------------------------------------------------------ one session


@dataclass
class SessionResult:
    index: int
    latencies: list[float] = field(default_factory=list)  # seconds, one per widget change
    first_load: float | None = None
    errors: list[str] = field(default_factory=list)
    leaks: list[str] = field(default_factory=list)
    checked: int = 0
    replica: str = ""  # the X-Replica header a load balancer put on the websocket upgrade
    wire: list[tuple[int, int]] = field(default_factory=list)  # (messages, bytes) per rerun


def open_page(url: str, page: str, jar: http.cookiejar.CookieJar) -> None:
    """What a browser fetches before its websocket: the page, then /_stcore/health. Their
    responses set the cookies the websocket upgrade carries (a load balancer's affinity
    cookie, Streamlit's XSRF cookie)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    for path in (f"/{page}", "/_stcore/health"):
        with opener.open(url + path, timeout=60) as response:
            response.read()


class Session:
    """One user: a cookie jar, a websocket, the page's widget ids, the widget states this user
    has set."""

    def __init__(self, url: str, page: str, index: int) -> None:
        self.ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        self.origin = url
        self.page = page
        self.index = index
        self.widget_ids: dict[str, str] = {}  # user key (or label) -> widget id
        self.states: dict[str, WidgetState] = {}  # widget id -> state sent with every rerun
        self.page_hash = ""
        self.query_string = ""  # the URL's query as the server last set it (bound widgets)
        self.result = SessionResult(index)
        self.jar = http.cookiejar.CookieJar()  # one per session, as one per browser
        self.session_id = ""  # the server's id for this session, sent back on a reconnect
        self.fragment_of: dict[str, str] = {}  # widget id -> the fragment that drew it
        self.cache: dict[str, tuple[ForwardMsg, bytes]] = {}  # this "browser"'s message cache
        self.changed = ""  # the widget id of the change being sent

    async def __aenter__(self) -> Session:
        import websockets
        from websockets.typing import Origin, Subprotocol

        if not len(self.jar):
            await asyncio.to_thread(open_page, self.origin, self.page, self.jar)
        cookies = {c.name: c.value or "" for c in self.jar}
        # As the front end: "streamlit", the XSRF token, and the session to resume, if any.
        protocols = ["streamlit", cookies.get("_streamlit_xsrf", "PLACEHOLDER_AUTH_TOKEN"),
                     self.session_id]
        self.ws = await websockets.connect(
            self.ws_url, subprotocols=[Subprotocol(p) for p in protocols if p],
            origin=Origin(self.origin), additional_headers={"Cookie": "; ".join(
                f"{name}={value}" for name, value in cookies.items())},
            max_size=None, open_timeout=60, ping_interval=None, proxy=None)
        if self.ws.response is not None:
            self.result.replica = self.ws.response.headers.get("X-Replica", "")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    def _rerun(self) -> bytes:
        msg = BackMsg()
        state = msg.rerun_script
        state.query_string = ""
        state.page_name = self.page
        state.page_script_hash = self.page_hash
        # As the front end: a widget drawn inside a fragment reruns only that fragment, and
        # the hashes of cached messages let the server send references instead of copies.
        if not FULL_RERUNS:
            state.fragment_id = self.fragment_of.get(self.changed, "")
            state.cached_message_hashes.extend(sorted(self.cache))
        for ws in self.states.values():
            state.widget_states.widgets.append(ws)
        return msg.SerializeToString()

    async def run_once(self) -> tuple[float, list[ForwardMsg]]:
        """Send a rerun; read until script_finished; return (seconds, messages)."""
        start = time.perf_counter()
        wire_bytes = 0
        await self.ws.send(self._rerun())
        messages: list[ForwardMsg] = []
        self.raw = []
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), TIMEOUT)
            wire_bytes += len(raw)
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            if msg.WhichOneof("type") == "ref_hash" and msg.ref_hash in self.cache:
                msg, raw = self.cache[msg.ref_hash]  # what the browser shows from its cache
            elif msg.metadata.cacheable and msg.hash:
                self.cache[msg.hash] = (msg, raw)
            self.raw.append(raw)
            messages.append(msg)
            kind = msg.WhichOneof("type")
            if kind == "navigation" and not self.page_hash:  # the page's hash, as a browser
                for app_page in msg.navigation.app_pages:   # sends it after the first load
                    if app_page.url_pathname == self.page or (
                            not self.page and app_page.is_default):
                        self.page_hash = app_page.page_script_hash
            if kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            if kind == "new_session" and msg.new_session.HasField("initialize"):
                self.session_id = msg.new_session.initialize.session_id
            if kind == "script_finished":
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue
                self.result.wire.append((len(messages), wire_bytes))
                return time.perf_counter() - start, messages

    def learn(self, messages: list[ForwardMsg]) -> list[str]:
        """Record widget ids from the deltas; return the texts shown and any exception."""
        texts: list[str] = []
        for msg in messages:
            if msg.WhichOneof("type") != "delta":
                continue
            delta = msg.delta
            if delta.WhichOneof("type") != "new_element":
                continue
            element = delta.new_element
            kind = element.WhichOneof("type")
            if kind is None:
                continue
            body = getattr(element, kind)
            if kind == "exception":
                self.result.errors.append(f"exception: {body.type}: {body.message[:200]}")
                continue
            widget_id = getattr(body, "id", "")
            if widget_id and delta.fragment_id:
                self.fragment_of[widget_id] = delta.fragment_id
            if widget_id:
                # "$$ID-<hash>-<user key>"; keys may themselves hold "-"
                user_key = widget_id.split("-", 2)[2] if widget_id.startswith("$$ID-") \
                    else widget_id
                self.widget_ids.setdefault(user_key, widget_id)
                label = getattr(body, "label", "")
                if label:
                    self.widget_ids.setdefault(label, widget_id)
            for attr in ("body", "code_text", "text", "spec"):
                value = getattr(body, attr, None)
                if isinstance(value, str) and value:
                    texts.append(value)
            for dataset in getattr(body, "datasets", ()):  # chart data travels as Arrow
                texts.append(hashlib.md5(dataset.data.data).hexdigest())
        return texts

    def set(self, change: Change) -> None:
        widget_id = self.widget_ids.get(change.key)
        if widget_id is None:
            raise KeyError(f"widget {change.key!r} not on page {self.page!r} "
                           f"(known: {sorted(k for k in self.widget_ids if '$' not in k)[:20]})")
        state = WidgetState(id=widget_id)
        setattr(state, change.kind, change.value)
        self.changed = widget_id
        self.states[widget_id] = state


async def drive(url: str, page: str, index: int, script: list[Change],
                own_token: str | None, other_tokens: set[str], think: float,
                must_show: bool = True) -> SessionResult:
    """One session through `script`. With `must_show`, a change that leaves everything the
    page shows unchanged is an error (the widget did not take the value)."""
    session = Session(url, page, index)
    pauses = random.Random(index)
    try:
        async with session:
            seconds, messages = await session.run_once()
            session.result.first_load = seconds
            shown = session.learn(messages)
            for change in script:
                before = session.states.get(session.widget_ids.get(change.key, ""))
                session.set(change)
                seconds, messages = await session.run_once()
                now = session.learn(messages)
                session.result.latencies.append(seconds)
                if must_show and now == shown and \
                        before != session.states[session.widget_ids[change.key]]:
                    session.result.errors.append(  # the widget did not take the value
                        f"session {index}: {change.key}={change.value!r} changed nothing shown")
                shown = now
                if own_token is not None:  # chart data travels as Arrow bytes: search those
                    joined = b"".join(session.raw)
                    session.result.checked += 1
                    if change.key == "reference" and change.value == float(own_token) \
                            and reference_label(float(own_token)) not in joined:
                        session.result.leaks.append(
                            f"session {index}: its own reference {own_token} not drawn")
                    for other in other_tokens:
                        if reference_label(float(other)) in joined:
                            session.result.leaks.append(
                                f"session {index} was sent another session's reference {other}")
                if think:  # users do not click in step: exponential pauses, seeded per session
                    await asyncio.sleep(pauses.expovariate(1 / think))
    except Exception as exc:  # a driver error is a result, not a crash of the whole run
        session.result.errors.append(f"{type(exc).__name__}: {exc}"[:300])
    return session.result


# ------------------------------------------------------------------------------ server probes


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime


def hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class LoadResult:
    label: str
    sessions: int
    latencies: list[float]
    first_loads: list[float]
    cpu_per_rerun: float
    peak_rss_mb: float
    errors: list[str]
    leaks: list[str]
    checked: int
    wall: float
    wire: list[tuple[int, int]] = field(default_factory=list)  # widget-change reruns only

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, max(0, round(q / 100 * (len(xs) - 1))))]

    def row(self) -> str:
        med = statistics.median(self.first_loads) if self.first_loads else float("nan")
        return (f"| {self.label} | {self.sessions} | {len(self.latencies)} | "
                f"{self.pct(50):.3f} | {self.pct(95):.3f} | {max(self.latencies, default=0):.3f} | "
                f"{med:.2f} | {1000 * self.cpu_per_rerun:.0f} | {self.peak_rss_mb:.0f} | "
                f"{len(self.errors)} | {len(self.leaks)} | {self.messages():.0f} | "
                f"{self.kilobytes():.1f} |")

    def messages(self) -> float:
        return statistics.median(m for m, _ in self.wire) if self.wire else float("nan")

    def kilobytes(self) -> float:
        return statistics.median(b for _, b in self.wire) / 1000 if self.wire else float("nan")


HEADER = ("| page | sessions | reruns | p50 s | p95 s | max s | first load s (median) | "
          "server CPU ms/rerun | peak RSS MB | errors | isolation failures | "
          "messages/rerun (median) | kB sent/rerun (median) |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|")


async def _load(server: Server, page: str, sessions: int, changes: int, think: float,
                bare: bool) -> LoadResult:
    pid = server.proc.pid
    scripts = [(bare_script if bare else benchmark_script)(i, changes) for i in range(sessions)]
    tokens = None if bare or page != "benchmark" else [f"{own_reference(i):g}"
                                                         for i in range(sessions)]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    results = await asyncio.gather(*[
        drive(server.url, page, i, scripts[i], None if tokens is None else tokens[i],
              set() if tokens is None else set(tokens) - {tokens[i]}, think, not bare)
        for i in range(sessions)])
    wall = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0
    latencies = [x for r in results for x in r.latencies]
    reruns = len(latencies) + sum(1 for r in results if r.first_load is not None)
    return LoadResult(
        label="bare one-widget page" if bare else page, sessions=sessions, latencies=latencies,
        first_loads=[r.first_load for r in results if r.first_load is not None],
        cpu_per_rerun=cpu / max(1, reruns), peak_rss_mb=hwm_mb(pid),
        errors=[e for r in results for e in r.errors], leaks=[x for r in results for x in r.leaks],
        checked=sum(r.checked for r in results), wall=wall,
        wire=[w for r in results for w in r.wire[1:]])


def run_load(server: Server, page: str, sessions: int, changes: int = 6, think: float = 0.0,
             bare: bool = False) -> LoadResult:
    return asyncio.run(_load(server, page, sessions, changes, think, bare))


async def _page_reruns(server: Server, page: str, changes: int) -> LoadResult:
    pid = server.proc.pid
    keys = PAGE_WIDGETS[page]
    cpu0, t0 = cpu_seconds(pid), time.perf_counter()
    # About and the audit show no interval: the level changes nothing there, by design.
    result = await drive(server.url, page, 0, generic_script(keys, changes), None, set(), 0.0,
                         must_show=page not in {"", "audit"})
    return LoadResult(page or "home", 1, result.latencies,
                      [result.first_load] if result.first_load else [],
                      (cpu_seconds(pid) - cpu0) / max(1, len(result.latencies) + 1),
                      hwm_mb(pid), result.errors, [], 0, time.perf_counter() - t0)


def page_reruns(server: Server, page: str, changes: int = 6) -> LoadResult:
    """One session on `page` changing its widgets: the server-side rerun per change."""
    return asyncio.run(_page_reruns(server, page, changes))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--page", default="benchmark")
    parser.add_argument("--changes", type=int, default=6, help="widget changes per session")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause between a session's changes (s; exponential, seeded per "
                             "session); 0: every session changes again at once")
    parser.add_argument("--pages", action="store_true",
                        help="also one session per page (rerun after a widget change)")
    parser.add_argument("--no-fragments", action="store_true",
                        help="send every change as a full rerun without the browser's message "
                             "cache (how a client unaware of fragments would)")
    args = parser.parse_args()
    global FULL_RERUNS
    FULL_RERUNS = args.no_fragments
    rows = []
    for bare in (True, False):
        for n in args.sessions:
            # a fresh server per run, so peak RSS belongs to that run
            server = start_server(BARE_APP) if bare else start_server()
            try:
                if not bare:  # warm the caches once, as the first visitor of the day does
                    run_load(server, args.page, 1, 1)
                result = run_load(server, "" if bare else args.page, n, args.changes,
                                  args.think, bare)
            finally:
                server.stop()
            rows.append(result.row())
            for e in result.errors[:3] + result.leaks[:3]:
                print("  ", e, file=sys.stderr)
    print(HEADER)
    print("\n".join(rows))
    if args.pages:
        server = start_server()
        try:
            print("\n| page | reruns | p50 s | p95 s | max s | server CPU ms/rerun | errors |")
            print("|---|---|---|---|---|---|---|")
            for page in PAGE_WIDGETS:
                r = page_reruns(server, page, args.changes)
                print(f"| {r.label} | {len(r.latencies)} | {r.pct(50):.3f} | {r.pct(95):.3f} | "
                      f"{max(r.latencies, default=0):.3f} | {1000 * r.cpu_per_rerun:.0f} | "
                      f"{len(r.errors)} |")
                for e in r.errors[:2]:
                    print("  ", e, file=sys.stderr)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
