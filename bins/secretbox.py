"""Secrets kept at rest, such as a bin's webhook signing secret: encrypt(text) -> token,
decrypt(token) -> text.

Fernet (AES-128-CBC with an HMAC-SHA256, from `cryptography`) with a key derived by HKDF
from SECRET_KEY, so a copy of the database alone does not reveal them. Tokens made under
a key listed in SECRET_KEY_FALLBACKS still open, so SECRET_KEY can be rotated; a token
made under any other key, or altered, raises SecretBoxError: its owner must enter the
secret again.
"""

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

# Changing this label changes every key: stored secrets could no longer be read.
LABEL = b"inspector.secretbox.v1"


class SecretBoxError(ValueError):
    """A stored secret that cannot be read back."""


def _fernet(secret_key):
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=LABEL)
    return Fernet(base64.urlsafe_b64encode(hkdf.derive(secret_key.encode())))


def encrypt(text):
    return _fernet(settings.SECRET_KEY).encrypt(text.encode()).decode("ascii")


def decrypt(token):
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    box = MultiFernet([_fernet(key) for key in keys])
    try:
        return box.decrypt(token.encode("ascii")).decode()
    except (InvalidToken, UnicodeError):
        raise SecretBoxError(
            "the stored secret cannot be decrypted: it was encrypted under another "
            "SECRET_KEY, or altered. Enter the secret again."
        ) from None
