"""What a batch costs the writer process, PostgreSQL and Redis, apart from what its
requests cost: `.venv/bin/python bench/batches.py` (docs/performance.md).

Runs the writer process's own work (bins.writer: the rate limits' check in Redis,
flush(), the reply's framing) on batches of 1, 4, 16 and 32 requests of
1 KiB into a full bin (so retention drops as much as it stores), on a fresh
PostgreSQL database and Redis, and prints the CPU time each one took a request:
this process, PostgreSQL's backend and Redis's server. Three times, in turn. With
`total = per batch + n * per request`, two batch sizes give both.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import SMALL_BODY, cpu_seconds, scaled  # noqa: E402
from tests.servers import PostgresDatabase  # noqa: E402

SIZES = (1, 4, 16, 32)
REQUESTS = 2000  # per batch size and round
SCOPE = {
    "method": "POST",
    "headers": [(b"content-type", b"application/json"), (b"user-agent", b"wrk")],
    "client": ("127.0.0.1", 1),
}


def main(rounds=3):
    database = PostgresDatabase()
    os.environ.update(scaled(database), DJANGO_SETTINGS_MODULE="inspector.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bins.capture import build_request
    from bins.limits import limiter_from_settings
    from bins.models import Bin
    from bins.writer import check, flush, frame

    call_command("migrate", verbosity=0)
    limiter = limiter_from_settings()
    bin = Bin.objects.create()

    def one_batch(size):
        records = [
            build_request(
                SCOPE, SMALL_BODY, len(SMALL_BODY), bin_id=bin.id, path="/", max_body_bytes=10**7
            )
            for _ in range(size)
        ]
        check(records, limiter)
        frame(("ok", *flush(records)))

    for _ in range(1000 // 16 + 1):  # a full bin
        one_batch(16)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (backend,) = cursor.fetchone()
    redis = int(
        subprocess.run(
            ["pgrep", "-x", "redis-server"], capture_output=True, text=True
        ).stdout.split()[0]
    )

    results = {}
    for _ in range(rounds):
        for size in SIZES:
            batches = REQUESTS // size
            before = time.process_time(), cpu_seconds([backend]), cpu_seconds([redis])
            for _ in range(batches):
                one_batch(size)
            after = time.process_time(), cpu_seconds([backend]), cpu_seconds([redis])
            spent = [
                round((b - a) / (batches * size) * 1e6) for a, b in zip(before, after, strict=True)
            ]
            results.setdefault(size, []).append(
                dict(zip(("writer", "postgresql", "redis"), spent, strict=True))
            )
    connection.close()
    database.close()
    print("CPU time a request, in µs, each round in turn:")
    for size, rounds_ in results.items():
        print(f"  batches of {size}: " + json.dumps(rounds_))


if __name__ == "__main__":
    main()
