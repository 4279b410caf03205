"""bins.secretbox: secrets at rest, readable only under the SECRET_KEY that stored them."""

import pytest

from bins.secretbox import SecretBoxError, decrypt, encrypt

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_it_reads_back_what_it_stored():
    assert decrypt(encrypt(SECRET)) == SECRET
    assert decrypt(encrypt("clé secrète ☕")) == "clé secrète ☕"


def test_the_stored_form_hides_the_secret_and_differs_each_time():
    first, second = encrypt(SECRET), encrypt(SECRET)
    assert SECRET not in first
    assert first != second
    assert first.isascii()


def test_it_refuses_a_token_stored_under_another_secret_key(settings):
    token = encrypt(SECRET)
    settings.SECRET_KEY = "another-secret-key-entirely-0123456789"
    with pytest.raises(SecretBoxError, match="another SECRET_KEY"):
        decrypt(token)


def test_it_still_reads_tokens_stored_under_a_fallback_key(settings):
    settings.SECRET_KEY = "the-old-secret-key-0123456789-abcdefgh"
    token = encrypt(SECRET)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "the-new-secret-key-0123456789-abcdefgh"
    assert decrypt(token) == SECRET


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-6] + ("AAAAAA" if token[-6:] != "AAAAAA" else "BBBBBB"),
        lambda token: token[:20] + token[21:],
        lambda token: "",
        lambda token: "not a token at all",
        lambda token: token + "é",
    ],
)
def test_it_refuses_an_altered_token(tamper):
    with pytest.raises(SecretBoxError):
        decrypt(tamper(encrypt(SECRET)))
