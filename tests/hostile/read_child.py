"""Read uploads the way the app does (comparators.evidence.ipd.read_ipd), in a child process
under an address-space limit, and report for each what happened, the CPU time it took and the
memory it added.

    python read_child.py MANIFEST.json [EXTRA_MB]

MANIFEST.json lists [path, file name] pairs. The readers are warmed first on a valid file of
each kind (imports, thread pools and allocator arenas are not a file's cost). Before each file
the soft RLIMIT_AS is set to the address space in use plus EXTRA_MB (default 300), so a reader
that tries to decode a bomb fails with MemoryError instead of exhausting the machine, and the
peak resident memory is reset (/proc/self/clear_refs). Prints one JSON line per file as soon as
it is read, and "reading NAME" on stderr before, so a crash names its file.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]


def status(field: str) -> int:
    """A /proc/self/status figure in bytes (VmSize: address space; VmRSS, VmHWM: resident
    memory now and at its peak since the last reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


def warm() -> None:
    from upload_bombs import frame, rezip, to_parquet, xlsx_parts

    from comparators.evidence.ipd import read_ipd

    df = frame(50)
    read_ipd(rezip(xlsx_parts(df)), "warm.xlsx")
    read_ipd(to_parquet(df), "warm.parquet")
    read_ipd(df.to_csv(index=False).encode(), "warm.csv")


def read_one(raw: bytes, name: str, extra_mb: int) -> dict:
    from comparators.evidence.ipd import IPDError, read_ipd

    limit = status("VmSize") + extra_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM starts again from VmRSS
    base = status("VmRSS")
    wall, cpu = time.perf_counter(), time.process_time()
    result: dict = {"name": name, "size": len(raw)}
    try:
        frame = read_ipd(raw, name)
    except IPDError as exc:
        result.update(outcome="refused", message=str(exc))
    except MemoryError:
        result.update(outcome="memory", message="MemoryError")
    except Exception as exc:  # noqa: BLE001 - a bug in a reader: report it, do not hide it
        result.update(outcome="error", message=f"{type(exc).__name__}: {exc}")
    else:
        result.update(outcome="accepted", rows=len(frame), first_regimen=frame["regimen"][0],
                      encoding=frame.attrs.get("encoding"))
        del frame
    result["seconds"] = round(time.perf_counter() - wall, 3)
    result["cpu"] = round(time.process_time() - cpu, 3)
    result["peak_mb"] = round((status("VmHWM") - base) / 2**20, 1)
    resource.setrlimit(resource.RLIMIT_AS, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    return result


def main(manifest: str, extra_mb: int) -> None:
    warm()
    for path, name in json.loads(Path(manifest).read_text()):
        print(f"reading {name}", file=sys.stderr, flush=True)
        print(json.dumps(read_one(Path(path).read_bytes(), name, extra_mb)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300)
