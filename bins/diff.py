"""Two captured requests side by side: what differs in their request lines, headers and
bodies, JSON-aware (by path) when both bodies are JSON, by lines when both are text."""

import difflib
import hashlib
import json

from .serializers import as_text, mask

MAX_CHANGES = 500  # body paths or lines reported; the rest is counted
MAX_TEXT = 256 * 1024  # bytes of each text body compared line by line


def header_changes(a_headers, b_headers):
    """[{name, a: [values], b: [values]}] for each header name (any case) whose
    values differ, in the order names first appear."""

    def values(headers):
        found = {}
        for name, value in headers:
            found.setdefault(name.lower(), (name, []))[1].append(value)
        return found

    a, b = values(a_headers), values(b_headers)
    changes = []
    for key in dict.fromkeys([*a, *b]):
        a_values, b_values = a.get(key, (None, []))[1], b.get(key, (None, []))[1]
        if a_values != b_values:
            name = (a.get(key) or b.get(key))[0]
            changes.append({"name": name, "a": a_values, "b": b_values})
    return changes


def json_changes(a, b, path="$"):
    """[{path, kind: added|removed|changed, a, b}], by JSONPath-like paths."""
    if isinstance(a, dict) and isinstance(b, dict):
        changes = []
        for key in dict.fromkeys([*a, *b]):
            where = f"{path}.{key}" if key.isidentifier() else f"{path}[{json.dumps(key)}]"
            if key not in b:
                changes.append({"path": where, "kind": "removed", "a": a[key], "b": None})
            elif key not in a:
                changes.append({"path": where, "kind": "added", "a": None, "b": b[key]})
            else:
                changes.extend(json_changes(a[key], b[key], where))
        return changes
    if isinstance(a, list) and isinstance(b, list):
        changes = []
        for index in range(max(len(a), len(b))):
            where = f"{path}[{index}]"
            if index >= len(b):
                changes.append({"path": where, "kind": "removed", "a": a[index], "b": None})
            elif index >= len(a):
                changes.append({"path": where, "kind": "added", "a": None, "b": b[index]})
            else:
                changes.extend(json_changes(a[index], b[index], where))
        return changes
    if a == b and type(a) is type(b):
        return []
    return [{"path": path, "kind": "changed", "a": a, "b": b}]


def parse_json(data):
    text = as_text(data)
    if text is None or not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def listed(kind, changes):
    return {
        "kind": kind,
        "changes": changes[:MAX_CHANGES],
        "more": max(0, len(changes) - MAX_CHANGES),
    }


def body_changes(a_body, b_body):
    """How two bodies differ: {kind: same|json|text|binary, changes, more}."""
    if a_body == b_body:
        return {"kind": "same", "changes": [], "more": 0}
    a_json, b_json = parse_json(a_body), parse_json(b_body)
    if a_json is not None and b_json is not None:
        changes = json_changes(a_json, b_json)
        return {
            "kind": "json",
            "changes": changes[:MAX_CHANGES],
            "more": max(0, len(changes) - MAX_CHANGES),
        }
    a_text, b_text = (
        as_text(a_body[:MAX_TEXT], final=False),
        as_text(b_body[:MAX_TEXT], final=False),
    )
    if a_text is not None and b_text is not None:
        lines = list(
            difflib.unified_diff(
                a_text.splitlines(), b_text.splitlines(), "a", "b", lineterm="", n=2
            )
        )
        return {
            "kind": "text",
            "changes": lines[:MAX_CHANGES],
            "more": max(0, len(lines) - MAX_CHANGES),
        }
    return {
        "kind": "binary",
        "changes": [
            {"side": side, "size": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for side, body in (("a", a_body), ("b", b_body))
        ],
        "more": 0,
    }


def compare(a, b, masked=frozenset()):
    """The difference of two CapturedRequests, as JSON-ready data."""
    a_headers, _ = mask(a.headers, masked)
    b_headers, _ = mask(b.headers, masked)
    fields = ("method", "path", "query_string", "content_type", "body_size", "remote_addr")
    return {
        "a": a.id,
        "b": b.id,
        "fields": [
            {"name": name, "a": getattr(a, name), "b": getattr(b, name)}
            for name in fields
            if getattr(a, name) != getattr(b, name)
        ],
        "headers": header_changes(a_headers, b_headers),
        "body": body_changes(bytes(a.body), bytes(b.body)),
    }
