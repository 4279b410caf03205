"""The JSON API of DESIGN.md: thin async views over bins.queries and bins.live."""

import asyncio
import contextlib
import functools
import json
import re
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_variables

import inspector

from . import access, diff, exports, forwarding, live, presets, responses, search, signing, timeline
from .access import EDIT, NONE, OWNER, READ
from .hub import get_hub
from .models import (
    BIN_NAME,
    NEVER,
    Bin,
    BinToken,
    CapturedRequest,
    default_expiry,
    is_random_id,
)
from .queries import (
    MAX_PAGE,
    delete_requests_async,
    export_chunk,
    get_bin_async,
    off_loop,
    requests_after,
    requests_before,
)
from .serializers import (
    bin_json,
    masked_names,
    parse_whole_number,
    request_detail_json,
    request_json,
    token_json,
)
from .storage import store_batch

DEFAULT_PAGE = 50
MAX_WAIT = 60
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # an RFC 9110 token, lower case


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


SAFE_METHODS = ("GET", "HEAD")
_csrf = CsrfViewMiddleware(lambda request: None)


def csrf_refused(request):
    """Whether Django's CSRF check refuses this request."""
    _csrf.process_request(request)
    return _csrf.process_view(request, None, (), {}) is not None


async def caller_of(request):
    return await access.caller_from(
        request.session, await request.auser(), request.headers.get("Authorization")
    )


def refuse(level, needed):
    if level == NONE:
        if settings.INSPECTOR_REQUIRE_LOGIN:
            message = "Sign in, or send Authorization: Bearer <token> for this bin."
            return error(401, "login_required", message, headers={"WWW-Authenticate": "Bearer"})
        message = (
            "This bin is private: open it in its owner's browser or with a share link, "
            "or send Authorization: Bearer <token>."
        )
        return error(401, "bin_private", message, headers={"WWW-Authenticate": "Bearer"})
    if needed == OWNER:
        return error(403, "owner_only", "Only the bin's owner can do this.")
    return error(403, "read_only", "Your access to this bin is read-only.")


def endpoint(*methods, needs=None):
    """JSON endpoint: method check (405 with Allow), the caller's credentials (CSRF
    checked when a session cookie carries them), the bin looked up (404, 410), the
    caller's access to it checked (401, 403: `needs` maps a method to the level it
    takes; reads need READ and changes EDIT unless said), and ApiError turned into
    the one error shape. Views get (request, bin, level, **kwargs)."""
    needs = {method: READ if method in SAFE_METHODS else EDIT for method in methods} | (needs or {})

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
            caller = await caller_of(request)
            by_session = caller.bearer is None and settings.SESSION_COOKIE_NAME in request.COOKIES
            if request.method not in SAFE_METHODS and by_session and csrf_refused(request):
                message = "Reload the page: its CSRF token is missing or out of date."
                return error(403, "csrf_failed", message)
            try:
                if bin_id is None:
                    return await view(request, caller, **kwargs)
                bin = await get_bin_async(bin_id)
                if bin is None:
                    return error(404, "bin_not_found", "There is no bin with this id.")
                if bin.has_expired():
                    return error(410, "bin_expired", "This bin has expired; create a new one.")
                level = await access.access_level_async(bin, caller)
                if level < needs[request.method]:
                    return refuse(level, needs[request.method])
                return await view(request, bin, level, **kwargs)
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


def clean_name(value, field="name"):
    if not isinstance(value, str) or len(value.strip()) > 100:
        raise ApiError(400, f"invalid_{field}", f"{field} must be text of at most 100 characters.")
    return value.strip()


def clean_bool(value, field):
    if not isinstance(value, bool):
        raise ApiError(400, f"invalid_{field}", f"{field} must be true or false.")
    return value


def checked_by(clean, code):
    """A field check that turns BadResponse into the API's 400 `code`."""

    def check(value):
        try:
            return clean(value)
        except responses.BadResponse as problem:
            raise ApiError(400, code, str(problem)) from None

    return check


def clean_header_name(value):
    """One header name (or "" for none), lower case."""
    if not isinstance(value, str) or len(value) > 100:
        raise ApiError(400, "invalid_delivery_header", "delivery_header must be a header name.")
    name = value.strip().lower()
    if name and not TOKEN.fullmatch(name):
        raise ApiError(400, "invalid_delivery_header", "delivery_header must be a header name.")
    return name


