"""The CLI contract under hostile input: exit 2 and one line for bad input, exit 1 and one line
for a bug (--debug shows its traceback), user text never acts on the terminal, a repeated column
is refused by every reader. Each case runs the real CLI in a subprocess; the sweep of hostile
argument values runs `main()` in-process (it parses and refuses, nothing native runs)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from comparators.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\x00")


def run(*args: str, stdin: str = "", code: str | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-c", code] if code else [sys.executable, "-m", "comparators"]
    return subprocess.run([*command, *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, input=stdin, errors="surrogateescape")


def bad_input(out: subprocess.CompletedProcess, needle: str = "") -> None:
    assert out.returncode == 2, (out.returncode, out.stderr[-500:])
    assert out.stdout == "" and "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr
    assert needle in lines[0], lines[0]
    assert not any(ch in out.stderr for ch in ESCAPES), repr(out.stderr)


@pytest.mark.parametrize(("name", "command", "text"), [
    ("pool-exact", "pool", "study,events,n,n\nA,3,10,10\nB,5,12,12\n"),
    ("pool-case", "pool", "study,Events,events,n\nA,3,3,10\nB,5,5,12\n"),
    ("pool-space", "pool", "study, n,events,n \nA,10,3,10\nB,12,5,12\n"),
    ("km-exact", "km", "time,event,time\n1,1,2\n2,0,3\n"),
    ("km-case", "km", "Time,time,event\n1,1,1\n2,2,0\n"),
    ("km-semicolon", "km", "time;event;event\n1;1;1\n2;0;0\n"),
])
def test_a_repeated_column_is_refused(tmp_path: Path, name: str, command: str,
                                      text: str) -> None:
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    bad_input(run(command, str(path)), "duplicated column name")


NAMES = ["\x1b[31mRED\x1b[0m", "\x1b]0;pwned\x07", "\u202eevil", "a\x9b2Jb", "\u2066iso\u2069"]


def test_text_output_never_carries_a_terminal_escape(tmp_path: Path) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("study,events,n,group\n" + "".join(
        f"\"{name}{i}\",{i + 1},10,\"{name}\"\n" for i, name in enumerate(NAMES * 2)),
        encoding="utf-8")
    km = tmp_path / "km.csv"
    km.write_text("time,event,arm\n" + "".join(
        f"{i + 1},{i % 2},\"{NAMES[i % len(NAMES)]}\"\n" for i in range(20)), encoding="utf-8")
    for args in (["pool", str(pool)], ["km", str(km), "--group", "arm"]):
        out = run(*args)
        assert out.returncode == 0, out.stderr
        assert not any(ch in out.stdout for ch in ESCAPES), repr(out.stdout)
        assert "RED" in out.stdout or "iso" in out.stdout  # the names are shown, as text
    # arguments echoed in an error line are escaped too
    for value in NAMES:
        out = run("trials", "--subtype", value)
        bad_input(out, "unknown subtype code")


@pytest.mark.parametrize(("args", "needle"), [
    (("pool", "{pool}", "--method", "bayes", "--mu-prior-sd", "1e-300"), "between 0.001"),
    (("pool", "{pool}", "--method", "bayes", "--tau-scale", "1e-300"), "between 0.001"),
    (("pool", "{pool}", "--method", "bayes", "--mu-prior-sd", "1e-160"), "between 0.001"),
    (("km", "{km}", "--group", ""), "needs a column name"),
    (("km", "{km}", "--time", " "), "needs a column name"),
    (("km", "/proc/self/status"), "special file"),
    (("pool", "/proc/self/stat"), "special file"),
    (("km", "/proc/kmsg"), "/proc/kmsg"),
    (("ci", "1" * 400, "5"), "too long to be a number"),
    (("ci", "3", "1" * 17), "more than the limit"),
    (("ci", "1e400", "5"), "infinite"),
    (("ci", "3,5", "10"), "not a whole number"),
    (("ci", "1,500", "2000"), "ambiguous"),
    (("ci", "3", "10", "--level", "95"), "looks like a percentage"),
    (("ci", "3", "10", "--level", "0.05"), "looks like alpha"),
    (("pool", "{pool}", "--level", "nan"), "between 0.5 and 0.999"),
    (("predictive", "--responders", "1", "--n", "2", "--nmax", "40", "--p0", "0.3",
      "--theta-t", "0.9", "--prior", "inf", "1"), "infinite"),
    (("simon", "--p0", "0,1", "--p1", "1_0"), "expected a number"),
    (("trials", "--subtype", "x" * 5000), "characters long"),
])
def test_what_was_a_crash_is_now_bad_input(tmp_path: Path, args: tuple[str, ...],
                                           needle: str) -> None:
    pool = tmp_path / "pool.csv"
    pool.write_text("study,events,n\nA,3,10\nB,5,12\nC,1,9\n")
    km = tmp_path / "km.csv"
    km.write_text("time,event,arm\n1,1,a\n2,0,b\n3,1,a\n")
    bad_input(run(*[a.format(pool=pool, km=km) for a in args]), needle)


BUG = """
import sys
import comparators.__main__ as cli
def boom(args):
    raise {error}
