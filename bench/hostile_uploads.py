"""Every hostile and valid upload of tests/hostile/upload_bombs.py through the app's reader, one
child process per kind of file (tests/hostile/read_child.py: 300 MB address-space limit), with
what happened, the CPU and wall time and the peak memory added; then per kind the counts and the
slowest and largest accepted file.

    python bench/hostile_uploads.py [--only xlsx]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

HOSTILE = Path(__file__).resolve().parents[1] / "tests" / "hostile"
sys.path[:0] = [str(HOSTILE.parents[1]), str(HOSTILE)]

from isolation import run_child  # noqa: E402
from upload_bombs import every_case  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", default="", help="a category: xlsx, parquet or csv")
    args = parser.parse_args()
    cases = [c for c in every_case() if args.only in c.category]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        reports: dict[str, dict] = {}
        for category in sorted({c.category for c in cases}):
            manifest = []
            for case in (c for c in cases if c.category == category):
                (folder / case.name).write_bytes(case.make())
                manifest.append([str(folder / case.name), case.name])
            (folder / "m.json").write_text(json.dumps(manifest))
            child = run_child(["read_child.py", str(folder / "m.json")], timeout=900)
            reports.update((r["name"], r) for r in map(json.loads, child.stdout.splitlines()))
            if child.returncode:
                print(f"{category}: the reader crashed ({child.returncode}):\n{child.stderr}")
    print(f"{'file':44} {'expected':8} {'outcome':9} {'cpu s':>6} {'wall s':>6} {'+MB':>6} "
          f"{'bytes':>10}  message")
    for case in cases:
        r = reports.get(case.name, {"outcome": "missing", "cpu": 0, "seconds": 0,
                                    "peak_mb": 0, "size": 0})
        print(f"{case.id:44} {case.expect:8} {r['outcome']:9} {r['cpu']:6.2f} "
              f"{r['seconds']:6.2f} {r['peak_mb']:6.1f} {r['size']:10,}  "
              f"{r.get('message', '')[:90]}")
    for category in sorted({c.category for c in cases}):
        mine = [reports[c.name] | {"expect": c.expect} for c in cases
                if c.category == category and c.name in reports]
        accepted = [r for r in mine if r["outcome"] == "accepted"]
        handled = sum(r["outcome"] == ("accepted" if r["expect"] == "accept" else "refused")
                      for r in mine)
        print(f"\n{category}: {len(mine)} files, {handled} handled as expected, "
              f"{len(accepted)} accepted, {sum(r['outcome'] == 'refused' for r in mine)} refused;"
              f" slowest of all {max(r['cpu'] for r in mine):.2f} s CPU, most memory "
              f"{max(r['peak_mb'] for r in mine):.1f} MB")
        if accepted:
            slow = max(accepted, key=lambda r: r["cpu"])
            big = max(accepted, key=lambda r: r["size"])
            for what, r in (("slowest accepted", slow), ("largest accepted", big)):
                print(f"  {what}: {r['name']} ({r['size']:,} bytes, {r['rows']:,} rows): "
                      f"{r['cpu']:.2f} s CPU, {r['seconds']:.2f} s wall, +{r['peak_mb']:.1f} MB")


if __name__ == "__main__":
    main()