def clean_header_names(value):
    """ "X-Api-Key, x-signature" -> "x-api-key, x-signature"; names are RFC 9110 tokens."""
    if not isinstance(value, str) or len(value) > 1000:
        raise ApiError(400, "invalid_mask_extra", "mask_extra must be text of header names.")
    names = [name.strip().lower() for name in value.split(",") if name.strip()]
    if not all(TOKEN.fullmatch(name) for name in names):
        message = "mask_extra must be header names separated by commas."
        raise ApiError(400, "invalid_mask_extra", message)
    return ", ".join(dict.fromkeys(names))


async def not_found(request):
    return error(404, "not_found", "There is no API endpoint at this address.")


def clean_url_name(value):
    """A chosen name for the bin's URL, or None for a random id."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not BIN_NAME.fullmatch(value) or is_random_id(value):
        message = (
            "url_name must be 3 to 40 lower-case letters, digits and inner hyphens "
            "(and not look like a random bin id)."
        )
        raise ApiError(400, "invalid_url_name", message)
    return value


def create_bin(name, private, user_id, url_name=None):
    """A new bin and its first owner token (the secret, shown once); None when the
    chosen name is taken."""
    try:
        with transaction.atomic():
            bin = Bin.objects.create(
                **({"id": url_name} if url_name else {}),
                name=name,
                private=private,
                owner_id=user_id,
            )
            _, secret = access.create_token(bin, BinToken.OWNER, "created with the bin")
    except IntegrityError:
        return None, None
    return bin, secret


@endpoint("POST")
async def bins_collection(request, caller):
    if settings.INSPECTOR_REQUIRE_LOGIN and not caller.signed_in:
        message = "Sign in to create bins."
        return error(401, "login_required", message, headers={"WWW-Authenticate": "Bearer"})
    data = parse_json_body(request)
    name = clean_name(data.get("name", ""))
    private = clean_bool(data.get("private", False), "private")
    url_name = clean_url_name(data.get("url_name"))
    bin, secret = await off_loop(create_bin)(name, private, caller.user_id, url_name)
    if bin is None:
        return error(409, "url_name_taken", f"There is a bin named {url_name} already.")
    if "Origin" in request.headers and not csrf_refused(request):
        # Our page created it: this browser's session is the owner from now on. Not
        # for another site's form: its answer would replace the browser's session
        # cookie, and with it every bin that session owned.
        await access.remember_owned(request.session, bin.id)
    return JsonResponse({**bin_json(bin, base_url(request), OWNER), "token": secret}, status=201)


def proxy_timeout(value):
    try:
        return forwarding.clean_proxy_timeout(value)
    except forwarding.BadForwarding as problem:
        raise ApiError(400, "invalid_proxy_timeout_ms", str(problem)) from None


def bin_changes(data):
    """The fields of a PATCH body, checked."""
    checks = {
        "name": clean_name,
        "private": lambda value: clean_bool(value, "private"),
        "mask_headers": lambda value: clean_bool(value, "mask_headers"),
        "mask_extra": clean_header_names,
        "delivery_header": clean_header_name,
        "keep": lambda value: clean_bool(value, "keep"),
        "response": checked_by(responses.clean_response, "invalid_response"),
        "rules": checked_by(responses.clean_rules, "invalid_rules"),
        "failures": checked_by(responses.clean_failures, "invalid_failures"),
        "cors": lambda value: clean_bool(value, "cors"),
        "proxy": lambda value: clean_bool(value, "proxy"),
        "proxy_timeout_ms": proxy_timeout,
        "signature": lambda value: value,  # checked against the bin: signature_changes()
    }
    unknown = set(data) - set(checks)
    if unknown:
        message = f"Unknown field: {sorted(unknown)[0]}; a bin takes {', '.join(checks)}."
        raise ApiError(400, "invalid_field", message)
    return {name: checks[name](value) for name, value in data.items()}


@endpoint("GET", "PATCH", "DELETE", needs={"PATCH": OWNER})
async def bin_resource(request, bin, level):
    if request.method == "DELETE":
        bin_id = bin.id
        await bin.adelete()
        await live.publish(bin_id, live.bin_deleted())
        return HttpResponse(status=204)
    if request.method == "PATCH":
        changes = bin_changes(parse_json_body(request))
        if "keep" in changes:
            changes["expires_at"] = NEVER if changes["keep"] else default_expiry()
        if "failures" in changes:  # a new script counts requests from now
            changes["failures_since"] = F("answered_count")
        if "signature" in changes:
            changes |= signature_changes(bin, changes.pop("signature"))
        for name, value in changes.items():
            setattr(bin, name, value)
        await bin.asave(update_fields=list(changes))
        if "failures" in changes:
            await bin.arefresh_from_db(fields=["failures_since", "answered_count"])
        public = bin_json(bin, base_url(request))
        await live.publish(bin.id, live.bin_updated(public))
        if "private" in changes:
            await live.publish(bin.id, live.access_changed())
        if "signature_provider" in changes:  # pages judge what they show again
            await live.publish(bin.id, live.signature_changed())
    return JsonResponse(bin_json(bin, base_url(request), level))


@sensitive_variables("value")
def signature_changes(bin, value):
    try:
        return signing.changes_for(bin, value)
    except signing.BadSignatureConfig as problem:
        raise ApiError(400, "invalid_signature", str(problem)) from None


@endpoint("POST", needs={"POST": OWNER})
async def bin_presets(request, bin, level):
    """Add a handshake preset's rules (bins.presets) after the bin's own."""
    data = parse_json_body(request)
    try:
        added = presets.make(data.get("preset"), data.get("value", ""))
        rules = responses.clean_rules([*bin.rules, *added])
    except responses.BadResponse as problem:
        raise ApiError(400, "invalid_preset", str(problem)) from None
    bin.rules = rules
    await bin.asave(update_fields=["rules"])
    await live.publish(bin.id, live.bin_updated(bin_json(bin, base_url(request))))
    return JsonResponse(bin_json(bin, base_url(request), level))


def search_terms(request):
    try:
        return search.parse(request.GET.get("q", ""))
    except search.QueryError as problem:
        raise ApiError(400, "invalid_query", str(problem)) from None


def requests_page(bin, after, before, limit, terms=()):
    masked, judge = masked_names(bin), signing.judge_for(bin)
    if after is not None:
        rows = requests_after(bin.id, after, limit, terms)
        return {"requests": [request_json(r, masked, judge) for r in rows], "next_before": None}
    rows = requests_before(bin.id, before, limit + 1, terms)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "requests": [request_json(r, masked, judge) for r in rows],
        "next_before": rows[-1].id if more else None,
    }


@endpoint("GET", "DELETE")
async def requests_collection(request, bin, level):
    if request.method == "DELETE":
        await delete_requests_async(bin.id)
        await live.publish(bin.id, live.bin_cleared())
        return HttpResponse(status=204)
    limit = int_param(request, "limit", DEFAULT_PAGE, MAX_PAGE) or DEFAULT_PAGE
    after = int_param(request, "after")
    before = int_param(request, "before")
    terms = search_terms(request)
    return JsonResponse(await off_loop(requests_page)(bin, after, before, limit, terms))


@endpoint("GET")
async def requests_wait(request, bin, level):
    """Long poll: answer as soon as a request newer than `after` exists."""
    after = int_param(request, "after", 0)
    timeout = int_param(request, "timeout", 30, MAX_WAIT)
    limit = int_param(request, "limit", MAX_PAGE, MAX_PAGE) or MAX_PAGE
    terms = search_terms(request)
    news = asyncio.Event()

    async def heard(message):
        news.set()

    # Listen first, then look: a request stored in between is not missed.
    await get_hub().listen(bin.id, heard)
    deadline = time.monotonic() + timeout
    try:
        while True:
            news.clear()
            page = await off_loop(requests_page)(bin, after, None, limit, terms)
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
async def request_resource(request, bin, level, request_id):
    row = await get_request(bin, request_id)
    if request.method == "DELETE":
        if await delete_requests_async(bin.id, row.id):
            await live.publish(bin.id, live.request_deleted(row.id))
        return HttpResponse(status=204)
    preview = int_param(request, "preview")
    judge = signing.judge_for(bin, show_expected=level == OWNER)
    return JsonResponse(request_detail_json(row, masked_names(bin), preview, judge))


@endpoint("GET")
async def request_body(request, bin, level, request_id):
    row = await get_request(bin, request_id)
    response = HttpResponse(bytes(row.body), content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="request-{row.id}.bin"'
    # Never rendered by the browser, whatever a stranger put in it.
    response["Content-Security-Policy"] = "sandbox"
    return response


def share_url(request, secret):
    return f"{base_url(request)}/share/{secret}"


@endpoint("GET", "POST", needs={"GET": OWNER, "POST": OWNER})
async def tokens_collection(request, bin, level):
    """The bin's tokens: owner tokens for scripts, read tokens behind share links."""
    if request.method == "POST":
        data = parse_json_body(request)
        kind = data.get("kind", BinToken.READ)
        if kind not in (BinToken.READ, BinToken.OWNER):
            raise ApiError(400, "invalid_kind", 'kind must be "read" or "owner".')
        label = clean_name(data.get("label", ""), "label")
        row, secret = await off_loop(access.create_token)(bin, kind, label)
        answer = {**token_json(row), "token": secret}
        if kind == BinToken.READ:
            answer["share_url"] = share_url(request, secret)
        return JsonResponse(answer, status=201)
    rows = [row async for row in bin.tokens.order_by("created_at", "id")]
    return JsonResponse({"tokens": [token_json(row) for row in rows]})


