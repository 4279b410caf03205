"""bins.limits: token buckets per bin and per client, in memory and in Redis."""

import uuid

import pytest

from bins.capture import Capture
from bins.limits import MemoryLimiter, Rate, RedisLimiter, client_key, retry_after
from bins.models import Bin
from bins.storage import store_batch
from tests.servers import REDIS_URL, redis_available, require
from tests.unit.test_ingest import record_for

OFF = Rate(0, 1)


def request(bin_id="a" * 16, address="203.0.113.9"):
    """Just what the limits read of a captured request."""
    return Capture(
        bin_id=bin_id,
        method="POST",
        scheme="http",
        host="",
        path="",
        query_string="",
        headers=[],
        body=b"",
        body_size=0,
        body_truncated=False,
        content_type="",
        remote_addr=address,
        received_at=None,
    )


# Client keys


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_a_client_is_its_address_and_an_ipv6_client_its_64(address, key):
    assert client_key(address) == key


def test_retry_after_is_whole_seconds_and_at_least_one():
    assert [retry_after(w) for w in (0.01, 0.999, 1.0, 1.2, 59.5)] == [1, 1, 1, 2, 60]


# In memory


def test_a_bin_takes_its_burst_then_is_refused_with_the_time_to_wait():
    limiter = MemoryLimiter(Rate(2, 3), OFF)
    waits = limiter.take([limiter.keys(request())] * 5, now=100.0)
    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(0.5) and waits[4] == pytest.approx(0.5)


def test_a_bucket_refills_at_its_rate():
    limiter = MemoryLimiter(Rate(2, 3), OFF)
    keys = [limiter.keys(request())]
    for _ in range(3):
        limiter.take(keys, now=100.0)
    assert limiter.take(keys, now=100.25)[0] == pytest.approx(0.25)
    assert limiter.take(keys, now=100.5) == [0]
    assert limiter.take(keys, now=100.5)[0] > 0


def test_a_refused_request_takes_no_token_from_its_other_bucket():
    limiter = MemoryLimiter(Rate(1, 1), Rate(1, 2))
    first, second = request(bin_id="a" * 16), request(bin_id="b" * 16)
    assert limiter.take([limiter.keys(first)], now=0.0) == [0]
    assert limiter.take([limiter.keys(first)], now=0.0)[0] > 0  # bin a is empty
    # The client's second token is still there for another bin.
    assert limiter.take([limiter.keys(second)], now=0.0) == [0]


def test_bins_and_clients_have_buckets_of_their_own():
    limiter = MemoryLimiter(Rate(1, 1), Rate(1, 1))
    requests = [request("a" * 16, "10.0.0.1"), request("b" * 16, "10.0.0.2")]
    assert limiter.waits(requests) == [0, 0]


def test_limits_that_are_off_let_everything_through():
    limiter = MemoryLimiter(OFF, OFF)
    assert limiter.waits([request()] * 10_000) == [0] * 10_000


def test_full_buckets_are_forgotten_when_there_are_many(monkeypatch):
    monkeypatch.setattr("bins.limits.MAX_MEMORY_BUCKETS", 100)
    limiter = MemoryLimiter(OFF, Rate(10, 5))
    addresses = [f"10.0.{n // 256}.{n % 256}" for n in range(150)]
    limiter.take([limiter.keys(request(address=address)) for address in addresses], now=0.0)
    assert len(limiter.buckets) <= 150
    limiter.take([limiter.keys(request(address="10.9.9.9"))], now=10.0)  # all refilled by now
    assert list(limiter.buckets) == [("client", "10.9.9.9")]


# In Redis, shared


@pytest.fixture
def redis_limiters():
    """Two limiters on one Redis, as two server processes have, on a fresh prefix."""
    require(redis_available(), f"Redis does not answer at {REDIS_URL}")
    prefix = f"inspector-test-{uuid.uuid4().hex[:8]}"
    return [RedisLimiter(Rate(1, 3), Rate(0, 1), REDIS_URL, prefix) for _ in range(2)]


def test_processes_share_a_bin_bucket_in_redis(redis_limiters):
    one, two = redis_limiters
    waits = one.waits([request()] * 2) + two.waits([request()] * 2)
    assert waits[:3] == [0, 0, 0]
    assert 0 < waits[3] <= 1


def test_redis_buckets_expire_once_full_again(redis_limiters):
    limiter = redis_limiters[0]
    limiter.waits([request()])
    key = f"{limiter.prefix}:limit:bin:{'a' * 16}"
    assert 0 < limiter.client.pttl(key) <= 2000  # a token back in 1 s, then a second of grace


def test_without_redis_everything_passes_and_capture_goes_on():
    limiter = RedisLimiter(Rate(1, 1), Rate(1, 1), "redis://127.0.0.1:1/0", "inspector-test")
    assert limiter.waits([request()] * 5) == [0] * 5
    assert limiter.failing_until is not None  # the next batches do not wait for it


def test_the_limits_come_back_with_redis(redis_limiters):
    limiter = redis_limiters[0]
    limiter.failing_until = 0.0  # it failed before, long enough ago
    assert limiter.waits([request()] * 4)[3] > 0
    assert limiter.failing_until is None


# Counted on the bin


@pytest.mark.django_db
def test_refused_requests_are_counted_on_their_bin_and_not_stored():
    bin = Bin.objects.create()
    kept, refused = record_for(bin.id, "/kept"), record_for(bin.id, "/refused")
    refused.refused_for = 0.5
    assert store_batch([kept, refused]) == [kept, refused]
    assert kept.pk is not None and refused.pk is None
    bin.refresh_from_db()
    assert (bin.request_count, bin.kept_count, bin.refused_count) == (2, 1, 1)


@pytest.mark.django_db
def test_a_batch_of_refused_requests_only_is_counted():
    bin = Bin.objects.create()
    refused = [record_for(bin.id) for _ in range(3)]
    unknown = record_for("z" * 16)
    for record in [*refused, unknown]:
        record.refused_for = 1.0
    assert store_batch([*refused, unknown]) == refused
    bin.refresh_from_db()
    assert (bin.request_count, bin.kept_count, bin.refused_count) == (3, 0, 3)
