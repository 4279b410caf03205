"""bins.access: who may do what, decided from what a caller brings."""

import pytest

from bins.access import EDIT, NONE, OWNER, READ, Caller, asks_database, bearer_token, level_for
from bins.models import Bin


def bin(private=False, owner_id=None):
    return Bin(id="abcdefghijklmnop", private=private, owner_id=owner_id)


@pytest.mark.parametrize(
    "private, caller, token_kind, share_valid, level",
    [
        (False, Caller(), None, False, EDIT),  # a public bin's id is its key
        (True, Caller(), None, False, NONE),
        (True, Caller(owned=frozenset({"abcdefghijklmnop"})), None, False, OWNER),
        (True, Caller(user_id=7), None, False, OWNER),  # the bin's owner below is user 7
        (True, Caller(user_id=8), None, False, NONE),
        (True, Caller(bearer="t"), "owner", False, OWNER),
        (True, Caller(bearer="t"), "read", False, READ),
        (False, Caller(bearer="t"), "read", False, EDIT),  # public: the id already says more
        (True, Caller(shared={"abcdefghijklmnop": 3}), None, True, READ),
        (True, Caller(shared={"abcdefghijklmnop": 3}), None, False, NONE),  # revoked
    ],
)
def test_level_for(private, caller, token_kind, share_valid, level):
    assert level_for(bin(private, owner_id=7), caller, token_kind, share_valid) == level


def test_login_mode_lets_in_only_users_and_tokens(settings):
    settings.INSPECTOR_REQUIRE_LOGIN = True
    assert level_for(bin(), Caller()) == NONE
    assert level_for(bin(), Caller(user_id=8)) == EDIT
    assert level_for(bin(private=True), Caller(bearer="t"), "read") == READ


def test_only_tokens_and_share_links_to_private_bins_ask_the_database():
    shared = {"abcdefghijklmnop": 3}
    assert not asks_database(bin(), Caller(shared=shared))
    assert asks_database(bin(private=True), Caller(shared=shared))
    assert asks_database(bin(), Caller(bearer="t"))
    assert not asks_database(bin(private=True), Caller(user_id=7))


@pytest.mark.parametrize(
    "header, token",
    [
        ("Bearer insp_abc", "insp_abc"),
        ("bearer   insp_abc  ", "insp_abc"),
        ("Basic dXNlcg==", None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header, token):
    assert bearer_token(header) == token