@endpoint("DELETE", needs={"DELETE": OWNER})
async def token_resource(request, bin, level, token_id):
    deleted, _ = await BinToken.objects.filter(bin=bin, pk=token_id).adelete()
    if not deleted:
        raise ApiError(404, "token_not_found", "There is no token with this id in this bin.")
    # Viewers let in by it are let go: each open websocket checks its access again.
    await live.publish(bin.id, live.access_changed())
    return HttpResponse(status=204)


EXPORT_FORMATS = {
    "har": ("application/json", "har"),
    "ndjson": ("application/x-ndjson", "ndjson"),
}
EXPORT_CHUNK = 20  # rows read at a time: bodies may be 10 MiB each


def export_response(bin, fmt, name, request_id=None, level=READ):
    """The bin's requests (or one) as a HAR or NDJSON download, streamed oldest first,
    with their signature verdicts (never the bin's secret)."""
    if fmt not in EXPORT_FORMATS:
        raise ApiError(400, "invalid_format", 'format must be "har" or "ndjson".')
    masked, judge = masked_names(bin), signing.judge_for(bin, show_expected=level == OWNER)

    async def pieces():
        if fmt == "har":
            yield exports.har_head(inspector.__version__)
        after, first = 0, True
        while True:
            rows = await off_loop(export_chunk)(bin.id, after, EXPORT_CHUNK, request_id)
            if not rows:
                break
            if fmt == "har":
                yield exports.har_entries(rows, masked, first, judge)
            else:
                yield exports.ndjson_lines(rows, masked, judge)
            after, first = rows[-1].id, False
        if fmt == "har":
            yield exports.HAR_TAIL

    content_type, extension = EXPORT_FORMATS[fmt]
    response = StreamingHttpResponse(pieces(), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}.{extension}"'
    return response


