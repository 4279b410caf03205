"""Desktop notifications for requests that arrive while the tab is hidden, in Chromium."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_NOTIFICATIONS = """
window.shown = [];
window.Notification = class {
  static permission = "default";
  static async requestPermission() { Notification.permission = "granted"; return "granted"; }
  constructor(title, options) { window.shown.push([title, options.body]); }
  addEventListener() {}
};
"""


def test_a_hidden_tab_is_notified_of_arrivals_once_asked_to(app_server, page):
    bin = create_bin(app_server.base_url)
    page.add_init_script(RECORD_NOTIFICATIONS)
    page.goto(bin["inspect_url"])
    wait_live(page)
    button = page.get_by_role("button", name="Notify me")
    button.click()
    expect(page.locator("#notify")).to_have_attribute("aria-pressed", "true")
    httpx.post(bin["url"] + "/visible")  # the tab is visible: no notification
    expect(page.locator("li.request-item")).to_have_count(1)
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    httpx.post(bin["url"] + "/hidden")
    expect(page.locator("li.request-item")).to_have_count(2)
    shown = page.evaluate("window.shown")
    assert shown == [["POST /hidden", f"Bin {bin['id']} · Inspector"]]
    page.locator("#notify").click()  # and off again
    expect(page.locator("#notify")).to_have_attribute("aria-pressed", "false")
