"""Webhook signature checks: pure functions, no database and no web code.

The interface, for the models, the API and the page that use it:

- PROVIDERS: provider id -> {"label": ..., "options": {name: default}}; CHOICES holds the
  allowed values of the generic HMAC's enumerated options.
- clean_config(provider, options) -> the options completed with their defaults;
  clean_secret(provider, secret) -> the secret stripped. Both raise BadSignatureConfig,
  a ValueError whose message is for the user.
- verify(provider, secret, options, *, method, url, headers, body, now) -> Verdict, with
  the cleaned secret and options; headers as [name, value] pairs of latin-1 text (as
  bins.capture decodes them; names in any case, the first of a repeated header counts),
  body the exact bytes received, url the full URL the sender used, now a unix time.
  It raises BadSignatureConfig only for an unknown provider or an uncleaned secret.
- Verdict: status "valid" | "invalid" | "unsigned"; cause None, or for "invalid" one of
  CAUSES; message in plain words; expected and received, the signatures as the header
  carries them (GitLab's token is the secret itself, so both are masked); to_json().
  Timestamps are judged as each provider's library does: Stripe turns away old ones
  only, Slack and Standard Webhooks both old and future ones; a tolerance of 0 turns
  the check off. Twilio signatures pass for the URL with or without its port, as in
  Twilio's validator; a JSON body is checked through the bodySHA256 of the URL.
  A mismatch is diagnosed as body_changed when a rewriting of the body (final newline,
  JSON re-serialized, the latter for bodies up to MAX_REWRITTEN bytes) matches.
- sign(provider, secret, options, *, url, body, now) -> [[name, value], ...], the headers
  that sign body for url validly (the signed test sender); sample_event(provider) ->
  (content_type, body), a small realistic event to send with them.
- mask_secret(secret) -> a hint of the secret, for display and logs.

Every comparison of signatures or tokens goes through hmac.compare_digest.
"""

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import asdict, dataclass
from functools import partial
from itertools import product
from urllib.parse import parse_qs, parse_qsl, urlsplit, urlunsplit

VALID, INVALID, UNSIGNED = "valid", "invalid", "unsigned"
WRONG_SECRET = "wrong_secret"
BODY_CHANGED = "body_changed"
TIMESTAMP_OUTSIDE_TOLERANCE = "timestamp_outside_tolerance"
HEADER_MALFORMED = "header_malformed"
OTHER_URL = "other_url"
CAUSES = (WRONG_SECRET, BODY_CHANGED, TIMESTAMP_OUTSIDE_TOLERANCE, HEADER_MALFORMED, OTHER_URL)

DEFAULT_TOLERANCE = 300  # seconds, what Stripe's, Slack's and Standard Webhooks' libraries use
MAX_TOLERANCE = 86400
CHOICES = {
    "algorithm": ("sha1", "sha256", "sha512"),
    "encoding": ("hex", "base64"),
    "signed": ("body", "timestamp_body"),
}
PROVIDERS = {
    "github": {"label": "GitHub", "options": {}},
    "stripe": {"label": "Stripe", "options": {"tolerance": DEFAULT_TOLERANCE}},
    "slack": {"label": "Slack", "options": {"tolerance": DEFAULT_TOLERANCE}},
    "shopify": {"label": "Shopify", "options": {}},
    "standard": {
        "label": "Standard Webhooks / Svix",
        "options": {"tolerance": DEFAULT_TOLERANCE},
    },
    "twilio": {"label": "Twilio", "options": {}},
    "gitlab": {"label": "GitLab (secret token)", "options": {}},
    "hmac": {
        "label": "Generic HMAC",
        "options": {
            "header": "",  # required: the header that carries the signature
            "algorithm": "sha256",
            "encoding": "hex",
            "prefix": "",  # before the signature in the header, such as "sha256="
            "signed": "body",  # or "timestamp_body": timestamp, separator, body
            "timestamp_header": "",  # required with "timestamp_body"
            "separator": ".",
            "tolerance": DEFAULT_TOLERANCE,  # 0: any timestamp will do
        },
    },
}
MAX_SECRET = 1000
MAX_REWRITTEN = 16 * 1024  # bytes of JSON body re-serialized to diagnose a changed body
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
PRINTABLE = re.compile(r"[\x20-\x7e]*")
DIGITS = re.compile(r"[0-9]{1,12}")
HEX = re.compile(r"[0-9a-fA-F]*")
SECRET_PREFIX = re.compile(r"[A-Za-z]{2,8}_")
JSON_WAYS = [
    ("json.dumps defaults", {}),
    ("compact", {"separators": (",", ":")}),
    ("sorted keys", {"sort_keys": True}),
    ("compact, sorted keys", {"separators": (",", ":"), "sort_keys": True}),
    ("indented", {"indent": 2}),
    ("non-ASCII unescaped", {"ensure_ascii": False}),
    ("compact, non-ASCII unescaped", {"separators": (",", ":"), "ensure_ascii": False}),
]


