"""Fixed bins: declared in configuration, created at start, kept for ever, the same URL
across restarts. INSPECTOR_FIXED_BINS names them ("stripe-staging,github-hooks");
INSPECTOR_FIXED_BINS_FILE is JSON for more:
[{"url_name": "stripe-staging", "name": "Stripe", "private": true, "owner_token": "..."}].
"""

import json
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction

from .access import hash_token
from .models import BIN_NAME, NEVER, Bin, BinToken

FIELDS = {"url_name", "name", "private", "owner_token"}


def declared(names, path):
    """The fixed bins the settings declare: [{url_name, name, private, owner_token}]."""
    bins = [{"url_name": name} for name in names]
    if path:
        try:
            bins += json.loads(Path(path).read_text())
        except (OSError, ValueError) as problem:
            raise ImproperlyConfigured(f"INSPECTOR_FIXED_BINS_FILE: {problem}") from None
    for entry in bins:
        if not isinstance(entry, dict) or set(entry) - FIELDS or "url_name" not in entry:
            raise ImproperlyConfigured(
                f"INSPECTOR_FIXED_BINS_FILE: each bin is an object with url_name, and "
                f"optionally name, private and owner_token; not {entry!r}"
            )
        if not isinstance(entry["url_name"], str) or not BIN_NAME.fullmatch(entry["url_name"]):
            raise ImproperlyConfigured(
                f"fixed bin {entry['url_name']!r}: 3 to 40 lower-case letters, digits and "
                "inner hyphens"
            )
    return bins


def ensure(bins):
    """Create the declared bins that are missing, and keep them all; idempotent, so
    every process may run it at start."""
    for entry in bins:
        values = {
            "name": entry.get("name", ""),
            "private": bool(entry.get("private", False)),
            "keep": True,
            "expires_at": NEVER,
        }
        try:
            with transaction.atomic():
                bin, _ = Bin.objects.update_or_create(id=entry["url_name"], defaults=values)
                if entry.get("owner_token"):
                    BinToken.objects.get_or_create(
                        token_hash=hash_token(entry["owner_token"]),
                        defaults={"bin": bin, "kind": BinToken.OWNER, "label": "configured"},
                    )
        except IntegrityError:  # another process made it meanwhile
            continue
