"""A bin's webhook signature setting, applied (issue 8): kept with its secret encrypted
(bins.secretbox), and each captured request judged by it (bins.signatures) when read.

Verdicts are never stored. Every list, detail, export and live event judges its requests
by the bin's setting as it is at that moment, so a new secret re-checks all the bin holds.
A Judge is made once per list or batch; it holds the decrypted secret, so it is never put
in JSON, a log line or a pickle (its repr names the provider only).

The expected signature of a request is shown to the bin's owner alone: whoever can both
send to a bin and read it could otherwise get the signature of any body they like under
the owner's secret (a signing oracle).
"""

import functools

from django.conf import settings
from django.views.debug import SafeExceptionReporterFilter
from django.views.decorators.debug import sensitive_variables

from . import secretbox, signatures
from .capture import header_value
from .signatures import PROVIDERS, BadSignatureConfig

UNCHECKED = "unchecked"  # a verdict besides valid, invalid and unsigned: could not judge
CUT = (
    "The body was cut at capture (it was over INSPECTOR_MAX_BODY_BYTES): its signature "
    "cannot be checked against bytes that were not kept."
)
FIELDS = ("signature_provider", "signature_secret", "signature_options", "signature_hint")
SENDER = "Inspector signed test sender"


class Judge:
    """A bin's signature setting, ready to judge its requests."""

    __slots__ = ("provider", "options", "problem", "show_expected", "_secret")

    def __init__(self, provider, secret, options, problem=None, show_expected=False):
        self.provider, self.options, self.problem = provider, options, problem
        self.show_expected, self._secret = show_expected, secret

    def __repr__(self):
        return f"<Judge {self.provider}>"

    def verdict(self, req):
        """The Verdict on one request (a CapturedRequest or a capture record)."""
        if self.problem:
            return signatures.Verdict(UNCHECKED, None, self.problem)
        verdict = signatures.verify(
            self.provider,
            self._secret,
            self.options,
            method=req.method,
            url=signed_url(req),
            headers=req.headers,
            body=bytes(req.body),
            now=req.received_at.timestamp(),
        )
        if req.body_truncated and verdict.status == signatures.INVALID:
            return signatures.Verdict(UNCHECKED, None, CUT, received=verdict.received)
        return verdict

    def summary(self, req):
        """What a list item and a live event carry: status, cause and message."""
        verdict = self.verdict(req)
        return {"status": verdict.status, "cause": verdict.cause, "message": verdict.message}

    def full(self, req):
        """What the single-request view shows: with the signatures received and, for the
        owner, expected."""
        data = self.verdict(req).to_json()
        data["provider"], data["label"] = self.provider, PROVIDERS[self.provider]["label"]
        if not self.show_expected:  # even GitLab's masked token hints at the secret
            data["expected"] = None
            data["expected_hidden"] = data["status"] != signatures.UNSIGNED
        return data

    def sign(self, url, body, now):
        return signatures.sign(
            self.provider, self._secret, self.options, url=url, body=body, now=now
        )


def signed_url(req):
    """The URL the sender used, as Twilio signs it. Behind a trusted reverse proxy the
    scheme is the proxy's X-Forwarded-Proto: the server itself saw plain http. (A sender
    who forges that header only chooses which URL is checked, not the verdict.)"""
    scheme = req.scheme
    if settings.INSPECTOR_TRUSTED_PROXIES:
        forwarded = header_value(req.headers, "x-forwarded-proto").split(",")[-1].strip()
        if forwarded.lower() in ("http", "https"):
            scheme = forwarded.lower()
    query = "?" + req.query_string if req.query_string else ""
    return f"{scheme}://{req.host}/b/{req.bin_id}{req.path}{query}"


@functools.lru_cache(maxsize=256)
def _opened(token, secret_key):
    """A stored secret decrypted, once per process (secret_key: a new key, a new entry)."""
    try:
        return secretbox.decrypt(token), None
    except secretbox.SecretBoxError:
        return None, (
            "The bin's signing secret cannot be read: it was stored under another "
            "SECRET_KEY. Enter the secret again."
        )


