"""Expired bins: purged by the server itself on a timer, and by `manage.py purge`
for cron. A bin expires INSPECTOR_BIN_TTL after its last capture (the writer moves
`expires_at` forward); until the purge, an expired bin answers 410."""

import asyncio
import logging

import redis.asyncio as redis
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import close_old_connections
from django.utils import timezone

from . import metrics
from .models import Bin

logger = logging.getLogger(__name__)
PURGE_CHUNK = 100  # bins deleted per statement, each with all its requests


def purge_expired(now=None):
    """Delete every bin that expired by `now`, with all it holds, and the expired
    browser sessions; returns how many bins went."""
    now = now or timezone.now()
    purged = 0
    while True:
        ids = list(
            Bin.objects.filter(expires_at__lte=now).values_list("id", flat=True)[:PURGE_CHUNK]
        )
        if not ids:
            SessionStore.clear_expired()
            return purged
        # Bins that a capture revived meanwhile stay: the filter is checked again.
        Bin.objects.filter(id__in=ids, expires_at__lte=now).delete()
        purged += len(ids)


def purge_and_release():
    try:
        return purge_expired()
    finally:
        close_old_connections()


async def claim_tick(interval):
    """Whether this process runs this interval's purge: with Redis, the first process
    to take the interval's key does, so that N processes purge once, not N times;
    without Redis there is one process. If Redis fails, purge anyway: it is idempotent."""
    if not settings.REDIS_URL:
        return True
    client = redis.from_url(settings.REDIS_URL, socket_connect_timeout=3)
    try:
        key = f"{settings.INSPECTOR_REDIS_PREFIX}:purge"
        return bool(await client.set(key, "1", nx=True, ex=max(1, interval - 1)))
    except Exception:
        logger.warning("could not ask Redis whose turn it is to purge; purging")
        return True
    finally:
        await client.aclose()


async def purge_periodically(interval):
    """Purge now and then every `interval` seconds, for as long as the server runs.
    Every process keeps the timer; one of them purges each time (claim_tick)."""
    while True:
        if await claim_tick(interval):
            try:
                purged = await asyncio.to_thread(purge_and_release)
            except Exception:
                logger.exception("could not purge expired bins")
            else:
                metrics.purge_runs.inc()
                metrics.bins_purged.inc(purged)
                if purged:
                    logger.info("purged %d expired bins", purged)
        await asyncio.sleep(interval)
