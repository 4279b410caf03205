"""The HTML pages; the data on them comes from the JSON API and the websocket."""

from django.http import Http404
from django.shortcuts import render

from .api import base_url
from .queries import get_bin_async
from .serializers import bin_json


async def home(request):
    return render(request, "home.html")


async def inspect(request, bin_id):
    bin = await get_bin_async(bin_id)
    if bin is None:
        raise Http404("There is no bin with this id.")
    data = bin_json(bin, base_url(request))
    context = {"bin": bin, "bin_json": data, "capture_url": data["url"]}
    return render(request, "bins/inspect.html", context)
