"""Lint and types run with the tests, so CI keeps them clean (ruff on everything, mypy on the
engine) and the layout rules of design.md hold."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def test_ruff_is_clean() -> None:
    out = run("ruff", "check", ".")
    assert out.returncode == 0, out.stdout + out.stderr


def test_mypy_is_clean_on_the_engine() -> None:
    out = run("mypy", "comparators")
    assert out.returncode == 0, out.stdout + out.stderr


def test_no_unsafe_html_and_no_pickle_or_eval_of_user_input() -> None:
    for folder in ("views", "comparators"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            assert "unsafe_allow_html=True" not in text, path
            assert not re.search(r"\b(pickle\.loads?|eval|exec)\(", text), path


def test_no_import_time_figure_in_the_code() -> None:
    """An import's cost in seconds goes stale with every library release: the code says why a
    module is imported late, bench/ keeps the measured figures."""
    figure = re.compile(r"\d+(\.\d+)?\s*m?s\b[^\n.]*\bto import|\bimport(s|ing)?\b[^\n]*\bcosts?\b"
                        r"[^\n]*\d\s*m?s\b")
    for folder in ("views", "comparators"):
        for path in (ROOT / folder).rglob("*.py"):
            for number, line in enumerate(path.read_text().splitlines(), start=1):
                assert not figure.search(line), f"{path.relative_to(ROOT)}:{number}: {line}"


def test_lifelines_and_statsmodels_load_only_where_survival_is_used() -> None:
    # A fresh interpreter: other tests import lifelines into this one.
    script = (
        "import sys; sys.path.insert(0, 'tests')\n"
        "from apptest import open_page\n"
        "for page in ['views/home.py', 'views/cohort.py', 'views/catalog.py',\n"
        "             'views/benchmark.py', 'views/across.py', 'views/summary.py',\n"
        "             'views/whatif.py', 'views/planning.py', 'views/audit.py']:\n"
        "    open_page(page)\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'lifelines', 'statsmodels'})\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr
