"""Retries of one delivery (same provider delivery id) show as its attempts, in Chromium."""

import json

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_github_retries_show_as_attempts_of_one_delivery(app_server, page):
    bin = create_bin(app_server.base_url)
    delivery = {"X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958"}
    with httpx.Client() as client:
        first = client.post(bin["url"], json={"n": 1}, headers=delivery).json()["id"]
        client.post(bin["url"], json={"other": True}, headers={"X-GitHub-Delivery": "another"})
    page.goto(bin["inspect_url"])
    wait_live(page)
    second = httpx.post(bin["url"], json={"n": 1}, headers=delivery).json()["id"]
    newest = page.locator(f"li.request-item[data-id='{second}']")
    expect(newest.locator(".item-attempt")).to_have_text("attempt 2/2")
    expect(page.locator(f"li.request-item[data-id='{first}'] .item-attempt")).to_have_text(
        "attempt 1/2"
    )
    expect(page.locator(".item-attempt")).to_have_count(2)  # "another" was tried once
    newest.click()
    attempts = page.locator("#attempts li")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(1)).to_contain_text("(this one)")
    attempts.nth(0).get_by_role("button").click()
    expect(page.locator("#detail")).to_have_attribute("data-id", str(first))


def test_stripe_events_group_by_their_event_id(app_server, page):
    bin = create_bin(app_server.base_url)
    event = json.dumps({"id": "evt_1NG8Du2eZvKYlo2C", "object": "event", "type": "invoice.paid"})
    with httpx.Client() as client:
        for _ in range(3):
            client.post(bin["url"], content=event, headers={"Stripe-Signature": "t=1,v1=x"})
    page.goto(bin["inspect_url"])
    wait_live(page)
    expect(page.locator(".item-attempt")).to_have_text(
        ["attempt 3/3", "attempt 2/3", "attempt 1/3"]
    )


def test_a_bin_can_name_its_own_delivery_header(app_server, page):
    page.goto(app_server.base_url + "/")
    page.get_by_role("button", name="Create a bin").click()
    page.wait_for_url("**/bins/*/")
    wait_live(page)
    capture_url = page.locator("#capture-url").input_value()
    with httpx.Client() as client:
        for _ in range(2):
            client.post(capture_url, headers={"X-Request-Id": "abc"})
    expect(page.locator("li.request-item")).to_have_count(2)
    expect(page.locator(".item-attempt")).to_have_count(0)
    page.get_by_role("button", name="Settings & sharing").click()
    page.locator("#delivery-header").fill("X-Request-Id")
    page.locator("#delivery-form").get_by_role("button", name="Save").click()
    expect(page.locator(".item-attempt")).to_have_text(["attempt 2/2", "attempt 1/2"])
