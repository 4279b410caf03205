"""Signature checks through the API (issue 8): the setting, verdicts on each request
judged when read, the signed test sender, and the secret kept out of every answer."""

import hashlib
import hmac
import json
import logging
import sys
from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from django.db import connection
from django.test import AsyncClient, RequestFactory
from django.utils import timezone
from django.views.debug import ExceptionReporter

from bins import secretbox, signatures, signing
from bins.capture import build_request
from bins.models import Bin
from bins.serializers import MASK
from bins.storage import store_batch
from tests.api.test_api import assert_error
from tests.asgi_fixtures import create_in_browser

pytestmark = pytest.mark.django_db(transaction=True)
SECRET = "It's a Secret to Everybody, 0123456789"
BODY = b'{"action":"opened","number":42}'
SECRETS = {
    "github": SECRET,
    "stripe": "whsec_test_7a1f0c9b2e4d4c8f9b6a3e2d1c0b9a8f",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
    "shopify": "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",
    "standard": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "twilio": "12345678901234567890123456789012",
    "gitlab": "gitlab-token-4c8f9b6a3e2d1c0b",
    "hmac": "generic-secret-0123456789abcdef",
}
HMAC_OPTIONS = {"header": "X-Signature", "signed": "timestamp_body", "timestamp_header": "X-Ts"}


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def owned():
    """A public bin: its id, and its owner token."""
    data = await create_in_browser(AsyncClient(), name="signed")
    return data["id"], data["token"]


async def patch(client, bin_id, token, body):
    return await client.patch(
        f"/api/bins/{bin_id}", body, content_type="application/json", headers=bearer(token)
    )


async def set_github(client, owned, secret=SECRET):
    bin_id, token = owned
    response = await patch(
        client, bin_id, token, {"signature": {"provider": "github", "secret": secret}}
    )
    assert response.status_code == 200, response.content
    return response.json()


