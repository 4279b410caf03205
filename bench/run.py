"""The capture benchmark: `make bench` (docs/performance.md).

Starts, one after the other, a bare ASGI app under Daphne (the ceiling) and
Inspector embedded (SQLite, in-memory layer), on PostgreSQL + Redis, and as two
processes on PostgreSQL + Redis (one SO_REUSEPORT socket each). Load comes from
wrk, a separate process; viewers and the paced sender run here. Writes
bench/results/latest.json, bench/results/latest.md and docs/performance.png, and
puts the table into docs/performance.md.
"""

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

import httpx  # noqa: E402
import orjson  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402
from websockets.exceptions import ConnectionClosed  # noqa: E402

from tests.servers import (  # noqa: E402
    REDIS_URL,
    PostgresDatabase,
    ServerProcess,
    chromium_launch_args,
    chromium_path,
    postgres_available,
    redis_available,
)

RESULTS = BASE_DIR / "bench" / "results"
DOC = BASE_DIR / "docs" / "performance.md"
CHART = BASE_DIR / "docs" / "performance.png"
CONNECTIONS = 32
ROUNDS = 3  # saturation runs per configuration, each right after a ceiling run
READ_TIMEOUT = 5  # seconds: INSPECTOR_READ_TIMEOUT of the servers, for slow_clients()
# The rate limits stay on, so that their cost is measured, set so high that the load
# is never refused: a saturation run sends one bin from one address thousands a second.
SERVER_ENV = {
    "INSPECTOR_BIN_RATE": "1000000",
    "INSPECTOR_BIN_BURST": "1000000",
    "INSPECTOR_CLIENT_RATE": "1000000",
    "INSPECTOR_CLIENT_BURST": "1000000",
    "INSPECTOR_READ_TIMEOUT": str(READ_TIMEOUT),
    # Every bench viewer comes from 127.0.0.1: the per-address cap would turn most away.
    "INSPECTOR_MAX_WEBSOCKETS_PER_CLIENT": "100000",
}
SMALL_BODY = json.dumps({"event": "order.updated", "padding": "x" * 984}).encode()


