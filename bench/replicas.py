"""Replicas behind a real load balancer: N `streamlit run` processes and HAProxy, on loopback.

    python bench/replicas.py [--replicas 1 2 3] [--sessions 30 60] [--changes 6] [--repeat 1]
    python bench/replicas.py --checks-only

Each replica is started as tests and benchmarks start the app (bench/server.py), with the
settings every replica of a deployment shares: the same cookie secret, passed as the
environment variable STREAMLIT_SERVER_COOKIE_SECRET, and the committed .streamlit/config.toml.
HAProxy runs the committed deploy/haproxy.cfg with its `bind` and `server` lines replaced for
loopback (`haproxy_config`). The load generator (bench/loadgen.py) then drives N sessions through
the balancer exactly as it drives one server: each session fetches the page (which sets the
affinity cookie), opens its websocket with that cookie, and changes the benchmark page's widgets
with its own reference value; the isolation check (a session is sent its own reference line and
no other session's) runs unchanged. The replica each session landed on is recorded from the
balancer's X-Replica header.

Two checks go beyond latency (`check_affinity`, `check_stopped_replica`):
  - affinity: sessions arrive one after another, each uploads its own patient file on the
    Survival page (the upload is an HTTP PUT that only the replica holding the session accepts),
    then, after every other session has arrived, reruns, drops its websocket and reconnects as a
    browser does; its upload must still be shown, by the same replica, in the same session;
  - a stopped replica: a session whose replica is stopped reconnects as a browser does; it must
    land on a live replica in a fresh session, be told so, and see no other visitor's upload.

A session counts as served within the budget when every one of its reruns finished within 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Common_pb2 import FileURLs, UploadedFileInfo
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loadgen  # noqa: E402
from server import ROOT, Server, free_port, start_server  # noqa: E402

TEMPLATE = ROOT / "deploy" / "haproxy.cfg"
EXAMPLE_IPD = ROOT / "data" / "example_ipd.csv"
BUDGET = 1.0  # seconds: a rerun a user waits for
#: What the app shows when the server no longer holds the session a browser reconnects to
#: (views/restart.py); the stopped-replica check looks for it.
RESTART_NOTICE = "started a new session"


def haproxy_path() -> str:
    found = shutil.which("haproxy") or next(
        (p for p in ("/usr/sbin/haproxy", "/usr/local/sbin/haproxy") if Path(p).exists()), None)
    if not found:
        raise SystemExit("Debian's haproxy is needed: apt-get install -y haproxy")
    return found


# ------------------------------------------------------------------------------ the balancer


def haproxy_config(port: int, replicas: Mapping[str, str], template: str | None = None) -> str:
    """deploy/haproxy.cfg for loopback: listen on 127.0.0.1:`port`, one `server` line per
    replica (name -> "host:port"), everything else as committed. The DNS resolvers go too:
    loopback servers are addresses, and a CI machine may have no nameserver to parse."""
    text = TEMPLATE.read_text() if template is None else template
    out: list[str] = []
    in_resolvers = servers_written = False
    for line in text.splitlines():
        words = line.split()
        if line.startswith("resolvers "):
            in_resolvers = True
            continue
        if in_resolvers:
            if not line.strip() or line[0].isspace():
                continue
            in_resolvers = False
        if words[:1] == ["bind"]:
            line = f"    bind 127.0.0.1:{port}"
        elif words[:1] == ["default-server"]:
            line = line.replace(" resolvers system", "")
        elif words[:1] == ["server"]:
            if not servers_written:
                out.extend(f"    server {name} {address} cookie {name}"
                           for name, address in replicas.items())
                servers_written = True
            continue
        out.append(line)
    if not servers_written:
        raise ValueError("the HAProxy template has no `server` lines to replace")
    return "\n".join(out) + "\n"


@dataclass
class Balancer:
    proc: subprocess.Popen
    url: str
    config: Path
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def start_balancer(replicas: Mapping[str, str], template: str | None = None,
                   timeout: float = 20) -> Balancer:
    """HAProxy in the foreground on a free loopback port, configured from `template`
    (deploy/haproxy.cfg by default); returns once a request through it reaches a replica's
    /_stcore/health."""
    port = free_port()
    config = Path(tempfile.mkstemp(prefix="haproxy-", suffix=".cfg")[1])
    config.write_text(haproxy_config(port, replicas, template))
    check = subprocess.run([haproxy_path(), "-c", "-q", "-f", str(config)],
                           capture_output=True, text=True)
    if check.returncode != 0:
        raise RuntimeError(f"haproxy rejected the generated configuration:\n{check.stderr}")
    log = Path(tempfile.mkstemp(prefix="haproxy-", suffix=".log")[1])
    with log.open("wb") as sink:
        proc = subprocess.Popen([haproxy_path(), "-db", "-f", str(config)],
                                stdout=sink, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return Balancer(proc, url, config, log)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=5)
    raise RuntimeError(f"haproxy did not answer:\n{log.read_text()[-3000:]}")


@dataclass
class Cluster:
    """N replicas sharing one cookie secret, and the balancer in front of them."""

    replicas: dict[str, Server]
    balancer: Balancer

    @property
    def url(self) -> str:
        return self.balancer.url

    def stop(self) -> None:
        self.balancer.stop()
        for server in self.replicas.values():
            server.stop()


def start_cluster(n: int) -> Cluster:
    """`n` replicas named r1..rN (the names the affinity cookie carries), started in parallel,
    then HAProxy in front of them."""
    env = {"STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32)}
    names = [f"r{i}" for i in range(1, n + 1)]
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = {name: pool.submit(start_server, env=env) for name in names}
    started: dict[str, Server] = {}
    try:
        for name, future in futures.items():
            started[name] = future.result()
        balancer = start_balancer({name: server.url.removeprefix("http://")
                                   for name, server in started.items()})
    except BaseException:
        for future in futures.values():
            if future.exception() is None:
                future.result().stop()
        raise
    return Cluster(started, balancer)


# ------------------------------------------------------------------------------ load through it


@dataclass
class ReplicaLoad:
    replicas: int
    sessions: int
    latencies: list[float]
    within_budget: int  # sessions whose every rerun finished within BUDGET
    per_replica: dict[str, int]  # sessions per replica, from the X-Replica header
    cpu_per_rerun: float  # seconds, summed over the replicas
    client_cpu_per_rerun: float  # seconds of the load generator itself, on the same cores
    peak_rss_mb: float  # the largest replica's
    errors: list[str]
    leaks: list[str]
    checked: int
    label: str = "through HAProxy"
    machine_load: float = float("nan")  # 1-minute load average when the run started

    def pct(self, q: float) -> float:
        xs = sorted(self.latencies)
        return xs[min(len(xs) - 1, round(q / 100 * (len(xs) - 1)))] if xs else float("nan")

    def row(self) -> str:
        spread = " / ".join(f"{self.per_replica.get(k, 0)}" for k in sorted(self.per_replica))
        return (f"| {self.replicas} | {self.label} | {self.sessions} | {len(self.latencies)} | "
                f"{self.pct(50):.3f} | {self.pct(95):.3f} | {max(self.latencies, default=0):.3f}"
                f" | {self.within_budget}/{self.sessions} | {spread} | "
                f"{1000 * self.cpu_per_rerun:.0f} | {1000 * self.client_cpu_per_rerun:.0f} | "
                f"{self.peak_rss_mb:.0f} | "
                f"{len(self.errors)} | {len(self.leaks)} | {self.machine_load:.1f} |")


HEADER = ("| replicas | path | sessions | reruns | p50 s | p95 s | max s | sessions within 1 s | "
          "sessions per replica | replica CPU ms/rerun | load generator CPU ms/rerun | "
          "peak RSS MB (largest replica) | errors | isolation failures | machine load |\n"
          "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")


async def _load(url: str, sessions: int, changes: int,
                think: float) -> list[loadgen.SessionResult]:
    tokens = [f"{loadgen.own_reference(i):g}" for i in range(sessions)]
    return list(await asyncio.gather(*[
        loadgen.drive(url, "benchmark", i, loadgen.benchmark_script(i, changes), tokens[i],
                      set(tokens) - {tokens[i]}, think)
        for i in range(sessions)]))


def run_load(url: str, servers: list[Server], replicas: int, sessions: int, changes: int = 6,
             think: float = 0.0, label: str = "through HAProxy") -> ReplicaLoad:
    machine_load = os.getloadavg()[0]  # other work on the machine competes for its cores
    cpu0, own0 = sum(loadgen.cpu_seconds(s.proc.pid) for s in servers), os.times()
    results = asyncio.run(_load(url, sessions, changes, think))
    cpu = sum(loadgen.cpu_seconds(s.proc.pid) for s in servers) - cpu0
    own1 = os.times()
    client_cpu = own1.user + own1.system - own0.user - own0.system
    latencies = [x for r in results for x in r.latencies]
    reruns = len(latencies) + sum(1 for r in results if r.first_load is not None)
    return ReplicaLoad(
        replicas=replicas, sessions=sessions, latencies=latencies,
        within_budget=sum(1 for r in results if len(r.latencies) == changes and not r.errors
                          and max(r.latencies) <= BUDGET),
        per_replica=dict(Counter(r.replica or "direct" for r in results)),
        cpu_per_rerun=cpu / max(1, reruns), client_cpu_per_rerun=client_cpu / max(1, reruns),
        peak_rss_mb=max(loadgen.hwm_mb(s.proc.pid) for s in servers),
        errors=[e for r in results for e in r.errors], leaks=[x for r in results for x in r.leaks],
        checked=sum(r.checked for r in results), label=label, machine_load=machine_load)


def warm(cluster: Cluster) -> None:
    """One session on each replica directly, as the first visitor of the day on each."""
    for server in cluster.replicas.values():
        loadgen.run_load(server, "benchmark", 1, 1)


# ------------------------------------------------------------------------------ one visitor


class Visitor(loadgen.Session):
    """A browser tab on the Survival page: uploads its own patient file, reruns, reconnects."""

    def __init__(self, url: str, index: int) -> None:
        super().__init__(url, "survival", index)
        self.file_name = f"cohort-visitor-{index:02d}.csv"
        self.replicas: list[str] = []  # X-Replica of every websocket and upload, in order
        self.upload_status = 0  # the HTTP status of the upload's PUT
        self.session_ids: list[str] = []  # the server's session id after every (re)connect

    async def connect(self) -> None:
        await self.__aenter__()
        self.replicas.append(self.result.replica)

    async def load(self) -> list[str]:
        """One rerun with every widget state this tab holds (what a browser sends after it
        connects); returns the texts shown."""
        _, messages = await self.run_once()
        self.session_ids.append(self.session_id)
        return self.learn(messages)

    async def upload(self) -> None:
        """As the front end uploads: ask the session for an upload URL over the websocket, PUT
        the file to it over HTTP (with this tab's cookies and XSRF token), then send the
        uploader's new state with the next rerun."""
        request = BackMsg()
        request.file_urls_request.request_id = uuid.uuid4().hex
        request.file_urls_request.file_names.append(self.file_name)
        request.file_urls_request.session_id = self.session_id
        await self.ws.send(request.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(self.ws.recv(), loadgen.TIMEOUT))
            if msg.WhichOneof("type") == "file_urls_response" and \
                    msg.file_urls_response.response_id == request.file_urls_request.request_id:
                break
        urls = msg.file_urls_response.file_urls[0]
        data = EXAMPLE_IPD.read_bytes()
        replica, self.upload_status = await asyncio.to_thread(self._put, urls.upload_url, data)
        self.replicas.append(replica)
        info = UploadedFileInfo(name=self.file_name, size=len(data), file_id=urls.file_id,
                                file_urls=FileURLs(file_id=urls.file_id,
                                                   upload_url=urls.upload_url,
                                                   delete_url=urls.delete_url))
        state = WidgetState(id=self.widget_ids["ipd_upload"])
        state.file_uploader_state_value.uploaded_file_info.append(info)
        self.states[state.id] = state

    def _put(self, path: str, data: bytes) -> tuple[str, int]:
        boundary = uuid.uuid4().hex
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
                f"filename=\"{self.file_name}\"\r\nContent-Type: text/csv\r\n\r\n").encode() \
            + data + f"\r\n--{boundary}--\r\n".encode()
        xsrf = next(c.value or "" for c in self.jar if c.name == "_streamlit_xsrf")
        request = urllib.request.Request(
            self.origin + path, data=body, method="PUT",
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "X-Xsrftoken": xsrf})
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        try:
            with opener.open(request, timeout=60) as response:
                return response.headers.get("X-Replica", ""), response.status
        except urllib.error.HTTPError as refused:  # a replica without this session: 400
            return refused.headers.get("X-Replica", ""), refused.code

    def shows_upload(self, texts: list[str], name: str | None = None) -> bool:
        return any(f"**{name or self.file_name}** is valid" in t for t in texts)

    async def drop(self) -> None:
        """The websocket closes (a network blip, a laptop lid); the tab keeps its state."""
        await self.ws.close()


