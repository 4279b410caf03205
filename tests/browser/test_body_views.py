"""Each body view fed a real sample, in Chromium: what a reader sees for GitHub, Stripe,
Slack, multipart, gzip, broken JSON, XML, images, other charsets and random bytes."""

import gzip
import json
import os
import struct
import zlib
from pathlib import Path

import brotli
import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

GITHUB_PUSH = {
    "ref": "refs/heads/main",
    "before": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    "after": "0000000000000000000000000000000000000000",
    "repository": {"id": 186853002, "full_name": "octo-org/octo-repo", "private": False},
    "pusher": {"name": "octocat", "email": "octocat@github.com"},
    "commits": [{"id": "6113728f", "message": "Fix <script>alert(1)</script>", "distinct": True}],
}
STRIPE_EVENT = {
    "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
    "object": "event",
    "api_version": "2022-11-15",
    "created": 1686089970,
    "data": {"object": {"id": "in_1NG8Dt2eZvKYlo2C", "object": "invoice", "amount_paid": 2000}},
    "type": "invoice.paid",
}


def png(width=2, height=2):
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj <</Type /Catalog>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"


def multipart():
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    body = (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="title"\r\n\r\n'
            "Quarterly report\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="file"; filename="../../report Q3.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + PDF
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


@pytest.fixture
def opened(app_server, page):
    """Send one request to a fresh bin and open it; returns its body section."""

    def opened(content, content_type=None, headers=None):
        bin = create_bin(app_server.base_url)
        sent = dict(headers or {})
        if content_type:
            sent["Content-Type"] = content_type
        httpx.post(bin["url"], content=content, headers=sent)
        page.goto(bin["inspect_url"])
        wait_live(page)
        body = page.locator(".body-view")
        expect(body).to_be_visible()
        return body

    return opened


def tabs(body):
    return body.locator(".tab")


def test_a_github_push_is_pretty_json(opened):
    body = opened(json.dumps(GITHUB_PUSH, separators=(",", ":")), "application/json")
    expect(body).to_have_attribute("data-view", "json")
    expect(body.locator(".body-json")).to_contain_text('"full_name": "octo-org/octo-repo"')
    expect(body.locator(".body-json")).to_contain_text("<script>alert(1)</script>")


def test_a_stripe_event_is_pretty_json(opened):
    body = opened(json.dumps(STRIPE_EVENT), "application/json; charset=utf-8")
    expect(body.locator(".body-json .j-key").first).to_have_text('"id"')
    expect(body.locator(".body-json")).to_contain_text('"type": "invoice.paid"')


def test_a_slack_form_post_is_a_table_with_repeated_keys(opened):
    form = "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0001&text=94070&text=again&command=%2Fweather"
    body = opened(form, "application/x-www-form-urlencoded")
    rows = body.locator(".body-form tbody tr")
    expect(rows).to_have_count(5)
    expect(rows.nth(4)).to_contain_text("/weather")
    expect(rows.nth(3)).to_contain_text("again")


def test_a_multipart_upload_shows_each_part_and_offers_the_file(opened, page):
    content, content_type = multipart()
    body = opened(content, content_type)
    expect(body).to_have_attribute("data-view", "parts")
    parts = body.locator(".part")
    expect(parts).to_have_count(2)
    expect(parts.nth(0)).to_contain_text("Quarterly report")
    expect(parts.nth(1)).to_contain_text("application/pdf")
    with page.expect_download() as download:
        parts.nth(1).get_by_role("link", name="Download").click()
    # No folders in the name it is saved under.
    assert download.value.suggested_filename == "_.._report Q3.pdf"
    assert Path(download.value.path()).read_bytes() == PDF


@pytest.mark.parametrize("encoding", ["gzip", "br"])
def test_a_compressed_body_is_shown_decoded(opened, encoding):
    raw = json.dumps(STRIPE_EVENT).encode()
    packed = gzip.compress(raw) if encoding == "gzip" else brotli.compress(raw)
    body = opened(packed, "application/json", {"Content-Encoding": encoding})
    expect(body.locator(".body-decoded")).to_contain_text(f"Decoded from {encoding}")
    expect(body.locator(".body-json")).to_contain_text('"type": "invoice.paid"')
    expect(tabs(body).filter(has_text="Sent (hex)")).to_have_count(1)


def test_invalid_json_says_where_it_breaks(opened):
    body = opened('{\n  "a": 1,\n  "b": tru\n}', "application/json")
    expect(body.locator(".json-error")).to_contain_text(
        'Invalid JSON at line 3, column 8: unexpected "t"'
    )
    expect(body.locator(".json-error-at")).to_be_visible()


def test_xml_is_pretty(opened):
    body = opened(
        '<?xml version="1.0"?><note><to>Tove</to><from a="1">Jani</from></note>', "text/xml"
    )
    expect(body).to_have_attribute("data-view", "xml")
    expect(body.locator(".body-xml")).to_contain_text('  <from a="1">Jani</from>')


def test_a_png_is_shown_as_an_image(opened):
    body = opened(png(), "image/png")
    expect(body).to_have_attribute("data-view", "image")
    image = body.locator(".body-image img")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.naturalWidth") == 2


def test_text_in_a_declared_charset_is_decoded_in_it(opened):
    body = opened("Grüße aus Köln".encode("latin-1"), "text/plain; charset=iso-8859-1")
    expect(body).to_have_attribute("data-view", "text")
    expect(body.locator(".body-text")).to_have_text("Grüße aus Köln")


def test_random_bytes_are_a_hex_dump(opened):
    body = opened(os.urandom(300) + b"\x00", "application/octet-stream")
    expect(body).to_have_attribute("data-view", "hex")
    expect(body.locator(".hex-offset")).to_contain_text("00000120")


def test_a_10_mib_body_opens_as_a_preview_without_hanging(opened, page):
    big = json.dumps({"rows": ["x" * 100] * 98_000}).encode()
    assert 9 * 1024 * 1024 < len(big) < 10 * 1024 * 1024
    body = opened(big, "application/json")
    preview = body.locator(".body-preview")
    expect(preview).to_contain_text("Showing the first 256 KiB")
    # The page still answers at once while showing it.
    assert page.evaluate("() => new Promise(r => requestAnimationFrame(() => r(1)))") == 1
    preview.get_by_role("button", name="Show the whole body").click()
    expect(page.locator(".body-preview")).to_have_count(0, timeout=20_000)
    expect(page.locator(".body-view")).to_have_attribute("data-view", "json", timeout=20_000)


def test_json_also_shows_as_a_collapsible_tree(opened, page):
    body = opened(json.dumps(STRIPE_EVENT), "application/json")
    body.locator(".tab", has_text="Tree").click()
    tree = body.locator(".body-tree")
    expect(tree).to_contain_text('"type": "invoice.paid"')
    inner = tree.locator("details details details").first  # data > object: closed at first
    expect(inner).not_to_have_attribute("open", "")
    body.get_by_role("button", name="Expand all").click()
    expect(tree.locator("details:not([open])")).to_have_count(0)
    expect(tree).to_contain_text('"amount_paid": 2000')
    body.get_by_role("button", name="Collapse all").click()
    expect(tree.locator("details[open]")).to_have_count(0)
