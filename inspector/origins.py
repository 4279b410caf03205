"""Websocket origin check by scheme, host and port (Channels' own validator
compares host names only, PITFALLS.md)."""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value):
    """`https://Example.com` -> ("https", "example.com", 443), or None if malformed."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return parts.scheme, parts.hostname.lower(), port or DEFAULT_PORTS[parts.scheme]


def origin_allowed(origin, host, secure, allowed_hosts, extra_origins=()):
    """May a browser page at `origin` open a websocket sent with this Host header?

    Same origin as the request (scheme, host and port), or one of `extra_origins`.
    No Origin at all means no browser, which is no cross-site risk."""
    if origin is None:
        return True
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, allowed_hosts):
        return False  # also stops DNS rebinding: the attacker's name is not ours
    wanted = normalize_origin(origin)
    if wanted is None:
        return False
    scheme = "https" if secure else "http"
    candidates = [f"{scheme}://{host}", *extra_origins]
    return any(wanted == normalize_origin(candidate) for candidate in candidates)


def header(scope, name):
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


class OriginValidator:
    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        extra = [settings.PUBLIC_URL, *settings.INSPECTOR_ALLOWED_ORIGINS]
        allowed = origin_allowed(
            header(scope, b"origin"),
            header(scope, b"host") or "",
            scope.get("scheme") == "wss",
            settings.ALLOWED_HOSTS,
            [origin for origin in extra if origin],
        )
        if not allowed:
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
