"""Private bins, tokens, share links, masking and login mode, through the API and pages."""

import json

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.models import User
from django.test import AsyncClient

from bins.access import hash_token
from bins.models import Bin, BinToken
from bins.serializers import MASK
from tests.api.test_api import assert_error
from tests.asgi_fixtures import BROWSER, create_in_browser

pytestmark = pytest.mark.django_db(transaction=True)
SECRET_HEADER = (b"authorization", b"Bearer sk_live_secret")


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def owned(capture):
    """A private bin with one captured request, its owner's client and owner token."""
    owner = AsyncClient()
    data = await create_in_browser(owner, name="secret", private=True)
    answer = await capture(f"/b/{data['id']}/hook", body=b'{"x": 1}', headers=[SECRET_HEADER])
    assert answer["status"] == 200
    return data["id"], owner, data["token"]


def read_paths(bin_id):
    return [
        f"/api/bins/{bin_id}",
        f"/api/bins/{bin_id}/requests",
        f"/api/bins/{bin_id}/requests?after=0",
        f"/api/bins/{bin_id}/requests/wait?after=0&timeout=1",
        f"/api/bins/{bin_id}/requests/1",
        f"/api/bins/{bin_id}/requests/1/body",
    ]


async def request_id(client, bin_id, headers=None):
    response = await client.get(f"/api/bins/{bin_id}/requests", headers=headers or {})
    return response.json()["requests"][0]["id"]


def concrete(path, rid):
    return path.replace("/requests/1", f"/requests/{rid}")


# Creating


async def test_creating_a_bin_gives_its_owner_token_once_and_keeps_only_a_hash(async_client):
    data = await create_in_browser(async_client, name="x")
    assert data["access"] == "owner" and data["private"] is False
    assert data["token"].startswith("insp_") and len(data["token"]) > 40
    row = await BinToken.objects.aget(bin_id=data["id"])
    assert row.kind == "owner" and row.token_hash == hash_token(data["token"])
    assert data["token"] not in row.token_hash
    read = (await async_client.get(f"/api/bins/{data['id']}")).json()
    assert "token" not in read


