"""Time ``lifecycle demo --no-serve`` against its budget (3 minutes before serving).

Runs the demo in a temporary folder as a child process and prints its wall time, its CPU time
(user + system of the child: what the wall time would be on an idle machine, the demo being
mostly single-threaded), the machine's load average, the demo's own split of where the time
went, and both ratios to the 180 s budget.

Usage::

    .venv/bin/python benchmarks/demo.py              # the default 42 days x 3,000 rows
                                                     # (also what the integration test runs)
    .venv/bin/python benchmarks/demo.py --days 30 --rows-per-day 2000   # another size
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUDGET_S = 180.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=42)
    parser.add_argument("--rows-per-day", type=int, default=3000)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("LIFECYCLE_") and k != "MLFLOW_TRACKING_URI"}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "lifecycle.cli", "demo", "--no-serve",
               "--folder", str(Path(tmp) / "demo"), "--days", str(args.days),
               "--rows-per-day", str(args.rows_per_day)]
        load_before = os.getloadavg()[0]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_after = os.getloadavg()[0]
    if proc.returncode != 0:
        print(proc.stdout[-2000:], proc.stderr[-2000:], sep="\n")
        return proc.returncode
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    split = next((line for line in proc.stdout.splitlines() if " predictions and " in line), "")
    print(f"demo --days {args.days} --rows-per-day {args.rows_per_day}")
    print(f"  {split}")
    print(f"  wall {wall:.1f} s (ratio to the {BUDGET_S:.0f} s budget: {wall / BUDGET_S:.2f}); "
          f"child CPU {cpu:.1f} s (ratio {cpu / BUDGET_S:.2f}); "
          f"load average {load_before:.1f} -> {load_after:.1f} on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
