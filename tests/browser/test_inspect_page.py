"""The pages in headless Chromium against a real server."""

import json
import re
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from playwright.sync_api import expect

from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def wait_live(page):
    """The page marks itself once its websocket is open (TESTING.md)."""
    expect(page.locator("body")).to_have_attribute("data-ws", "open", timeout=15_000)


def test_it_creates_a_bin_from_the_home_page_and_remembers_it(app_server, page):
    page.goto(app_server.base_url + "/")
    page.get_by_role("button", name=re.compile("create", re.I)).click()
    page.wait_for_url(re.compile(r"/bins/[a-z2-7]{16}/$"))
    bin_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    expect(page.locator("#capture-url")).to_have_value(f"{app_server.base_url}/b/{bin_id}")
    page.goto(app_server.base_url + "/")
    expect(page.locator(f"a[href='/bins/{bin_id}/']").first).to_be_visible()


def test_it_shows_a_webhook_live_and_after_a_server_restart(app_server, page):
    bin = create_bin(app_server.base_url, "browser")
    page.goto(bin["inspect_url"])
    wait_live(page)
    expect(page.locator("#request-count")).to_contain_text("0")

    httpx.post(
        bin["url"] + "/github?delivery=7",
        content=json.dumps({"action": "opened", "issue": {"number": 7}}),
        headers={"Content-Type": "application/json", "X-GitHub-Event": "issues"},
    )
    items = page.locator("li.request-item")
    expect(items).to_have_count(1)
    expect(items.first.locator(".method")).to_have_text("POST")
    items.first.click()
    detail = page.locator("#detail")
    expect(detail.locator("#headers-table")).to_contain_text("X-GitHub-Event")
    expect(detail.locator("#headers-table")).to_contain_text("issues")
    expect(detail.locator("#query-table")).to_contain_text("delivery")
    body = detail.locator(".body-json")
    expect(body).to_contain_text('"action": "opened"')
    expect(body).to_contain_text('"number": 7')

    app_server.stop()
    expect(page.locator("body")).not_to_have_attribute("data-ws", "open", timeout=15_000)
    app_server.start()
    httpx.post(bin["url"] + "/after-restart", content=b"missed while away")
    wait_live(page)
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text("/after-restart")
    httpx.post(bin["url"] + "/live-again", content=b"live")
    expect(items).to_have_count(3)
    expect(page.locator("#request-count")).to_contain_text("3")


def test_it_shows_binary_and_form_bodies(app_server, page):
    bin = create_bin(app_server.base_url)
    httpx.post(bin["url"] + "/form", data={"name": "Ada", "tag": ["a", "b"]})
    httpx.post(bin["url"] + "/bin", content=bytes(range(256)))
    page.goto(bin["inspect_url"])
    items = page.locator("li.request-item")
    expect(items).to_have_count(2)

    items.filter(has_text="/bin").click()
    expect(page.locator("#detail .body-hex")).to_contain_text("00000000")
    download = page.locator("#detail a[href$='/body']")
    expect(download).to_be_visible()

    items.filter(has_text="/form").click()
    form = page.locator("#detail .body-form")
    expect(form).to_contain_text("Ada")
    expect(form.locator("tr", has_text="tag")).to_have_count(2)


def test_it_never_runs_script_from_a_captured_request(app_server, page):
    bin = create_bin(app_server.base_url)
    attack = "<img src=x onerror=\"document.body.dataset.pwned='1'\"><script>alert(1)</script>"
    httpx.post(
        bin["url"] + "/x?q=" + "%3Cscript%3E",
        content=json.dumps({"html": attack}),
        headers={"Content-Type": "application/json", "X-Evil": attack},
    )
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog) or dialog.dismiss())
    page.goto(bin["inspect_url"])
    page.locator("li.request-item").first.click()
    expect(page.locator("#headers-table")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#detail .body-json")).to_contain_text("onerror")
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("#detail script, #detail img").count() == 0


def send_paced(url, rate, count):
    """Send `count` requests at `rate` a second; returns their ids."""
    ids = []
    with httpx.Client() as client:
        start = time.monotonic()
        for n in range(count):
            time.sleep(max(0, start + n / rate - time.monotonic()))
            ids.append(client.post(url, content=b'{"n": %d}' % n).json()["id"])
    return ids


def test_it_shows_every_arrival_at_100_a_second_on_a_full_bin(app_server, page):
    bin = create_bin(app_server.base_url)
    with httpx.Client() as client:
        for n in range(1000):
            client.post(bin["url"] + "/old", content=b"%d" % n)
    page.goto(bin["inspect_url"])
    wait_live(page)
    expect(page.locator("li.request-item").first).to_be_visible(timeout=2_000)
    with ThreadPoolExecutor(1) as pool:
        sending = pool.submit(send_paced, bin["url"] + "/new", 100, 300)
        ids = sending.result(timeout=30)
    expect(page.locator("#request-count")).to_have_text("1,300", timeout=10_000)
    shown = page.eval_on_selector_all(
        "li.request-item", "items => items.map(item => Number(item.dataset.id))"
    )
    assert set(ids) <= set(shown)
    assert len(shown) == len(set(shown))
