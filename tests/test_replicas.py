"""Two replicas behind HAProxy with the committed configuration (deploy/haproxy.cfg), on loopback.

Sessions through the balancer finish and see only their own values; every request of a session
(the websocket, its upload's HTTP PUT, a reconnect) reaches the replica holding it, and the same
check fails against a balancer without the affinity cookie; a session whose replica is stopped
lands on the other replica in a fresh session, is told so, and never sees another visitor's
upload, in the websocket client and in a real browser. Latency is measured in bench/replicas.py,
not here.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

import replicas  # noqa: E402
from server import CHROMIUM_FLAGS  # noqa: E402

pytestmark = pytest.mark.browser
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


@pytest.fixture(scope="module")
def cluster() -> Iterator[replicas.Cluster]:
    running = replicas.start_cluster(2)
    try:
        yield running
    finally:
        running.stop()


def test_the_committed_configuration_is_valid_haproxy() -> None:
    # Its replica names do not resolve here: HAProxy warns and starts them in maintenance.
    check = subprocess.run([replicas.haproxy_path(), "-c", "-f", str(replicas.TEMPLATE)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_the_loopback_configuration_changes_only_addresses() -> None:
    committed = replicas.TEMPLATE.read_text().splitlines()
    generated = replicas.haproxy_config(8080, {"r1": "127.0.0.1:1", "r2": "127.0.0.1:2"})
    kept = [line for line in committed
            if line.split()[:1] not in (["bind"], ["server"], ["default-server"], ["resolvers"],
                                        ["parse-resolv-conf"], ["hold"])]
    assert all(line in generated.splitlines() for line in kept)
    assert "    server r1 127.0.0.1:1 cookie r1" in generated
    assert "bind 127.0.0.1:8080" in generated and "resolvers" not in generated


def test_sessions_through_the_balancer_finish_and_see_only_their_own_values(cluster) -> None:
    load = replicas.run_load(cluster.url, list(cluster.replicas.values()), 2, sessions=6,
                             changes=3)
    assert not load.errors, load.errors
    assert len(load.latencies) == 6 * 3
    assert load.checked == 6 * 3 and not load.leaks, load.leaks
    assert sorted(load.per_replica) == ["r1", "r2"], load.per_replica  # both replicas serve


def test_every_request_of_a_session_reaches_its_replica(cluster) -> None:
    records = replicas.check_affinity(cluster, sessions=4)
    for r in records:
        assert len(r.replicas) == 3 and len(set(r.replicas)) == 1, r  # socket, PUT, reconnect
        assert r.upload_status == 204, r
        assert len(set(r.session_ids)) == 1, r  # the reconnect resumed the same session
        assert r.shown_after_upload and r.shown_after_others and r.shown_after_reconnect, r
        assert not r.others_shown, r
    assert {r.replicas[0] for r in records} == {"r1", "r2"}


def test_an_upload_without_the_xsrf_token_is_refused_through_the_balancer(cluster) -> None:
    visitor = replicas.Visitor(cluster.url, 0)

    async def session_id() -> str:
        await visitor.connect()
        await visitor.load()
        await visitor.drop()
        return visitor.session_id

    path = f"/_stcore/upload_file/{asyncio.run(session_id())}/some-file"
    request = urllib.request.Request(cluster.url + path, data=b"x", method="PUT")
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(visitor.jar))
    with pytest.raises(urllib.error.HTTPError) as refused:
        opener.open(request, timeout=30)
    assert refused.value.code == 403


def test_without_the_affinity_cookie_the_same_check_fails(cluster) -> None:
    """The check above can fail: round robin without the cookie sends a session's upload to
    the replica that does not hold it (Streamlit answers 400) and its reconnect astray."""
    template = replicas.TEMPLATE.read_text().replace("balance leastconn", "balance roundrobin")
    template = "\n".join(line for line in template.splitlines()
                         if not line.strip().startswith("cookie "))
    balancer = replicas.start_balancer({name: server.url.removeprefix("http://")
                                        for name, server in cluster.replicas.items()}, template)
    try:
        records = replicas.check_affinity(replicas.Cluster(cluster.replicas, balancer), 2)
    finally:
        balancer.stop()
    assert not any(r.ok for r in records), records
    assert any(r.upload_status == 400 for r in records), records


def test_a_session_whose_replica_stops_starts_fresh_elsewhere_and_is_told() -> None:
    cluster = replicas.start_cluster(2)
    try:
        r = replicas.check_stopped_replica(cluster)
    finally:
        cluster.stop()
    assert not r.error_after, r
    assert r.after and r.after != r.stopped, r
    assert r.session_after != r.session_before, r
    assert r.notice_shown, r
    assert not r.upload_shown_after and not r.other_visitor_shown, r
    assert r.survivor_kept_upload, r


def test_a_browser_whose_replica_stops_sees_the_notice_and_no_other_visitors_upload(
        tmp_path: Path) -> None:
    """What the user sees: until their next action the page is the one they had (the front end
    reconnects at once but does not rerun); on that action it runs in a fresh session on the
    other replica: the notice, no upload result (the uploader still lists the file name the
    browser remembers), the link's choices kept, nobody else's upload; uploading again works
    (a file under another name: Chromium fires no change event for the file it already holds)."""
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium package is required (.ci/run installs it)"
    cluster = replicas.start_cluster(2)
    other = replicas.Visitor(cluster.url, 1)  # another visitor, connected, holding an upload
    loop = asyncio.new_event_loop()  # its websocket lives in this loop, in its own thread
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        other_replica = asyncio.run_coroutine_threadsafe(_upload_and_stay(other),
                                                         loop).result(timeout=120)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.goto(f"{cluster.url}/survival?ci_level=0.9")
            page.wait_for_selector(IDLE, timeout=60_000)
            page.locator("input[type=file]").set_input_files(str(replicas.EXAMPLE_IPD))
            page.get_by_text("example_ipd.csv is valid").wait_for(timeout=60_000)
            mine = next(c["value"] for c in context.cookies() if c["name"] == "replica")
            assert mine != other_replica, "leastconn sent the browser to the busy replica"
            assert page.get_by_text(replicas.RESTART_NOTICE).count() == 0

            cluster.replicas[mine].stop()
            page.wait_for_timeout(2000)  # the front end reconnects (to the other replica)
            page.get_by_role("combobox", name="Confidence interval for proportions",
                             exact=True).click()
            page.get_by_role("option", name="jeffreys", exact=True).click()
            page.wait_for_timeout(300)
            page.wait_for_selector(IDLE, timeout=60_000)

            assert page.get_by_text(replicas.RESTART_NOTICE).count() == 1
            assert page.get_by_text("is valid").count() == 0
            assert page.get_by_text(other.file_name).count() == 0
            assert "ci_level=0.9" in page.url and "ci_method=jeffreys" in page.url
            replica_now = next(c["value"] for c in context.cookies() if c["name"] == "replica")
            assert replica_now == other_replica

            again = tmp_path / "again.csv"
            again.write_bytes(replicas.EXAMPLE_IPD.read_bytes())
            page.locator("input[type=file]").set_input_files(str(again))
            page.get_by_text("again.csv is valid").wait_for(timeout=60_000)
            assert page.get_by_text(replicas.RESTART_NOTICE).count() == 0  # said once
            browser.close()
    finally:
        asyncio.run_coroutine_threadsafe(other.drop(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()
        cluster.stop()


async def _upload_and_stay(visitor: replicas.Visitor) -> str:
    await visitor.connect()
    await visitor.load()
    await visitor.upload()
    assert visitor.shows_upload(await visitor.load())
    return visitor.replicas[0]
