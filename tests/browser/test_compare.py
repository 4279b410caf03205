"""Compare two requests side by side, in Chromium and through the API."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_two_requests_compare_by_headers_and_json_paths(app_server, page):
    bin = create_bin(app_server.base_url)
    with httpx.Client() as client:
        first = client.post(
            bin["url"], json={"id": "evt_1", "amount": 100}, headers={"X-Try": "1"}
        ).json()["id"]
        second = client.post(
            bin["url"],
            json={"id": "evt_1", "amount": 250, "currency": "eur"},
            headers={"X-Try": "2"},
        ).json()["id"]
    page.goto(bin["inspect_url"])
    wait_live(page)
    page.locator(f"li.request-item[data-id='{first}']").click()
    page.get_by_role("button", name="Compare…").click()
    page.locator(f"li.request-item[data-id='{second}']").click()
    comparison = page.locator("#comparison")
    expect(comparison).to_contain_text(f"Request #{first} compared with #{second}")
    headers = comparison.locator("#compare-headers")
    expect(headers).to_contain_text("X-Try")
    body = comparison.locator("#compare-body")
    expect(body.locator("tr", has_text="$.amount")).to_contain_text("changed")
    expect(body.locator("tr", has_text="$.currency")).to_contain_text("added")
    comparison.get_by_role("button", name="Close comparison").click()
    expect(page.locator("#detail")).to_have_attribute("data-id", str(first))


def test_the_diff_api_answers_for_two_requests_of_the_bin(app_server):
    bin = create_bin(app_server.base_url)
    with httpx.Client() as client:
        a = client.post(bin["url"], content=b"line one\nline two\n").json()["id"]
        b = client.put(bin["url"] + "/x", content=b"line one\nline 2\n").json()["id"]
        diff = client.get(f"{app_server.base_url}/api/bins/{bin['id']}/requests/{a}/diff/{b}")
        missing = client.get(f"{app_server.base_url}/api/bins/{bin['id']}/requests/{a}/diff/999999")
    data = diff.json()
    assert {"name": "method", "a": "POST", "b": "PUT"} in data["fields"]
    assert data["body"]["kind"] == "text" and "+line 2" in data["body"]["changes"]
    assert missing.status_code == 404
