"""The writer's own cost per request, with and without retention, on PostgreSQL:
`.venv/bin/python bench/store.py` (docs/performance.md).

Stores batches of 16 requests of 1 KiB with store_batch() on a fresh database: into a
bin that keeps everything, into a full bin that drops as much as it stores, and into
a full bin trimmed every tenth batch only (what dropping in chunks would give).
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.servers import PostgresDatabase  # noqa: E402

BATCH = 16
BODY = json.dumps({"event": "order.updated", "padding": "x" * 984}).encode()
SCOPE = {
    "method": "POST",
    "headers": [(b"content-type", b"application/json")],
    "client": ("127.0.0.1", 1),
}


def main(rounds=300):
    database = PostgresDatabase()
    os.environ.update(DATABASE_URL=database.url, DJANGO_SETTINGS_MODULE="inspector.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bins.capture import build_request
    from bins.models import Bin
    from bins.storage import store_batch

    def batch(bin):
        return [
            build_request(SCOPE, BODY, len(BODY), bin_id=bin.id, path="/", max_body_bytes=10**7)
            for _ in range(BATCH)
        ]

    def per_request(cap_of_round):
        bin = Bin.objects.create()
        settings.INSPECTOR_MAX_REQUESTS_PER_BIN = 1000
        for _ in range(1000 // BATCH + 1):  # full
            store_batch(batch(bin))
        started = time.perf_counter()
        for number in range(rounds):
            settings.INSPECTOR_MAX_REQUESTS_PER_BIN = cap_of_round(number)
            store_batch(batch(bin))
        return round((time.perf_counter() - started) / (rounds * BATCH) * 1e6, 1)

    results = {}
    for _ in range(2):
        for name, cap in (
            ("keeps everything", lambda n: 10**9),
            ("drops every batch", lambda n: 1000),
            ("drops every tenth batch", lambda n: 1000 if n % 10 == 9 else 10**9),
        ):
            results.setdefault(name, []).append(per_request(cap))
    connection.close()
    database.close()
    print(json.dumps({"us_per_request": results}))


if __name__ == "__main__":
    main()
