"""Run every benchmark (bench/bench_*.py) and collect their JSON results.

Each benchmark is its own process (so peak memory is its own), writes
bench/results/<name>.json and prints its table with each figure beside its floor.
`python bench/run.py [--only NAME] [--quick]`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", action="append", default=[], help="run only these (e.g. import)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    scripts = sorted(HERE.glob("bench_*.py"))
    if args.only:
        scripts = [s for s in scripts if s.stem.removeprefix("bench_") in args.only]
    summary: dict[str, object] = {}
    failed = False
    for script in scripts:
        name = script.stem.removeprefix("bench_")
        out = RESULTS / f"{name}.json"
        command = [sys.executable, str(script), "--out", str(out)]
        if args.quick:
            command.append("--quick")
        print(f"\n=== {name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call(command)
        summary[name] = {
            "exit": code,
            "seconds": round(time.perf_counter() - started, 1),
            "results": str(out.relative_to(HERE.parent)) if out.exists() else None,
        }
        failed |= code != 0
    (RESULTS / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(summary, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
