"""Replay: a captured request sent again to a URL, maybe edited first (issue 7).

The request goes to the URL given, then the captured path below the bin and query
(as forwarding and inspector-relay send it), with the captured method, headers and
body, each of which the caller may replace. It is sent through bins.outbound (the
SSRF guard, a timeout, a cap on the answer) and kept with the answer, or the error.
"""

import base64
import binascii
import re

from django.conf import settings
from django.db import transaction

from .forwarding import (
    BadForwarding,
    answer,
    answer_summary,
    clean_url,
    hops,
    onward_headers,
    summarised,
    target_url,
)
from .models import Replay
from .serializers import as_text, iso, mask

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110
MAX_HEADERS = 200
MAX_REPLAYS = 50  # kept per request, the newest
MAX_PATH = 8000
FIELDS = {"url", "method", "path", "query_string", "headers", "body", "body_base64"}


def _text(data, field, limit):
    value = data[field]
    if not isinstance(value, str) or len(value) > limit:
        raise BadForwarding(f"{field} must be text of at most {limit} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F or ord(c) > 0x7E for c in value):
        raise BadForwarding(f"{field} may hold only visible ASCII: percent-encode the rest.")
    return value


def clean_headers(value):
    """[[name, value], ...]: names HTTP tokens, values Latin-1 text without line breaks."""
    if not isinstance(value, list) or len(value) > MAX_HEADERS:
        raise BadForwarding(f"headers must be a list of at most {MAX_HEADERS} [name, value].")
    headers = []
    for pair in value:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise BadForwarding("each header must be [name, value], both text.")
        name, text = pair
        if not TOKEN.fullmatch(name):
            raise BadForwarding(f"{name!r} is not a header name.")
        if any(c in text for c in "\r\n\x00"):
            raise BadForwarding(f"the value of {name} may not hold a line break or NUL.")
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise BadForwarding(f"the value of {name} must be Latin-1 text.") from None
        headers.append([name, text])
    return headers


def clean_body(data):
    if "body" in data and "body_base64" in data:
        raise BadForwarding("give body or body_base64, not both.")
    if "body_base64" in data:
        try:
            body = base64.b64decode(data["body_base64"], validate=True)
        except (TypeError, ValueError, binascii.Error):
            raise BadForwarding("body_base64 must be base64.") from None
    elif not isinstance(data["body"], str):
        raise BadForwarding("body must be text (or use body_base64).")
    else:
        body = data["body"].encode("utf-8")
    if len(body) > settings.INSPECTOR_MAX_BODY_BYTES:
        raise BadForwarding(f"the body is over {settings.INSPECTOR_MAX_BODY_BYTES} bytes.")
    return body


def prepare(data, captured, masked=frozenset()):
    """What to send for a replay of `captured` asked with `data` (the API's body):
    (method, URL, headers, body, edited). The captured values of headers named in
    `masked` are sent as the mask: a caller below the bin's owner may not read them,
    and a replay to their own server would. BadForwarding says what is wrong."""
    if unknown := set(data) - FIELDS:
        raise BadForwarding(
            f"Unknown field: {sorted(unknown)[0]}; a replay takes {sorted(FIELDS)}."
        )
    if "url" not in data:
        raise BadForwarding("url is needed: where to send the request.")
    base = clean_url(data["url"])
    method = captured.method
    if "method" in data:
        method = data["method"]
        if not isinstance(method, str) or not TOKEN.fullmatch(method) or len(method) > 64:
            raise BadForwarding("method must be an HTTP method (a token), e.g. POST.")
    path = _text(data, "path", MAX_PATH) if "path" in data else captured.path
    if path and not path.startswith("/"):
        raise BadForwarding('path must be empty or start with "/".')
    query = captured.query_string
    if "query_string" in data:
        query = _text(data, "query_string", MAX_PATH).removeprefix("?")
        if "#" in query:
            raise BadForwarding("query_string may not hold #.")
    captured_headers, _ = mask(captured.headers, masked)
    headers = clean_headers(data["headers"]) if "headers" in data else captured_headers
    body = clean_body(data) if "body" in data or "body_base64" in data else bytes(captured.body)
    edited = (
        method != captured.method
        or path != captured.path
        or query != captured.query_string
        or [list(pair) for pair in headers] != [list(pair) for pair in captured_headers]
        or body != bytes(captured.body)
    )
    headers = onward_headers(headers, hops(captured.headers))
    return method, target_url(base, path, query), headers, body, edited


def save(captured, method, url, headers, body, edited, result):
    """Keep a replay of `captured`: its body only when it differs from the request's,
    and the request's newest MAX_REPLAYS replays only (the oldest go)."""
    with transaction.atomic():
        replay = Replay.objects.create(
            request_id=captured.id,
            method=method,
            url=url,
            headers=headers,
            body=None if body == bytes(captured.body) else body,
            edited=edited,
            result=result,
        )
        mine = Replay.objects.filter(request_id=captured.id)
        oldest_kept = mine.order_by("-id").values_list("id", flat=True)[MAX_REPLAYS - 1 :][:1]
        if oldest_kept:
            mine.filter(id__lt=oldest_kept[0])._raw_delete(mine.db)
    return replay


def replays_of(request_id, limit):
    """A request's newest replays, newest first, without their bodies nor the whole
    answers."""
    rows = summarised(Replay.objects.filter(request_id=request_id).defer("body"))
    return list(rows.order_by("-id")[:limit])


def replay_json(replay, whole=False, original=b""):
    """A Replay: what was sent and what came back. Lists and events carry a summary
    (answer_summary); `whole` adds both bodies (`original`: the request's, sent when
    the replay kept none)."""
    data = {
        "id": replay.pk,
        "request": replay.request_id,
        "created_at": iso(replay.created_at),
        "method": replay.method,
        "url": replay.url,
        "headers": replay.headers,
        "edited": replay.edited,
        "response": answer_summary(answer(replay)),
    }
    if whole:
        body = bytes(original if replay.body is None else replay.body)
        data["body_size"] = len(body)
        data["body_text"] = as_text(body)
        data["body_base64"] = base64.b64encode(body).decode("ascii")
        data["response"]["body"] = replay.result.get("body") or ""
        data["response"]["body_base64"] = bool(replay.result.get("body_base64"))
    return data