@endpoint("GET")
async def bin_export(request, bin, level):
    fmt = request.GET.get("format", "har")
    return export_response(bin, fmt, f"bin-{bin.id}", level=level)


@endpoint("GET")
async def request_export(request, bin, level, request_id):
    row = await get_request(bin, request_id)
    fmt = request.GET.get("format", "har")
    return export_response(bin, fmt, f"request-{row.id}", row.id, level)


@endpoint("POST")
async def bin_import(request, bin, level):
    """Requests from a HAR or NDJSON file (as exported) into the bin, as if captured
    (counted, kept within the bin's retention) and pushed to its open pages."""
    try:
        records = exports.parse_import(bin.id, request.body)
    except exports.BadImport as problem:
        raise ApiError(400, "invalid_import", str(problem)) from None
    stored = await off_loop(store_batch)(records, choose=False, forward=False) if records else []
    for start in range(0, len(stored), 100):
        chunk = stored[start : start + 100]
        frame = [request_json(record, record.masked, record.judge) for record in chunk]
        await live.publish(bin.id, live.requests_created(frame))
    return JsonResponse({"imported": len(stored), "ids": [record.id for record in stored]})


@endpoint("GET")
async def request_diff(request, bin, level, request_id, other_id):
    """What differs between two requests of the bin (bins.diff)."""
    a, b = await get_request(bin, request_id), await get_request(bin, other_id)
    return JsonResponse(await off_loop(diff.compare)(a, b, masked_names(bin)))


@endpoint("GET")
async def bin_timeline(request, bin, level):
    """Arrivals over time (bins.timeline), narrowed by `q` as the list is."""
    return JsonResponse(await off_loop(timeline.timeline)(bin.id, search_terms(request)))
