"""Inspector settings: every knob is an environment variable (see README)."""

import ipaddress
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    return os.environ.get(name, default)


def envbool(name, default):
    value = os.environ.get(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default, minimum=0):
    value = os.environ.get(name, default).strip()
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}")
    return number


def envfloat(name, default, minimum=0.0):
    value = os.environ.get(name, default).strip()
    try:
        number = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None
    if not number >= minimum:  # also refuses nan
        raise ImproperlyConfigured(f"{name} must be at least {minimum:g}, not {value}")
    return number


def envlist(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DATA_DIR = Path(env("DATA_DIR", str(BASE_DIR / "data"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _secret_key():
    if key := env("SECRET_KEY"):
        return key
    # Generated once and kept beside the data, so restarts keep sessions and signatures.
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = envbool("DEBUG", "false")
# Error reports (DEBUG's page, mails to ADMINS) show no variable of the code that holds
# webhook signing secrets.
DEFAULT_EXCEPTION_REPORTER_FILTER = "bins.signing.ReportFilter"

PUBLIC_URL = env("PUBLIC_URL").rstrip("/")
if PUBLIC_URL and urlsplit(PUBLIC_URL).scheme not in ("http", "https"):
    raise ImproperlyConfigured("PUBLIC_URL must start with http:// or https://")

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
if PUBLIC_URL:
    ALLOWED_HOSTS.append(urlsplit(PUBLIC_URL).hostname)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "channels",
    "bins",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "inspector.middleware.security_headers",
]

ROOT_URLCONF = "inspector.urls"
ASGI_APPLICATION = "inspector.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]


def sqlite_database(path):
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # PITFALLS.md: these settings lost no request under concurrent writers.
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
        # A file, not memory, so a server process under test can share it; one per
        # test run, so two runs never share one.
        "TEST": {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")},
    }


DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL.startswith("sqlite:"):
    DATABASES = {"default": sqlite_database(DATABASE_URL.split(":///", 1)[-1])}
elif DATABASE_URL:
    import dj_database_url

    DATABASES = {"default": dj_database_url.parse(DATABASE_URL)}
    if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must be a postgres:// or sqlite:/// URL")
    # Under ASGI persistent connections leak; the pool hands them back instead.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Checked when taken from the pool, so that a restarted PostgreSQL costs no failed
    # request; and a short wait for one, so that while PostgreSQL is away a capture is
    # answered 503 (senders retry) within seconds rather than held for 20.
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["default"]["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 20, "timeout": 3}}
else:
    DATABASES = {"default": sqlite_database(DATA_DIR / "inspector.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis hosts are given as dicts: redis-py 8's default socket timeout makes idle
# channels-redis readers crash after about 10 s (PITFALLS.md).
REDIS_URL = env("REDIS_URL")
INSPECTOR_REDIS_PREFIX = env("INSPECTOR_REDIS_PREFIX", "inspector")
CHANNEL_CAPACITY = envint("INSPECTOR_CHANNEL_CAPACITY", "1000", minimum=100)
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                        "socket_keepalive": True,
                        "health_check_interval": 15,
                    }
                ],
                "capacity": CHANNEL_CAPACITY,
                "expiry": 60,
                "prefix": INSPECTOR_REDIS_PREFIX,
            },
        }
    }
else:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels.layers.InMemoryChannelLayer",
            "CONFIG": {"capacity": CHANNEL_CAPACITY, "expiry": 60},
        }
    }

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Served by inspector.asgi straight from static/ (docs/decisions.md: why not WhiteNoise).

