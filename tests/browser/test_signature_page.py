"""Signature checks on the bin's page, in Chromium: the owner sets the secret, each
request shows its verdict and cause, a new secret re-checks them, and the signed test
sender sends a valid one."""

import base64
import hashlib
import hmac
import json
import os
import re

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SECRET = "It's a Secret to Everybody"
OTHER = "an old secret, rotated since"
BODY = json.dumps({"action": "opened", "number": 42}, separators=(",", ":")).encode()


def signed(secret, body=BODY):
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}", "Content-Type": "application/json"}


def new_bin(app_server, page):
    """Create a bin from the home page, wait for its socket; its capture URL."""
    page.goto(app_server.base_url + "/")
    page.get_by_role("button", name="Create a bin").click()
    page.wait_for_url(re.compile(r"/bins/[a-z2-7]{16}/$"))
    wait_live(page)
    return page.locator("#capture-url").input_value()


def item(page, request_id):
    return page.locator(f"li.request-item[data-id='{request_id}']")


def test_the_page_shows_each_verdict_and_its_cause_and_checks_again_on_a_new_secret(
    app_server, page, tmp_path
):
    capture_url = new_bin(app_server, page)

    page.get_by_role("button", name="Settings & sharing").click()
    page.locator("#signature-provider").select_option("github")
    page.locator("#signature-secret").fill(SECRET)
    page.get_by_role("button", name="Save the signature check").click()
    expect(page.locator("#toast")).to_contain_text("GitHub signatures are checked now")
    expect(page.locator("#signature-hint")).to_contain_text("••••••••")
    expect(page.locator("#signature-secret")).to_have_value("")  # never shown again
    assert SECRET not in page.content()

    valid = httpx.post(capture_url + "/hook", content=BODY, headers=signed(SECRET)).json()["id"]
    wrong = httpx.post(capture_url + "/hook", content=BODY, headers=signed(OTHER)).json()["id"]
    unsigned = httpx.post(capture_url + "/hook", content=BODY).json()["id"]
    expect(item(page, valid).locator(".item-signature")).to_have_text("valid")
    expect(item(page, wrong).locator(".item-signature")).to_have_text("invalid")
    expect(item(page, unsigned).locator(".item-signature")).to_have_text("unsigned")

    item(page, wrong).click()
    verdict = page.locator("#signature-verdict")
    expect(verdict).to_have_attribute("data-status", "invalid")
    expect(page.locator("#signature-cause")).to_have_text("Wrong secret")
    expect(page.locator("#signature-message")).to_contain_text("another secret")
    right = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    expect(page.locator("#signature-expected")).to_have_text(right)
    expect(page.locator("#signature-received")).to_have_text(signed(OTHER)["X-Hub-Signature-256"])
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)
    verdict.scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(shots, "signature-invalid.png"))

    # The sender's secret was the right one after all: the bin judges again, live.
    page.locator("#signature-secret").fill(OTHER)
    page.get_by_role("button", name="Save the signature check").click()
    expect(item(page, wrong).locator(".item-signature")).to_have_text("valid")
    expect(item(page, valid).locator(".item-signature")).to_have_text("invalid")
    expect(verdict).to_have_attribute("data-status", "valid")

    page.get_by_role("button", name="Send a signed test event").click()
    expect(page.locator("#signature-state")).to_contain_text("valid")
    sent = int(re.search(r"#(\d+)", page.locator("#signature-state").inner_text()).group(1))
    expect(item(page, sent).locator(".item-signature")).to_have_text("valid")
    page.locator("#signature-block").screenshot(path=os.path.join(shots, "signature-panel.png"))


def test_the_owner_sets_a_generic_hmac_with_its_options(app_server, page, tmp_path):
    capture_url = new_bin(app_server, page)
    page.get_by_role("button", name="Settings & sharing").click()
    expect(page.locator("#signature-header")).to_be_hidden()
    page.locator("#signature-provider").select_option("hmac")
    page.locator("#signature-secret").fill(SECRET)
    page.locator("#signature-header").fill("X-Acme-Signature")
    page.locator("#signature-prefix").fill("v1=")
    page.locator("#signature-encoding").select_option("base64")
    expect(page.locator("#signature-timestamp-header")).to_be_hidden()
    page.get_by_role("button", name="Save the signature check").click()
    expect(page.locator("#toast")).to_contain_text("Generic HMAC signatures are checked now")

    mac = base64.b64encode(hmac.new(SECRET.encode(), BODY, hashlib.sha256).digest()).decode()
    answer = httpx.post(capture_url, content=BODY, headers={"X-Acme-Signature": "v1=" + mac})
    rid = answer.json()["id"]
    expect(item(page, rid).locator(".item-signature")).to_have_text("valid")
    shots = os.environ.get("SCREENSHOT_DIR") or str(tmp_path)
    page.locator("#signature-block").screenshot(path=os.path.join(shots, "signature-hmac.png"))
    page.reload()
    page.get_by_role("button", name="Settings & sharing").click()
    expect(page.locator("#signature-header")).to_have_value("X-Acme-Signature")
    expect(page.locator("#signature-encoding")).to_have_value("base64")
