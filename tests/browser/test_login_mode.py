"""Login mode (INSPECTOR_REQUIRE_LOGIN) in Chromium: sign in, create, capture, sign out."""

import re

import httpx
import pytest
from django.contrib.auth.models import User
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.conftest import server_on_test_database

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def team_server(django_db_setup, django_db_blocker):
    with server_on_test_database("team", INSPECTOR_REQUIRE_LOGIN="true") as server:
        yield server


def test_a_team_member_signs_in_creates_a_bin_that_senders_reach_without_an_account(
    team_server, page
):
    User.objects.create_user("ada", password="a long passphrase 42")
    page.goto(team_server.base_url + "/")
    page.wait_for_url(re.compile(r"/login/\?next=/$"))
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.get_by_label("Password").fill("a long passphrase 42")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(team_server.base_url + "/")
    expect(page.locator(".signout")).to_contain_text("ada")

    page.get_by_role("button", name=re.compile("create", re.I)).click()
    page.wait_for_url(re.compile(r"/bins/[a-z2-7]{16}/$"))
    wait_live(page)
    capture_url = page.locator("#capture-url").input_value()
    assert httpx.post(capture_url, content=b"from a sender").status_code == 200
    expect(page.locator("li.request-item")).to_have_count(1)
    bin_url = page.url
    # Anyone else is sent to sign in, page and API alike.
    assert httpx.get(bin_url, follow_redirects=False).status_code == 302
    bin_id = bin_url.rstrip("/").rsplit("/", 1)[-1]
    api = httpx.get(f"{team_server.base_url}/api/bins/{bin_id}")
    assert api.status_code == 401 and api.json()["error"]["code"] == "login_required"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r"/login/$"))
    page.goto(bin_url)
    page.wait_for_url(re.compile(r"/login/\?next="))
