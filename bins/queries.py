"""Reads shared by the API, the pages, the websocket consumer and the long poll."""

import functools

from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction
from django.db.models import F

from . import search
from .models import Bin, CapturedRequest

MAX_PAGE = 500


def off_loop(fn):
    """Run a sync query in the thread pool, not on Django's single thread for sync
    code: a slow backlog for one viewer must not hold up every other (PITFALLS.md)."""

    def run_and_release(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    @functools.wraps(fn)
    async def wrapper(*args, **kwargs):
        return await sync_to_async(run_and_release, thread_sensitive=False)(*args, **kwargs)

    return wrapper


def get_bin(bin_id):
    return Bin.objects.filter(pk=bin_id).first()


def requests_after(bin_id, after, limit, terms=()):
    """Requests newer than `after`, oldest first; only those matching `terms`
    (bins.search) when given."""
    rows = CapturedRequest.objects.filter(bin_id=bin_id, id__gt=after).order_by("id")
    return list(search.apply(rows, terms)[:limit])


def requests_before(bin_id, before, limit, terms=()):
    """The newest requests (older than `before` when given), newest first."""
    rows = CapturedRequest.objects.filter(bin_id=bin_id).order_by("-id")
    if before is not None:
        rows = rows.filter(id__lt=before)
    return list(search.apply(rows, terms)[:limit])


def export_chunk(bin_id, after, limit, request_id=None):
    """Up to `limit` requests of a bin newer than `after`, oldest first (one when
    `request_id` is given)."""
    rows = CapturedRequest.objects.filter(bin_id=bin_id, id__gt=after).order_by("id")
    if request_id is not None:
        rows = rows.filter(pk=request_id)
    return list(rows[:limit])


def delete_requests(bin_id, request_id=None):
    """Delete one request of a bin, or all of them; returns how many went. The bin
    row is locked first, as the writer locks it, so that its kept_count stays exact
    and the two cannot deadlock over each other's rows."""
    with transaction.atomic():
        list(Bin.objects.select_for_update().filter(pk=bin_id).values_list("pk"))
        rows = CapturedRequest.objects.filter(bin_id=bin_id)
        if request_id is not None:
            rows = rows.filter(pk=request_id)
        _, per_model = rows.delete()
        deleted = per_model.get(CapturedRequest._meta.label, 0)
        if deleted:
            Bin.objects.filter(pk=bin_id).update(kept_count=F("kept_count") - deleted)
    return deleted


def latest_request_id(bin_id):
    row = CapturedRequest.objects.filter(bin_id=bin_id).order_by("-id").values("id").first()
    return row["id"] if row else 0


get_bin_async = off_loop(get_bin)
requests_after_async = off_loop(requests_after)
delete_requests_async = off_loop(delete_requests)