class BadSignatureConfig(ValueError):
    """Signature settings a bin may not have; the message says what to change."""


@dataclass(frozen=True)
class Verdict:
    status: str
    cause: str | None = None
    message: str = ""
    expected: str | None = None
    received: str | None = None

    def to_json(self):
        return asdict(self)


@dataclass(frozen=True)
class _Signed:
    """What a request's headers say, read for one provider, ready to be judged."""

    received: str  # the signature header as it came
    signatures: list  # the signatures in it, decoded
    digest: object  # body bytes -> the signature they should have
    show: object  # signature bytes -> as the header carries it
    timestamp: int | None = None
    tolerance: int = 0
    # Stripe's library turns away old timestamps only; the others, both directions.
    future_ok: bool = False


# Settings


def clean_config(provider, options):
    """The provider's options, checked and completed with defaults."""
    if provider not in PROVIDERS:
        raise BadSignatureConfig(f"provider must be one of: {', '.join(PROVIDERS)}.")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise BadSignatureConfig("options must be an object.")
    defaults = PROVIDERS[provider]["options"]
    if unknown := sorted(set(options) - set(defaults)):
        raise BadSignatureConfig(f"{PROVIDERS[provider]['label']} has no option {unknown[0]!r}.")
    config = {**defaults, **options}
    if "tolerance" in config:
        config["tolerance"] = _clean_tolerance(config["tolerance"])
    if provider == "hmac":
        _clean_hmac(config)
    return config


def _clean_tolerance(value):
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_TOLERANCE:
        raise BadSignatureConfig(
            f"tolerance must be a whole number of seconds from 0 (no limit) to {MAX_TOLERANCE}."
        )
    return value


def _clean_hmac(config):
    for name, allowed in CHOICES.items():
        if config[name] not in allowed:
            raise BadSignatureConfig(f"{name} must be one of: {', '.join(allowed)}.")
    for name in ("header", "prefix", "timestamp_header", "separator"):
        if not isinstance(config[name], str) or not PRINTABLE.fullmatch(config[name]):
            raise BadSignatureConfig(f"{name} must be text of printable ASCII characters.")
    config["header"] = config["header"].strip()
    config["timestamp_header"] = config["timestamp_header"].strip()
    if not TOKEN.fullmatch(config["header"]):
        raise BadSignatureConfig("header must be the name of the header carrying the signature.")
    if len(config["prefix"]) > 32 or len(config["separator"]) > 8:
        raise BadSignatureConfig("prefix may be 32 characters long at most, separator 8.")
    if config["signed"] == "timestamp_body" and not TOKEN.fullmatch(config["timestamp_header"]):
        raise BadSignatureConfig(
            "timestamp_header must name the header carrying the timestamp that is signed."
        )


def clean_secret(provider, secret):
    """The secret as the provider gives it, stripped of surrounding spaces."""
    if not isinstance(secret, str) or not secret.strip():
        raise BadSignatureConfig("the signing secret may not be empty.")
    secret = secret.strip()
    if len(secret) > MAX_SECRET:
        raise BadSignatureConfig(f"the signing secret may be {MAX_SECRET} characters at most.")
    if provider == "standard":
        _standard_key(secret)
    if provider == "gitlab" and not PRINTABLE.fullmatch(secret):
        raise BadSignatureConfig("a GitLab secret token is printable ASCII text.")
    return secret


