import base64
import re
import secrets
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

BIN_ID_BYTES = 10  # 80 random bits
BIN_ID_LENGTH = 16  # base32 characters for BIN_ID_BYTES
BIN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


def new_bin_id():
    return base64.b32encode(secrets.token_bytes(BIN_ID_BYTES)).decode("ascii").lower()


BIN_ID = re.compile(f"[{BIN_ID_ALPHABET}]{{{BIN_ID_LENGTH}}}")
# A name of the user's choice in place of the random id: 3 to 40 lower-case letters,
# digits and inner hyphens. The URL patterns use the same pattern.
BIN_NAME_PATTERN = r"[a-z0-9](?:[a-z0-9-]{1,38})[a-z0-9]"
BIN_NAME = re.compile(BIN_NAME_PATTERN)


def is_bin_id(value):
    """A random id or a chosen name: what may follow /b/ and /bins/."""
    return BIN_ID.fullmatch(value) is not None or BIN_NAME.fullmatch(value) is not None


def is_random_id(value):
    return BIN_ID.fullmatch(value) is not None


NEVER = datetime(9999, 12, 31, tzinfo=UTC)  # the expiry of a kept bin


def default_expiry():
    return timezone.now() + timedelta(seconds=settings.INSPECTOR_BIN_TTL)


class Bin(models.Model):
    id = models.CharField(primary_key=True, max_length=40, default=new_bin_id, editable=False)
    name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(default=default_expiry)
    # Every request that reached the bin, including those deleted since.
    request_count = models.PositiveBigIntegerField(default=0)
    # Requests stored now: the writer adds, retention and the API's deletes take away,
    # each while holding the bin row, so it is exact (bins.storage, bins.queries).
    kept_count = models.PositiveBigIntegerField(default=0)
    # Requests removed by retention (INSPECTOR_MAX_REQUESTS_PER_BIN) to make room.
    dropped_count = models.PositiveBigIntegerField(default=0)
    # The newest request id retention dropped: the next drop starts above it.
    dropped_through = models.BigIntegerField(default=0)
    # Requests refused by the rate limits (answered 429, not stored).
    refused_count = models.PositiveBigIntegerField(default=0)
    # Private: reading needs the owner (session, login or owner token) or a read
    # token (share link); capture is open either way (bins.access).
    private = models.BooleanField(default=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    # Masking hides the values of sensitive headers in what the page and API show;
    # what is stored does not change (bins.serializers).
    mask_headers = models.BooleanField(default=False)
    # More header names to mask in this bin, comma-separated, beyond the defaults.
    mask_extra = models.CharField(max_length=1000, blank=True)
    # A header that names a delivery, so that its retries group together on the page
    # (beyond the providers' own: X-GitHub-Delivery, webhook-id, ...).
    delivery_header = models.CharField(max_length=100, blank=True)
    # Kept bins never expire: declared in configuration (INSPECTOR_FIXED_BINS), or
    # marked by their owner. Their expires_at stays at NEVER.
    keep = models.BooleanField(default=False)
    # Webhook signature checks (bins.signing): the provider ("" = off), its signing
    # secret encrypted (bins.secretbox, never shown again), its options, and a hint
    # of the secret for the owner's page (signatures.mask_secret).
    signature_provider = models.CharField(max_length=16, blank=True)
    signature_secret = models.TextField(blank=True)
    signature_options = models.JSONField(default=dict, blank=True)
    signature_hint = models.CharField(max_length=64, blank=True)
    # What capture answers (bins.responses): {"status", "headers", "body", "delay_ms"},
    # or null for the default {"ok": true, "id": ...}.
    response = models.JSONField(null=True, blank=True)
    # Rules tried before it, first match wins: [{"name", "when", "response"}] (bins.rules).
    rules = models.JSONField(default=list, blank=True)
    # A failure script (bins.responses.clean_failures), or null; it counts requests
    # from failures_since, the answered_count when it was set.
    failures = models.JSONField(null=True, blank=True)
    failures_since = models.PositiveBigIntegerField(default=0)
    # Requests the bin's own answer went to (bins.rules.answerable): what failure
    # scripts count.
    answered_count = models.PositiveBigIntegerField(default=0)
    # Answer CORS preflights and add CORS headers, so a browser page can call the bin.
    cors = models.BooleanField(default=False)
    # Enabled forward targets (bins.forwarding), kept by the targets API in the
    # transaction that changes them: the writer's counting UPDATE returns it, so a
    # batch of bins without targets costs no query for forwarding.
    forward_count = models.PositiveSmallIntegerField(default=0)
    # Answer senders with the first enabled target's answer (a transparent proxy
    # that records), waiting at most proxy_timeout_ms for it.
    proxy = models.BooleanField(default=False)
    proxy_timeout_ms = models.PositiveIntegerField(default=10_000)

    class Meta:
        indexes = [
            # The purge finds expired bins by their expiry.
            models.Index(fields=["expires_at"], name="bin_expires_at_idx"),
        ]

    def __str__(self):
        return self.name or self.id

    def has_expired(self, now=None):
        return self.expires_at <= (now or timezone.now())


class BinToken(models.Model):
    """A secret that opens a bin: OWNER tokens do all its owner can, READ tokens
    (share links) only read. Only a hash is kept; the token is shown once."""

    OWNER, READ = "owner", "read"
    KINDS = [(OWNER, "owner"), (READ, "read")]

    bin = models.ForeignKey(Bin, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=8, choices=KINDS)
    label = models.CharField(max_length=100, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.kind} token {self.pk} of bin {self.bin_id}"


class CapturedRequest(models.Model):
    bin = models.ForeignKey(Bin, on_delete=models.CASCADE, related_name="requests", db_index=False)
    method = models.CharField(max_length=64)
    scheme = models.CharField(max_length=16)
    host = models.TextField(blank=True)
    # Below the bin, exactly as sent (still percent-encoded): "" for /b/<id>, "/" for /b/<id>/.
    path = models.TextField(blank=True)
    query_string = models.TextField(blank=True)
    # [[name, value], ...] in arrival order with duplicates; bytes decoded as latin-1.
    headers = models.JSONField(default=list)
    body = models.BinaryField(default=b"")
    body_size = models.PositiveBigIntegerField(default=0)
    body_truncated = models.BooleanField(default=False)
    content_type = models.TextField(blank=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    received_at = models.DateTimeField(default=timezone.now)
    # The answer chosen for this request (bins.rules), templates unrendered, with
    # "rule" or "failure" saying why; null: the default answer.
    response = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            # Every list, page, backfill and long poll reads one bin's requests by id.
            models.Index(fields=["bin", "id"], name="request_bin_id_idx"),
        ]

    def __str__(self):
        return f"{self.method} {self.path or '/'}"


# --- replay and forwarding (issue 7; bins.forwarding) ---------------------------
# The foreign keys to captured requests, deliveries and targets cascade in the
# database itself (migration 0010), and are DO_NOTHING here: the writer's retention
# deletes requests with plain SQL, and Django's own cascade would load every request
# (bodies included) before deleting a bin's requests.


class ForwardTarget(models.Model):
    """A URL that each request the bin captures is delivered to, in the background."""

    bin = models.ForeignKey(Bin, on_delete=models.CASCADE, related_name="forward_targets")
    url = models.TextField()
    position = models.PositiveIntegerField(default=0)
    # A disabled target gets no new deliveries; those waiting for it wait.
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.url


class Delivery(models.Model):
    """One captured request on its way to one target: created with the request, in
    the writer's transaction, then tried until delivered or out of attempts."""

    # Paused: waiting for its target to be enabled again, out of the due index.
    PENDING, DELIVERED, FAILED, PAUSED = "pending", "delivered", "failed", "paused"
    STATES = [
        (PENDING, "pending"),
        (DELIVERED, "delivered"),
        (FAILED, "failed"),
        (PAUSED, "paused"),
    ]

    request = models.ForeignKey(
        CapturedRequest, on_delete=models.DO_NOTHING, related_name="deliveries", db_index=False
    )
    target = models.ForeignKey(
        ForwardTarget, on_delete=models.DO_NOTHING, related_name="deliveries"
    )
    state = models.CharField(max_length=16, choices=STATES, default=PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    # A process sending it holds it until leased_until, under a lease token of its
    # own: no other process claims it meanwhile, and only the holder records.
    leased_until = models.DateTimeField(null=True, blank=True)
    lease = models.CharField(max_length=32, blank=True)
    # Answered by the proxy (the sender got the target's answer): never retried alone.
    proxied = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The forwarding workers' claim: due pending deliveries, oldest due first.
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(state="pending"),
                name="delivery_due_idx",
            ),
            # A request's deliveries, for its page and the API.
            models.Index(fields=["request"], name="delivery_request_idx"),
        ]

    def __str__(self):
        return f"delivery {self.pk} of request {self.request_id} to target {self.target_id}"


