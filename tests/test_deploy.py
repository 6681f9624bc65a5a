"""The deployment files (deploy/) read as a builder would read them, the settings every replica
shares, and the restart notice's one decision.

Docker cannot run on the test machines, so the image is checked the two ways that can fail
here: every COPY source exists and survives the build context's ignore file, and the files the
Dockerfile copies, and nothing else of the repository, run every page on a real server.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from views.restart import asked_to_resume  # noqa: E402

DOCKERFILE = ROOT / "deploy" / "Dockerfile"
IGNORE = ROOT / "deploy" / "Dockerfile.dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, out = "", []
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") or not line.strip():
            continue
        joined += line.rstrip("\\").strip() + " "
        if not line.rstrip().endswith("\\"):
            word, _, rest = joined.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            joined = ""
    return out


def copied_sources() -> list[str]:
    """Every source of every COPY line (all words but the destination)."""
    return [source for word, args in instructions() if word == "COPY"
            for source in shlex.split(args)[:-1]]


def kept_by_ignore_file(path: str) -> bool:
    """Docker's rule: the last matching pattern wins; a `!` pattern re-includes."""
    kept = True
    for line in IGNORE.read_text().splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.lstrip("!").rstrip("/")
        if fnmatch.fnmatch(path, pattern) or path.startswith(pattern + "/") or \
                fnmatch.fnmatch(path, pattern.removeprefix("**/")):
            kept = negate
    return kept


def test_the_image_installs_the_tested_runtime_lock_and_nothing_for_tests() -> None:
    steps = instructions()
    assert steps[0][0] == "FROM" and steps[0][1].startswith("python:3.11-slim")
    runs = " ".join(args for word, args in steps if word == "RUN")
    assert "pip install -r requirements.lock" in runs and "pip check" in runs
    for dev_only in ("requirements-dev", "requirements.txt", "pytest", "playwright", "chromium",
                     "r-base", "Rscript", "apt-get"):
        assert dev_only not in runs, dev_only
    for source in copied_sources():
        assert source.rstrip("/") not in {"tests", "bench", "scripts", "docs", "."}, source


def test_every_copied_file_exists_and_is_in_the_build_context() -> None:
    for source in copied_sources():
        assert (ROOT / source).exists(), source
        assert kept_by_ignore_file(source.rstrip("/")), f"{source} is excluded from the context"
    for left_out in ("tests/test_deploy.py", "bench/replicas.py", ".git/HEAD",
                     ".streamlit/secrets.toml", "views/__pycache__/x.pyc"):
        assert not kept_by_ignore_file(left_out), left_out


def test_the_image_runs_as_a_user_and_is_health_checked_where_the_balancer_looks() -> None:
    steps = dict(instructions())
    assert steps["USER"] not in {"root", "0"}
    assert "/_stcore/health" in steps["HEALTHCHECK"]
    assert "streamlit" in steps["CMD"] and "streamlit_app.py" in steps["CMD"]
    port = steps["EXPOSE"]
    assert f"--server.port={port}" in steps["CMD"] and f":{port}/_stcore/health" in \
        steps["HEALTHCHECK"]
    haproxy = (ROOT / "deploy" / "haproxy.cfg").read_text()
    assert "option httpchk GET /_stcore/health" in haproxy
    servers = [line.split() for line in haproxy.splitlines() if line.split()[:1] == ["server"]]
    assert servers and all(words[2].endswith(f":{port}") for words in servers)


def test_every_replica_shares_the_committed_settings_and_no_secret_is_committed() -> None:
    server = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())["server"]
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert "cookieSecret" not in server
    literal = re.compile(r"(cookieSecret|COOKIE_SECRET)\s*[=:]\s*[\"']?[0-9A-Za-z+/]{8,}")
    for path in [ROOT / ".streamlit" / "config.toml", *sorted((ROOT / "deploy").iterdir())]:
        assert not literal.search(path.read_text()), path
    assert not (ROOT / ".streamlit" / "secrets.toml").exists()


@pytest.mark.parametrize(("header", "expected"), [
    ("", False),
    ("streamlit", False),
    ("streamlit, PLACEHOLDER_AUTH_TOKEN", False),  # a new tab
    ("streamlit, 2|ab|cd|1796545044", False),
    ("streamlit, 2|ab|cd|1796545044, 3f6fb951-e94a-4707-9074-55230db15bb4", True),  # reconnect
    ("streamlit,PLACEHOLDER_AUTH_TOKEN,3f6fb951", True),
    ("streamlit, , ", False),
])
def test_the_notice_needs_a_session_the_tab_asked_to_resume(header: str, expected: bool) -> None:
    # The header as Streamlit's front end builds it: "streamlit", the XSRF token (or a
    # placeholder), then the last session id if the tab had one.
    assert asked_to_resume(header) is expected


def test_the_files_the_image_copies_run_every_page(tmp_path: Path) -> None:
    """The image's /app, rebuilt from the Dockerfile's COPY lines: every page renders and takes
    a widget change, so nothing the app reads at run time is left out of the image."""
    import loadgen
    from server import start_server

    for source in copied_sources():
        if source == "requirements.lock":
            continue
        target = tmp_path / source
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(ROOT / source, target)
    server = start_server(tmp_path / "streamlit_app.py", cwd=tmp_path,
                          env={"HOME": str(tmp_path / "no-home")})
    try:
        for page in loadgen.PAGE_WIDGETS:
            result = loadgen.page_reruns(server, page, 2)
            assert not result.errors and len(result.latencies) == 2, (page, result.errors)
    finally:
        server.stop()
