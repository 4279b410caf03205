"""The admin page (Django admin, staff only): find a bin, see its counters, delete it."""

import httpx
import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from bins.models import Bin
from tests.integration.helpers import create_bin

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_find_a_bin_with_its_counters_and_delete_it(app_server, page):
    User.objects.create_user(
        "admin", password="a long passphrase 42", is_staff=True, is_superuser=True
    )
    User.objects.create_user("plain", password="a long passphrase 42")
    bin = create_bin(app_server.base_url, "payments")
    for _ in range(2):
        httpx.post(bin["url"], content=b"x")
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))

    # Not staff: the admin does not let them in.
    page.goto(app_server.base_url + "/admin/")
    page.get_by_label("Username").fill("plain")
    page.get_by_label("Password").fill("a long passphrase 42")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".errornote")).to_be_visible()

    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("a long passphrase 42")
    page.get_by_role("button", name="Log in").click()
    page.goto(app_server.base_url + "/admin/bins/bin/?q=payments")
    row = page.locator("#result_list tbody tr", has_text=bin["id"])
    expect(row).to_have_count(1)
    expect(row.locator("td.field-request_count")).to_have_text("2")
    row.locator("input[type=checkbox]").check()
    page.locator("select[name=action]").select_option("delete_selected")
    page.get_by_role("button", name="Go").click()
    page.get_by_role("button", name="Yes, I’m sure").click()
    expect(page.locator(".messagelist")).to_contain_text("Successfully deleted 1 bin")
    assert not Bin.objects.filter(pk=bin["id"]).exists()
    assert errors == []  # nothing the CSP refused
