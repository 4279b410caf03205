"""What the page says of retention and expiry, in headless Chromium."""

from datetime import timedelta

import httpx
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from bins.models import Bin
from tests.browser.test_inspect_page import wait_live
from tests.conftest import server_on_test_database
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
CAP = 10
BURST = 20


@pytest.fixture(scope="module")
def capped_server(django_db_setup, django_db_blocker):
    """A server on the test database whose bins keep their newest CAP requests and
    take 1 request a second, in bursts of BURST."""
    capped = {
        "INSPECTOR_MAX_REQUESTS_PER_BIN": str(CAP),
        "INSPECTOR_BIN_RATE": "1",
        "INSPECTOR_BIN_BURST": str(BURST),
    }
    with server_on_test_database("capped", **capped) as server:
        yield server


def test_the_page_shows_what_the_bin_keeps_warns_near_the_cap_and_counts_drops(capped_server, page):
    bin = create_bin(capped_server.base_url)
    with httpx.Client() as client:
        for n in range(5):
            client.post(bin["url"], content=b"%d" % n)
    page.goto(bin["inspect_url"])
    kept = page.locator("#kept-stat")
    expect(kept).to_have_text("5 of 10 kept")
    expect(kept).not_to_have_class("stat muted is-near-cap")
    wait_live(page)
    with httpx.Client() as client:
        for n in range(5, 13):
            client.post(bin["url"], content=b"%d" % n)
            if n == 8:  # 9 kept: near the cap
                expect(kept).to_have_text("9 of 10 kept")
                expect(kept).to_have_class("stat muted is-near-cap")
    expect(kept).to_have_text("10 of 10 kept · 3 dropped")
    expect(page.locator("#request-count")).to_have_text("13")
    page.reload()  # and the server says the same
    expect(kept).to_have_text("10 of 10 kept · 3 dropped")
    expect(page.locator("li.request-item")).to_have_count(CAP)


def test_the_page_counts_refused_requests_live(capped_server, page):
    bin = create_bin(capped_server.base_url)
    page.goto(bin["inspect_url"])
    wait_live(page)
    with httpx.Client() as client:
        statuses = [client.post(bin["url"], content=b"%d" % n).status_code for n in range(30)]
    refused = statuses.count(429)
    assert refused >= 5
    kept = page.locator("#kept-stat")
    expect(kept).to_contain_text(f"· {refused} refused")
    expect(page.locator("#request-count")).to_have_text("30")
    page.reload()
    expect(kept).to_contain_text(f"· {refused} refused")


def test_the_page_of_an_expired_bin_says_it_expired(app_server, page):
    bin = create_bin(app_server.base_url)
    Bin.objects.filter(pk=bin["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = page.goto(bin["inspect_url"])
    assert response.status == 410
    expect(page.get_by_role("heading", name="This bin has expired")).to_be_visible()
    expect(page.get_by_role("link", name="Create a new bin")).to_be_visible()