def mask_secret(secret):
    """A hint of a secret that gives nothing useful away: its kind of prefix, its end."""
    prefix = match.group() if (match := SECRET_PREFIX.match(secret)) else ""
    rest = secret[len(prefix) :]
    hint = rest[-4:] if len(rest) >= 20 else ""
    return f"{prefix}{'•' * 8}{hint}"


# Checking


def verify(provider, secret, options, *, method, url, headers, body, now):
    """Whether the request is signed, and validly, by the holder of secret."""
    if provider == "gitlab":
        return _verify_gitlab(secret, headers)
    if provider == "twilio":
        try:
            return _verify_twilio(secret, method, url, headers, body)
        except ValueError:  # a Host no URL can hold ("a:99999"): no URL to check against
            return _malformed("Host", _header(headers, "Host"), "a host and port a URL can hold")
    if provider not in READERS:
        raise BadSignatureConfig(f"provider must be one of: {', '.join(PROVIDERS)}.")
    signed = READERS[provider](secret, options, headers)
    if isinstance(signed, Verdict):
        return signed
    return _judge(signed, body, int(now))


def _judge(signed, body, now):
    expected = signed.digest(body)
    verdict = partial(Verdict, expected=signed.show(expected), received=signed.received)
    if _matches(expected, signed.signatures):
        if late := _lateness(signed, now):
            return verdict(INVALID, TIMESTAMP_OUTSIDE_TOLERANCE, late)
        return verdict(VALID, None, "The signature matches the exact bytes received.")
    for how, variant in _rewritten(body):
        if _matches(signed.digest(variant), signed.signatures):
            return verdict(
                INVALID,
                BODY_CHANGED,
                f"The signature matches the body {how}, not the exact bytes received: "
                "the body was changed between signing and sending.",
            )
    return verdict(INVALID, WRONG_SECRET, _WRONG_SECRET)


_WRONG_SECRET = (
    "The signature does not match: most likely it was made with another secret "
    "(or the signed parts were changed on the way)."
)


def _matches(expected, received):
    """Whether any of the received signatures is the expected one, in constant time each."""
    found = False
    for signature in received:
        found |= hmac.compare_digest(expected, signature)
    return found


def _lateness(signed, now):
    if not signed.tolerance or signed.timestamp is None:
        return None
    age = now - signed.timestamp
    if age > signed.tolerance:
        when = f"{age} seconds before it arrived"
    elif -age > signed.tolerance and not signed.future_ok:
        when = f"{-age} seconds after it arrived (a clock running ahead)"
    else:
        return None
    return (
        f"The signature matches, but the request is stamped {when}, beyond the "
        f"{signed.tolerance} seconds allowed: a replayed request, or a clock out of step."
    )


def _rewritten(body):
    """The body written another way, as a sender or a proxy might have: (how, bytes)."""
    ways = [
        ("without its final newline", body.rstrip(b"\r\n")),
        ("with a final newline", body + b"\n"),
        *_reserialized(body),
    ]
    seen = {body}
    for how, variant in ways:
        if variant not in seen:
            seen.add(variant)
            yield how, variant


def _reserialized(body):
    # Parsing and writing a body seven ways costs about 0.3 ms a KiB: bigger bodies are
    # not tried, so that a flood of them cannot stall whoever judges them (the writer).
    if len(body) > MAX_REWRITTEN:
        return []
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # not JSON (UnicodeDecodeError is a ValueError)
        return []
    return [
        (f"re-serialized as JSON ({how})", json.dumps(data, **kwargs).encode())
        for how, kwargs in JSON_WAYS
    ]


def _header(headers, name):
    """The first value of a header, stripped, or None when the request has none."""
    name = name.lower()
    for key, value in headers:
        if key.lower() == name:
            return value.strip()
    return None


