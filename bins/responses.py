"""What a bin answers senders: its response (checked here, before it is saved) and CORS.

A response is {"status", "headers": [[name, value], ...], "body", "delay_ms"}. Headers
are checked as HTTP allows them, so that nothing a bin's owner types can split a
response or smuggle another: no CR, LF or NUL, no hop-by-hop or framing headers.
"""

import re

from django.conf import settings

from .templating import BadTemplate, check

TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# Framing and hop-by-hop headers are the server's to write.
FORBIDDEN = {
    "connection",
    "content-length",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
# An ASGI message our server (inspector.server) takes: close, answering nothing.
CLOSE = "inspector.close"
COOKIES = {"set-cookie", "set-cookie2"}
NO_BODY = {204, 205, 304}  # statuses HTTP gives no body
MAX_HEADERS = 50
MAX_HEADER_VALUE = 8 * 1024  # characters, as typed (templates unrendered)
MAX_BODY = 64 * 1024  # characters
CORS_HEADERS = [
    (b"access-control-allow-origin", b"*"),
    (b"access-control-expose-headers", b"*"),
]


class BadResponse(ValueError):
    """A response a bin may not give; the message says what to change."""


def clean_status(value):
    if not isinstance(value, int) or isinstance(value, bool) or not 200 <= value <= 599:
        raise BadResponse("status must be a whole number from 200 to 599.")
    return value


def clean_headers(value):
    if not isinstance(value, list) or len(value) > MAX_HEADERS:
        raise BadResponse(f"headers must be a list of at most {MAX_HEADERS} [name, value] pairs.")
    headers = []
    for pair in value:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise BadResponse("each header must be [name, value], both text.")
        name, text = pair[0].strip(), pair[1].strip()
        if not TOKEN.fullmatch(name):
            raise BadResponse(
                f"{name!r} is not a header name (letters, digits and !#$%&'*+.^_`|~-)."
            )
        if name.lower() in FORBIDDEN:
            raise BadResponse(f"{name} is the server's to send, not a bin's.")
        if name.lower() in COOKIES:
            raise BadResponse(
                f"a bin may not send {name}: its answers come from Inspector's own site, "
                "whose cookies are its visitors' sessions."
            )
        if len(text) > MAX_HEADER_VALUE:
            raise BadResponse(f"the value of {name} is over {MAX_HEADER_VALUE:,} characters.")
        if BAD_VALUE.search(text):
            raise BadResponse(
                f"the value of {name} may not hold control characters or line breaks."
            )
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise BadResponse(f"the value of {name} must be Latin-1 text.") from None
        checked(text, f"the value of {name}")
        headers.append([name, text])
    return headers


def checked(template, where):
    try:
        check(template)
    except BadTemplate as problem:
        raise BadResponse(f"{where}: {problem}") from None
    return template


def clean_response(value):
    """A response as a bin's owner gave it, checked and completed; None for the default."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadResponse("response must be an object, or null for the default answer.")
    unknown = set(value) - {"status", "headers", "body", "delay_ms"}
    if unknown:
        raise BadResponse(f"unknown response field: {sorted(unknown)[0]}.")
    status = clean_status(value.get("status", 200))
    headers = clean_headers(value.get("headers", []))
    body = value.get("body", "")
    if not isinstance(body, str) or len(body) > MAX_BODY:
        raise BadResponse(f"body must be text of at most {MAX_BODY:,} characters.")
    if body and status in NO_BODY:
        raise BadResponse(f"a {status} answer has no body in HTTP.")
    checked(body, "body")
    delay = value.get("delay_ms", 0)
    most = settings.INSPECTOR_MAX_RESPONSE_DELAY * 1000
    if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= most:
        raise BadResponse(f"delay_ms must be a whole number from 0 to {most}.")
    return {"status": status, "headers": headers, "body": body, "delay_ms": delay}


def preflight(scope):
    """Whether a request is a CORS preflight (OPTIONS with Access-Control-Request-Method)."""
    if scope["method"] != "OPTIONS":
        return False
    return any(name == b"access-control-request-method" for name, _ in scope["headers"])


def preflight_headers(scope):
    asked = dict(scope["headers"]).get(b"access-control-request-headers", b"*")
    return [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-allow-methods", b"*"),
        (b"access-control-allow-headers", asked or b"*"),
        (b"access-control-max-age", b"600"),
    ]


MAX_RULES = 50
WHEN_FIELDS = {"method", "path", "query", "headers", "json"}


def clean_when(value, where):
    """A rule's conditions: {"method", "path" (a glob), "query", "headers", "json" (each
    {name: glob})}; all must hold. Empty: every request."""
    if not isinstance(value, dict) or set(value) - WHEN_FIELDS:
        raise BadResponse(f"{where}: when takes {', '.join(sorted(WHEN_FIELDS))}.")
    when = {}
    method = value.get("method", "")
    if not isinstance(method, str) or (method and not TOKEN.fullmatch(method)):
        raise BadResponse(f"{where}: method must be a method name such as POST, or empty.")
    if method:
        when["method"] = method.upper()
    path = value.get("path", "")
    if not isinstance(path, str) or len(path) > 1000:
        raise BadResponse(f"{where}: path must be a pattern such as /github/* or empty.")
    if path:
        when["path"] = path
    for field in ("query", "headers", "json"):
        conditions = value.get(field, {})
        if not isinstance(conditions, dict) or len(conditions) > 20:
            raise BadResponse(f"{where}: {field} must be an object of at most 20 name: pattern.")
        for name, pattern in conditions.items():
            if not name or len(name) > 200 or not isinstance(pattern, str) or len(pattern) > 1000:
                raise BadResponse(f"{where}: {field} must map names to patterns (text).")
        if conditions:
            when[field] = dict(conditions)
    return when


def clean_rules(value):
    """A bin's rules, in order: [{"name", "when", "response"}, ...]."""
    if not isinstance(value, list) or len(value) > MAX_RULES:
        raise BadResponse(f"rules must be a list of at most {MAX_RULES} rules.")
    rules = []
    for number, rule in enumerate(value, 1):
        where = f"rule {number}"
        if not isinstance(rule, dict) or set(rule) - {"name", "when", "response"}:
            raise BadResponse(f"{where} must be an object with name, when and response.")
        name = rule.get("name") or where
        if not isinstance(name, str) or len(name) > 100:
            raise BadResponse(f"{where}: name must be text of at most 100 characters.")
        try:
            response = clean_response(rule.get("response", {}))
        except BadResponse as problem:
            raise BadResponse(f"{where}: {problem}") from None
        if response is None:
            raise BadResponse(f"{where}: response must be an object.")
        rules.append(
            {
                "name": name.strip(),
                "when": clean_when(rule.get("when", {}), where),
                "response": response,
            }
        )
    return rules


