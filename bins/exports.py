"""Requests out of a bin (HAR 1.2, NDJSON) and back in: plain functions over
CapturedRequest rows and Capture records.

HAR has no field for a request body that is not text: such bodies go base64 in
`postData.text`, with `_encoding: "base64"` (custom fields start with "_" in HAR).
Masked header values (serializers.mask) are masked in exports too.
"""

import base64
import binascii
import json
import re
from datetime import datetime
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from django.utils import timezone

from . import rules
from .capture import Capture, header_value, split_capture_path
from .serializers import as_text, iso, mask, request_detail_json

HTTP_VERSION = "HTTP/1.1"
STATUSES = {status.value for status in HTTPStatus}
MAX_IMPORT = 10_000  # requests in one import
METHOD = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")  # what capture itself can receive


class BadImport(ValueError):
    """A file that cannot be imported; the message says where and why."""


# --- out ----------------------------------------------------------------------


def ndjson_line(row, masked, judge=None):
    return json.dumps(request_detail_json(row, masked, judge=judge)) + "\n"


def har_entry(row, masked, judge=None):
    """One HAR entry, with what the sender was answered as its response, and the
    signature verdict of `judge` (bins.signing) in `_signature`."""
    headers, _ = mask(row.headers, masked)
    url = f"{row.scheme}://{row.host}/b/{row.bin_id}{row.path}"
    if row.query_string:
        url += "?" + row.query_string
    body = bytes(row.body)
    request = {
        "method": row.method,
        "url": url,
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": [{"name": name, "value": value} for name, value in headers],
        "queryString": [
            {"name": name, "value": value}
            for name, value in parse_qsl(row.query_string, keep_blank_values=True)
        ],
        "headersSize": -1,
        "bodySize": row.body_size,
    }
    if body or row.body_size:
        text = as_text(body, final=not row.body_truncated)
        post = {"mimeType": row.content_type}
        if text is None:
            post["text"] = base64.b64encode(body).decode("ascii")
            post["_encoding"] = "base64"
        else:
            post["text"] = text
        if row.body_truncated:
            post["_truncated"] = True
        request["postData"] = post
    response, wait = har_response(row)
    return {
        "startedDateTime": iso(row.received_at),
        "time": wait,
        "request": request,
        "response": response,
        "cache": {},
        "timings": {"send": 0, "wait": wait, "receive": 0},
        "serverIPAddress": "",
        "_id": row.id,
        "_remoteAddress": row.remote_addr,
        **({"_signature": judge.full(row)} if judge is not None else {}),
    }


def har_response(row):
    """(HAR response, its wait in ms): the answer the bin chose (bins.rules), as sent,
    the forward target's for a proxy (`_proxy`, and `_error` for our 502), or
    Inspector's own. A connection closed unanswered is status 0, as browsers
    record it."""
    sent = rules.sent(row.response, row)
    if sent is None:
        status = 413 if row.body_truncated else 200
        body = json.dumps({"ok": True, "id": row.id}) if status == 200 else ""
        sent = {
            "status": status,
            "delay_ms": 0,
            "body": body,
            "headers": [["Content-Type", "application/json"]],
        }
    content = {"size": len(sent["body"].encode()), "mimeType": "", "text": sent["body"]}
    if sent.get("body_base64"):  # a proxy's answer that is not text
        content["size"] = len(base64.b64decode(sent["body"]))
        content["encoding"] = "base64"
    for name, value in sent["headers"]:
        if name.lower() == "content-type":
            content["mimeType"] = value
    response = {
        "status": sent["status"] or 0,
        "statusText": HTTPStatus(sent["status"]).phrase if sent["status"] in STATUSES else "",
        "httpVersion": HTTP_VERSION,
        "cookies": [],
        "headers": [{"name": name, "value": value} for name, value in sent["headers"]],
        "content": content,
        "redirectURL": "",
        "headersSize": -1,
        "bodySize": content["size"],
    }
    for key in ("rule", "failure", "proxy", "error"):
        if sent.get(key):
            response[f"_{key}"] = sent[key]
    if sent.get("close"):
        response["_error"] = "The connection was closed without an answer."
    return response, sent["delay_ms"]


def har_head(version):
    """A HAR file streams as har_head(), har_entries() per chunk of rows, HAR_TAIL:
    a big bin never sits in memory whole."""
    head = json.dumps(
        {"log": {"version": "1.2", "creator": {"name": "Inspector", "version": version}}}
    )
    return head[:-2] + ', "pages": [], "entries": ['


HAR_TAIL = "]}}\n"


def har_entries(rows, masked, first, judge=None):
    """The entries of `rows` as text, comma-separated (and after a comma unless `first`)."""
    entries = (json.dumps(har_entry(row, masked, judge)) for row in rows)
    text = ",".join(entries)
    return text if first or not text else "," + text