cli.cmd_ci = boom
sys.exit(cli.main(sys.argv[1:]))
"""


@pytest.mark.parametrize("error", ["ZeroDivisionError('float division by zero')",
                                   "KeyError('')", "TypeError('NoneType')",
                                   "OverflowError('int too large to convert to float')",
                                   "IndexError('index 0 is out of bounds')",
                                   "ValueError('a plain ValueError is a bug')"])
def test_a_bug_exits_1_with_one_line_and_debug_shows_the_traceback(error: str) -> None:
    code = BUG.format(error=error)
    out = run("ci", "1", "5", code=code)
    assert out.returncode == 1, (out.returncode, out.stderr)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "internal error" in lines[0] and "--debug" in lines[0], lines
    assert error.split("(")[0] in lines[0] and "Traceback" not in out.stderr
    debug = run("ci", "1", "5", "--debug", code=code)
    assert debug.returncode == 1
    assert "Traceback (most recent call last)" in debug.stderr and "boom" in debug.stderr


HOSTILE = ["inf", "-inf", "nan", "1e400", "-1", "0", "1.5", "1,5", "1,500", "1_0", "abc", "",
           " ", "1" * 400, "0x10", "+0.3", "\x1b[2J", "١", "True", "1e-320", "3e-1"]
SWEEP = {
    "ci K": ["ci", "{v}", "10"], "ci N": ["ci", "3", "{v}"],
    "ci --level": ["ci", "3", "10", "--level={v}"],
    "ci --method": ["ci", "3", "10", "--method={v}"],
    "simon --p0": ["simon", "--p0={v}", "--p1", "0.3"],
    "simon --p1": ["simon", "--p0", "0.1", "--p1={v}"],
    "simon --alpha": ["simon", "--p0", "0.1", "--p1", "0.3", "--alpha={v}"],
    "simon --beta": ["simon", "--p0", "0.1", "--p1", "0.3", "--beta={v}"],
    "simon --nmax": ["simon", "--p0", "0.1", "--p1", "0.3", "--nmax={v}"],
    "predictive --responders": ["predictive", "--responders={v}", "--n", "10", "--nmax", "40",
                                "--p0", "0.3", "--theta-t", "0.9"],
    "predictive --n": ["predictive", "--responders", "1", "--n={v}", "--nmax", "40", "--p0",
                       "0.3", "--theta-t", "0.9"],
    "predictive --p0": ["predictive", "--responders", "1", "--n", "10", "--nmax", "40",
                        "--p0={v}", "--theta-t", "0.9"],
    "predictive --theta-t": ["predictive", "--responders", "1", "--n", "10", "--nmax", "40",
                             "--p0", "0.3", "--theta-t={v}"],
    "benchmark --subtype": ["benchmark", "--subtype={v}"],
    "benchmark --measure": ["benchmark", "--subtype", "ASPS", "--measure={v}"],
}


@pytest.mark.parametrize("option", list(SWEEP))
def test_hostile_argument_values_are_input_errors_never_bugs(
        option: str, capsys: pytest.CaptureFixture, record_property: Callable) -> None:
    record_property("inputs", len(HOSTILE))
    for value in HOSTILE:
        code = main([a.replace("{v}", value) for a in SWEEP[option]] + ["--json"])
        out = capsys.readouterr()
        assert code in (0, 2), (option, value, code, out.err)
        if code == 2:
            lines = out.err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), (option, value, out.err)
            assert not any(ch in out.err for ch in ESCAPES), repr(out.err)
        else:
            assert "NaN" not in out.out and "Infinity" not in out.out, (option, value)
