"""The JSON API of DESIGN.md: thin async views over bins.queries and bins.live."""

import asyncio
import contextlib
import functools
import json
import time

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from . import live
from .hub import get_hub
from .models import Bin, CapturedRequest
from .queries import (
    MAX_PAGE,
    delete_requests_async,
    get_bin_async,
    off_loop,
    requests_after,
    requests_before,
)
from .serializers import bin_json, parse_whole_number, request_detail_json, request_json

DEFAULT_PAGE = 50
MAX_WAIT = 60


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error(status, code, message, headers=None):
    return JsonResponse(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


def base_url(request):
    return settings.PUBLIC_URL or f"{request.scheme}://{request.get_host()}"


def endpoint(*methods):
    """JSON endpoint: method check (405 with Allow), the bin looked up (404), and
    ApiError turned into the one error shape."""

    def decorate(view):
        @csrf_exempt
        @functools.wraps(view)
        async def wrapper(request, bin_id=None, **kwargs):
            if request.method not in methods:
                return error(
                    405,
                    "method_not_allowed",
                    f"Use {', '.join(methods)} here.",
                    headers={"Allow": ", ".join(methods)},
                )
            try:
                if bin_id is None:
                    return await view(request, **kwargs)
                bin = await get_bin_async(bin_id)
                if bin is None:
                    return error(404, "bin_not_found", "There is no bin with this id.")
                if bin.has_expired():
                    return error(410, "bin_expired", "This bin has expired; create a new one.")
                return await view(request, bin, **kwargs)
            except ApiError as problem:
                return error(problem.status, problem.code, problem.message)

        return wrapper

    return decorate


def int_param(request, name, default=None, maximum=None):
    value = request.GET.get(name)
    if value is None or value == "":
        return default
    number = parse_whole_number(value)
    if number is None:
        raise ApiError(400, "invalid_parameter", f"{name} must be a whole number.")
    return min(number, maximum) if maximum else number


def parse_json_body(request):
    if not request.body:
        return {}
    try:
        data = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "The body must be a JSON object.")
    return data


def clean_name(value):
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise ApiError(400, "invalid_name", "name must be text of at most 100 characters.")
    return value.strip()


async def not_found(request):
    return error(404, "not_found", "There is no API endpoint at this address.")


@endpoint("POST")
async def bins_collection(request):
    bin = Bin(name=clean_name(parse_json_body(request).get("name", "")))
    await bin.asave()
    return JsonResponse(bin_json(bin, base_url(request)), status=201)


@endpoint("GET", "DELETE")
async def bin_resource(request, bin):
    if request.method == "DELETE":
        bin_id = bin.id
        await bin.adelete()
        await live.publish(bin_id, live.bin_deleted())
        return HttpResponse(status=204)
    return JsonResponse(bin_json(bin, base_url(request)))


def requests_page(bin_id, after, before, limit):
    if after is not None:
        rows = requests_after(bin_id, after, limit)
        return {"requests": [request_json(r) for r in rows], "next_before": None}
    rows = requests_before(bin_id, before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "requests": [request_json(r) for r in rows],
        "next_before": rows[-1].id if more else None,
    }


@endpoint("GET", "DELETE")
async def requests_collection(request, bin):
    if request.method == "DELETE":
        await delete_requests_async(bin.id)
        await live.publish(bin.id, live.bin_cleared())
        return HttpResponse(status=204)
    limit = int_param(request, "limit", DEFAULT_PAGE, MAX_PAGE) or DEFAULT_PAGE
    after = int_param(request, "after")
    before = int_param(request, "before")
    return JsonResponse(await off_loop(requests_page)(bin.id, after, before, limit))


@endpoint("GET")
async def requests_wait(request, bin):
    """Long poll: answer as soon as a request newer than `after` exists."""
    after = int_param(request, "after", 0)
    timeout = int_param(request, "timeout", 30, MAX_WAIT)
    limit = int_param(request, "limit", MAX_PAGE, MAX_PAGE) or MAX_PAGE
    news = asyncio.Event()

    async def heard(message):
        news.set()

    # Listen first, then look: a request stored in between is not missed.
    await get_hub().listen(bin.id, heard)
    deadline = time.monotonic() + timeout
    try:
        while True:
            news.clear()
            page = await off_loop(requests_page)(bin.id, after, None, limit)
            remaining = deadline - time.monotonic()
            if page["requests"] or remaining <= 0:
                return JsonResponse(page)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(news.wait(), remaining)
    finally:
        await get_hub().unlisten(bin.id, heard)


async def get_request(bin, request_id):
    row = await CapturedRequest.objects.filter(bin=bin, id=request_id).afirst()
    if row is None:
        raise ApiError(404, "request_not_found", "There is no request with this id in this bin.")
    return row


@endpoint("GET", "DELETE")
async def request_resource(request, bin, request_id):
    row = await get_request(bin, request_id)
    if request.method == "DELETE":
        if await delete_requests_async(bin.id, row.id):
            await live.publish(bin.id, live.request_deleted(row.id))
        return HttpResponse(status=204)
    return JsonResponse(request_detail_json(row))


@endpoint("GET")
async def request_body(request, bin, request_id):
    row = await get_request(bin, request_id)
    response = HttpResponse(bytes(row.body), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="request-{row.id}.bin"'
    # Never rendered by the browser, whatever a stranger put in it.
    response["Content-Security-Policy"] = "sandbox"
    return response