SECURE_CONTENT_TYPE_NOSNIFF = True
# same-origin, not no-referrer: a bin's URL is its key and never goes to another site, but
# forms need their Origin (browsers send "null" under no-referrer, which fails CSRF).
SECURE_REFERRER_POLICY = "same-origin"
# Served over HTTPS (a reverse proxy ending TLS, which must set X-Forwarded-Proto):
# pages and API redirect to https, tell browsers to stay there, cookies stay secure.
# Capture answers on both, whatever a sender uses.
INSPECTOR_HTTPS = envbool("INSPECTOR_HTTPS", "false")
if INSPECTOR_HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    # Load balancers and Prometheus ask over plain HTTP from inside.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
    SECURE_HSTS_SECONDS = envint("INSPECTOR_HSTS_SECONDS", str(365 * 24 * 3600))
    # For the whole domain: only its owner can say (docs/deploy in the README).
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("INSPECTOR_HSTS_INCLUDE_SUBDOMAINS", "false")
    SECURE_HSTS_PRELOAD = envbool("INSPECTOR_HSTS_PRELOAD", "false")
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
# CSP frame-ancestors 'none' does what X-Frame-Options would (inspector.middleware). The
# API checks CSRF itself, on the requests a session cookie authorizes: the rest carry
# no ambient authority (docs/decisions.md).
SILENCED_SYSTEM_CHECKS = ["security.W002"]

# A browser's session remembers the bins it created (their owner) and the share links
# it opened; a year, so that it outlives the bins it owns.
SESSION_COOKIE_AGE = 365 * 24 * 3600
SESSION_COOKIE_HTTPONLY = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"django.contrib.auth.password_validation.{name}"}
    for name in (
        "UserAttributeSimilarityValidator",
        "MinimumLengthValidator",
        "CommonPasswordValidator",
        "NumericPasswordValidator",
    )
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
# Teams: creating and viewing bins needs a Django user (`manage.py createuser`);
# capture URLs stay open to senders.
INSPECTOR_REQUIRE_LOGIN = envbool("INSPECTOR_REQUIRE_LOGIN", "false")
# Header names whose values a bin with masking on hides: these three, and more by name.
INSPECTOR_EXTRA_SENSITIVE_HEADERS = [
    name.lower() for name in envlist("INSPECTOR_SENSITIVE_HEADERS")
]
INSPECTOR_SENSITIVE_HEADERS = [
    "authorization",
    "cookie",
    "proxy-authorization",
    *INSPECTOR_EXTRA_SENSITIVE_HEADERS,
]
APPEND_SLASH = True

# plain, or json: one JSON object per line. Neither has bodies, secrets or bin ids (a
# public bin's id is its key).
LOG_FORMAT = env("LOG_FORMAT", "plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "inspector.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Limits and behaviour of the capture path.
INSPECTOR_MAX_BODY_BYTES = envint("INSPECTOR_MAX_BODY_BYTES", str(10 * 1024 * 1024), minimum=1)
# Django reads API bodies (an import is the biggest) up to the capture limit; bigger
# ones are refused with 413 before Django sees them (inspector.asgi).
DATA_UPLOAD_MAX_MEMORY_SIZE = INSPECTOR_MAX_BODY_BYTES
INSPECTOR_BIN_TTL = envint("INSPECTOR_BIN_TTL", str(7 * 24 * 3600), minimum=60)
INSPECTOR_MAX_REQUESTS_PER_BIN = envint("INSPECTOR_MAX_REQUESTS_PER_BIN", "1000", minimum=1)
# A request (headers and body) must arrive whole within this many seconds of its
# first byte; slower ones are answered 408 and disconnected (docs/server.md).
INSPECTOR_READ_TIMEOUT = envint("INSPECTOR_READ_TIMEOUT", "60", minimum=1)
# The longest a bin's response may be held back (its delay_ms), in seconds.
INSPECTOR_MAX_RESPONSE_DELAY = envint("INSPECTOR_MAX_RESPONSE_DELAY", "30")
INSPECTOR_PURGE_INTERVAL = envint("INSPECTOR_PURGE_INTERVAL", "3600", minimum=1)
# Token buckets, requests a second and burst; a rate of 0 turns that limit off.
INSPECTOR_BIN_RATE = envint("INSPECTOR_BIN_RATE", "100")
INSPECTOR_BIN_BURST = envint("INSPECTOR_BIN_BURST", "1000", minimum=1)
INSPECTOR_CLIENT_RATE = envint("INSPECTOR_CLIENT_RATE", "100")
INSPECTOR_CLIENT_BURST = envint("INSPECTOR_CLIENT_BURST", "1000", minimum=1)
INSPECTOR_WRITER_BATCH = envint("INSPECTOR_WRITER_BATCH", "500", minimum=1)
INSPECTOR_BACKLOG_LIMIT = envint("INSPECTOR_BACKLOG_LIMIT", "500", minimum=1)
INSPECTOR_WEBSOCKET_BUFFER_BYTES = envint(
    "INSPECTOR_WEBSOCKET_BUFFER_BYTES", str(1024 * 1024), minimum=1024
)
# Websockets: a viewer is pinged every PING_INTERVAL seconds and closed when it has not
# answered within PING_TIMEOUT, so dead and stuck connections do not pile up; and one
# client address may hold at most MAX_WEBSOCKETS_PER_CLIENT of them in each process.
INSPECTOR_WEBSOCKET_PING_INTERVAL = envint("INSPECTOR_WEBSOCKET_PING_INTERVAL", "20", minimum=1)
INSPECTOR_WEBSOCKET_PING_TIMEOUT = envint("INSPECTOR_WEBSOCKET_PING_TIMEOUT", "30", minimum=1)
INSPECTOR_MAX_WEBSOCKETS_PER_CLIENT = envint(
    "INSPECTOR_MAX_WEBSOCKETS_PER_CLIENT", "100", minimum=1
)
# Client addresses are read from X-Forwarded-For only when the peer is one of these
# addresses or networks (CIDR), e.g. "127.0.0.1,10.0.0.0/8" behind a reverse proxy.
INSPECTOR_TRUSTED_PROXIES = envlist("INSPECTOR_TRUSTED_PROXIES")
for _proxy in INSPECTOR_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"INSPECTOR_TRUSTED_PROXIES: {_proxy!r} is not an address or CIDR network"
        ) from None
