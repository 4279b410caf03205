"""The list follows the newest request until one is picked; a picked request has a
permalink; a hidden tab counts what arrived in its title."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def send(bin, path):
    return httpx.post(bin["url"] + path, content=path.encode()).json()["id"]


def test_the_page_follows_the_newest_until_a_request_is_picked(app_server, page):
    bin = create_bin(app_server.base_url)
    first = send(bin, "/one")
    page.goto(bin["inspect_url"])
    wait_live(page)
    detail = page.locator("#detail")
    expect(detail).to_have_attribute("data-id", str(first))
    second = send(bin, "/two")
    expect(detail).to_have_attribute("data-id", str(second))  # followed

    page.locator(f"li.request-item[data-id='{first}']").click()
    expect(detail).to_have_attribute("data-id", str(first))
    assert f"r={first}" in page.url
    send(bin, "/three")
    expect(page.locator("li.request-item")).to_have_count(3)
    expect(detail).to_have_attribute("data-id", str(first))  # stays on the pick

    page.get_by_role("button", name="Follow newest").click()
    fourth = send(bin, "/four")
    expect(detail).to_have_attribute("data-id", str(fourth))
    assert "r=" not in page.url


def test_a_permalink_opens_its_request_even_beyond_the_first_page(app_server, page):
    bin = create_bin(app_server.base_url)
    with httpx.Client() as client:
        ids = [client.post(bin["url"] + f"/{n}").json()["id"] for n in range(60)]
    page.goto(f"{bin['inspect_url']}?r={ids[0]}")
    wait_live(page)
    expect(page.locator("#detail")).to_have_attribute("data-id", str(ids[0]))
    expect(page.locator("#detail .detail-url")).to_contain_text("/0")
    send(bin, "/new")
    expect(page.locator("li.request-item").first.locator(".item-path")).to_have_text("/new")
    expect(page.locator("#detail")).to_have_attribute("data-id", str(ids[0]))


def test_a_hidden_tab_counts_new_requests_in_its_title(app_server, page):
    bin = create_bin(app_server.base_url)
    page.goto(bin["inspect_url"])
    wait_live(page)
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    send(bin, "/a")
    send(bin, "/b")
    expect(page).to_have_title(f"(2 new) Bin {bin['id']} (2) · Inspector")
    page.evaluate(
        """() => {
            Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    expect(page).to_have_title(f"Bin {bin['id']} (2) · Inspector")


def test_the_keyboard_moves_through_the_list(app_server, page):
    bin = create_bin(app_server.base_url)
    ids = [send(bin, f"/{n}") for n in range(4)]
    page.goto(bin["inspect_url"])
    wait_live(page)
    detail = page.locator("#detail")
    expect(detail).to_have_attribute("data-id", str(ids[-1]))  # the newest, at the top
    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    expect(detail).to_have_attribute("data-id", str(ids[-2]))
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(detail).to_have_attribute("data-id", str(ids[0]))
    page.keyboard.press("k")
    expect(detail).to_have_attribute("data-id", str(ids[1]))
    page.locator("#request-list").focus()
    page.keyboard.press("Home")
    expect(detail).to_have_attribute("data-id", str(ids[-1]))
    page.keyboard.press("End")
    expect(detail).to_have_attribute("data-id", str(ids[0]))
    assert f"r={ids[0]}" in page.url  # moving picks: the address follows