def judge_from_columns(provider, token, options, show_expected=False):
    """A Judge from a bin's signature columns, or None when the bin checks none."""
    if not provider:
        return None
    secret, problem = _opened(token, settings.SECRET_KEY) if token else (None, "No secret.")
    try:
        options = signatures.clean_config(provider, options)
    except BadSignatureConfig as error:
        secret, problem = None, f"The bin's signature options are no longer valid: {error}"
    return Judge(provider, secret, options, problem, show_expected)


# Headers whose value is the secret itself: always masked where the bin checks them.
SECRET_HEADERS = {"gitlab": frozenset(["x-gitlab-token"])}


def secret_headers(provider):
    return SECRET_HEADERS.get(provider, frozenset())


def judge_for(bin, show_expected=False):
    return judge_from_columns(
        bin.signature_provider, bin.signature_secret, bin.signature_options, show_expected
    )


def catalogue():
    """The providers for the page: [{"id", "label", "options": their defaults}]."""
    return [
        {"id": key, "label": provider["label"], "options": provider["options"]}
        for key, provider in PROVIDERS.items()
    ]


def signature_json(bin, owner):
    """The bin's setting as a Bin shows it: the provider to all, the options and a hint
    of the secret to its owner; never the secret."""
    if not bin.signature_provider:
        return None
    data = {"provider": bin.signature_provider, "label": PROVIDERS[bin.signature_provider]["label"]}
    if owner:
        data["options"] = bin.signature_options
        data["secret_hint"] = bin.signature_hint
    return data


@sensitive_variables("value", "secret")
def changes_for(bin, value):
    """The Bin fields for a PATCH's `signature`: an object {"provider", "secret" (left out:
    the current one), "options" (left out: the current ones, or the provider's defaults)},
    or null to stop checking. Raises BadSignatureConfig with words for the user."""
    if value is None:
        return dict(zip(FIELDS, ("", "", {}, ""), strict=True))
    if not isinstance(value, dict):
        raise BadSignatureConfig(
            "signature must be an object with a provider and a secret, or null."
        )
    if unknown := sorted(set(value) - {"provider", "secret", "options"}):
        raise BadSignatureConfig(f"signature has no field {unknown[0]!r}.")
    provider = value.get("provider")
    if provider not in PROVIDERS:
        raise BadSignatureConfig(f"provider must be one of: {', '.join(PROVIDERS)}.")
    same = provider == bin.signature_provider
    options = value.get("options", bin.signature_options if same else None)
    options = signatures.clean_config(provider, options)
    if "secret" in value:
        secret = signatures.clean_secret(provider, value["secret"])
    elif bin.signature_secret:
        secret, problem = _opened(bin.signature_secret, settings.SECRET_KEY)
        if problem:
            raise BadSignatureConfig(problem)
        secret = signatures.clean_secret(provider, secret)
    else:
        raise BadSignatureConfig("the signing secret is needed.")
    return {
        "signature_provider": provider,
        "signature_secret": secretbox.encrypt(secret),
        "signature_options": options,
        "signature_hint": signatures.mask_secret(secret),
    }


def signed_sample(judge, url, now):
    """A sample event of the judge's provider signed for `url` at unix time `now`:
    (headers, body), the headers in the order a sender writes them."""
    content_type, body = signatures.sample_event(judge.provider)
    headers = [["User-Agent", SENDER], ["Content-Type", content_type]]
    return [*headers, *judge.sign(url, body, now)], body


class ReportFilter(SafeExceptionReporterFilter):
    """Django's error reports without the local variables of the modules that handle
    signing secrets: a traceback through them shows none of their values."""

    MODULES = frozenset(["bins.signatures", "bins.secretbox", "bins.signing"])

    def get_traceback_frame_variables(self, request, tb_frame):
        if tb_frame.f_globals.get("__name__") in self.MODULES:
            return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]
        return super().get_traceback_frame_variables(request, tb_frame)