# Bins created at start and kept for ever (bins.fixed): URL names, and a JSON file.
INSPECTOR_FIXED_BINS = envlist("INSPECTOR_FIXED_BINS")
INSPECTOR_FIXED_BINS_FILE = env("INSPECTOR_FIXED_BINS_FILE")
# /metrics answers whoever sends this as a bearer token; without it, loopback only.
INSPECTOR_METRICS_TOKEN = env("INSPECTOR_METRICS_TOKEN")
# Extra origins (scheme://host[:port]) allowed to open the websocket.
INSPECTOR_ALLOWED_ORIGINS = envlist("INSPECTOR_ALLOWED_ORIGINS")
# Server-side replay and forwarding (bins.outbound): loopback, private, link-local and
# other special addresses are refused unless inside one of these CIDR networks.
INSPECTOR_OUTBOUND_ALLOW = envlist("INSPECTOR_OUTBOUND_ALLOW")
for _network in INSPECTOR_OUTBOUND_ALLOW:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"INSPECTOR_OUTBOUND_ALLOW: {_network!r} is not an address or CIDR network"
        ) from None
INSPECTOR_OUTBOUND_TIMEOUT = envint("INSPECTOR_OUTBOUND_TIMEOUT", "10", minimum=1)
INSPECTOR_OUTBOUND_MAX_RESPONSE = envint(
    "INSPECTOR_OUTBOUND_MAX_RESPONSE", str(1024 * 1024), minimum=0
)
# Forwarding (bins.forwarding): attempts per delivery, the wait before the second
# (doubling after each failure, up to BACKOFF_MAX), how often each process looks for
# due deliveries, and how many it sends at once.
INSPECTOR_FORWARD_ATTEMPTS = envint("INSPECTOR_FORWARD_ATTEMPTS", "5", minimum=1)
INSPECTOR_FORWARD_BACKOFF = envfloat("INSPECTOR_FORWARD_BACKOFF", "10", minimum=0.01)
INSPECTOR_FORWARD_BACKOFF_MAX = envfloat("INSPECTOR_FORWARD_BACKOFF_MAX", "3600", minimum=0.01)
INSPECTOR_FORWARD_POLL = envfloat("INSPECTOR_FORWARD_POLL", "1", minimum=0.05)
# False: this process sends no deliveries (it still records them; others send them).
INSPECTOR_FORWARD_WORKER = envbool("INSPECTOR_FORWARD_WORKER", "true")
INSPECTOR_FORWARD_CONCURRENCY = envint("INSPECTOR_FORWARD_CONCURRENCY", "10", minimum=1)
