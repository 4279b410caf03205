"""Retention (the newest INSPECTOR_MAX_REQUESTS_PER_BIN kept), expiry and the purge."""

import uuid
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from bins.lifecycle import claim_tick, purge_expired
from bins.models import Bin, CapturedRequest
from bins.queries import delete_requests
from bins.storage import store_batch
from tests.servers import REDIS_URL
from tests.unit.test_ingest import record_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def keep_three(settings):
    """Bins keep their newest 3 requests."""
    settings.INSPECTOR_MAX_REQUESTS_PER_BIN = 3


def paths(bin):
    return list(
        CapturedRequest.objects.filter(bin=bin).order_by("id").values_list("path", flat=True)
    )


def expired_bin(**fields):
    return Bin.objects.create(expires_at=timezone.now() - timedelta(seconds=1), **fields)


# Retention


def test_a_bin_keeps_its_newest_requests_and_counts_what_it_dropped(keep_three):
    bin = Bin.objects.create()
    for n in range(5):
        store_batch([record_for(bin.id, f"/{n}")])
    assert paths(bin) == ["/2", "/3", "/4"]
    bin.refresh_from_db()
    assert (bin.request_count, bin.kept_count, bin.dropped_count) == (5, 3, 2)


def test_a_batch_bigger_than_the_cap_keeps_its_newest(keep_three):
    bin = Bin.objects.create()
    stored = store_batch([record_for(bin.id, f"/{n}") for n in range(7)])
    assert len(stored) == 7  # every sender was answered: each request was received
    assert paths(bin) == ["/4", "/5", "/6"]
    bin.refresh_from_db()
    assert (bin.request_count, bin.dropped_count) == (7, 4)


def test_a_bin_exactly_at_the_cap_drops_nothing(keep_three):
    bin = Bin.objects.create()
    store_batch([record_for(bin.id, f"/{n}") for n in range(3)])
    assert paths(bin) == ["/0", "/1", "/2"]
    bin.refresh_from_db()
    assert bin.dropped_count == 0


def test_retention_counts_each_bin_on_its_own(keep_three):
    full, quiet = Bin.objects.create(), Bin.objects.create()
    store_batch([record_for(full.id, f"/{n}") for n in range(5)] + [record_for(quiet.id, "/q")])
    assert paths(full) == ["/2", "/3", "/4"]
    assert paths(quiet) == ["/q"]
    quiet.refresh_from_db()
    assert quiet.dropped_count == 0


def test_deleted_requests_make_room_without_counting_as_dropped(keep_three):
    bin = Bin.objects.create()
    first, *_ = store_batch([record_for(bin.id, f"/{n}") for n in range(3)])
    assert delete_requests(bin.id, first.pk) == 1
    store_batch([record_for(bin.id, "/3")])
    assert paths(bin) == ["/1", "/2", "/3"]
    bin.refresh_from_db()
    assert (bin.kept_count, bin.dropped_count) == (3, 0)


def test_the_bin_counts_exactly_what_it_keeps(keep_three):
    bin = Bin.objects.create()
    stored = store_batch([record_for(bin.id, f"/{n}") for n in range(2)])
    bin.refresh_from_db()
    assert bin.kept_count == 2
    store_batch([record_for(bin.id, f"/{n}") for n in range(2, 6)])
    bin.refresh_from_db()
    assert bin.kept_count == 3
    assert delete_requests(bin.id, stored[0].pk) == 0  # dropped already
    assert delete_requests(bin.id, CapturedRequest.objects.filter(bin=bin).first().pk) == 1
    bin.refresh_from_db()
    assert bin.kept_count == 2
    assert delete_requests(bin.id) == 2  # the whole bin
    bin.refresh_from_db()
    assert bin.kept_count == 0 == CapturedRequest.objects.filter(bin=bin).count()


def test_retention_after_a_clear_starts_from_the_new_requests(keep_three):
    bin = Bin.objects.create()
    store_batch([record_for(bin.id, f"/{n}") for n in range(5)])
    delete_requests(bin.id)
    store_batch([record_for(bin.id, f"/new{n}") for n in range(4)])
    assert paths(bin) == ["/new1", "/new2", "/new3"]
    bin.refresh_from_db()
    assert (bin.kept_count, bin.dropped_count) == (3, 3)


# Expiry


def test_an_expired_bin_stores_nothing_and_counts_nothing():
    bin = expired_bin()
    record = record_for(bin.id)
    assert store_batch([record]) == []
    assert record.pk is None
    bin.refresh_from_db()
    assert bin.request_count == 0


def test_each_capture_moves_the_expiry_forward(settings):
    settings.INSPECTOR_BIN_TTL = 3600
    bin = Bin.objects.create(expires_at=timezone.now() + timedelta(seconds=5))
    store_batch([record_for(bin.id)])
    bin.refresh_from_db()
    assert bin.expires_at > timezone.now() + timedelta(seconds=3590)


def test_a_bin_expires_at_its_expiry_not_before():
    now = timezone.now()
    bin = Bin(expires_at=now)
    assert bin.has_expired(now)
    assert not bin.has_expired(now - timedelta(microseconds=1))


# The purge


def test_the_purge_deletes_expired_bins_with_all_they_hold():
    gone = expired_bin(name="old")
    CapturedRequest.objects.create(bin=gone, method="POST")
    alive = Bin.objects.create(name="alive")
    CapturedRequest.objects.create(bin=alive, method="POST")
    assert purge_expired() == 1
    assert list(Bin.objects.values_list("name", flat=True)) == ["alive"]
    assert CapturedRequest.objects.filter(bin_id=gone.id).count() == 0
    assert CapturedRequest.objects.filter(bin=alive).count() == 1


def test_the_purge_goes_through_many_bins_in_chunks():
    Bin.objects.bulk_create(
        [Bin(expires_at=timezone.now() - timedelta(seconds=1)) for _ in range(250)]
    )
    assert purge_expired() == 250
    assert Bin.objects.count() == 0


def test_the_purge_of_nothing_expired_deletes_nothing():
    Bin.objects.create()
    assert purge_expired() == 0
    assert Bin.objects.count() == 1


def test_the_purge_command_says_what_it_did(capsys):
    expired_bin()
    expired_bin()
    call_command("purge")
    assert "Purged 2 expired bins." in capsys.readouterr().out


def test_the_purge_also_deletes_expired_sessions():
    from django.contrib.sessions.models import Session

    Session.objects.create(
        session_key="old", session_data="", expire_date=timezone.now() - timedelta(seconds=1)
    )
    Session.objects.create(
        session_key="current", session_data="", expire_date=timezone.now() + timedelta(days=1)
    )
    call_command("purge")
    assert list(Session.objects.values_list("session_key", flat=True)) == ["current"]


# claim_tick: one purge per interval across processes


async def test_without_redis_the_one_process_always_purges(settings):
    settings.REDIS_URL = ""
    assert await claim_tick(60) and await claim_tick(60)


@pytest.mark.services
async def test_with_redis_one_process_purges_each_interval(settings, services):
    settings.REDIS_URL = REDIS_URL
    settings.INSPECTOR_REDIS_PREFIX = f"test-purge-{uuid.uuid4().hex[:8]}"
    claims = [await claim_tick(60) for _ in range(3)]  # three processes, one tick
    assert claims == [True, False, False]


async def test_when_redis_cannot_say_it_purges_anyway(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert await claim_tick(60)
