"""For load balancers, orchestrators and Prometheus: /healthz, /readyz, /metrics."""

import asyncio
import ipaddress
import secrets

import redis.asyncio as redis
from django.conf import settings
from django.db import connection
from django.http import HttpResponse, JsonResponse

from . import metrics
from .access import bearer_token
from .capture import client_address
from .queries import off_loop

CHECK_TIMEOUT = 3  # seconds each dependency may take to answer /readyz


async def healthz(request):
    """The process is up and its event loop answers."""
    return JsonResponse({"status": "ok"})


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


async def check_channel_layer():
    if not settings.REDIS_URL:
        return  # the in-memory layer is this process itself
    client = redis.from_url(settings.REDIS_URL, socket_connect_timeout=CHECK_TIMEOUT)
    try:
        await client.ping()
    finally:
        await client.aclose()


async def readyz(request):
    """The database and the channel layer answer: 200, else 503 saying which not."""
    checks = {"database": off_loop(check_database)(), "channel_layer": check_channel_layer()}
    results = {}
    for name, check in checks.items():
        try:
            await asyncio.wait_for(check, CHECK_TIMEOUT)
            results[name] = "ok"
        except Exception as problem:  # any failure is "not ready", with why
            results[name] = f"failing: {type(problem).__name__}: {problem}"[:300]
    ready = all(value == "ok" for value in results.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", **results}, status=200 if ready else 503
    )


def may_read_metrics(request):
    """With INSPECTOR_METRICS_TOKEN, whoever sends it; without, loopback clients only.
    The client is the one a trusted proxy names: behind nginx on the same machine every
    request comes from 127.0.0.1, and the internet must not be taken for loopback."""
    token = settings.INSPECTOR_METRICS_TOKEN
    if token:
        sent = bearer_token(request.headers.get("Authorization")) or ""
        return secrets.compare_digest(sent.encode(), token.encode())
    peer = (request.META.get("REMOTE_ADDR", ""), 0)
    client = client_address(peer, list(request.headers.items()), settings.INSPECTOR_TRUSTED_PROXIES)
    try:
        return ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


async def metrics_view(request):
    if not may_read_metrics(request):
        return HttpResponse(
            "Metrics need INSPECTOR_METRICS_TOKEN (Authorization: Bearer), or a loopback client.\n",
            status=403,
            content_type="text/plain",
        )
    body = metrics.render()
    return HttpResponse(body, content_type="text/plain; version=0.0.4; charset=utf-8")
