"""The websocket of a private bin: who may open it, and who is let go when access changes."""

import pytest
from django.test import AsyncClient

from bins.consumers import BIN_NOT_FOUND, NO_ACCESS
from bins.models import Bin
from bins.serializers import MASK
from tests.asgi_fixtures import SAME_ORIGIN, create_in_browser

pytestmark = pytest.mark.django_db(transaction=True)


def cookies_of(client):
    cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    return [*SAME_ORIGIN, (b"cookie", cookie.encode())]


def with_bearer(token):
    return [*SAME_ORIGIN, (b"authorization", f"Bearer {token}".encode())]


async def closed_with(socket):
    return (await socket.receive_output(timeout=3)).get("code")


@pytest.fixture
async def private_bin(transactional_db):
    owner = AsyncClient()
    data = await create_in_browser(owner, private=True)
    return data["id"], owner, data["token"]


async def test_a_stranger_is_let_in_then_closed_with_4403(open_socket, private_bin):
    bin_id, _, _ = private_bin
    socket, connected, _ = await open_socket(f"/ws/bins/{bin_id}/?after=0")
    assert connected
    assert await closed_with(socket) == NO_ACCESS


async def test_an_unknown_bin_still_closes_with_4404_not_4403(open_socket, transactional_db):
    socket, _, _ = await open_socket("/ws/bins/aaaaaaaaaaaaaaaa/")
    assert await closed_with(socket) == BIN_NOT_FOUND


async def test_the_owners_session_gets_events(open_socket, private_bin, capture):
    bin_id, owner, _ = private_bin
    socket, _, _ = await open_socket(f"/ws/bins/{bin_id}/", headers=cookies_of(owner))
    await capture(f"/b/{bin_id}", body=b"hello")
    event = await socket.receive_json_from(timeout=5)
    assert event["type"] == "requests.created"


async def test_an_owner_token_opens_it_without_a_session(open_socket, private_bin, capture):
    bin_id, _, token = private_bin
    socket, _, _ = await open_socket(f"/ws/bins/{bin_id}/", headers=with_bearer(token))
    await capture(f"/b/{bin_id}", body=b"hello")
    assert (await socket.receive_json_from(timeout=5))["type"] == "requests.created"


async def test_a_wrong_token_is_closed_with_4403(open_socket, private_bin):
    bin_id, _, _ = private_bin
    socket, _, _ = await open_socket(f"/ws/bins/{bin_id}/", headers=with_bearer("insp_nope"))
    assert await closed_with(socket) == NO_ACCESS


async def test_revoking_a_share_link_closes_the_sockets_it_opened(open_socket, private_bin):
    bin_id, owner, _ = private_bin
    share = (
        await owner.post(f"/api/bins/{bin_id}/tokens", {}, content_type="application/json")
    ).json()
    friend = AsyncClient()
    await friend.get(f"/share/{share['token']}")
    friends, _, _ = await open_socket(f"/ws/bins/{bin_id}/", headers=cookies_of(friend))
    owners, _, _ = await open_socket(f"/ws/bins/{bin_id}/", headers=cookies_of(owner))
    assert await friends.receive_nothing(timeout=0.3)
    assert (await owner.delete(f"/api/bins/{bin_id}/tokens/{share['id']}")).status_code == 204
    assert await closed_with(friends) == NO_ACCESS
    assert await owners.receive_json_from(timeout=2) == {"type": "access.changed"}


async def test_making_a_bin_private_closes_the_viewers_who_only_had_its_url(open_socket):
    owner = AsyncClient()
    data = await create_in_browser(owner)
    stranger, _, _ = await open_socket(f"/ws/bins/{data['id']}/")
    owners, _, _ = await open_socket(f"/ws/bins/{data['id']}/", headers=cookies_of(owner))
    response = await owner.patch(
        f"/api/bins/{data['id']}", {"private": True}, content_type="application/json"
    )
    assert response.status_code == 200
    assert (await stranger.receive_json_from(timeout=2))["type"] == "bin.updated"
    assert await closed_with(stranger) == NO_ACCESS
    updated = await owners.receive_json_from(timeout=2)
    assert updated["type"] == "bin.updated" and updated["bin"]["private"] is True
    assert await owners.receive_json_from(timeout=2) == {"type": "access.changed"}


async def test_live_events_and_backlog_mask_headers_when_the_bin_masks(open_socket, capture):
    owner = AsyncClient()
    data = await create_in_browser(owner)
    await Bin.objects.filter(pk=data["id"]).aupdate(mask_headers=True)
    secret = [(b"authorization", b"Basic c2VjcmV0"), (b"x-visible", b"yes")]
    live_socket, _, _ = await open_socket(f"/ws/bins/{data['id']}/")
    await capture(f"/b/{data['id']}", headers=secret)
    (request,) = (await live_socket.receive_json_from(timeout=5))["requests"]
    assert ["authorization", MASK] in request["headers"]
    assert ["x-visible", "yes"] in request["headers"]
    backlog, _, _ = await open_socket(f"/ws/bins/{data['id']}/?after=0")
    (again,) = (await backlog.receive_json_from(timeout=5))["requests"]
    assert again["headers"] == request["headers"]
    assert again["masked_headers"] == ["authorization"]


async def test_login_mode_closes_an_anonymous_viewer_of_a_public_bin(open_socket, settings):
    settings.INSPECTOR_REQUIRE_LOGIN = True
    bin = await Bin.objects.acreate()
    socket, _, _ = await open_socket(f"/ws/bins/{bin.id}/")
    assert await closed_with(socket) == NO_ACCESS