@dataclass
class AffinityRecord:
    index: int
    replicas: list[str]  # websocket, upload PUT, websocket after the reconnect
    session_ids: list[str]
    upload_status: int
    shown_after_upload: bool
    shown_after_others: bool
    shown_after_reconnect: bool
    others_shown: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (len(set(self.replicas)) == 1 and len(set(self.session_ids)) == 1
                and self.upload_status == 204 and self.shown_after_upload
                and self.shown_after_others and self.shown_after_reconnect
                and not self.others_shown)


async def _affinity(url: str, sessions: int) -> list[AffinityRecord]:
    visitors = [Visitor(url, i) for i in range(sessions)]
    names = {v.file_name for v in visitors}
    seen: dict[int, list[list[str]]] = {v.index: [] for v in visitors}
    for visitor in visitors:  # one after another: each arrives while the others hold state
        await visitor.connect()
        seen[visitor.index].append(await visitor.load())
        await visitor.upload()
        seen[visitor.index].append(await visitor.load())
    for visitor in visitors:  # every other session has arrived: each reruns
        seen[visitor.index].append(await visitor.load())
    for visitor in visitors:  # and reconnects, as the front end does after a dropped socket
        await visitor.drop()
        await visitor.connect()
        seen[visitor.index].append(await visitor.load())
        await visitor.drop()
    records = []
    for v in visitors:
        texts = seen[v.index]
        others = sorted(n for n in names - {v.file_name}
                        for shown in texts if v.shows_upload(shown, n))
        records.append(AffinityRecord(v.index, v.replicas, v.session_ids, v.upload_status,
                                      v.shows_upload(texts[1]), v.shows_upload(texts[2]),
                                      v.shows_upload(texts[3]), others))
    return records