def ndjson_lines(rows, masked, judge=None):
    return "".join(ndjson_line(row, masked, judge) for row in rows)


# --- in -----------------------------------------------------------------------


def parse_time(value, where):
    if value is None:
        return timezone.now()
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise BadImport(f"{where}: {value!r} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo else timezone.make_aware(moment, timezone.utc)


def header_pairs(headers, where):
    """Header pairs as [[name, value], ...] from [[n, v]] or [{"name", "value"}]."""
    if not isinstance(headers, list):
        raise BadImport(f"{where}: headers must be a list.")
    pairs = []
    for item in headers:
        if isinstance(item, dict):
            item = [item.get("name"), item.get("value")]
        if not (
            isinstance(item, list)
            and len(item) == 2
            and all(isinstance(part, str) for part in item)
        ):
            raise BadImport(f"{where}: each header must be a name and a value, both text.")
        pairs.append(item)
    return pairs


def record(bin_id, *, method, url, headers, body, body_size, truncated, remote, at, where):
    """A Capture for `bin_id` of a request that went to `url` (anywhere: only the
    part below /b/<id>, or the whole path of another address, is kept)."""
    if not isinstance(method, str) or not METHOD.fullmatch(method):
        raise BadImport(f"{where}: method must be an HTTP method (a token of 1 to 64 characters).")
    if not isinstance(url, str):
        raise BadImport(f"{where}: url must be text.")
    parts = urlsplit(url)
    below = split_capture_path(parts.path.encode("utf-8", "surrogateescape"))
    path = below[1] if below else parts.path  # what came after the original bin's id
    return Capture(
        bin_id=bin_id,
        method=method,
        scheme=parts.scheme or "http",
        host=parts.netloc,
        path=path,
        query_string=parts.query,
        headers=headers,
        body=body,
        body_size=max(body_size, len(body)),
        body_truncated=truncated,
        content_type=header_value(headers, "content-type"),
        remote_addr=str(remote or "")[:64],
        received_at=at,
    )


def from_ndjson_line(bin_id, data, where):
    if not isinstance(data, dict):
        raise BadImport(f"{where}: each line must be a JSON object (a Request).")
    try:
        body = base64.b64decode(data.get("body_base64") or "", validate=True)
    except (binascii.Error, TypeError):
        raise BadImport(f"{where}: body_base64 is not base64.") from None
    return record(
        bin_id,
        method=data.get("method"),
        url=data.get("url"),
        headers=header_pairs(data.get("headers", []), where),
        body=body,
        body_size=data.get("body_size") if isinstance(data.get("body_size"), int) else 0,
        truncated=bool(data.get("body_truncated")),
        remote=data.get("remote_addr"),
        at=parse_time(data.get("received_at"), where),
        where=where,
    )


def from_har_entry(bin_id, entry, where):
    request = entry.get("request") if isinstance(entry, dict) else None
    if not isinstance(request, dict):
        raise BadImport(f"{where}: an entry needs a request object.")
    post = request.get("postData") or {}
    text = post.get("text") or ""
    if not isinstance(text, str):
        raise BadImport(f"{where}: postData.text must be text.")
    if post.get("_encoding") == "base64":
        try:
            body = base64.b64decode(text, validate=True)
        except binascii.Error:
            raise BadImport(f"{where}: postData.text is not base64.") from None
    else:
        body = text.encode("utf-8")
    size = request.get("bodySize")
    return record(
        bin_id,
        method=request.get("method"),
        url=request.get("url"),
        headers=header_pairs(request.get("headers", []), where),
        body=body,
        body_size=size if isinstance(size, int) else 0,
        truncated=bool(post.get("_truncated")),
        remote=entry.get("_remoteAddress"),
        at=parse_time(entry.get("startedDateTime"), where),
        where=where,
    )


def parse_import(bin_id, data):
    """Capture records from the bytes of a HAR file or NDJSON (one Request a line,
    as exported); raises BadImport with where it went wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise BadImport("The file must be UTF-8 text: HAR or NDJSON.") from None
    stripped = text.lstrip()
    records = []
    if stripped.startswith("{") and '"log"' in stripped[:200]:
        try:
            entries = json.loads(text)["log"]["entries"]
        except (ValueError, KeyError, TypeError):
            raise BadImport("This is not a HAR file: it needs log.entries.") from None
        if not isinstance(entries, list):
            raise BadImport("log.entries must be a list.")
        for number, entry in enumerate(entries, 1):
            records.append(from_har_entry(bin_id, entry, f"entry {number}"))
    else:
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError:
                raise BadImport(f"line {number}: not JSON.") from None
            records.append(from_ndjson_line(bin_id, data, f"line {number}"))
    if len(records) > MAX_IMPORT:
        raise BadImport(f"At most {MAX_IMPORT} requests in one import.")
    return records