def _raw(text):
    """Header text back to the bytes that came on the wire."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


def _unsigned(name):
    return Verdict(UNSIGNED, None, f"There is no {name} header: the request is not signed.")


def _malformed(name, value, wanted):
    if value is None:
        message = f"The {name} header is missing: it should hold {wanted}."
    else:
        message = f"The {name} header cannot be read: it should hold {wanted}."
    return Verdict(INVALID, HEADER_MALFORMED, message, received=value)


def _mac(algorithm, key, message):
    return hmac.new(key, message, algorithm).digest()


def _from_hex(text, size):
    return bytes.fromhex(text) if len(text) == 2 * size and HEX.fullmatch(text) else None


def _from_base64(text, size):
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return raw if len(raw) == size else None


def _b64(raw):
    return base64.b64encode(raw).decode()


ENCODINGS = {"hex": (_from_hex, bytes.hex), "base64": (_from_base64, _b64)}


def _read_hmac(secret, options, headers):
    """A signature over the body, or over a timestamp and the body, in one header."""
    name, algorithm, prefix = options["header"], options["algorithm"], options["prefix"]
    value = _header(headers, name)
    if value is None:
        return _unsigned(name)
    decode, encode = ENCODINGS[options["encoding"]]
    size = hashlib.new(algorithm).digest_size
    signature = decode(value.removeprefix(prefix), size) if value.startswith(prefix) else None
    if signature is None:
        wanted = f"{prefix}{algorithm.upper()} signature in {options['encoding']}"
        return _malformed(name, value, f'"{wanted}"' if prefix else f"a {wanted}")
    key = secret.encode()
    head, timestamp, tolerance = b"", None, 0
    if options["signed"] == "timestamp_body":
        stamp = _header(headers, options["timestamp_header"])
        tolerance = options["tolerance"]
        if stamp is None or (tolerance and not DIGITS.fullmatch(stamp)):
            return _malformed(options["timestamp_header"], stamp, "the signed unix time")
        head = _raw(stamp) + options["separator"].encode()
        timestamp = int(stamp) if DIGITS.fullmatch(stamp) else None
    return _Signed(
        value,
        [signature],
        lambda body: _mac(algorithm, key, head + body),
        lambda sig: prefix + encode(sig),
        timestamp,
        tolerance,
    )


GITHUB = {"header": "X-Hub-Signature-256", "algorithm": "sha256", "prefix": "sha256="}
GITHUB_SHA1 = {"header": "X-Hub-Signature", "algorithm": "sha1", "prefix": "sha1="}
SHOPIFY = {"header": "X-Shopify-Hmac-Sha256", "algorithm": "sha256", "encoding": "base64"}
HMAC_BODY = {"algorithm": "sha256", "encoding": "hex", "prefix": "", "signed": "body"}


def _read_github(secret, options, headers):
    # GitHub sends both; the SHA-1 one alone comes from older senders.
    legacy = _header(headers, "X-Hub-Signature-256") is None
    legacy = legacy and _header(headers, "X-Hub-Signature") is not None
    return _read_hmac(secret, {**HMAC_BODY, **(GITHUB_SHA1 if legacy else GITHUB)}, headers)


def _read_shopify(secret, options, headers):
    return _read_hmac(secret, {**HMAC_BODY, **SHOPIFY}, headers)


def _read_stripe(secret, options, headers):
    value = _header(headers, "Stripe-Signature")
    if value is None:
        return _unsigned("Stripe-Signature")
    fields = [item.split("=", 1) for item in value.split(",")]
    fields = [(pair[0].strip(), pair[1].strip()) for pair in fields if len(pair) == 2]
    stamps = [text for key, text in fields if key == "t"]
    signatures = [sig for key, text in fields if key == "v1" if (sig := _from_hex(text, 32))]
    if not stamps or not DIGITS.fullmatch(stamps[0]) or not signatures:
        return _malformed(
            "Stripe-Signature", value, '"t=<unix time>" and one or more "v1=<64 hex digits>"'
        )
    timestamp, key = int(stamps[0]), secret.encode()
    return _Signed(
        value,
        signatures,
        lambda body: _mac("sha256", key, b"%d.%s" % (timestamp, body)),
        lambda sig: f"t={timestamp},v1={sig.hex()}",
        timestamp,
        options["tolerance"],
        future_ok=True,
    )


def _read_slack(secret, options, headers):
    value = _header(headers, "X-Slack-Signature")
    if value is None:
        return _unsigned("X-Slack-Signature")
    stamp = _header(headers, "X-Slack-Request-Timestamp")
    if stamp is None or not DIGITS.fullmatch(stamp):
        return _malformed("X-Slack-Request-Timestamp", stamp, "the signed unix time")
    signature = _from_hex(value[3:], 32) if value.startswith("v0=") else None
    if signature is None:
        return _malformed("X-Slack-Signature", value, '"v0=" and 64 hex digits')
    key = secret.encode()
    return _Signed(
        value,
        [signature],
        lambda body: _mac("sha256", key, b"v0:%s:%s" % (stamp.encode(), body)),
        lambda sig: "v0=" + sig.hex(),
        int(stamp),
        options["tolerance"],
    )


def _read_standard(secret, options, headers):
    # Svix sends the same headers under its own name.
    family = "svix" if _header(headers, "webhook-signature") is None else "webhook"
    value = _header(headers, f"{family}-signature")
    if value is None:
        return _unsigned("webhook-signature")
    msg_id = _header(headers, f"{family}-id")
    stamp = _header(headers, f"{family}-timestamp")
    if not msg_id:
        return _malformed(f"{family}-id", msg_id, "the message id that is signed")
    if stamp is None or not DIGITS.fullmatch(stamp):
        return _malformed(f"{family}-timestamp", stamp, "the signed unix time")
    signatures = [
        sig
        for item in value.split()
        if item.startswith("v1,") and (sig := _from_base64(item[3:], 32))
    ]
    if not signatures:
        return _malformed(f"{family}-signature", value, '"v1,<base64>" items, space-separated')
    key, head = _standard_key(secret), b"%s.%s." % (_raw(msg_id), stamp.encode())
    return _Signed(
        value,
        signatures,
        lambda body: _mac("sha256", key, head + body),
        lambda sig: "v1," + _b64(sig),
        int(stamp),
        options["tolerance"],
    )


def _standard_key(secret):
    """The key of a Standard Webhooks secret: the base64 after "whsec_"."""
    text = secret.removeprefix("whsec_").rstrip("=")
    try:
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        key = b""
    if not key:
        raise BadSignatureConfig('a Standard Webhooks secret is "whsec_" and base64 text.')
    return key


READERS = {
    "github": _read_github,
    "stripe": _read_stripe,
    "slack": _read_slack,
    "shopify": _read_shopify,
    "standard": _read_standard,
    "hmac": _read_hmac,
}


def _verify_gitlab(secret, headers):
    value = _header(headers, "X-Gitlab-Token")
    if value is None:
        return _unsigned("X-Gitlab-Token")
    verdict = partial(Verdict, expected=mask_secret(secret), received=mask_secret(value))
    if hmac.compare_digest(_raw(value), secret.encode()):
        return verdict(VALID, None, "The X-Gitlab-Token header is the bin's secret token.")
    return verdict(INVALID, WRONG_SECRET, "The X-Gitlab-Token header is another token.")


def _verify_twilio(secret, method, url, headers, body):
    value = _header(headers, "X-Twilio-Signature")
    if value is None:
        return _unsigned("X-Twilio-Signature")
    algorithm = _twilio_algorithm(headers)
    signature = _from_base64(value, hashlib.new(algorithm).digest_size)
    if signature is None:
        return _malformed("X-Twilio-Signature", value, f"a base64 HMAC-{algorithm.upper()}")
    body_hash = parse_qs(urlsplit(url).query).get("bodySHA256", [None])[0]
    form = (_header(headers, "Content-Type") or "").split(";")[0].strip().lower()
    signs_form = method.upper() != "GET" and form == "application/x-www-form-urlencoded"
    params = _twilio_params(body) if signs_form and body_hash is None else ""

    def digest(signed_url):
        return _mac(algorithm, secret.encode(), (signed_url + params).encode())

    verdict = partial(Verdict, expected=_b64(digest(url)), received=value)
    # Twilio's own validator takes the URL with and without its port alike.
    if _matches(signature, [digest(_without_port(url)), digest(_with_port(url))]):
        if body_hash is not None and not hmac.compare_digest(
            hashlib.sha256(body).hexdigest(), body_hash
        ):
            return verdict(
                INVALID,
                BODY_CHANGED,
                "The signature matches, but the body's SHA-256 is not the bodySHA256 of "
                "the URL: the body was changed between signing and sending.",
            )
        return verdict(VALID, None, "The signature matches this URL and these parameters.")
    for other in _other_urls(url):
        if _matches(signature, [digest(other)]):
            return verdict(
                INVALID,
                OTHER_URL,
                f"The signature was made for {other}, not for the URL the request reached: "
                "Twilio signs the exact URL it was given, scheme, port and query included.",
            )
    return verdict(INVALID, WRONG_SECRET, _WRONG_SECRET)


def _twilio_algorithm(headers):
    """HMAC-SHA1 with the Auth Token, unless the request names SHA-256 (a shared key)."""
    settings = _header(headers, "X-Twilio-Webhooks-Signature-Settings") or ""
    for part in settings.split(","):
        name, _, algorithm = part.partition("=")
        if name.strip() == "algorithm" and algorithm.strip().upper() == "HMAC_SHA256":
            return "sha256"
    return "sha1"


def _twilio_params(body):
    """Form parameters as Twilio signs them: sorted by name, each name and value run on."""
    pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    values = {}
    for name, value in pairs:
        values.setdefault(name, set()).add(value)
    return "".join(name + value for name in sorted(values) for value in sorted(values[name]))


def _without_port(url):
    parts = urlsplit(url)
    if parts.port is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0]))


def _with_port(url):
    parts = urlsplit(url)
    if parts.port is not None:
        return url
    port = 443 if parts.scheme == "https" else 80
    return urlunsplit(parts._replace(netloc=f"{parts.netloc}:{port}"))


def _other_urls(url):
    """URLs a sender may have signed instead of this one: the other scheme, no query,
    the path with or without a final slash, each with and without its port."""
    parts = urlsplit(url)
    swapped = {"http": "https", "https": "http"}.get(parts.scheme, parts.scheme)
    path = parts.path
    toggled = path[:-1] if path.endswith("/") and len(path) > 1 else path + "/"
    accepted = {_without_port(url), _with_port(url)}
    seen = set()
    for scheme, query, slash in product(
        (parts.scheme, swapped), (parts.query, ""), (path, toggled)
    ):
        base = urlunsplit(parts._replace(scheme=scheme, query=query, path=slash))
        for candidate in (base, _without_port(base), _with_port(base)):
            if candidate not in accepted and candidate not in seen:
                seen.add(candidate)
                yield candidate


# Signing, for the test sender


def sign(provider, secret, options, *, url, body, now):
    """The headers that sign body, sent to url, the provider's way."""
    now = int(now)
    if provider == "github":
        key = secret.encode()
        return [
            ["X-Hub-Signature-256", "sha256=" + _mac("sha256", key, body).hex()],
            ["X-Hub-Signature", "sha1=" + _mac("sha1", key, body).hex()],
        ]
    if provider == "stripe":
        mac = _mac("sha256", secret.encode(), b"%d.%s" % (now, body))
        return [["Stripe-Signature", f"t={now},v1={mac.hex()}"]]
    if provider == "slack":
        mac = _mac("sha256", secret.encode(), b"v0:%d:%s" % (now, body))
        return [["X-Slack-Request-Timestamp", str(now)], ["X-Slack-Signature", "v0=" + mac.hex()]]
    if provider == "shopify":
        return [["X-Shopify-Hmac-Sha256", _b64(_mac("sha256", secret.encode(), body))]]
    if provider == "standard":
        msg_id = "msg_" + secrets.token_urlsafe(18)
        mac = _mac("sha256", _standard_key(secret), b"%s.%d.%s" % (msg_id.encode(), now, body))
        return [
            ["webhook-id", msg_id],
            ["webhook-timestamp", str(now)],
            ["webhook-signature", "v1," + _b64(mac)],
        ]
    if provider == "twilio":
        mac = _mac("sha1", secret.encode(), (url + _twilio_params(body)).encode())
        return [["X-Twilio-Signature", _b64(mac)]]
    if provider == "gitlab":
        return [["X-Gitlab-Token", secret]]
    if provider == "hmac":
        return _sign_hmac(secret, options, body, now)
    raise BadSignatureConfig(f"provider must be one of: {', '.join(PROVIDERS)}.")


