"""The timeline above the list, in Chromium: drawn, live, and a click away from the
requests of one interval."""

import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def total(page):
    """The arrivals the timeline counts, from its label."""
    return int(page.locator("#timeline-label").inner_text().split(" ")[0].replace(",", ""))


def test_the_timeline_counts_arrivals_live_and_filters_to_a_bar(app_server, page):
    bin = create_bin(app_server.base_url)
    with httpx.Client() as client:
        for n in range(3):
            client.post(bin["url"], content=b"%d" % n)
    page.goto(bin["inspect_url"])
    wait_live(page)
    canvas = page.locator("#timeline")
    expect(canvas).to_be_visible()
    expect(page.locator("#timeline-label")).to_contain_text("in bars of a second")
    assert total(page) == 3
    httpx.get(bin["url"] + "/live")
    expect(page.locator("li.request-item")).to_have_count(4)
    expect(page.locator("#timeline-label")).to_contain_text("4 requests")
    # The rightmost bar holds the newest request: clicking it narrows the list to it.
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + box["width"] - 1, box["y"] + box["height"] - 2)
    expect(page.locator("#search")).to_have_value(re.compile(r"^time:\S+Z\.\.\S+Z$"))
    expect(page.locator("#list-count")).to_contain_text("match")
    shown = page.locator("li.request-item").count()
    assert 1 <= shown <= 4
    assert "q=time" in page.url