def github(body, secret=SECRET):
    """The headers GitHub signs `body` with, as the capture fixture takes them."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return [(b"X-Hub-Signature-256", f"sha256={digest}".encode())]


async def listed(client, bin_id, token=None):
    response = await client.get(
        f"/api/bins/{bin_id}/requests", headers=bearer(token) if token else {}
    )
    assert response.status_code == 200
    return {req["id"]: req for req in response.json()["requests"]}


async def captured_id(capture, path, body=BODY, headers=()):
    answer = await capture(
        path, body=body, headers=[(b"content-type", b"application/json"), *headers]
    )
    assert answer["status"] == 200
    return json.loads(answer["body"])["id"]


# The setting


async def test_the_owner_sets_a_check_and_sees_only_a_hint_of_the_secret(async_client, owned):
    data = await set_github(async_client, owned)
    assert data["signature"] == {
        "provider": "github",
        "label": "GitHub",
        "options": {},
        "secret_hint": signatures.mask_secret(SECRET),
    }
    assert "0123456789" not in json.dumps(data) and "Secret" not in json.dumps(data)
    bin_id, token = owned
    read = (await async_client.get(f"/api/bins/{bin_id}", headers=bearer(token))).json()
    assert read["signature"] == data["signature"]


async def test_the_secret_is_stored_encrypted_never_in_plain_text(async_client, owned):
    await set_github(async_client, owned)
    bin = await Bin.objects.aget(pk=owned[0])
    assert SECRET not in bin.signature_secret and bin.signature_secret.startswith("gAAAA")
    assert secretbox.decrypt(bin.signature_secret) == SECRET

    def whole_row():
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM bins_bin WHERE id = %s", [owned[0]])
            return repr(cursor.fetchone())

    row = await sync_to_async(whole_row)()
    assert "Secret to Everybody" not in row and "0123456789" not in row


async def test_others_see_which_provider_but_not_the_options_or_the_hint(async_client, owned):
    await set_github(async_client, owned)
    data = (await AsyncClient().get(f"/api/bins/{owned[0]}")).json()
    assert data["access"] == "edit"
    assert data["signature"] == {"provider": "github", "label": "GitHub"}


async def test_leaving_out_the_secret_keeps_it_and_null_turns_the_check_off(async_client, owned):
    bin_id, token = owned
    body = {"provider": "hmac", "secret": SECRET, "options": {"header": "X-Sig"}}
    first = (await patch(async_client, bin_id, token, {"signature": body})).json()["signature"]
    assert first["options"]["header"] == "X-Sig" and first["options"]["algorithm"] == "sha256"
    changed = {"provider": "hmac", "options": {"header": "X-Sig", "encoding": "base64"}}
    second = (await patch(async_client, bin_id, token, {"signature": changed})).json()["signature"]
    assert (
        second["secret_hint"] == first["secret_hint"] and second["options"]["encoding"] == "base64"
    )
    bin = await Bin.objects.aget(pk=bin_id)
    assert secretbox.decrypt(bin.signature_secret) == SECRET
    # Options left out: kept for the same provider.
    third = await patch(async_client, bin_id, token, {"signature": {"provider": "hmac"}})
    assert third.json()["signature"]["options"]["encoding"] == "base64"
    off = await patch(async_client, bin_id, token, {"signature": None})
    assert off.json()["signature"] is None
    bin = await Bin.objects.aget(pk=bin_id)
    assert (bin.signature_provider, bin.signature_secret, bin.signature_hint) == ("", "", "")


@pytest.mark.parametrize(
    "signature",
    [
        "github",
        {"provider": "paypal", "secret": "x"},
        {"provider": "github"},  # no secret yet
        {"provider": "github", "secret": "   "},
        {"provider": "github", "secret": SECRET, "colour": "blue"},
        {"provider": "standard", "secret": "not base64 at all!"},
        {"provider": "stripe", "secret": "whsec_x", "options": {"tolerance": -1}},
        {"provider": "stripe", "secret": "whsec_x", "options": {"header": "X"}},
        {"provider": "hmac", "secret": "x", "options": {"header": "bad header"}},
        {"provider": "hmac", "secret": "x", "options": {"header": "X-S", "algorithm": "md5"}},
    ],
)
async def test_a_setting_that_cannot_work_is_400_saying_why(async_client, owned, signature):
    bin_id, token = owned
    response = await patch(async_client, bin_id, token, {"signature": signature})
    assert_error(response, 400, "invalid_signature")
    assert (await Bin.objects.aget(pk=bin_id)).signature_provider == ""


async def test_switching_provider_checks_the_kept_secret_against_it(async_client, owned):
    await set_github(async_client, owned)  # not a Standard Webhooks secret
    response = await patch(async_client, *owned, {"signature": {"provider": "standard"}})
    assert_error(response, 400, "invalid_signature")
    assert "whsec_" in response.json()["error"]["message"]


async def test_only_the_owner_changes_the_check(owned):
    response = await AsyncClient().patch(
        f"/api/bins/{owned[0]}",
        {"signature": {"provider": "github", "secret": SECRET}},
        content_type="application/json",
    )
    assert_error(response, 403, "owner_only")


# Verdicts


async def test_each_request_shows_whether_it_is_validly_signed_and_why_not(
    async_client, owned, capture
):
    await set_github(async_client, owned)
    bin_id, token = owned
    path = f"/b/{bin_id}/hook"
    valid = await captured_id(capture, path, headers=github(BODY))
    wrong = await captured_id(capture, path, headers=github(BODY, "another secret"))
    pretty = json.dumps(json.loads(BODY), indent=2).encode()
    changed = await captured_id(capture, path, body=pretty, headers=github(BODY))
    unsigned = await captured_id(capture, path)
    malformed = await captured_id(capture, path, headers=[(b"X-Hub-Signature-256", b"md5=12")])
    requests = await listed(async_client, bin_id)
    verdicts = {
        rid: (req["signature"]["status"], req["signature"]["cause"])
        for rid, req in requests.items()
    }
    assert verdicts == {
        valid: ("valid", None),
        wrong: ("invalid", "wrong_secret"),
        changed: ("invalid", "body_changed"),
        unsigned: ("unsigned", None),
        malformed: ("invalid", "header_malformed"),
    }
    assert "re-serialized as JSON" in requests[changed]["signature"]["message"]
    assert set(requests[valid]["signature"]) == {"status", "cause", "message"}

    detail = (
        await async_client.get(f"/api/bins/{bin_id}/requests/{wrong}", headers=bearer(token))
    ).json()
    expected = "sha256=" + hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert detail["signature"]["expected"] == expected
    assert detail["signature"]["received"] == github(BODY, "another secret")[0][1].decode()
    assert detail["signature"]["provider"] == "github" and detail["signature"]["label"] == "GitHub"


async def test_the_expected_signature_is_shown_to_the_owner_alone(async_client, owned, capture):
    # Anyone who may both send to a bin and read it would otherwise have the owner's
    # secret sign any body they like.
    await set_github(async_client, owned)
    bin_id, _ = owned
    wrong = await captured_id(capture, f"/b/{bin_id}", headers=github(BODY, "forged"))
    visitor = (await AsyncClient().get(f"/api/bins/{bin_id}/requests/{wrong}")).json()
    assert visitor["signature"]["status"] == "invalid"
    assert visitor["signature"]["expected"] is None and visitor["signature"]["expected_hidden"]
    assert visitor["signature"]["received"]
    export = await AsyncClient().get(f"/api/bins/{bin_id}/export?format=ndjson")
    text = b"".join([chunk async for chunk in export.streaming_content]).decode()
    right = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    assert right not in text


async def test_a_new_secret_checks_again_what_the_bin_holds(async_client, owned, capture):
    await set_github(async_client, owned, secret="first secret")
    bin_id, token = owned
    rid = await captured_id(capture, f"/b/{bin_id}", headers=github(BODY))
    assert (await listed(async_client, bin_id))[rid]["signature"]["cause"] == "wrong_secret"
    await set_github(async_client, owned)
    assert (await listed(async_client, bin_id))[rid]["signature"]["status"] == "valid"
    await patch(async_client, bin_id, token, {"signature": None})
    assert (await listed(async_client, bin_id))[rid]["signature"] is None


async def test_a_timestamp_is_judged_at_arrival_not_when_read(async_client, owned):
    bin_id, token = owned
    secret = SECRETS["stripe"]
    await patch(
        async_client, bin_id, token, {"signature": {"provider": "stripe", "secret": secret}}
    )
    arrived = timezone.now() - timedelta(days=2)
    records = []
    for signed_at in (arrived, arrived - timedelta(minutes=10)):
        headers = signatures.sign(
            "stripe", secret, {}, url="", body=BODY, now=signed_at.timestamp()
        )
        scope = {
            "method": "POST",
            "headers": [(k.encode(), v.encode()) for k, v in headers],
            "client": ("203.0.113.9", 1),
        }
        record = build_request(scope, BODY, len(BODY), bin_id=bin_id, path="", max_body_bytes=1024)
        record.received_at = arrived
        records.append(record)
    fresh, stale = await sync_to_async(store_batch)(records)
    requests = await listed(async_client, bin_id)
    assert requests[fresh.id]["signature"]["status"] == "valid"  # two days later
    assert requests[stale.id]["signature"]["cause"] == "timestamp_outside_tolerance"
    assert "600 seconds before it arrived" in requests[stale.id]["signature"]["message"]


async def test_a_body_cut_at_capture_is_not_judged(async_client, owned, capture, settings):
    await set_github(async_client, owned)
    settings.INSPECTOR_MAX_BODY_BYTES = 10
    answer = await capture(f"/b/{owned[0]}", body=BODY, headers=github(BODY))
    assert answer["status"] == 413
    (req,) = (await listed(async_client, owned[0])).values()
    assert (
        req["signature"]["status"] == "unchecked"
        and "cut at capture" in req["signature"]["message"]
    )


async def test_a_bin_without_a_check_gives_no_verdict(async_client, bin, capture):
    await captured_id(capture, f"/b/{bin.id}", headers=github(BODY))
    (req,) = (await listed(async_client, bin.id)).values()
    assert req["signature"] is None
    assert (await async_client.get(f"/api/bins/{bin.id}")).json()["signature"] is None


async def test_a_secret_stored_under_another_key_asks_to_be_entered_again(
    async_client, owned, capture, settings
):
    await set_github(async_client, owned)
    await captured_id(capture, f"/b/{owned[0]}", headers=github(BODY))
    settings.SECRET_KEY = "a-new-key-" + "x" * 50
    (req,) = (await listed(async_client, owned[0])).values()
    assert req["signature"]["status"] == "unchecked"
    assert "Enter the secret again" in req["signature"]["message"]
    response = await patch(async_client, *owned, {"signature": {"provider": "github"}})
    assert_error(response, 400, "invalid_signature")
    assert (await set_github(async_client, owned))["signature"]["provider"] == "github"


async def test_a_gitlab_token_is_masked_wherever_the_bin_checks_it(async_client, owned, capture):
    bin_id, token = owned
    secret = SECRETS["gitlab"]
    await patch(
        async_client, bin_id, token, {"signature": {"provider": "gitlab", "secret": secret}}
    )
    rid = await captured_id(capture, f"/b/{bin_id}", headers=[(b"X-Gitlab-Token", secret.encode())])
    detail = (
        await async_client.get(f"/api/bins/{bin_id}/requests/{rid}", headers=bearer(token))
    ).json()
    assert ["X-Gitlab-Token", MASK] in detail["headers"]
    assert detail["signature"]["status"] == "valid"
    assert secret not in json.dumps(detail)
    export = await async_client.get(f"/api/bins/{bin_id}/export", headers=bearer(token))
    assert secret not in b"".join([chunk async for chunk in export.streaming_content]).decode()


async def test_exports_carry_the_verdicts_and_never_the_secret(async_client, owned, capture):
    await set_github(async_client, owned)
    bin_id, token = owned
    await captured_id(capture, f"/b/{bin_id}", headers=github(BODY))
    ciphertext = (await Bin.objects.aget(pk=bin_id)).signature_secret
    for fmt in ("har", "ndjson"):
        response = await async_client.get(
            f"/api/bins/{bin_id}/export?format={fmt}", headers=bearer(token)
        )
        text = b"".join([chunk async for chunk in response.streaming_content]).decode()
        assert SECRET not in text and ciphertext not in text
        assert '"status": "valid"' in text
    response = await async_client.get(
        f"/api/bins/{bin_id}/export?format=har", headers=bearer(token)
    )
    har = json.loads(b"".join([chunk async for chunk in response.streaming_content]))
    assert har["log"]["entries"][0]["_signature"]["status"] == "valid"


# The signed test sender


@pytest.mark.parametrize("provider", list(signatures.PROVIDERS))
async def test_the_test_sender_stores_a_sample_signed_the_providers_way(
    async_client, owned, provider
):
    bin_id, token = owned
    setting = {"provider": provider, "secret": SECRETS[provider]}
    if provider == "hmac":
        setting["options"] = HMAC_OPTIONS
    assert (await patch(async_client, bin_id, token, {"signature": setting})).status_code == 200
    response = await async_client.post(
        f"/api/bins/{bin_id}/signature/test", {}, "application/json", headers=bearer(token)
    )
    assert response.status_code == 201, response.content
    sent = response.json()
    assert sent["signature"]["status"] == "valid"
    detail = (await async_client.get(f"/api/bins/{bin_id}/requests/{sent['id']}")).json()
    assert detail["signature"]["status"] == "valid"
    assert detail["body_base64"] and ["User-Agent", signing.SENDER] in detail["headers"]
    assert detail["content_type"] == signatures.sample_event(provider)[0]


async def test_the_test_sender_needs_a_check_and_the_owner(async_client, owned):
    bin_id, token = owned
    response = await async_client.post(
        f"/api/bins/{bin_id}/signature/test", {}, "application/json", headers=bearer(token)
    )
    assert_error(response, 400, "invalid_signature")
    await set_github(async_client, owned)
    response = await AsyncClient().post(
        f"/api/bins/{bin_id}/signature/test", {}, "application/json"
    )
    assert_error(response, 403, "owner_only")


async def test_the_test_sender_sends_to_a_url_only_through_the_outbound_guard(async_client, owned):
    await set_github(async_client, owned)
    bin_id, token = owned
    response = await async_client.post(
        f"/api/bins/{bin_id}/signature/test",
        {"url": "http://127.0.0.1:9/hooks"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] is None and "loopback" in answer["error"]
    bad = await async_client.post(
        f"/api/bins/{bin_id}/signature/test",
        {"url": "ftp://example.com/"},
        content_type="application/json",
        headers=bearer(token),
    )
    assert_error(bad, 400, "invalid_url")


# Secrets and logs


async def test_no_secret_reaches_a_log_line(async_client, owned, capture, caplog, settings):
    settings.DEBUG = True  # Django logs every SQL statement with its parameters
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="django.db.backends")
    await set_github(async_client, owned)
    bin_id, token = owned
    await captured_id(capture, f"/b/{bin_id}", headers=github(BODY, "another"))
    await async_client.post(
        f"/api/bins/{bin_id}/signature/test", {}, "application/json", headers=bearer(token)
    )
    await listed(async_client, bin_id, token)
    await patch(
        async_client, bin_id, token, {"signature": {"provider": "standard", "secret": SECRET}}
    )
    assert "UPDATE" in caplog.text  # the statements that stored it were logged
    assert SECRET not in caplog.text and "Everybody" not in caplog.text


def test_error_reports_show_no_variable_holding_a_secret(settings):
    bin = Bin(id="abcdefghijklmnop")
    request = RequestFactory().patch("/api/bins/abcdefghijklmnop")
    try:
        signing.changes_for(bin, {"provider": "standard", "secret": SECRET})
    except signatures.BadSignatureConfig:
        report = ExceptionReporter(request, *sys.exc_info()).get_traceback_text()
    assert "BadSignatureConfig" in report and "changes_for" in report
    assert SECRET not in report and "Everybody" not in report
    assert repr(signing.judge_for(Bin(signature_provider="github"))) == "<Judge github>"


def test_the_admin_never_shows_the_encrypted_secret(admin_user, rf):
    from django.contrib import admin

    request = rf.get("/admin/bins/bin/add/")
    request.user = admin_user
    form = admin.site._registry[Bin].get_form(request)
    assert "signature_secret" not in form.base_fields
    assert "signature_provider" in form.base_fields