async def test_another_sites_form_creating_a_bin_leaves_the_browsers_session_alone():
    victim = AsyncClient(enforce_csrf_checks=True)
    await victim.get("/")
    response = await victim.generic(
        "POST", "/api/bins", b"", headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 201  # a bin, harmless; but no session cookie set
    assert "sessionid" not in response.cookies


async def test_a_bin_can_be_created_private(async_client):
    data = await create_in_browser(async_client, private=True)
    assert data["private"] is True
    assert (await Bin.objects.aget(pk=data["id"])).private


async def test_private_must_be_a_boolean(async_client):
    response = await async_client.post(
        "/api/bins", {"private": "yes"}, content_type="application/json"
    )
    assert_error(response, 400, "invalid_private")


# Every read path of a private bin


async def test_every_read_path_of_a_private_bin_refuses_a_stranger(owned):
    bin_id, owner, _ = owned
    rid = await request_id(owner, bin_id)
    stranger = AsyncClient()
    for path in read_paths(bin_id):
        response = await stranger.get(concrete(path, rid))
        assert_error(response, 401, "bin_private")
        assert response["WWW-Authenticate"] == "Bearer"
    page = await stranger.get(f"/bins/{bin_id}/")
    assert page.status_code == 403
    assert b"This bin is private" in page.content and b"sk_live" not in page.content


async def test_every_read_path_of_a_private_bin_opens_to_its_owners_session(owned):
    bin_id, owner, _ = owned
    rid = await request_id(owner, bin_id)
    for path in read_paths(bin_id):
        assert (await owner.get(concrete(path, rid))).status_code == 200, path
    page = await owner.get(f"/bins/{bin_id}/")
    assert page.status_code == 200 and b'"access": "owner"' in page.content


async def test_every_read_path_of_a_private_bin_opens_to_its_owner_token(owned):
    bin_id, owner, token = owned
    rid = await request_id(owner, bin_id)
    for path in read_paths(bin_id):
        response = await AsyncClient().get(concrete(path, rid), headers=bearer(token))
        assert response.status_code == 200, path


async def test_a_wrong_or_another_bins_token_opens_nothing(owned, async_client):
    bin_id, _, _ = owned
    other = await create_in_browser(AsyncClient())
    for token in ("insp_wrong", other["token"], ""):
        response = await AsyncClient().get(f"/api/bins/{bin_id}", headers=bearer(token))
        assert_error(response, 401, "bin_private")


async def test_the_capture_url_still_takes_requests_for_a_private_bin(owned, capture):
    bin_id, owner, _ = owned
    answer = await capture(f"/b/{bin_id}", body=b"more")
    assert answer["status"] == 200
    assert (await owner.get(f"/api/bins/{bin_id}")).json()["request_count"] == 2


async def test_a_stranger_cannot_delete_from_a_private_bin(owned):
    bin_id, owner, _ = owned
    rid = await request_id(owner, bin_id)
    stranger = AsyncClient()
    for path in (f"/api/bins/{bin_id}/requests/{rid}", f"/api/bins/{bin_id}/requests"):
        assert_error(await stranger.delete(path), 401, "bin_private")
    assert_error(await stranger.delete(f"/api/bins/{bin_id}"), 401, "bin_private")
    assert await Bin.objects.filter(pk=bin_id).aexists()


# Read tokens and share links


async def make_share(owner, bin_id, label="for alice"):
    response = await owner.post(
        f"/api/bins/{bin_id}/tokens",
        {"kind": "read", "label": label},
        content_type="application/json",
    )
    assert response.status_code == 201
    return response.json()


async def test_a_share_link_lets_another_browser_read_but_not_change(owned):
    bin_id, owner, _ = owned
    share = await make_share(owner, bin_id)
    assert share["share_url"] == f"http://testserver/share/{share['token']}"
    friend = AsyncClient()
    response = await friend.get(f"/share/{share['token']}")
    assert response.status_code == 302 and response["Location"] == f"/bins/{bin_id}/"
    page = await friend.get(f"/bins/{bin_id}/")
    assert page.status_code == 200 and b'"access": "read"' in page.content
    rid = await request_id(friend, bin_id)
    for path in read_paths(bin_id):
        assert (await friend.get(concrete(path, rid))).status_code == 200, path
    assert_error(await friend.delete(f"/api/bins/{bin_id}/requests"), 403, "read_only")
    assert_error(await friend.delete(f"/api/bins/{bin_id}"), 403, "read_only")
    patch = await friend.patch(
        f"/api/bins/{bin_id}", {"private": False}, content_type="application/json"
    )
    assert_error(patch, 403, "owner_only")
    assert_error(await friend.get(f"/api/bins/{bin_id}/tokens"), 403, "owner_only")


async def test_a_read_token_works_as_a_bearer_token_read_only(owned):
    bin_id, owner, _ = owned
    share = await make_share(owner, bin_id)
    reader, token = AsyncClient(), bearer(share["token"])
    assert (await reader.get(f"/api/bins/{bin_id}/requests", headers=token)).status_code == 200
    response = await reader.delete(f"/api/bins/{bin_id}/requests", headers=token)
    assert_error(response, 403, "read_only")


async def test_revoking_a_share_link_shuts_out_whoever_used_it(owned):
    bin_id, owner, _ = owned
    share = await make_share(owner, bin_id)
    friend = AsyncClient()
    await friend.get(f"/share/{share['token']}")
    assert (await friend.get(f"/api/bins/{bin_id}")).status_code == 200
    assert (await owner.delete(f"/api/bins/{bin_id}/tokens/{share['id']}")).status_code == 204
    assert_error(await friend.get(f"/api/bins/{bin_id}"), 401, "bin_private")
    assert (await friend.get(f"/bins/{bin_id}/")).status_code == 403
    again = await AsyncClient().get(f"/share/{share['token']}")
    assert again.status_code == 404 and b"does not work any more" in again.content


async def test_the_token_list_shows_no_secret(owned):
    bin_id, owner, token = owned
    share = await make_share(owner, bin_id)
    listing = (await owner.get(f"/api/bins/{bin_id}/tokens")).json()["tokens"]
    assert [t["kind"] for t in listing] == ["owner", "read"]
    assert {"id", "kind", "label", "created_at"} == set(listing[1])
    assert token not in str(listing) and share["token"] not in str(listing)


async def test_a_token_kind_must_be_read_or_owner(owned):
    bin_id, owner, _ = owned
    response = await owner.post(
        f"/api/bins/{bin_id}/tokens", {"kind": "admin"}, content_type="application/json"
    )
    assert_error(response, 400, "invalid_kind")


async def test_revoking_an_unknown_token_is_404(owned):
    bin_id, owner, _ = owned
    assert_error(await owner.delete(f"/api/bins/{bin_id}/tokens/999999"), 404, "token_not_found")


# Settings


async def test_only_the_owner_can_make_a_public_bin_private(async_client):
    data = await create_in_browser(AsyncClient())
    stranger = AsyncClient()
    path = f"/api/bins/{data['id']}"
    patch = await stranger.patch(path, {"private": True}, content_type="application/json")
    assert_error(patch, 403, "owner_only")
    assert (await stranger.get(path)).json()["access"] == "edit"
    patch = await stranger.patch(
        path, {"private": True}, content_type="application/json", headers=bearer(data["token"])
    )
    assert patch.status_code == 200 and patch.json()["private"] is True
    assert_error(await stranger.get(path), 401, "bin_private")


@pytest.mark.parametrize(
    "body, code",
    [
        ({"private": 1}, "invalid_private"),
        ({"mask_headers": "true"}, "invalid_mask_headers"),
        ({"mask_extra": "x-ok, bad name"}, "invalid_mask_extra"),
        ({"mask_extra": ["x"]}, "invalid_mask_extra"),
        ({"name": "n" * 101}, "invalid_name"),
        ({"owner": 1}, "invalid_field"),
        ({"delivery_header": "x y"}, "invalid_delivery_header"),
    ],
)
async def test_bin_settings_are_checked(owned, body, code):
    bin_id, owner, _ = owned
    response = await owner.patch(f"/api/bins/{bin_id}", body, content_type="application/json")
    assert_error(response, 400, code)


async def test_masking_hides_sensitive_header_values_everywhere_the_api_shows_them(owned):
    bin_id, owner, _ = owned
    response = await owner.patch(
        f"/api/bins/{bin_id}",
        {"mask_headers": True, "mask_extra": "X-Api-Key"},
        content_type="application/json",
    )
    assert response.json()["mask_headers"] is True
    assert response.json()["mask_extra"] == "x-api-key"
    rid = await request_id(owner, bin_id)
    for path in (f"/api/bins/{bin_id}/requests", f"/api/bins/{bin_id}/requests/{rid}"):
        raw = (await owner.get(path)).content.decode()
        assert "sk_live_secret" not in raw
        assert MASK in json.dumps((await owner.get(path)).json(), ensure_ascii=False)
    # Stored as sent: turning masking off shows it again.
    off = {"mask_headers": False}
    await owner.patch(f"/api/bins/{bin_id}", off, content_type="application/json")
    detail = (await owner.get(f"/api/bins/{bin_id}/requests/{rid}")).json()
    assert ["authorization", "Bearer sk_live_secret"] in detail["headers"]


# CSRF: a session cookie is ambient authority


async def test_a_change_authorized_by_a_session_needs_the_csrf_token():
    owner = AsyncClient(enforce_csrf_checks=True)
    page = await owner.get("/")
    csrf = {**BROWSER, "X-CSRFToken": page.cookies["csrftoken"].value}
    created = await owner.post(
        "/api/bins", {"private": True}, content_type="application/json", headers=csrf
    )
    path = f"/api/bins/{created.json()['id']}/requests"
    assert_error(await owner.delete(path, headers=BROWSER), 403, "csrf_failed")
    assert (await owner.delete(path, headers=csrf)).status_code == 204


async def test_a_bearer_token_needs_no_csrf_token(owned):
    bin_id, _, token = owned
    client = AsyncClient(enforce_csrf_checks=True)
    await client.get("/")  # a session-less browser still gets a CSRF cookie
    response = await client.delete(f"/api/bins/{bin_id}/requests", headers=bearer(token))
    assert response.status_code == 204


# Login mode


@pytest.fixture
def login_mode(settings):
    settings.INSPECTOR_REQUIRE_LOGIN = True


@pytest.fixture
async def users(transactional_db):
    create_user = sync_to_async(User.objects.create_user)
    return await create_user("ada", password="pw-ada"), await create_user("bob", password="pw-bob")


async def test_login_mode_sends_strangers_to_sign_in_and_refuses_the_api(login_mode, users):
    client = AsyncClient()
    home = await client.get("/")
    assert home.status_code == 302 and home["Location"] == "/login/?next=/"
    assert_error(await client.post("/api/bins"), 401, "login_required")
    public = await Bin.objects.acreate()
    assert_error(await client.get(f"/api/bins/{public.id}"), 401, "login_required")
    page = await client.get(f"/bins/{public.id}/")
    assert page.status_code == 302 and page["Location"].startswith("/login/")


async def test_login_mode_a_user_owns_the_bins_they_create(login_mode, users, capture):
    ada, _ = users
    client = AsyncClient()
    response = await client.post("/login/", {"username": "ada", "password": "pw-ada"})
    assert response.status_code == 302
    data = await create_in_browser(client, private=True)
    assert (await Bin.objects.aget(pk=data["id"])).owner_id == ada.pk
    assert (await capture(f"/b/{data['id']}", body=b"hi"))["status"] == 200
    # Another session of the same user owns it too.
    other_device = AsyncClient()
    await other_device.aforce_login(ada)
    assert (await other_device.get(f"/api/bins/{data['id']}")).json()["access"] == "owner"


async def test_login_mode_other_users_see_public_bins_but_not_private_ones(login_mode, users):
    ada, bob = users
    private = await Bin.objects.acreate(owner=ada, private=True)
    public = await Bin.objects.acreate(owner=ada)
    client = AsyncClient()
    await client.aforce_login(bob)
    assert_error(await client.get(f"/api/bins/{private.id}"), 401, "login_required")
    assert (await client.get(f"/api/bins/{public.id}")).json()["access"] == "edit"


async def test_login_mode_a_bins_token_works_without_signing_in(login_mode, users, capture):
    token_owner = AsyncClient()
    await token_owner.aforce_login(users[0])
    data = await create_in_browser(token_owner, private=True)
    response = await AsyncClient().get(f"/api/bins/{data['id']}", headers=bearer(data["token"]))
    assert response.status_code == 200


async def test_signing_out_ends_the_session(login_mode, users):
    client = AsyncClient()
    await client.aforce_login(users[0])
    assert (await client.get("/")).status_code == 200
    assert (await client.post("/logout/")).status_code == 302
    assert (await client.get("/")).status_code == 302


async def test_the_owner_can_keep_a_bin_from_expiring_and_let_it_go_again(owned):
    bin_id, owner, _ = owned
    path = f"/api/bins/{bin_id}"
    kept = await owner.patch(path, {"keep": True}, content_type="application/json")
    assert kept.json()["keep"] is True and kept.json()["expires_at"].startswith("9999-12-31")
    stranger = await AsyncClient().patch(path, {"keep": False}, content_type="application/json")
    assert_error(stranger, 401, "bin_private")
    released = await owner.patch(path, {"keep": False}, content_type="application/json")
    assert released.json()["keep"] is False
    assert not released.json()["expires_at"].startswith("9999")
