"""Arrivals over time, for the page's timeline: counts per method in buckets of a
second, a minute, an hour or a day, whichever keeps the bars few enough to read."""

from django.db.models import Count, Max, Min
from django.db.models.functions import TruncDay, TruncHour, TruncMinute, TruncSecond

from . import search
from .models import CapturedRequest
from .serializers import iso

STEPS = (
    (1, "second", TruncSecond),
    (60, "minute", TruncMinute),
    (3600, "hour", TruncHour),
    (86400, "day", TruncDay),
)
MAX_BARS = 120


def step_for(span_seconds):
    """The smallest step that shows `span_seconds` in at most MAX_BARS bars."""
    for step in STEPS:
        if span_seconds / step[0] < MAX_BARS:
            return step
    return STEPS[-1]


def timeline(bin_id, terms=()):
    rows = search.apply(CapturedRequest.objects.filter(bin_id=bin_id), terms)
    bounds = rows.aggregate(first=Min("received_at"), last=Max("received_at"))
    if bounds["first"] is None:
        return {"unit": "second", "step": 1, "buckets": []}
    seconds, unit, trunc = step_for((bounds["last"] - bounds["first"]).total_seconds())
    counts = (
        rows.annotate(at=trunc("received_at"))
        .values("at", "method")
        .annotate(n=Count("id"))
        .order_by("at", "method")
    )
    buckets = {}
    for row in counts:
        buckets.setdefault(row["at"], {})[row["method"]] = row["n"]
    return {
        "unit": unit,
        "step": seconds,
        "buckets": [{"start": iso(at), "counts": methods} for at, methods in buckets.items()],
    }
