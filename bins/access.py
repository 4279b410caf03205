"""Who may do what with a bin.

A public bin's id is its key: whoever has it may read and delete (EDIT). A private
bin opens only to its owner (the browser session that created it, its Django user,
or an owner token) and, read-only, to share links and read tokens. Settings and
tokens are the owner's alone. Capture never asks: senders only need the URL.
"""

import hashlib
import secrets
from dataclasses import dataclass, field

from django.conf import settings

from .models import BinToken
from .queries import off_loop

NONE, READ, EDIT, OWNER = 0, 1, 2, 3
LEVEL_NAMES = {NONE: "none", READ: "read", EDIT: "edit", OWNER: "owner"}
OWNED_KEY = "inspector.owned"  # session: ids of the bins this browser created
SHARED_KEY = "inspector.shared"  # session: {bin id: id of the share token opened}
MAX_OWNED = 1000  # the newest bins a session remembers owning
TOKEN_PREFIX = "insp_"


def new_token():
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token):
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def bearer_token(authorization):
    """The token of an `Authorization: Bearer <token>` value, or None."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


@dataclass
class Caller:
    """What a request or websocket brings to prove access."""

    user_id: int | None = None
    owned: frozenset = frozenset()
    shared: dict = field(default_factory=dict)
    bearer: str | None = None

    @property
    def signed_in(self):
        return self.user_id is not None


def level_for(bin, caller, token_kind=None, share_valid=False):
    """The access `caller` has to `bin`, given what the database said about the
    bearer token (its kind for this bin, or None) and the session's share link."""
    if settings.INSPECTOR_REQUIRE_LOGIN and not caller.signed_in and token_kind is None:
        return NONE
    if token_kind == BinToken.OWNER or bin.id in caller.owned:
        return OWNER
    if caller.user_id is not None and bin.owner_id == caller.user_id:
        return OWNER
    if not bin.private:
        return EDIT
    if token_kind == BinToken.READ or share_valid:
        return READ
    return NONE


def token_kind(bin_id, token):
    row = BinToken.objects.filter(bin_id=bin_id, token_hash=hash_token(token)).first()
    return row.kind if row else None


def share_valid(bin_id, token_id):
    return BinToken.objects.filter(bin_id=bin_id, pk=token_id, kind=BinToken.READ).exists()


def asks_database(bin, caller):
    """Whether access_level() needs the database: for a bearer token, or a share link
    to a private bin; anything else level_for() decides alone."""
    return caller.bearer is not None or (bin.private and bin.id in caller.shared)


async def access_level_async(bin, caller):
    """access_level(), off the event loop only when it asks the database."""
    if asks_database(bin, caller):
        return await off_loop(access_level)(bin, caller)
    return level_for(bin, caller)


def access_level(bin, caller):
    """level_for() with the database asked only what it needs to decide."""
    kind = token_kind(bin.id, caller.bearer) if caller.bearer else None
    level = level_for(bin, caller, kind)
    if level == NONE and bin.private and bin.id in caller.shared:
        level = level_for(bin, caller, kind, share_valid(bin.id, caller.shared[bin.id]))
    return level


def share_target(token):
    """(bin id, token id) of a share link's token, or None."""
    row = (
        BinToken.objects.filter(token_hash=hash_token(token), kind=BinToken.READ)
        .values_list("bin_id", "pk")
        .first()
    )
    return row


def create_token(bin, kind, label=""):
    """A new token for `bin`: (the row, the secret, shown this once)."""
    secret = new_token()
    row = BinToken.objects.create(bin=bin, kind=kind, label=label, token_hash=hash_token(secret))
    return row, secret


async def caller_from(session, user, authorization):
    """The Caller of a request or websocket from its session, user and header."""
    return Caller(
        user_id=user.pk if user is not None and user.is_authenticated else None,
        owned=frozenset(await session.aget(OWNED_KEY, ())),
        shared=await session.aget(SHARED_KEY, {}),
        bearer=bearer_token(authorization),
    )


async def remember_owned(session, bin_id):
    owned = [i for i in await session.aget(OWNED_KEY, []) if i != bin_id]
    await session.aset(OWNED_KEY, [*owned, bin_id][-MAX_OWNED:])


async def remember_shared(session, bin_id, token_id):
    shared = await session.aget(SHARED_KEY, {})
    await session.aset(SHARED_KEY, {**shared, bin_id: token_id})
