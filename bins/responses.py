"""What a bin answers senders: its response (checked here, before it is saved) and CORS.

A response is {"status", "headers": [[name, value], ...], "body", "delay_ms"}. Headers
are checked as HTTP allows them, so that nothing a bin's owner types can split a
response or smuggle another: no CR, LF or NUL, no hop-by-hop or framing headers.
"""

import re

from django.conf import settings

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
NO_BODY = {204, 205, 304}  # statuses HTTP gives no body
MAX_HEADERS = 50
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
        if BAD_VALUE.search(text):
            raise BadResponse(
                f"the value of {name} may not hold control characters or line breaks."
            )
        try:
            text.encode("latin-1")
        except UnicodeEncodeError:
            raise BadResponse(f"the value of {name} must be Latin-1 text.") from None
        headers.append([name, text])
    return headers


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
