"""A bin created with a URL name of the user's choice, in Chromium."""

import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_bin_created_with_a_url_name_and_private_takes_webhooks_there(app_server, page):
    name = f"stripe-{uuid.uuid4().hex[:8]}"
    page.goto(app_server.base_url + "/")
    page.get_by_text("Choose its URL").click()
    page.locator("#url-name-input").fill(name)
    page.locator("#private-input").check()
    page.get_by_role("button", name="Create a bin").click()
    page.wait_for_url(f"{app_server.base_url}/bins/{name}/")
    wait_live(page)
    expect(page.locator("#capture-url")).to_have_value(f"{app_server.base_url}/b/{name}")
    expect(page.locator("#privacy-badge")).to_have_text("Private")
    httpx.post(f"{app_server.base_url}/b/{name}/charge", json={"id": "evt_1"})
    expect(page.locator("li.request-item")).to_have_count(1)
    assert httpx.get(f"{app_server.base_url}/api/bins/{name}").status_code == 401

    # The same name again is refused, and said so.
    page.goto(app_server.base_url + "/")
    page.get_by_text("Choose its URL").click()
    page.locator("#url-name-input").fill(name)
    page.get_by_role("button", name="Create a bin").click()
    expect(page.locator("#create-error")).to_contain_text(f"There is a bin named {name} already")
