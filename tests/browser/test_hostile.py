"""Every byte the page shows came from a stranger: hostile payloads in every field of a
request, and in the bin's name, are shown as text and never run (headless Chromium)."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin, raw_request

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Each one sets body[data-pwned] or opens a dialog if it ever runs.
RUN = "document.body.dataset.pwned='1';alert(1)"
IMG = f'<img src=x onerror="{RUN}">'
SCRIPT = f"<script>{RUN}</script>"
ENTITY_NAME = "X-&ltimg&gt&amp'|`"  # markup would turn these into < > &: shown as typed
NAME = "<img src=x onerror=alert(1)><script>alert(1)</script>"  # names: 100 at most
SVG = f'<svg xmlns="http://www.w3.org/2000/svg" onload="{RUN}"><script>{RUN}</script></svg>'


def multipart():
    boundary = "xYzZY"
    body = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{IMG}"; filename="{IMG}.svg"\r\n'
        "Content-Type: image/svg+xml\r\n\r\n"
        f"{SVG}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    return body, f"multipart/form-data; boundary={boundary}"


def send_hostile_requests(port, bin_id):
    """Hostile bytes in the path, query, header names and values, and bodies of JSON,
    HTML, SVG, form and multipart requests; returns how many were sent."""
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
        client.post(
            f"/b/{bin_id}/json", json={"html": IMG, "script": SCRIPT}, headers={"X-Evil": SCRIPT}
        )
        html = {"Content-Type": "text/html"}
        client.post(f"/b/{bin_id}/html", content=SCRIPT + IMG, headers=html)
        client.post(f"/b/{bin_id}/svg", content=SVG, headers={"Content-Type": "image/svg+xml"})
        client.post(
            f"/b/{bin_id}/form",
            content=f"a={IMG}&{SCRIPT}=b".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        body, content_type = multipart()
        client.post(f"/b/{bin_id}/multipart", content=body, headers={"Content-Type": content_type})
    # What a browser or httpx would encode goes raw, in the path and the query. A header
    # name can only hold token characters (anything else is refused with 400): entities.
    query = "q=<script>alert(1)</script>&<img/src/onerror=alert(1)>=1"
    raw = (
        f"POST /b/{bin_id}/<svg/onload=alert(1)>?{query} HTTP/1.1\r\nHost: x\r\n"
        f"{ENTITY_NAME}: {IMG}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    ).encode()
    assert raw_request(port, raw).startswith(b"HTTP/1.1 200 ")
    return 6


def test_hostile_payloads_in_every_field_are_shown_as_text_and_never_run(app_server, page):
    bin = create_bin(app_server.base_url, name=NAME)
    dialogs, errors = [], []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(bin["inspect_url"])
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    wait_live(page)
    expect(page.locator("#bin-name")).to_have_text(NAME)

    count = send_hostile_requests(app_server.port, bin["id"])
    items = page.locator("li.request-item")
    expect(items).to_have_count(count)
    detail = page.locator("#detail")
    for index in range(count):
        items.nth(index).click()
        expect(detail).to_have_attribute("data-id", items.nth(index).get_attribute("data-id"))
        for tab in detail.locator("[role=tab]").all():  # every view of every body
            tab.click()
    page.wait_for_timeout(500)

    assert dialogs == []
    assert page.evaluate("document.body.dataset.pwned") is None
    # Nothing a stranger sent became an element.
    # (The page's own data travels in a JSON script element, escaped: that one stays.)
    stranger = "main img, main svg, main script:not(#bin-data), main iframe, main object"
    assert page.locator(stranger).count() == 0
    assert not [error for error in errors if "Content Security Policy" not in error]
    # And it is all there, as text.
    items.first.click()  # the raw one, sent last: the newest
    expect(detail).to_contain_text("<svg/onload=alert(1)>")
    expect(detail.locator("#headers-table")).to_contain_text(ENTITY_NAME)
    expect(detail.locator("#query-table")).to_contain_text("<script>alert(1)</script>")
    items.nth(1).click()  # multipart, sent before it
    expect(detail).to_contain_text('filename="<img src=x onerror=')
    items.nth(3).click()  # the SVG
    expect(detail).to_contain_text(f"<script>{RUN}</script></svg>")
    assert dialogs == []


def test_hostile_payloads_stay_text_in_deliveries_compare_search_and_timeline(app_server, page):
    bin = create_bin(app_server.base_url)
    dialogs = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message) or dialog.dismiss())
    hostile = {"X-GitHub-Delivery": IMG, "X-Evil": SCRIPT}
    with httpx.Client() as client:
        first = client.post(bin["url"], json={IMG: SCRIPT}, headers=hostile).json()["id"]
        second = client.post(bin["url"], json={IMG: SVG}, headers=hostile).json()["id"]
    page.goto(bin["inspect_url"])
    wait_live(page)
    detail = page.locator("#detail")
    page.locator(f"li.request-item[data-id='{second}']").click()
    expect(detail.locator("#attempts")).to_contain_text(f"#{first}")
    detail.get_by_role("button", name="Compare…").click()
    page.locator(f"li.request-item[data-id='{first}']").click()
    expect(page.locator("#comparison")).to_contain_text(SVG)
    page.locator("#search").fill('header:x-evil -"<script>alert(1)</script>" -path:<svg/onload=1>')
    page.keyboard.press("Enter")
    expect(page.locator("#list-count")).to_have_text("2 matches")
    page.locator("#timeline").hover()
    page.wait_for_timeout(300)
    assert dialogs == []
    assert page.evaluate("document.body.dataset.pwned") is None
    assert page.locator("main svg, main script:not(#bin-data), main iframe").count() == 0