def _sign_hmac(secret, options, body, now):
    headers, head = [], b""
    if options["signed"] == "timestamp_body":
        headers.append([options["timestamp_header"], str(now)])
        head = b"%d%s" % (now, options["separator"].encode())
    mac = _mac(options["algorithm"], secret.encode(), head + body)
    encode = ENCODINGS[options["encoding"]][1]
    return [*headers, [options["header"], options["prefix"] + encode(mac)]]


JSON = "application/json"
SAMPLES = {
    "github": (
        JSON,
        b'{"zen":"Keep it logically awesome.","hook_id":109948940,"hook":{"type":"Repository",'
        b'"id":109948940,"events":["push"],"active":true},"repository":{"id":35129377,'
        b'"full_name":"octo-org/hello-world","private":false},"sender":{"login":"octocat",'
        b'"id":583231,"type":"User"}}',
    ),
    "stripe": (
        JSON,
        b'{"id":"evt_1NG8Du2eZvKYlo2CUI79vXWy","object":"event","api_version":"2023-10-16",'
        b'"created":1686089970,"type":"payment_intent.succeeded","livemode":false,'
        b'"data":{"object":{"id":"pi_3NG8Du2eZvKYlo2C0WFtpyUB","object":"payment_intent",'
        b'"amount":2000,"currency":"usd","status":"succeeded"}}}',
    ),
    "slack": (
        JSON,
        b'{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","team_id":"T061EG9R6","api_app_id":"A0PNCHHK2",'
        b'"type":"event_callback","event_id":"Ev0PV52K25","event_time":1355517523,'
        b'"event":{"type":"app_mention","user":"U061F7AUR",'
        b'"text":"<@U0LAN0Z89> is it everything a river should be?","ts":"1515449522.000016",'
        b'"channel":"C0LAN2Q65"}}',
    ),
    "shopify": (
        JSON,
        b'{"id":820982911946154508,"email":"jon@example.com",'
        b'"created_at":"2024-01-01T12:00:00-05:00","currency":"USD","total_price":"199.00",'
        b'"financial_status":"paid","line_items":[{"id":866550311766439020,'
        b'"title":"IPod Nano - 8GB","quantity":1}]}',
    ),
    "standard": (
        JSON,
        b'{"type":"user.created","timestamp":"2024-01-01T12:00:00Z",'
        b'"data":{"id":"user_2Zb6T4hLd","email":"ada@example.com","name":"Ada"}}',
    ),
    "twilio": (
        "application/x-www-form-urlencoded",
        b"ToCountry=US&ToState=CA&SmsMessageSid=SM2f5f2a0e8b1c4d6e9a7b3c1d0e8f6a4b"
        b"&NumMedia=0&SmsSid=SM2f5f2a0e8b1c4d6e9a7b3c1d0e8f6a4b&SmsStatus=received"
        b"&Body=Hello+from+Inspector&To=%2B15005550006&NumSegments=1"
        b"&MessageSid=SM2f5f2a0e8b1c4d6e9a7b3c1d0e8f6a4b"
        b"&AccountSid=ACb7c1e5d3a9f04c2e8d6b4a2c0e9f7d5b&From=%2B14155550100&ApiVersion=2010-04-01",
    ),
    "gitlab": (
        JSON,
        b'{"object_kind":"push","event_name":"push",'
        b'"before":"95790bf891e76fee5e1747ab589903a6a1f80f22",'
        b'"after":"da1560886d4f094c3e6c9ef40349f7d38b5d27d7","ref":"refs/heads/main",'
        b'"user_username":"jsmith","project":{"id":15,"path_with_namespace":"mike/diaspora"},'
        b'"total_commits_count":1}',
    ),
    "hmac": (
        JSON,
        b'{"event":"test.ping","id":"evt_0001","data":{"message":"Hello"}}',
    ),
}


def sample_event(provider):
    """A small event like those the provider sends: (content_type, body)."""
    return SAMPLES[provider]
