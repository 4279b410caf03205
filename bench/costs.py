"""What retention and the rate limits cost capture at saturation, on PostgreSQL +
Redis (docs/performance.md): `.venv/bin/python bench/costs.py [rounds]`.

Runs one server process with both on (the defaults, limits set never to refuse),
each one off, and both off, `rounds` times in turn, each against the bare Daphne
ceiling measured at the start, and prints the ratios as JSON.
"""

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import loaded, progress, saturation, scaled, stop  # noqa: E402
from tests.servers import PostgresDatabase, ServerProcess  # noqa: E402

LIMITS_OFF = {"INSPECTOR_BIN_RATE": "0", "INSPECTOR_CLIENT_RATE": "0"}
RETENTION_OFF = {"INSPECTOR_MAX_REQUESTS_PER_BIN": "1000000000"}
CONFIGURATIONS = {
    "both on": {},
    "rate limits off": LIMITS_OFF,
    "retention off": RETENTION_OFF,
    "both off": {**LIMITS_OFF, **RETENTION_OFF},
}


async def one(extra, seconds):
    database = PostgresDatabase()
    env = scaled(database) | extra
    server = ServerProcess(env, name="costs").start()
    try:
        result = await saturation(server.base_url, server.port, 1, seconds, [server.process.pid])
    finally:
        stop([server])
        database.close()
    return result["rps"]


async def main(rounds, seconds=8):
    bare = ServerProcess({}, name="bare", app="bench.bare:app").start()
    ceiling = (await loaded(f"{bare.base_url}/b/x", seconds, [bare.process.pid]))["rps"]
    stop([bare])
    ratios = {name: [] for name in CONFIGURATIONS}
    for _ in range(rounds):
        for name, extra in CONFIGURATIONS.items():
            ratios[name].append(round(await one(extra, seconds) / ceiling, 2))
            progress(f"  {name}: {ratios[name][-1]}x")
    print(json.dumps({"ceiling": round(ceiling), "ratios": ratios}))


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 2))
