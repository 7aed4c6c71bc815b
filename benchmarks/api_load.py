"""Benchmark: API throughput and latency under 20 concurrent loopback clients.

    python benchmarks/api_load.py                        # 10,000-patient demo, SQLite
    python benchmarks/api_load.py --database-url postgresql://postgres@127.0.0.1:5432/bench

Builds the demo practice (as benchmarks/programme_view.py does) in an empty database, adds a
physician user with a bearer token, starts `uvicorn` in a separate process (one worker, as
`steve serve` runs it), then for each endpoint runs `--clients` concurrent clients for
`--seconds` (each request waits for its answer before the next; every request is counted,
bounded by the time limit). Endpoints: the briefing by patient (a random patient each time,
deterministic composer: no model) and the team task list (50 open tasks a page).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from practice import demo_practice  # beside this module
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from db.models import Discipline, Patient, Practitioner
from tools.users import create_token, create_user

SERVER = """
import sys
from app.api import serve_http
from app.settings import Settings
serve_http(Settings(database_url=sys.argv[1], data_dir=sys.argv[2]), "127.0.0.1", int(sys.argv[3]))
"""


def percentile(values: list[float], p: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[p - 1]
        if len(values) > 1
        else values[0]
    )


async def run_clients(
    base: str, token: str, paths: list[str], clients: int, seconds: float
) -> dict:
    latencies: list[float] = []
    errors: dict[int, int] = {}
    deadline = time.perf_counter() + seconds
    rng = random.Random(1)
    headers = {"Authorization": f"Bearer {token}"}

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers=headers, timeout=60) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                r = await http.get(rng.choice(paths))
                if r.status_code == 200:
                    latencies.append((time.perf_counter() - started) * 1000)
                else:
                    errors[r.status_code] = errors.get(r.status_code, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    return {
        "ok": len(latencies),
        "errors": errors,
        "elapsed": elapsed,
        "rps": len(latencies) / elapsed,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
        "max": max(latencies),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database-url", default=None, help="an empty database")
    args = parser.parse_args(argv)
    tz = ZoneInfo("Europe/London")
    today = datetime.now(tz).date()
    with demo_practice(args, today=today, tz=tz, prefix="steve-api-bench-") as practice:
        engine = practice.engine
        print(f"demo: {args.patients:,} patients in {practice.seconds:.1f} s", flush=True)
        token, patients = bench_user(engine)
        engine.dispose()
        with api_server(practice.url, practice.directory) as base:
            rng = random.Random(args.seed)
            briefing = [f"/api/briefings/patient/{rng.choice(patients)}" for _ in range(5000)]
            tasks = [
                "/api/tasks?limit=50",
                "/api/tasks?limit=50&offset=50",
                "/api/tasks/overdue?limit=50",
            ]
            print(
                f"\n## API load ({engine.dialect.name}, {args.clients} clients x "
                f"{args.seconds:.0f} s per endpoint)\n"
            )
            print(f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}\n")
            print("| endpoint | requests | errors | req/s | p50 ms | p95 ms | max ms |")
            print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
            for name, paths in (("briefing by patient", briefing), ("task list", tasks)):
                # a short warm-up: imports, statement caches, the connection pool
                asyncio.run(run_clients(base, token, paths, args.clients, 3))
                r = asyncio.run(run_clients(base, token, paths, args.clients, args.seconds))
                errors = sum(r["errors"].values())
                print(
                    f"| {name} | {r['ok']:,} | {errors} | {r['rps']:.1f} | {r['p50']:.1f} | "
                    f"{r['p95']:.1f} | {r['max']:.1f} |",
                    flush=True,
                )
    return 0


def bench_user(engine: Engine) -> tuple[str, list[int | None]]:
    """A user for the first physician, their API token, and the patients with a physician."""
    with Session(engine) as session:
        doctor = session.exec(
            select(Practitioner)
            .where(Practitioner.discipline == Discipline.PHYSICIAN)
            .order_by(col(Practitioner.id))
        ).first()
        assert doctor is not None and doctor.id is not None
        user = create_user(
            session=session,
            username="bench",
            practitioner_id=doctor.id,
            password="load test on a quiet tuesday",
        )
        assert user.id is not None
        token = create_token(session=session, user_id=user.id, name="bench").secret
        patients = list(
            session.exec(
                select(Patient.id).where(col(Patient.primary_physician_id).is_not(None))
            ).all()
        )
        session.commit()
    return token, patients


@contextmanager
def api_server(url: str, data_dir: str) -> Iterator[str]:
    """The HTTP API in a child process on a free port, once it answers; its base URL."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, url, data_dir, str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/docs", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    raise SystemExit(main())
