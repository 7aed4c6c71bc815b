"""Benchmark: how long `steve` commands take from the shell prompt to their exit.

Builds the default demo practice in a temporary data directory (`steve demo`), then runs each
command N times as a fresh process and reports the median wall and CPU time (user + system of
the child), beside `python -c pass` measured in the same run as the floor. The test on what
these commands import is tests/app/cli/test_startup.py; this script measures the time.

    .venv/bin/python benchmarks/cli_start.py [--runs 9]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COMMANDS = (
    ["--help"],
    ["tasks", "--help"],
    ["tasks", "list"],
    ["overview", "--json"],
    ["jobs", "list"],
    ["users", "list"],
    ["patient", "find", "ann"],
)


def _steve() -> str:
    found = Path(sys.executable).with_name("steve")
    return str(found) if found.exists() else (shutil.which("steve") or "steve")


def _time_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) for one run; the command must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr.decode()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _median(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    samples = [_time_once(argv, env) for _ in range(runs)]
    return (
        statistics.median(w for w, _ in samples),
        statistics.median(c for _, c in samples),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9, help="runs per command (median)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="steve-cli-start-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STEVE_")}
        env["STEVE_DATA_DIR"] = str(Path(tmp) / "data")
        subprocess.run([_steve(), "demo"], env=env, capture_output=True, check=True)
        floor = _median([sys.executable, "-c", "pass"], env, args.runs)
        print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}; ", end="")
        print(f"median of {args.runs} runs each, seconds")
        print()
        print("| command | wall | CPU | wall / `python -c pass` |")
        print("| --- | --- | --- | --- |")
        print(f"| `python -c pass` | {floor[0]:.3f} | {floor[1]:.3f} | 1.0 |")
        for command in COMMANDS:
            wall, cpu = _median([_steve(), *command], env, args.runs)
            ratio = wall / floor[0]
            print(f"| `steve {' '.join(command)}` | {wall:.3f} | {cpu:.3f} | {ratio:.1f} |")


if __name__ == "__main__":
    main()
