"""Searching the request list in Chromium: typed, live, shareable, and explained."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def push(url, number):
    return httpx.post(
        url + "/github",
        json={"ref": "main", "n": number},
        headers={"X-GitHub-Event": "push"},
    )


def test_a_search_narrows_the_list_follows_live_arrivals_and_clears(app_server, page):
    bin = create_bin(app_server.base_url)
    push(bin["url"], 1)
    httpx.post(bin["url"] + "/stripe", json={"type": "invoice.paid"})
    httpx.get(bin["url"] + "/health")
    page.goto(bin["inspect_url"])
    wait_live(page)
    items = page.locator("li.request-item")
    expect(items).to_have_count(3)

    page.keyboard.press("/")
    expect(page.locator("#search")).to_be_focused()
    page.keyboard.type("header:x-github-event=push")
    page.keyboard.press("Enter")
    expect(items).to_have_count(1)
    expect(page.locator("#list-count")).to_have_text("1 match")
    assert "q=header%3Ax-github-event%3Dpush" in page.url

    push(bin["url"], 2)  # matches: shown live
    httpx.post(bin["url"] + "/stripe", json={"type": "invoice.paid"})  # does not
    expect(items).to_have_count(2)
    expect(page.locator("#request-count")).to_have_text("5")
    expect(items.first.locator(".item-path")).to_have_text("/github")

    page.reload()  # the search is in the address, so it can be shared
    expect(page.locator("#search")).to_have_value("header:x-github-event=push")
    expect(items).to_have_count(2)

    page.locator("#search").fill('"invoice.paid" -path:/github')
    page.keyboard.press("Enter")
    expect(items).to_have_count(2)
    page.locator("#search").fill("nothing-like-this")
    page.keyboard.press("Enter")
    expect(page.locator("#no-match")).to_be_visible()
    expect(page.locator("#empty-state")).to_be_hidden()

    page.locator("#search").focus()
    page.keyboard.press("Escape")
    expect(items).to_have_count(5)
    assert "q=" not in page.url


def test_a_search_the_syntax_does_not_allow_is_explained(app_server, page):
    bin = create_bin(app_server.base_url)
    push(bin["url"], 1)
    page.goto(bin["inspect_url"])
    wait_live(page)
    page.locator("#search").fill("colour:red")
    page.keyboard.press("Enter")
    expect(page.locator("#search-error")).to_contain_text("Unknown field colour:")
