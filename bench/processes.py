"""Where the CPU goes with one and with two server processes on PostgreSQL + Redis:
`.venv/bin/python bench/processes.py [rounds]` (docs/performance.md).

Saturates one process, then two (each on its own SO_REUSEPORT socket), with wrk as
`make bench` does and one viewer, `rounds` times each, and prints for each run the
requests a second, the requests a commit (PostgreSQL's own count of the database's
commits), and the CPU time a request of each server process, each writer process,
PostgreSQL's backends and Redis.
"""

import asyncio
import json
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (  # noqa: E402
    Viewers,
    cpu_seconds,
    new_bin,
    run_wrk,
    scaled,
    start,
    stop,
    with_writers,
)
from tests.servers import PostgresDatabase  # noqa: E402


def pids_of(pattern):
    found = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True).stdout
    return [int(pid) for pid in found.split()]


def cpu_of(pids):
    """cpu_seconds() of those still running: a backend may end meanwhile."""
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    return cpu_seconds(alive)


def commits(database):
    name = database.url.rsplit("/", 1)[1]
    query = f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{name}'"
    command = ["psql", database.url, "-Atc", query]
    return int(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


async def one(servers, database, seconds):
    bin_id = new_bin(servers[0].base_url)
    url = f"http://127.0.0.1:{servers[0].port}/b/{bin_id}/load"
    await asyncio.to_thread(run_wrk, url, 2)  # each process starts its writer at its first capture
    groups = {}
    for number, server in enumerate(servers):
        groups[f"server {number}"] = [server.process.pid]
        groups[f"writer {number}"] = with_writers([server.process.pid])[1:]
    async with Viewers(servers[0].base_url, bin_id, 1):
        groups["postgresql"] = pids_of("postgres: ")  # the writers' backends are open now
        groups["redis"] = pids_of("redis-server")
        before = {name: cpu_of(pids) for name, pids in groups.items()}
        committed = commits(database)
        load = await asyncio.to_thread(run_wrk, url, seconds)
        committed = commits(database) - committed
        after = {name: cpu_of(pids) for name, pids in groups.items()}
    count = load["requests"]
    return {
        "requests_per_second": round(load["rps"]),
        "requests_per_commit": round(count / committed, 1),
        "cpu_us_per_request": {
            name: round((after[name] - before[name]) / count * 1e6) for name in groups
        },
    }


async def main(rounds, seconds=8):
    database = PostgresDatabase()
    env = scaled(database)
    try:
        for count in (1, 2):
            servers = start(count, env)
            try:
                for _ in range(rounds):
                    run = await one(servers, database, seconds)
                    print(json.dumps({"processes": count, **run}), flush=True)
            finally:
                stop(servers)
    finally:
        database.close()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))
