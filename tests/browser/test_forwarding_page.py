"""Forward targets, deliveries with "Retry now", and an edited replay beside the original,
as a bin's owner uses them in Chromium, against a real HTTP target on 127.0.0.1."""

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.test_inspect_page import wait_live
from tests.browser.test_privacy_page import create_from_home
from tests.conftest import server_on_test_database
from tests.integration.test_forwarding_server import Target

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
HOSTILE = b'<img src=x onerror="window.pwned=1">'


@pytest.fixture(scope="module")
def forwarding_page_server(django_db_setup):
    env = {
        "INSPECTOR_OUTBOUND_ALLOW": "127.0.0.0/8",
        "INSPECTOR_FORWARD_ATTEMPTS": "2",
        "INSPECTOR_FORWARD_BACKOFF": "0.2",
        "INSPECTOR_FORWARD_POLL": "0.2",
        "INSPECTOR_FORWARD_WORKER": "true",
    }
    with server_on_test_database("forwarding-page", **env) as server:
        yield server


@pytest.fixture
def target():
    target = Target()
    yield target
    target.close()


def test_an_owner_forwards_sees_attempts_live_and_retries_now(
    forwarding_page_server, page, target, tmp_path
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = forwarding_page_server.base_url
    bin_id = create_from_home(page, base)
    wait_live(page)
    page.get_by_role("button", name="Settings & sharing").click()
    expect(page.locator("#targets-empty")).to_be_visible()
    page.locator("#target-url").fill(target.url)
    page.locator("#target-form").get_by_role("button", name="Add").click()
    expect(page.locator("#target-list")).to_contain_text(target.url)
    expect(page.locator("#targets-empty")).to_be_hidden()
    page.locator("#forwarding-block").screenshot(path=tmp_path / "targets.png")

    target.failing = True
    httpx.post(f"{base}/b/{bin_id}/github?x=1", content=b'{"n": 1}')
    page.locator("li.request-item").first.click()
    delivery = page.locator("#deliveries .delivery")
    # Two attempts, each pushed live, then it gives up.
    expect(delivery).to_have_attribute("data-state", "failed", timeout=15_000)
    expect(delivery.locator(".attempt-row")).to_have_count(2)
    expect(delivery).to_contain_text("503")
    target.failing = False
    delivery.get_by_role("button", name="Retry now").click()
    expect(delivery).to_have_attribute("data-state", "delivered")
    expect(delivery.locator(".attempt-row")).to_have_count(3)
    expect(delivery.locator(".attempt-row").last).to_contain_text("(manual)")
    expect(delivery.get_by_role("button", name="Retry now")).to_have_count(0)
    page.set_viewport_size({"width": 1280, "height": 2400})
    page.locator("#outbound").screenshot(path=tmp_path / "deliveries.png")
    page.set_viewport_size({"width": 1280, "height": 720})
    assert [path for _, path, *_ in target.received] == ["/in/github?x=1"] * 3

    # Switched off: new requests are not forwarded.
    page.locator(".target-row input[type=checkbox]").uncheck()
    expect(page.locator("#toast")).to_contain_text("Not forwarding")
    httpx.post(f"{base}/b/{bin_id}/second", content=b"2")
    expect(page.locator("li.request-item")).to_have_count(2)
    page.locator("li.request-item").first.click()
    expect(page.locator("#outbound")).to_be_visible()
    expect(page.locator("#deliveries .delivery")).to_have_count(0)
    assert errors == []


def test_an_edited_replay_is_shown_beside_the_original_as_text(
    forwarding_page_server, page, target, tmp_path
):
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    base = forwarding_page_server.base_url
    bin_id = create_from_home(page, base)
    wait_live(page)
    httpx.post(f"{base}/b/{bin_id}/hook", content=b'{"n": 1}', headers={"X-Hook": "a"})
    page.locator("li.request-item").first.click()
    page.locator("#replay-url").fill(target.url)
    page.locator("#replay-form summary").click()
    page.locator("#replay-method").fill("PUT")
    page.locator("#replay-body").fill(HOSTILE.decode())
    page.locator("#replay-send").click()
    replay = page.locator("#replays .replay").first
    expect(replay).to_contain_text("PUT " + target.url + "/hook")
    expect(replay).to_contain_text("edited")
    expect(replay.locator(".replay-answer-body")).to_have_text("taken: " + HOSTILE.decode())
    expect(replay.locator(".replay-detail")).to_contain_text("X-Target")
    assert target.received[0][:2] == ("PUT", "/in/hook") and target.received[0][3] == HOSTILE
    assert page.evaluate("window.pwned") is None
    assert page.locator("#outbound img").count() == 0

    # A private address is refused, and the form says why.
    page.locator("#replay-url").fill("http://10.0.0.5/in")
    page.locator("#replay-send").click()
    expect(page.locator("#replay-form .form-error")).to_contain_text(
        "10.0.0.5 is a private address"
    )
    expect(page.locator("#replays .replay")).to_have_count(1)
    page.set_viewport_size({"width": 1280, "height": 2400})
    page.locator("#outbound").screenshot(path=tmp_path / "replays.png")
    assert errors == []