def progress(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


def ms(seconds):
    return None if seconds is None else round(seconds * 1000, 1)


def memory_kib(pid, field):
    """VmRSS (now) or VmHWM (peak) of a process, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return None


def with_writers(pids):
    """The server processes and their children, the writer processes."""
    children = []
    for pid in pids:
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):  # a thread that ended meanwhile
                children += [int(c) for c in (task / "children").read_text().split()]
    return [*pids, *children]


def cpu_seconds(pids):
    """CPU time (user and system) the processes have used so far."""
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_jiffies():
    """(busy, all) CPU time of the whole machine so far, in jiffies."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(values) - values[3] - values[4], sum(values)


def epoch(iso_text):
    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


# --- load --------------------------------------------------------------------


def run_wrk(url, seconds):
    """wrk with bench/load.lua; returns its JSON summary."""
    command = [
        "wrk",
        "-t2",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(BASE_DIR / "bench" / "load.lua"),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = json.loads(output.strip().splitlines()[-1])
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["answered_ok"] = summary["requests"] - summary["status_errors"]
    return summary


class Connection:
    """A minimal keep-alive HTTP/1.1 client, light enough to pace requests exactly."""

    def __init__(self, port):
        self.port = port

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def post(self, path, body):
        self.writer.write(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))
        answer = await self.reader.readexactly(length)
        return int(head.split()[1]), answer

    def close(self):
        self.writer.close()


async def paced(port, bin_id, rate, seconds):
    """Send `rate` requests a second for `seconds`; returns {request id: send time}."""
    pool = asyncio.Queue()
    for _ in range(16):
        pool.put_nowait(await Connection(port).open())
    sent = {}

    async def one():
        connection = await pool.get()
        started = time.time()
        status, answer = await connection.post(f"/b/{bin_id}/paced", SMALL_BODY)
        pool.put_nowait(connection)
        if status == 200:
            sent[json.loads(answer)["id"]] = started

    tasks = []
    start = time.monotonic()
    for n in range(int(rate * seconds)):
        await asyncio.sleep(max(0, start + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(one()))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    return sent


# --- viewers -----------------------------------------------------------------


class Viewers:
    """`count` websocket viewers of one bin, each noting when every id reached it.
    A viewer the server disconnects for falling behind reconnects at once with
    `?after=` the newest id it has, as the page does, and counts the reconnect."""

    def __init__(self, base_url, bin_id, count):
        self.url = base_url.replace("http://", "ws://") + f"/ws/bins/{bin_id}/"
        self.origin = base_url
        self.count = count
        self.seen = [{} for _ in range(count)]  # request id -> arrival time
        self.received_at = {}  # request id -> server capture time
        self.gaps = [0] * count
        self.reconnects = [0] * count
        self.closing = False

    def connect(self, after=None):
        url = self.url if after is None else f"{self.url}?after={after}"
        return connect(url, origin=self.origin, max_size=None)

    async def __aenter__(self):
        self.sockets = []
        for start in range(0, self.count, 50):
            batch = range(start, min(self.count, start + 50))
            self.sockets += await asyncio.gather(*(self.connect() for _ in batch))
        self.tasks = [asyncio.create_task(self.read(i, ws)) for i, ws in enumerate(self.sockets)]
        return self

    async def __aexit__(self, *exc):
        self.closing = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)

    async def read(self, index, ws):
        seen = self.seen[index]
        while True:
            with contextlib.suppress(ConnectionClosed):
                async for message in ws:
                    now = time.time()
                    event = orjson.loads(message)
                    if event["type"] == "requests.created":
                        for item in event["requests"]:
                            seen.setdefault(item["id"], now)
                            self.received_at.setdefault(item["id"], item["received_at"])
                    elif event["type"] == "gap":
                        self.gaps[index] += 1
            if self.closing:
                return
            self.reconnects[index] += 1
            ws = self.sockets[index] = await self.connect(after=max(seen, default=0))

    async def settle(self, ids, timeout=15):
        """Wait until every viewer has every id in `ids`, or the timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(ids <= seen.keys() for seen in self.seen):
                return
            await asyncio.sleep(0.1)

    def missing(self, ids, refill):
        """Ids a viewer never got. A viewer told of a gap refills from the API,
        as the page does; it then counts as told, not as lost."""
        lost = 0
        for index, seen in enumerate(self.seen):
            got = seen.keys() | (refill if self.gaps[index] else set())
            lost += len(ids - got)
        return lost


async def stored_ids(base_url, bin_id):
    ids, after = set(), 0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        while True:
            page = (
                await client.get(
                    f"/api/bins/{bin_id}/requests", params={"after": after, "limit": 500}
                )
            ).json()["requests"]
            if not page:
                return ids
            ids.update(item["id"] for item in page)
            after = page[-1]["id"]


def new_bin(base_url):
    return httpx.post(f"{base_url}/api/bins", json={"name": "bench"}).json()["id"]


def bin_counts(base_url, bin_id):
    return httpx.get(f"{base_url}/api/bins/{bin_id}").json()


# --- phases ------------------------------------------------------------------


async def loaded(url, seconds, pids):
    """run_wrk, with the CPU time the servers (and their writer processes) took per
    request, and how busy the whole machine was meanwhile."""
    processes = with_writers(pids)
    cpu, (busy, total) = cpu_seconds(processes), machine_jiffies()
    load = await asyncio.to_thread(run_wrk, url, seconds)
    (busy_after, total_after) = machine_jiffies()
    load["cpu_us_per_request"] = round((cpu_seconds(processes) - cpu) / load["requests"] * 1e6)
    load["machine_busy"] = round((busy_after - busy) / (total_after - total), 2)
    return load


async def bare_ceiling(seconds, count=1):
    """loaded() on the bare ASGI app under Daphne (`count` processes, as start()
    runs them): what this machine answers now."""
    bare = start(count, {}, name="bare", app="bench.bare:app")
    try:
        return await loaded(f"{bare[0].base_url}/b/x", seconds, [s.process.pid for s in bare])
    finally:
        stop(bare)


async def saturation(base_url, port, viewers, seconds, pids):
    bin_id = new_bin(base_url)
    async with Viewers(base_url, bin_id, viewers) as watching:
        load = await loaded(f"http://127.0.0.1:{port}/b/{bin_id}/load", seconds, pids)
        ids = await stored_ids(base_url, bin_id)
        await watching.settle(ids)
    # A bin keeps its newest INSPECTOR_MAX_REQUESTS_PER_BIN: the rest was stored and
    # counted in one transaction, then dropped; viewers are checked on what is kept.
    counts = bin_counts(base_url, bin_id)
    delays = [
        arrival - epoch(watching.received_at[i])
        for i, arrival in watching.seen[0].items()
        if i in watching.received_at
    ]
    return {
        "viewers": viewers,
        "rps": round(load["rps"]),
        "latency_p50_ms": round(load["p50_us"] / 1000, 1),
        "latency_p99_ms": round(load["p99_us"] / 1000, 1),
        "cpu_us_per_request": load["cpu_us_per_request"],
        "machine_busy": load["machine_busy"],
        "answered_ok": load["answered_ok"],
        "errors": load["requests"] - load["answered_ok"] + load["connect_errors"],
        "stored": counts["request_count"],
        "dropped": counts["dropped_count"],
        "lost_unstored": max(0, load["answered_ok"] - counts["request_count"]),
        "lost_unpushed": watching.missing(ids, ids),
        "gaps": sum(watching.gaps),
        "reconnects": sum(watching.reconnects),
        "push_p50_ms": ms(percentile(delays, 50)),
        "push_p99_ms": ms(percentile(delays, 99)),
    }


async def steady(base_url, port, viewers, rate, seconds):
    bin_id = new_bin(base_url)
    async with Viewers(base_url, bin_id, viewers) as watching:
        sent = await paced(port, bin_id, rate, seconds)
        await watching.settle(set(sent))
    delays = [seen[i] - t for seen in watching.seen for i, t in sent.items() if i in seen]
    ids = await stored_ids(base_url, bin_id)
    return {
        "viewers": viewers,
        "rate": rate,
        "sent": len(sent),
        "lost_unpushed": watching.missing(set(sent), ids),
        "push_p50_ms": ms(percentile(delays, 50)),
        "push_p99_ms": ms(percentile(delays, 99)),
    }


async def idle_viewers(base_url, pids, count):
    bin_id = new_bin(base_url)
    await asyncio.sleep(1)
    before = sum(memory_kib(pid, "VmRSS") for pid in pids)
    async with Viewers(base_url, bin_id, count):
        await asyncio.sleep(3)
        after = sum(memory_kib(pid, "VmRSS") for pid in pids)
    return {"viewers": count, "kib_per_viewer": round((after - before) / count, 1)}


async def slow_clients(port, pids, count):
    """`count` clients that send the start of a request and nothing more: what each
    costs the server while it holds it, and how soon it is cut off (READ_TIMEOUT)."""
    head = b"POST /b/aaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 9"
    before = sum(memory_kib(pid, "VmRSS") for pid in pids)
    clients = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head)
        clients.append((reader, writer))
    started = time.monotonic()
    await asyncio.sleep(1)
    held = sum(memory_kib(pid, "VmRSS") for pid in pids)
    answers = await asyncio.wait_for(
        asyncio.gather(*(reader.read() for reader, _ in clients)), READ_TIMEOUT + 30
    )
    for _, writer in clients:
        writer.close()
    return {
        "clients": count,
        "kib_per_client": round((held - before) / count, 1),
        "all_cut_after_s": round(time.monotonic() - started, 1),
        "answered_408": sum(answer.startswith(b"HTTP/1.1 408 ") for answer in answers),
    }


# Notes when each list item first appears, in the page's own clock (epoch ms).
ARRIVALS_SCRIPT = """
window.__arrivals = {};
new MutationObserver((mutations) => {
  const now = performance.timeOrigin + performance.now();
  for (const mutation of mutations)
    for (const node of mutation.addedNodes)
      if (node.dataset && node.dataset.id && !(node.dataset.id in window.__arrivals))
        window.__arrivals[node.dataset.id] = now;
}).observe(document, {childList: true, subtree: true});
"""


async def page(base_url, port, stored=1000, rate=100, seconds=5):
    """The inspect page in headless Chromium: how soon a bin of `stored` requests
    is usable, then how soon each of `rate` arrivals a second shows in the list."""
    path = chromium_path()
    if not path:
        return None
    from playwright.async_api import async_playwright

    bin_id = new_bin(base_url)
    connection = await Connection(port).open()
    for n in range(stored):
        await connection.post(f"/b/{bin_id}/old", b'{"n": %d}' % n)
    connection.close()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(**chromium_launch_args(path))
        tab = await browser.new_page()
        await tab.add_init_script(ARRIVALS_SCRIPT)
        await tab.goto(f"{base_url}/bins/{bin_id}/")
        await tab.wait_for_selector("body[data-ws=open]")
        usable = await tab.evaluate(
            "Math.min(...Object.values(window.__arrivals)) - performance.timeOrigin"
        )
        sent = await paced(port, bin_id, rate, seconds)
        await asyncio.sleep(2)
        arrivals = await tab.evaluate("window.__arrivals")
        await browser.close()
    delays = [arrivals[str(i)] / 1000 - t for i, t in sent.items() if str(i) in arrivals]
    return {
        "stored": stored,
        "usable_ms": round(usable),
        "rate": rate,
        "sent": len(sent),
        "shown": len(delays),
        "push_to_screen_p50_ms": ms(percentile(delays, 50)),
        "push_to_screen_p99_ms": ms(percentile(delays, 99)),
    }


async def measure(name, servers, seconds, full):
    base_url, port = servers[0].base_url, servers[0].port
    pids = [server.process.pid for server in servers]
    result = {"name": name, "processes": len(servers)}
    if full:  # first: a server whose heap was grown by big bodies hides the cost
        result["idle"] = await idle_viewers(base_url, pids, 1000)
        result["slow_clients"] = await slow_clients(port, pids, 1000)
    # The ceiling again right before each saturation run, ROUNDS times: this machine's
    # speed drifts by a third within minutes, and the median of several pairs moves
    # far less than one pair does.
    rounds = []
    for _ in range(ROUNDS):
        ceiling = round((await bare_ceiling(seconds))["rps"])
        run = await saturation(base_url, port, 1, seconds, pids)
        rounds.append((run["rps"] / ceiling, ceiling, run))
        progress(f"  {name}: {run['rps']} requests/s with 1 viewer (the ceiling before: {ceiling})")
    rounds.sort(key=lambda item: item[0])
    _, result["ceiling_before"], result["saturation_1"] = rounds[len(rounds) // 2]
    result["ratios"] = [round(ratio, 2) for ratio, _, _ in rounds]
    result["other_rounds"] = [run for _, _, run in rounds if run is not result["saturation_1"]]
    if full:
        result["saturation_100"] = await saturation(base_url, port, 100, seconds, pids)
        result["steady_50"] = await steady(base_url, port, 1, 50, 5)
        result["steady_200"] = await steady(base_url, port, 1, 200, 5)
        result["steady_200_100"] = await steady(base_url, port, 100, 200, 5)
        result["page"] = await page(base_url, port)
    else:
        result["steady_200"] = await steady(base_url, port, 1, 200, 5)
    peak = sum(memory_kib(pid, "VmHWM") for pid in with_writers(pids))
    result["peak_memory_mib"] = round(peak / 1024, 1)
    return result


# --- configurations ----------------------------------------------------------


def embedded(data_dir):
    """The environment of an embedded server on a fresh, migrated SQLite database."""
    env = {
        "DATA_DIR": data_dir,
        "DATABASE_URL": f"sqlite:///{data_dir}/inspector.sqlite3",
        **SERVER_ENV,
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"],
        cwd=BASE_DIR,
        env={**os.environ, **env},
        check=True,
    )
    return env


def scaled(database, data_dir=None):
    """The environment of a server on `database` (a fresh PostgresDatabase) and Redis,
    under a Redis prefix of its own."""
    return {
        "DATA_DIR": data_dir or tempfile.mkdtemp(prefix="inspector-bench-"),
        "DATABASE_URL": database.url,
        "REDIS_URL": REDIS_URL,
        "INSPECTOR_REDIS_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        **SERVER_ENV,
    }


def start(count, env, name="bench", app=None):
    """`count` processes, each on its own SO_REUSEPORT socket of one port."""
    first = ServerProcess(env, name=name, app=app).start()
    others = [
        ServerProcess(env, name=name, app=app, port=first.port).start() for _ in range(count - 1)
    ]
    return [first, *others]


def stop(servers):
    for server in servers:
        server.close()


async def bench(seconds):
    data_dir = tempfile.mkdtemp(prefix="inspector-bench-")
    results = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    configs = results["configs"] = []

    progress("ceiling: bare ASGI app under Daphne")
    load = await bare_ceiling(seconds)
    ceiling = load["rps"]
    configs.append(bare_row("bare Daphne (ceiling)", 1, load))
    progress(f"  ceiling: {round(ceiling)} requests/s")

    progress("embedded: SQLite + in-memory layer, 1 process")
    embedded_env = embedded(data_dir)
    servers = [ServerProcess(embedded_env, name="embedded").start()]
    configs.append(await measure("embedded, 1 process", servers, seconds, full=True))
    stop(servers)

    if postgres_available() and redis_available():
        database = PostgresDatabase()
        scaled_env = scaled(database, data_dir)
        progress("scaled: PostgreSQL + Redis, 1 process")
        servers = start(1, scaled_env)
        one = await measure("PostgreSQL + Redis, 1 process", servers, seconds, full=True)
        stop(servers)
        # What two processes can add on this machine at all, whatever runs in them.
        bare_two = await bare_scaling(2, seconds)
        progress("scaled: PostgreSQL + Redis, 2 processes")
        servers = start(2, scaled_env)
        two = await measure("PostgreSQL + Redis, 2 processes", servers, seconds, full=False)
        stop(servers)
        two["times_one_process"] = round(two["saturation_1"]["rps"] / one["saturation_1"]["rps"], 2)
        configs += [one, bare_two, two]
        database.close()
    else:
        progress("scaled: skipped, PostgreSQL or Redis does not answer on 127.0.0.1")

    for config in configs:
        config.setdefault("ceiling_before", round(ceiling))
        config["ratio"] = round(config["saturation_1"]["rps"] / config["ceiling_before"], 2)
    return results


async def bare_scaling(count, seconds):
    """The ceiling of `count` processes, each on its own SO_REUSEPORT socket, with
    one process's measured right before it (`ceiling_before`)."""
    progress(f"ceiling: bare ASGI app under Daphne, {count} processes")
    one = round((await bare_ceiling(seconds))["rps"])
    load = await bare_ceiling(seconds, count)
    progress(f"  {count} processes: {round(load['rps'])} requests/s (1 process: {one})")
    row = bare_row(f"bare Daphne, {count} processes", count, load)
    return row | {"ceiling_before": one, "times_one_process": round(load["rps"] / one, 2)}


def bare_row(name, count, load):
    return {
        "name": name,
        "processes": count,
        "saturation_1": {
            "rps": round(load["rps"]),
            "latency_p50_ms": round(load["p50_us"] / 1000, 1),
            "latency_p99_ms": round(load["p99_us"] / 1000, 1),
            "cpu_us_per_request": load["cpu_us_per_request"],
            "machine_busy": load["machine_busy"],
        },
    }


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": memory,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


# --- report ------------------------------------------------------------------


def cell(value, suffix=""):
    return "–" if value is None else f"{value}{suffix}"


def push(config, key):
    return cell(config.get(key, {}).get("push_p99_ms"), " ms")


def times_one(config):
    if "times_one_process" not in config:
        return ""
    return f" ({config['times_one_process']}× 1 process)"


def spread(config):
    if len(config.get("ratios", ())) < 2:
        return ""
    return f" ({config['ratios'][0]}-{config['ratios'][-1]})"


def table(results):
    head = (
        "| configuration | requests/s | ceiling just before | × ceiling (median, range) | "
        "answer p50 / p99 | "
        "CPU per request (machine busy) | push p99 at 50/s | push p99 at 200/s | push p99 at "
        "200/s, 100 viewers | push p50 / p99 at saturation | lost | peak memory | idle viewer "
        "|\n|" + " --- |" * 13
    )
    rows = [head]
    for c in results["configs"]:
        sat = c["saturation_1"]
        phases = [value for value in c.values() if isinstance(value, dict) and "viewers" in value]
        phases += c.get("other_rounds", [])
        lost = (
            sum(p.get("lost_unstored", 0) + p.get("lost_unpushed", 0) for p in phases)
            if phases
            else None
        )

        saturation_push = (
            f"{sat['push_p50_ms']} / {sat['push_p99_ms']} ms" if sat.get("push_p99_ms") else "–"
        )
        rows.append(
            f"| {c['name']} | {sat['rps']}{times_one(c)} | {c['ceiling_before']} | "
            f"{c['ratio']}{spread(c)} | "
            f"{sat['latency_p50_ms']} / {sat['latency_p99_ms']} ms | "
            f"{sat['cpu_us_per_request']} µs ({round(sat['machine_busy'] * 100)}%) | "
            f"{push(c, 'steady_50')} | "
            f"{push(c, 'steady_200')} | {push(c, 'steady_200_100')} | {saturation_push} | "
            f"{cell(lost)} | {cell(c.get('peak_memory_mib'), ' MiB')} | "
            f"{cell(c.get('idle', {}).get('kib_per_viewer'), ' KiB')} |"
        )
    for c in results["configs"]:
        if c.get("slow_clients"):
            s = c["slow_clients"]
            rows.append(
                f"\nSlow clients ({c['name']}): {s['clients']} clients that sent part of a request "
                f"and then nothing cost {s['kib_per_client']} KiB each while held; "
                f"{s['answered_408']} were answered 408 and all were cut off after "
                f"{s['all_cut_after_s']} s (INSPECTOR_READ_TIMEOUT={READ_TIMEOUT})."
            )
    for c in results["configs"]:
        if c.get("page"):
            p = c["page"]
            rows.append(
                f"\nInspect page ({c['name']}, headless Chromium): a bin of {p['stored']} requests "
                f"usable after {p['usable_ms']} ms; of {p['sent']} requests sent at "
                f"{p['rate']}/s, {p['shown']} shown, push to screen p50 / p99 "
                f"{p['push_to_screen_p50_ms']} / {p['push_to_screen_p99_ms']} ms."
            )
    m = results["machine"]
    rows.append(
        f"\n{results['date']}, {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, "
        f"Python {m['python']}, Linux {m['kernel']}. {CONNECTIONS} keep-alive connections from "
        "wrk; bodies 1 KiB JSON with 2% of 64 KiB and 0.2% of 1 MiB."
    )
    return "\n".join(rows) + "\n"


def targets(configs):
    """The issue's throughput targets, in × the ceiling each configuration was measured against."""
    by_name = {c["name"]: c for c in configs}
    found = {"embedded, 1 process": 0.8, "PostgreSQL + Redis, 1 process": 0.75}
    one, two = (
        by_name.get("PostgreSQL + Redis, 1 process"),
        by_name.get("PostgreSQL + Redis, 2 processes"),
    )
    if one and two:  # 1.7x one process's requests/s
        found[two["name"]] = 1.7 * one["saturation_1"]["rps"] / two["ceiling_before"]
    return found


def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    configs = results["configs"]

    def label(name):
        return name.replace(" (", "\n(").replace(", ", "\n")

    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5))
    left.bar(range(len(configs)), [c["ratio"] for c in configs], color="#4f46e5")
    wanted = targets(configs)
    for i, c in enumerate(configs):
        if c["name"] in wanted:
            left.hlines(wanted[c["name"]], i - 0.4, i + 0.4, color="#b91c1c", linestyle="--")
    left.plot([], [], color="#b91c1c", linestyle="--", label="target")
    left.set_xticks(range(len(configs)))
    left.set_xticklabels([label(c["name"]) for c in configs], fontsize=8)
    left.set_title("Captured requests/s, × bare Daphne (1 process)")
    left.legend()
    scenarios = [
        ("steady_50", "50/s"),
        ("steady_200", "200/s"),
        ("steady_200_100", "200/s, 100 viewers"),
        ("saturation_1", "saturation"),
    ]
    apps = [c for c in configs if "steady_200" in c]
    width = 0.8 / len(scenarios)
    for n, (key, name) in enumerate(scenarios):
        values = [c.get(key, {}).get("push_p99_ms") or 0 for c in apps]
        positions = [i + n * width for i in range(len(apps))]
        right.bar(positions, values, width, label=name)
    right.set_yscale("log")
    right.set_xticks([i + 0.4 - width / 2 for i in range(len(apps))])
    right.set_xticklabels([label(c["name"]) for c in apps], fontsize=8)
    right.set_title("Push delay p99 (ms, log scale)")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write(results):
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    markdown = table(results)
    (RESULTS / "latest.md").write_text(markdown)
    chart(results, CHART)
    text = DOC.read_text()
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        DOC.write_text(before + start + "\n" + markdown + rest[rest.index(end) :])
    print(markdown)


