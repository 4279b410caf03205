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


def open_settings(app_server, page):
    page.goto(app_server.base_url + "/")
    page.get_by_role("button", name="Create a bin").click()
    page.wait_for_url(re.compile(r"/bins/[a-z2-7]{16}/$"))
    wait_live(page)
    page.get_by_role("button", name="Settings & sharing").click()
    return page.locator("#capture-url").input_value()


def test_the_owner_adds_a_handshake_preset_and_edits_rules(app_server, page):
    capture_url = open_settings(app_server, page)
    page.locator("#preset-select").select_option("meta")
    page.locator("#preset-value").fill("meatyhamhock")
    page.get_by_role("button", name="Add its rules").click()
    expect(page.locator(".rule-card")).to_have_count(2)
    expect(page.locator(".rule-name").first).to_have_value("Meta hub.challenge")

    query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"
    answer = httpx.get(f"{capture_url}?{query}")
    assert (answer.status_code, answer.text) == (200, "1158201444")
    page.locator("li.request-item").first.click()
    expect(page.locator("#response-why")).to_contain_text("Meta hub.challenge")
    expect(page.locator("#response-sent")).to_contain_text("1158201444")

    # A rule of one's own, moved above the preset's, answers first.
    page.get_by_role("button", name="Add a rule").click()
    card = page.locator(".rule-card").nth(2)
    card.locator('[data-field="name"]').fill("everything")
    card.locator('[data-field="method"]').fill("")
    card.locator('[data-field="conditions"]').fill("query hub.mode = *")
    card.locator('[data-field="status"]').fill("418")
    card.locator('[data-field="body"]').fill("{{ query.hub.challenge | upper }}-teapot")
    card.get_by_role("button", name="↑").click()
    page.locator(".rule-card").nth(1).get_by_role("button", name="↑").click()
    expect(page.locator(".rule-name").first).to_have_value("everything")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.locator("#toast")).to_contain_text("Saved the rules")
    answer = httpx.get(f"{capture_url}?hub.mode=subscribe&hub.challenge=abc")
    assert (answer.status_code, answer.text) == (418, "ABC-teapot")

    # What the server refuses is said, naming the rule.
    page.locator(".rule-card").first.locator('[data-field="body"]').fill("{{ secret.key }}")
    page.get_by_role("button", name="Save the rules").click()
    expect(page.locator("#rules-error")).to_contain_text("rule 1")


def test_the_owner_sets_a_failure_script_and_sees_it_answer(app_server, page):
    capture_url = open_settings(app_server, page)
    page.locator("#failures-which").select_option("first")
    page.locator("#failures-count").fill("2")
    page.locator("#failures-how").select_option("rate_limit")
    expect(page.locator("#failures-status")).to_be_hidden()
    page.locator("#failures-retry").fill("30")
    page.get_by_role("button", name="Save the script").click()
    expect(page.locator("#failures-state")).to_contain_text("The first 2 fail")

    statuses = [httpx.post(capture_url).status_code for _ in range(3)]
    assert statuses == [429, 429, 200]
    # The list says which requests were failed on purpose.
    expect(page.locator(".item-answer")).to_have_count(2)
    expect(page.locator(".item-answer").first).to_have_text("→ 429")
    page.locator("li.request-item").last.click()
    expect(page.locator("#response-sent")).to_contain_text("429")
    expect(page.locator("#response-why")).to_contain_text("failure script")

    page.locator("#failures-which").select_option("")
    page.get_by_role("button", name="Save the script").click()
    expect(page.locator("#failures-state")).to_contain_text("Off")
    assert httpx.post(capture_url).status_code == 200