def check_affinity(cluster: Cluster, sessions: int = 6) -> list[AffinityRecord]:
    return asyncio.run(_affinity(cluster.url, sessions))


@dataclass
class StoppedReplicaRecord:
    stopped: str  # the replica stopped under the visitor
    after: str  # the replica it reconnected to
    session_before: str
    session_after: str
    upload_shown_after: bool
    notice_shown: bool
    other_visitor_shown: bool
    survivor_kept_upload: bool  # the visitor on the live replica still sees its own upload
    error_after: str = ""

    @property
    def ok(self) -> bool:
        return (self.after not in ("", self.stopped) and self.session_after != self.session_before
                and not self.upload_shown_after and self.notice_shown
                and not self.other_visitor_shown and self.survivor_kept_upload
                and not self.error_after)


async def _stopped(cluster: Cluster) -> StoppedReplicaRecord:
    # Visitors arrive until two replicas hold one each (leastconn spreads them; the cap only
    # guards against a balancer that never does).
    visitors: list[Visitor] = []
    by_replica: dict[str, Visitor] = {}
    while len(by_replica) < 2 and len(visitors) < 8:
        visitor = Visitor(cluster.url, len(visitors))
        await visitor.connect()
        await visitor.load()
        await visitor.upload()
        await visitor.load()
        visitors.append(visitor)
        by_replica.setdefault(visitor.replicas[0], visitor)
    if len(by_replica) < 2:
        raise RuntimeError(f"every visitor landed on one replica: {list(by_replica)}")
    (stopped, moved), (_, survivor) = list(by_replica.items())[:2]
    before_id = moved.session_id
    cluster.replicas[stopped].stop()
    # The front end sees its socket close, pings /_stcore/health until a server answers, then
    # reconnects asking for its old session and reruns with every widget state it holds.
    await moved.drop()
    await asyncio.to_thread(loadgen.open_page, moved.origin, "survival", moved.jar)
    error = ""
    texts: list[str] = []
    try:
        await moved.connect()
        texts = await moved.load()
    except Exception as exc:  # a result, not a crash: reported as the visitor's error
        error = f"{type(exc).__name__}: {exc}"[:300]
    survivor_texts = await survivor.load()
    others = {v.file_name for v in visitors} - {moved.file_name}
    for visitor in visitors:
        if visitor.replicas[0] != stopped:
            await visitor.drop()
    return StoppedReplicaRecord(
        stopped=stopped, after=moved.replicas[-1], session_before=before_id,
        session_after=moved.session_id, upload_shown_after=moved.shows_upload(texts),
        notice_shown=any(RESTART_NOTICE in t for t in texts),
        other_visitor_shown=any(moved.shows_upload(texts, n) for n in others),
        survivor_kept_upload=survivor.shows_upload(survivor_texts),
        error_after=error or "; ".join(moved.result.errors))


