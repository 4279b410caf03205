"""Model -> JSON-ready dicts, the public contract of DESIGN.md."""

import base64
import codecs
import hashlib
from urllib.parse import parse_qsl

from django.conf import settings

from . import bodies
from .access import LEVEL_NAMES, OWNER
from .capture import header_value
from .rules import sent
from .signing import secret_headers, signature_json
from .templating import redact_arguments

PREVIEW_BYTES = 2048
MASK = "••••••••"


def parse_whole_number(value):
    """ "42" -> 42; None for anything else ("²".isdigit() is true, yet int() refuses it)."""
    return int(value) if value.isascii() and value.isdigit() else None


def iso(moment):
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z") if moment else None


def ws_base(base_url):
    return "ws" + base_url[len("http") :]


def bin_json(bin, base_url, level=None):
    """A Bin; with the caller's access `level` (bins.access) when known."""
    data = {
        "id": bin.id,
        "name": bin.name,
        "url": f"{base_url}/b/{bin.id}",
        "inspect_url": f"{base_url}/bins/{bin.id}/",
        "ws_url": f"{ws_base(base_url)}/ws/bins/{bin.id}/",
        "created_at": iso(bin.created_at),
        "last_activity_at": iso(bin.last_activity_at),
        "expires_at": iso(bin.expires_at),
        "request_count": bin.request_count,
        "kept_count": bin.kept_count,
        "dropped_count": bin.dropped_count,
        "refused_count": bin.refused_count,
        "max_requests": settings.INSPECTOR_MAX_REQUESTS_PER_BIN,
        "private": bin.private,
        "mask_headers": bin.mask_headers,
        "mask_extra": bin.mask_extra,
        "delivery_header": bin.delivery_header,
        "keep": bin.keep,
        "response": bin.response if level == OWNER else redacted(bin.response),
        "rules": bin.rules
        if level == OWNER
        else [{**rule, "response": redacted(rule["response"])} for rule in bin.rules],
        "failures": bin.failures,
        "failures_since": bin.failures_since,
        "cors": bin.cors,
        "forward_count": bin.forward_count,
        "proxy": bin.proxy,
        "proxy_timeout_ms": bin.proxy_timeout_ms,
        "signature": signature_json(bin, owner=level == OWNER),
    }
    if level is not None:
        data["access"] = LEVEL_NAMES[level]
    return data


def redacted(response):
    """A bin's response with its templates' keys (`hmac_sha256:'...'`) hidden: what
    anyone but the owner sees of it."""
    if response is None:
        return None
    return {
        **response,
        "headers": [[name, redact_arguments(value)] for name, value in response["headers"]],
        "body": redact_arguments(response["body"]),
    }


def masked_names(bin):
    """The lower-case header names whose values `bin` hides, or an empty set."""
    return names_to_mask(bin.mask_headers, bin.mask_extra) | secret_headers(bin.signature_provider)


def names_to_mask(mask_headers, mask_extra):
    if not mask_headers:
        return frozenset()
    extra = (name.strip() for name in mask_extra.split(","))
    return frozenset([*settings.INSPECTOR_SENSITIVE_HEADERS, *(name for name in extra if name)])


def mask(headers, masked):
    """`headers` with the values of `masked` names replaced, and the names hidden."""
    if not masked:
        return headers, []
    shown, hidden = [], []
    for name, value in headers:
        if name.lower() in masked:
            shown.append([name, MASK])
            hidden.append(name)
        else:
            shown.append([name, value])
    return shown, hidden


def token_json(row):
    return {"id": row.pk, "kind": row.kind, "label": row.label, "created_at": iso(row.created_at)}


def as_text(data, final=True):
    """`data` as UTF-8 text, or None when it is not text. With final=False a
    multi-byte character cut at the end is dropped instead of failing."""
    if b"\x00" in data:
        return None
    try:
        if final:
            return data.decode("utf-8")
        return codecs.getincrementaldecoder("utf-8")().decode(data, final=False)
    except UnicodeDecodeError:
        return None


def request_json(req, masked=frozenset(), judge=None):
    """A Request; the values of headers named in `masked` hidden (masked_names()), its
    signature judged by `judge` (bins.signing, None for a bin that checks none)."""
    size = len(req.body)
    headers, hidden = mask(req.headers, masked)
    whole = size <= PREVIEW_BYTES and not req.body_truncated
    preview = as_text(bytes(req.body[:PREVIEW_BYTES]), final=whole)
    query = "?" + req.query_string if req.query_string else ""
    return {
        "id": req.id,
        "bin": req.bin_id,
        "method": req.method,
        "url": f"{req.scheme}://{req.host}/b/{req.bin_id}{req.path}{query}",
        "path": req.path,
        "query_string": req.query_string,
        "query": [list(pair) for pair in parse_qsl(req.query_string, keep_blank_values=True)],
        "headers": headers,
        "masked_headers": hidden,
        "content_type": req.content_type,
        "body_size": req.body_size,
        "body_truncated": req.body_truncated,
        "body_preview": preview,
        "body_preview_truncated": preview is not None and size > PREVIEW_BYTES,
        "remote_addr": req.remote_addr,
        "received_at": iso(req.received_at),
        "response": listed(sent(req.response, req)),
        "signature": judge.summary(req) if judge is not None else None,
    }


def listed(response):
    """A proxy's answer (the target's, up to INSPECTOR_OUTBOUND_MAX_RESPONSE) with its
    body cut to PREVIEW_BYTES characters for lists and events (`body_cut`); a bin's own
    answers are its owner's and come whole."""
    if not response or not response.get("proxy") or len(response["body"]) <= PREVIEW_BYTES:
        return response
    return {**response, "body": response["body"][:PREVIEW_BYTES], "body_cut": True}


def request_detail_json(req, masked=frozenset(), preview=None, judge=None):
    """A Request with its body: whole, or its first `preview` bytes (then
    `body_preview_cut`). A gzip, deflate or br body also comes decoded. The signature
    verdict comes whole (the signatures expected and received)."""
    body = bytes(req.body)
    shown = body if preview is None else body[:preview]
    whole = len(shown) == len(body) and not req.body_truncated
    encoding = header_value(req.headers, "content-encoding").strip().lower() or None
    return {
        **request_json(req, masked),
        "response": sent(req.response, req),
        "signature": judge.full(req) if judge is not None else None,
        "body_text": as_text(shown, final=whole),
        "body_base64": base64.b64encode(shown).decode("ascii"),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "body_kept": len(body),
        "body_preview_cut": len(shown) < len(body),
        "content_encoding": encoding,
        "body_decoded": decoded_json(body, encoding, preview, whole) if encoding else None,
    }


def decoded_json(body, encoding, preview, whole):
    """The body with its Content-Encoding undone, for reading; None when it is one
    we do not undo (identity, compress, ...)."""
    limit = settings.INSPECTOR_MAX_BODY_BYTES if preview is None else preview
    try:
        decoded = bodies.decode(body, encoding, limit)
    except bodies.DecodeError as problem:
        return {"error": f"The body says Content-Encoding: {encoding}, but it is {problem}."}
    if decoded is None:
        return None
    data, cut = decoded
    return {
        "text": as_text(data, final=whole and not cut),
        "base64": base64.b64encode(data).decode("ascii"),
        "size": len(data),
        "cut": cut,
    }
