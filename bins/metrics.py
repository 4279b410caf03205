"""Prometheus metrics of this process (each server process answers for itself, so
scrape every one): captures and refusals, bytes, viewers, events, push delay, purges,
forward attempts and replays."""

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

registry = CollectorRegistry(auto_describe=True)

captured = Counter("inspector_requests_captured", "Requests stored whole.", registry=registry)
refused = Counter(
    "inspector_requests_refused",
    "Requests refused, by reason (a body over the limit is stored cut, and counted here).",
    ["reason"],
    registry=registry,
)
bytes_received = Counter(
    "inspector_bytes_received", "Body bytes senders sent to capture URLs.", registry=registry
)
viewers = Gauge(
    "inspector_websocket_viewers", "Websocket viewers connected to this process.", registry=registry
)
events_published = Counter(
    "inspector_events_published", "Live events sent to the channel layer.", registry=registry
)
events_failed = Counter(
    "inspector_events_failed", "Live events the channel layer refused.", registry=registry
)
push_delay = Histogram(
    "inspector_push_delay_seconds",
    "From a request's capture to its event being sent to this process's viewers.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=registry,
)
purge_runs = Counter("inspector_purge_runs", "Purges of expired bins run.", registry=registry)
bins_purged = Counter("inspector_bins_purged", "Expired bins purged.", registry=registry)
forward_attempts = Counter(
    "inspector_forward_attempts",
    "Attempts to deliver captured requests to forward targets (the proxy's included), by "
    "outcome: delivered (2xx), rejected (another status), refused (the SSRF guard), error.",
    ["outcome"],
    registry=registry,
)
for _outcome in ("delivered", "rejected", "refused", "error"):
    forward_attempts.labels(_outcome)  # shown from the start, at 0
replays = Counter("inspector_replays", "Requests replayed to a target.", registry=registry)


def render():
    return generate_latest(registry)
