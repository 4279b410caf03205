"""The HTML pages; the data on them comes from the JSON API and the websocket."""

from datetime import timedelta

from django.conf import settings
from django.shortcuts import render
from django.utils import timezone

from .api import base_url
from .queries import get_bin_async
from .serializers import bin_json


async def home(request):
    return render(request, "home.html")


async def inspect(request, bin_id):
    bin = await get_bin_async(bin_id)
    if bin is None or bin.has_expired():
        expired = bin is not None
        now = timezone.now()
        ttl_end = now + timedelta(seconds=settings.INSPECTOR_BIN_TTL)
        context = {"expired": expired, "now": now, "ttl_end": ttl_end}
        return render(request, "bins/gone.html", context, status=410 if expired else 404)
    data = bin_json(bin, base_url(request))
    context = {"bin": bin, "bin_json": data, "capture_url": data["url"]}
    return render(request, "bins/inspect.html", context)