def check_stopped_replica(cluster: Cluster) -> StoppedReplicaRecord:
    return asyncio.run(_stopped(cluster))


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--sessions", type=int, nargs="+", default=[30, 60])
    parser.add_argument("--changes", type=int, default=6, help="widget changes per session")
    parser.add_argument("--think", type=float, default=0.0,
                        help="mean pause between a session's changes (s); 0: all at once")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds; each round runs every cell once, on a fresh cluster, so "
                             "other work on the machine falls on every cell alike")
    parser.add_argument("--direct", action="store_true",
                        help="also one replica without HAProxy (the balancer's own cost)")
    parser.add_argument("--checks-only", action="store_true",
                        help="only the affinity and stopped-replica checks")
    parser.add_argument("--no-checks", action="store_true",
                        help="only the load table")
    parser.add_argument("--quiet-below", type=float, default=0.0,
                        help="before each run, wait (up to 10 min) until the machine's 1-minute "
                             "load average is below this")
    args = parser.parse_args()
    haproxy_path()
    if not args.checks_only:
        cells = [(n, sessions) for sessions in args.sessions
                 for n in ([0] if args.direct else []) + args.replicas]
        runs = [_one_run(n, sessions, args) for _ in range(args.repeat) for n, sessions in cells]
        print(HEADER)
        print("\n".join(sorted((r.row() for r in runs), key=_row_order)))
        if args.repeat > 1:
            print(f"\nMedian of {args.repeat} rounds\n\n{SUMMARY_HEADER}")
            for n, sessions in sorted(cells, key=lambda c: (c[1], c[0] or 0.5)):
                print(summary_row([r for r in runs if (r.replicas, r.sessions, r.label) ==
                                   (max(1, n), sessions, _label(n))]))
    if args.no_checks:
        return
    cluster = start_cluster(2)
    try:
        print("\naffinity (6 visitors, 2 replicas): websocket, upload, reconnect replica; "
              "upload shown after upload / after others / after reconnect")
        for r in check_affinity(cluster):
            print(f"  visitor {r.index}: {' '.join(r.replicas)}; same session "
                  f"{len(set(r.session_ids)) == 1}; {r.shown_after_upload} / "
                  f"{r.shown_after_others} / {r.shown_after_reconnect}; others shown "
                  f"{r.others_shown or 'none'}; {'ok' if r.ok else 'FAILED'}")
        s = check_stopped_replica(cluster)
        print(f"\nstopped replica {s.stopped}: the visitor reconnected to {s.after}, new session "
              f"{s.session_after != s.session_before}, its upload shown {s.upload_shown_after}, "
              f"restart notice shown {s.notice_shown}, another visitor's upload shown "
              f"{s.other_visitor_shown}, the visitor on the live replica kept its upload "
              f"{s.survivor_kept_upload}{'; error ' + s.error_after if s.error_after else ''}; "
              f"{'ok' if s.ok else 'FAILED'}")
    finally:
        cluster.stop()


