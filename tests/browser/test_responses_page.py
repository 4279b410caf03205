"""Setting what a bin answers from its page, in Chromium, and seeing it sent."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_sets_the_response_and_the_detail_shows_what_was_sent(app_server, page):
    page.goto(app_server.base_url + "/")
    page.get_by_role("button", name="Create a bin").click()
    page.wait_for_url(re.compile(r"/bins/[a-z2-7]{16}/$"))
    wait_live(page)
    capture_url = page.locator("#capture-url").input_value()
    page.get_by_role("button", name="Settings & sharing").click()
    page.locator("#response-status").fill("202")
    page.locator("#response-headers").fill("Content-Type: application/json\nX-Handled-By: bin")
    page.locator("#response-body").fill('{"queued": true}')
    page.get_by_role("button", name="Save the response").click()
    expect(page.locator("#toast")).to_contain_text("answers with it now")

    answer = httpx.post(capture_url, content=b"{}")
    assert answer.status_code == 202 and answer.json() == {"queued": True}
    assert answer.headers["x-handled-by"] == "bin"
    page.locator("li.request-item").first.click()
    sent = page.locator("#response-sent")
    expect(sent).to_contain_text("202")
    expect(sent).to_contain_text("X-Handled-By")
    expect(sent).to_contain_text('{"queued": true}')

    # A header the server would refuse is refused here, and said so.
    page.locator("#response-headers").fill("Bad Name: 1")
    page.get_by_role("button", name="Save the response").click()
    expect(page.locator("#response-error")).to_contain_text("not a header name")

    page.get_by_role("button", name="Back to the default").click()
    expect(page.locator("#response-state")).to_contain_text("the default")
    assert httpx.post(capture_url).json()["ok"] is True
