"""Run a piece of the app in a child Python process, so that an abort (a Rust panic in
vl-convert, a segfault in a native reader) or running out of memory fails one test instead of
killing pytest, and so that memory and time can be limited and measured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


@dataclass(frozen=True)
class ChildResult:
    returncode: int
    stdout: str
    stderr: str

    @property
    def aborted(self) -> bool:
        """Killed by a signal (SIGABRT from a Rust panic, SIGSEGV, SIGKILL), not an exit."""
        return self.returncode < 0 or self.returncode in (128 + signal.SIGABRT,
                                                           128 + signal.SIGSEGV)

    def json(self) -> dict:
        """The child's last stdout line, as JSON (the protocol of every child script here)."""
        lines = [line for line in self.stdout.splitlines() if line.strip()]
        assert lines, f"no output; exit {self.returncode}; stderr:\n{self.stderr[-3000:]}"
        return json.loads(lines[-1])

    def describe(self) -> str:
        return f"exit {self.returncode}; stderr:\n{self.stderr[-3000:]}"


def run_child(args: list[str], timeout: float = 300, cwd: Path = HERE) -> ChildResult:
    """`python ARGS...` in `cwd` with the repository importable; never raises on a crash."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)]),
           "PYTHONHASHSEED": "0",
           # one glibc arena per thread reserves 64 MB of address space each; keep the count
           # small so an address-space limit measures what the code allocates
           "MALLOC_ARENA_MAX": "2"}
    proc = subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout, check=False)
    return ChildResult(proc.returncode, proc.stdout, proc.stderr)
