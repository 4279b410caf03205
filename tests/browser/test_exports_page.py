"""Export a bin from its page and import the file into another bin's page, in Chromium."""

import json

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("fmt", ["har", "ndjson"])
def test_a_bin_exported_from_its_page_imports_into_another(app_server, page, tmp_path, fmt):
    source, target = create_bin(app_server.base_url), create_bin(app_server.base_url)
    with httpx.Client() as client:
        client.post(source["url"] + "/one", json={"n": 1}, headers={"X-Hook": "1"})
        client.put(source["url"] + "/two?x=1", content=bytes(range(256)))
    page.goto(source["inspect_url"])
    wait_live(page)
    with page.expect_download() as download:
        page.locator("#export-bin").select_option(fmt)
    path = tmp_path / f"export.{fmt}"
    download.value.save_as(path)
    assert download.value.suggested_filename == f"bin-{source['id']}.{fmt}"
    if fmt == "har":
        assert len(json.loads(path.read_text())["log"]["entries"]) == 2

    page.goto(target["inspect_url"])
    wait_live(page)
    page.locator("#import-file").set_input_files(path)
    expect(page.locator("#toast")).to_contain_text("Imported 2 requests")
    items = page.locator("li.request-item")
    expect(items).to_have_count(2)  # pushed live, without a reload
    expect(items.first.locator(".item-path")).to_have_text("/two?x=1")


def test_a_file_that_is_not_an_export_is_explained(app_server, page, tmp_path):
    bin = create_bin(app_server.base_url)
    page.goto(bin["inspect_url"])
    wait_live(page)
    path = tmp_path / "notes.json"
    path.write_text("not json at all")
    page.locator("#import-file").set_input_files(path)
    expect(page.locator("#toast")).to_contain_text("line 1: not JSON")