async def soak(seconds, rate=200):
    """Embedded, `rate` requests a second with 1 viewer for `seconds`: server memory
    sampled every 10 s, to see that it stays flat."""
    env = embedded(tempfile.mkdtemp(prefix="inspector-soak-"))
    server = ServerProcess(env, name="soak").start()
    pid, samples, lost = server.process.pid, [], 0
    bin_id = new_bin(server.base_url)
    async with Viewers(server.base_url, bin_id, 1) as watching:
        for step in range(0, seconds, 10):
            sent = await paced(server.port, bin_id, rate, 10)
            await watching.settle(set(sent), timeout=5)
            lost += watching.missing(set(sent), set())
            resident = sum(memory_kib(p, "VmRSS") for p in with_writers([pid]))
            samples.append(round(resident / 1024, 1))
            progress(f"  soak {step + 10} s: {samples[-1]} MiB resident")
    server.close()
    result = {"seconds": seconds, "rate": rate, "rss_mib": samples, "lost_unpushed": lost}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each saturation run")
    parser.add_argument(
        "--soak", type=int, metavar="SECONDS", help="instead: a memory soak of that length"
    )
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    if args.soak:
        asyncio.run(soak(args.soak))
    else:
        write(asyncio.run(bench(args.seconds)))


if __name__ == "__main__":
    main()
