"""Private bins, masking and share links, as their owner and a friend see them in Chromium."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from bins.serializers import MASK
from tests.browser.test_inspect_page import wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def create_from_home(page, base_url):
    page.goto(base_url + "/")
    page.get_by_role("button", name=re.compile("create", re.I)).click()
    page.wait_for_url(re.compile(r"/bins/[a-z2-7]{16}/$"))
    return page.url.rstrip("/").rsplit("/", 1)[-1]


def test_an_owner_makes_a_bin_private_masks_headers_and_shares_it_read_only(
    app_server, page, browser
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    bin_id = create_from_home(page, app_server.base_url)
    capture_url = f"{app_server.base_url}/b/{bin_id}"
    inspect_url = f"{app_server.base_url}/bins/{bin_id}/"
    wait_live(page)
    expect(page.locator("#privacy-badge")).to_have_text("Public")

    page.get_by_role("button", name="Settings & sharing").click()
    page.locator("#private-switch").check()
    expect(page.locator("#privacy-badge")).to_have_text("Private")
    page.locator("#mask-switch").check()
    expect(page.locator("#toast")).to_contain_text("masked")
    page.locator("#keep-switch").check()
    expect(page.locator("#bin-expiry")).to_have_text("Kept: never expires")

    httpx.post(capture_url, content=b"{}", headers={"Authorization": "Bearer sk_live_42"})
    page.locator("li.request-item").first.click()
    headers = page.locator("#headers-table")
    expect(headers).to_contain_text(MASK)
    expect(headers).not_to_contain_text("sk_live_42")

    # A friend without the link sees nothing.
    friend = browser.new_context().new_page()
    friend.on("pageerror", lambda error: errors.append(str(error)))
    response = friend.goto(inspect_url)
    assert response.status == 403
    expect(friend.get_by_role("heading", name="This bin is private")).to_be_visible()

    # With a share link: read-only, live.
    page.get_by_role("button", name="Create share link").click()
    secret = page.locator("#new-secret-value")
    expect(secret).to_have_value(re.compile(f"^{re.escape(app_server.base_url)}/share/"))
    share_url = secret.input_value()
    expect(page.locator("#token-list")).to_contain_text("Share link (read-only)")
    friend.goto(share_url)
    friend.wait_for_url(inspect_url)
    wait_live(friend)
    expect(friend.locator(".bin-title")).to_contain_text("Read-only")
    expect(friend.locator("#clear-bin")).to_have_count(0)
    expect(friend.locator("#access-button")).to_have_count(0)
    httpx.post(capture_url + "/second", content=b"live")
    expect(friend.locator("li.request-item")).to_have_count(2)
    friend.locator("li.request-item").last.click()
    expect(friend.locator("#headers-table")).to_contain_text(MASK)
    expect(friend.locator("#delete-request")).to_have_count(0)

    # Revoked: the friend's open page is told at once.
    page.locator(".token-row", has_text="Share link").get_by_role("button", name="Revoke").click()
    expect(page.locator("#toast")).to_contain_text("revoked")
    expect(friend.locator("#no-access")).to_be_visible()
    expect(friend.locator("li.request-item")).to_have_count(0)
    assert friend.goto(inspect_url).status == 403
    assert errors == []


def test_an_api_token_is_shown_once_and_opens_the_api(app_server, page):
    bin_id = create_from_home(page, app_server.base_url)
    page.get_by_role("button", name="Settings & sharing").click()
    page.locator("#private-switch").check()
    expect(page.locator("#privacy-badge")).to_have_text("Private")
    page.get_by_role("button", name="Create API token").click()
    expect(page.locator("#new-secret-value")).to_have_value(re.compile("^insp_"))
    token = page.locator("#new-secret-value").input_value()
    api = f"{app_server.base_url}/api/bins/{bin_id}"
    assert httpx.get(api).status_code == 401
    assert httpx.get(api, headers={"Authorization": f"Bearer {token}"}).json()["private"] is True
