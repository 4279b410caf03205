"""bins.timeline: arrivals per method in buckets sized to the bin's age."""

from datetime import UTC, datetime, timedelta

import pytest

from bins.models import Bin, CapturedRequest
from bins.search import parse
from bins.timeline import MAX_BARS, step_for, timeline

pytestmark = pytest.mark.django_db
START = datetime(2026, 11, 29, 14, 0, 0, tzinfo=UTC)


def arrive(bin, seconds, method="POST"):
    CapturedRequest.objects.create(
        bin=bin, method=method, scheme="http", received_at=START + timedelta(seconds=seconds)
    )


@pytest.mark.parametrize(
    "span, unit",
    [
        (0, "second"),
        (MAX_BARS - 1, "second"),
        (MAX_BARS, "minute"),
        (3 * 3600, "hour"),
        (30 * 86400, "day"),
        (10_000 * 86400, "day"),
    ],
)
def test_the_step_keeps_the_bars_few(span, unit):
    assert step_for(span)[1] == unit


def test_an_empty_bin_has_no_buckets(db):
    assert timeline(Bin.objects.create().id)["buckets"] == []


def test_arrivals_are_counted_per_bucket_and_method():
    bin = Bin.objects.create()
    for seconds, method in [(0, "POST"), (20, "POST"), (30, "GET"), (61, "POST"), (600, "PUT")]:
        arrive(bin, seconds, method)
    result = timeline(bin.id)
    assert (result["unit"], result["step"]) == ("minute", 60)
    assert result["buckets"] == [
        {"start": "2026-11-29T14:00:00.000000Z", "counts": {"GET": 1, "POST": 2}},
        {"start": "2026-11-29T14:01:00.000000Z", "counts": {"POST": 1}},
        {"start": "2026-11-29T14:10:00.000000Z", "counts": {"PUT": 1}},
    ]


def test_the_timeline_follows_the_search():
    bin = Bin.objects.create()
    for seconds, method in [(0, "POST"), (1, "GET"), (2, "POST")]:
        arrive(bin, seconds, method)
    buckets = timeline(bin.id, parse("method:GET"))["buckets"]
    assert [b["counts"] for b in buckets] == [{"GET": 1}]