FAILURE_WHICH = {"first", "percent", "all"}
FAILURE_HOW = {"error", "rate_limit", "hang", "close"}


def whole(value, low, high, what):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise BadResponse(f"{what} must be a whole number from {low} to {high}.")
    return value


def clean_failures(value):
    """A failure script, or None: which requests fail ("first" `count`, a `percent`,
    or "all") and how ("error" with a 5xx `status`, "rate_limit": 429 with
    `retry_after` seconds, "hang": no answer until the delay cap, then the connection
    closes, "close": the connection closes at once)."""
    if value is None:
        return None
    fields = {"which", "count", "percent", "how", "status", "retry_after"}
    if not isinstance(value, dict) or set(value) - fields:
        raise BadResponse(f"failures must be an object with {', '.join(sorted(fields))}, or null.")
    which, how = value.get("which"), value.get("how", "error")
    if which not in FAILURE_WHICH:
        raise BadResponse("failures.which must be first, percent or all.")
    if how not in FAILURE_HOW:
        raise BadResponse("failures.how must be error, rate_limit, hang or close.")
    script = {"which": which, "how": how}
    if which == "first":
        script["count"] = whole(value.get("count"), 1, 1_000_000, "failures.count")
    if which == "percent":
        script["percent"] = whole(value.get("percent"), 1, 100, "failures.percent")
    if how == "error":
        script["status"] = whole(value.get("status", 503), 500, 599, "failures.status")
    if how == "rate_limit":
        script["retry_after"] = whole(
            value.get("retry_after", 60), 0, 86400, "failures.retry_after"
        )
    return script