def _label(n: int) -> str:
    return "through HAProxy" if n else "direct, no balancer"


def _row_order(row: str) -> tuple[int, int, str]:
    replicas, path, sessions = (cell.strip() for cell in row.split("|")[1:4])
    return int(sessions), int(replicas), path


SUMMARY_HEADER = ("| sessions | replicas | path | p50 s | p95 s | sessions within 1 s | "
                  "errors | isolation failures | machine load |\n"
                  "|---|---|---|---|---|---|---|---|---|")


def summary_row(runs: list[ReplicaLoad]) -> str:
    """Medians over rounds; errors and isolation failures summed; the range of machine load."""
    first = runs[0]
    within = statistics.median(r.within_budget for r in runs)
    loads = [r.machine_load for r in runs]
    return (f"| {first.sessions} | {first.replicas} | {first.label} | "
            f"{statistics.median(r.pct(50) for r in runs):.2f} | "
            f"{statistics.median(r.pct(95) for r in runs):.2f} | {within:g}/{first.sessions} | "
            f"{sum(len(r.errors) for r in runs)} | {sum(len(r.leaks) for r in runs)} | "
            f"{min(loads):.1f}–{max(loads):.1f} |")


def _one_run(n: int, sessions: int, args: argparse.Namespace) -> ReplicaLoad:
    """One cell of the table on a fresh cluster (n = 0: one replica, no balancer)."""
    deadline = time.monotonic() + 600
    while os.getloadavg()[0] >= args.quiet_below > 0 and time.monotonic() < deadline:
        time.sleep(15)
    cluster = start_cluster(max(1, n))
    try:
        warm(cluster)
        servers = list(cluster.replicas.values())
        url = cluster.url if n else servers[0].url
        result = run_load(url, servers, max(1, n), sessions, args.changes, args.think,
                          _label(n))
    finally:
        cluster.stop()
    for e in result.errors[:3] + result.leaks[:3]:
        print("  ", e, file=sys.stderr)
    print(result.row(), file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