class Attempt(models.Model):
    """One try of a delivery: what the target answered, or why nothing was."""

    AUTO, MANUAL, PROXY = "auto", "manual", "proxy"
    TRIGGERS = [(AUTO, "auto"), (MANUAL, "manual"), (PROXY, "proxy")]

    delivery = models.ForeignKey(
        Delivery, on_delete=models.DO_NOTHING, related_name="attempt_set", db_index=False
    )
    at = models.DateTimeField(default=timezone.now)
    trigger = models.CharField(max_length=8, choices=TRIGGERS, default=AUTO)
    # bins.outbound.Result.to_json()
    result = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["delivery", "id"], name="attempt_delivery_idx")]

    def __str__(self):
        return f"attempt {self.pk} of delivery {self.delivery_id}"


class Replay(models.Model):
    """A captured request sent again, maybe edited, and what the target answered."""

    request = models.ForeignKey(
        CapturedRequest, on_delete=models.DO_NOTHING, related_name="replays", db_index=False
    )
    created_at = models.DateTimeField(default=timezone.now)
    # What was sent: the whole URL, the method, [name, value] headers, the body bytes
    # (null: the request's own, kept once, not once per replay).
    method = models.CharField(max_length=64)
    url = models.TextField()
    headers = models.JSONField(default=list)
    body = models.BinaryField(null=True, default=None)
    edited = models.BooleanField(default=False)
    # bins.outbound.Result.to_json()
    result = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["request", "id"], name="replay_request_idx")]

    def __str__(self):
        return f"replay {self.pk} of request {self.request_id}"
