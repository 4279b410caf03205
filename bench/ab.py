"""A/B: capture saturation of two checkouts of Inspector, embedded (SQLite), rounds
alternating, each against the bare Daphne ceiling measured at the start. For a change
too small to see across two `make bench` runs on a noisy machine:

    git worktree add /tmp/before <commit>
    .venv/bin/python bench/ab.py /tmp/before [rounds] [--postgres]

With --postgres, each run has a fresh PostgreSQL database and Redis (one process).

Prints each run, then the ratios to the ceiling as JSON.
"""

import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import tests.servers as servers  # noqa: E402
from bench.run import SERVER_ENV, loaded, saturation, stop  # noqa: E402

HERE = Path(__file__).resolve().parent.parent


def migrated_env(base, database=None):
    data = tempfile.mkdtemp(prefix="inspector-ab-")
    env = {"DATA_DIR": data, **SERVER_ENV}
    if database is not None:
        env |= {"DATABASE_URL": database.url, "REDIS_URL": servers.REDIS_URL}
    full = {
        key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL")
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=base,
        env={**full, **env},
        check=True,
    )
    return env


async def one(base, seconds, postgres):
    servers.BASE_DIR = base  # ServerProcess starts the server from this checkout
    database = servers.PostgresDatabase() if postgres else None
    try:
        server = servers.ServerProcess(migrated_env(base, database), name="ab").start()
        try:
            result = await saturation(
                server.base_url, server.port, 1, seconds, [server.process.pid]
            )
        finally:
            stop([server])
    finally:
        if database is not None:
            database.close()
    return result["rps"]


async def main(other, rounds, postgres=False, seconds=8):
    servers.BASE_DIR = HERE
    bare = servers.ServerProcess({}, name="bare", app="bench.bare:app").start()
    try:
        ceiling = (await loaded(f"{bare.base_url}/b/x", seconds, [bare.process.pid]))["rps"]
    finally:
        stop([bare])
    results = {"other": [], "this": []}
    for _ in range(rounds):
        for name, base in (("other", Path(other).resolve()), ("this", HERE)):
            results[name].append(await one(base, seconds, postgres))
            print(f"{name}: {results[name][-1]:.0f} requests/s", flush=True)
    ratios = {name: [round(rps / ceiling, 2) for rps in runs] for name, runs in results.items()}
    print(json.dumps({"ceiling": round(ceiling), **ratios}))


if __name__ == "__main__":
    arguments = [argument for argument in sys.argv[1:] if argument != "--postgres"]
    rounds = int(arguments[1]) if len(arguments) > 1 else 3
    asyncio.run(main(arguments[0], rounds, postgres="--postgres" in sys.argv))
