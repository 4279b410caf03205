"""Signature checks against a real server: requests signed by the providers' own libraries
(stripe, standardwebhooks, slack-sdk, twilio) are judged valid, a tampered one is told
apart, the test sender's sample passes the providers' own verifiers, and the server's log
never holds the secret."""

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import standardwebhooks
import stripe
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator

from tests.integration.helpers import create_bin, list_requests, viewer

pytestmark = pytest.mark.django_db(transaction=True)
STRIPE = "whsec_test_integration_5c1f0d9e8b7a6c5d"
STANDARD = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SLACK = "8f742231b10e8888abcd99yyyzzz85a5"
TWILIO = "12345678901234567890123456789012"
EVENT = json.dumps({"id": "evt_1", "type": "invoice.paid", "amount": 1250}).encode()


def checking(base_url, provider, secret):
    """A new bin checking `provider` signatures with `secret`: (bin, owner headers)."""
    bin = create_bin(base_url)
    owner = {"Authorization": f"Bearer {bin['token']}"}
    setting = {"signature": {"provider": provider, "secret": secret}}
    response = httpx.patch(f"{base_url}/api/bins/{bin['id']}", json=setting, headers=owner)
    assert response.status_code == 200, response.text
    assert secret not in response.text
    return bin, owner


def verdicts(base_url, bin_id):
    requests = list_requests(base_url, bin_id)
    return [(r["signature"]["status"], r["signature"]["cause"]) for r in reversed(requests)]


def test_stripes_library_signs_what_the_bin_finds_valid_and_a_reserialized_body_is_not(
    app_server,
):
    bin, _ = checking(app_server.base_url, "stripe", STRIPE)
    header = stripe.WebhookSignature.generate_signature_header(
        EVENT.decode(), STRIPE, timestamp=int(time.time())
    )
    signed = {"Stripe-Signature": header, "Content-Type": "application/json"}
    assert httpx.post(bin["url"] + "/stripe", content=EVENT, headers=signed).status_code == 200
    # A framework that parsed and wrote the JSON again before forwarding it:
    rewritten = json.dumps(json.loads(EVENT), indent=2).encode()
    assert httpx.post(bin["url"] + "/stripe", content=rewritten, headers=signed).status_code == 200
    found = verdicts(app_server.base_url, bin["id"])
    assert found == [("valid", None), ("invalid", "body_changed")]


def test_standard_webhooks_and_slack_libraries_sign_what_the_bin_finds_valid(app_server):
    bin, _ = checking(app_server.base_url, "standard", STANDARD)
    now = int(time.time())
    signature = standardwebhooks.Webhook(STANDARD).sign(
        "msg_2Zb6T4hLd", datetime.fromtimestamp(now, tz=UTC), EVENT.decode()
    )
    headers = {"webhook-id": "msg_2Zb6T4hLd", "webhook-timestamp": str(now)}
    httpx.post(bin["url"], content=EVENT, headers={**headers, "webhook-signature": signature})
    assert verdicts(app_server.base_url, bin["id"]) == [("valid", None)]

    bin, _ = checking(app_server.base_url, "slack", SLACK)
    stamp = str(int(time.time()))
    slack = SignatureVerifier(SLACK).generate_signature(timestamp=stamp, body=EVENT.decode())
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": slack}
    httpx.post(bin["url"] + "/slack/events", content=EVENT, headers=headers)
    old = str(int(time.time()) - 3600)
    stale = SignatureVerifier(SLACK).generate_signature(timestamp=old, body=EVENT.decode())
    headers = {"X-Slack-Request-Timestamp": old, "X-Slack-Signature": stale}
    httpx.post(bin["url"] + "/slack/events", content=EVENT, headers=headers)
    assert verdicts(app_server.base_url, bin["id"]) == [
        ("valid", None),
        ("invalid", "timestamp_outside_tolerance"),
    ]


def test_twilios_library_signs_for_the_url_the_request_reached(app_server):
    bin, _ = checking(app_server.base_url, "twilio", TWILIO)
    params = {"From": "+14155550100", "Body": "Hello", "MessageSid": "SM123"}
    url = bin["url"] + "/sms?account=7"
    signature = RequestValidator(TWILIO).compute_signature(url, params)
    form = {"X-Twilio-Signature": signature}
    httpx.post(url, data=params, headers=form)
    # Signed for the URL without its query, as a misconfigured webhook would be:
    other = RequestValidator(TWILIO).compute_signature(bin["url"] + "/sms", params)
    httpx.post(url, data=params, headers={"X-Twilio-Signature": other})
    assert verdicts(app_server.base_url, bin["id"]) == [("valid", None), ("invalid", "other_url")]


def test_the_test_senders_sample_passes_the_providers_own_verifier(app_server):
    bin, owner = checking(app_server.base_url, "standard", STANDARD)
    answer = httpx.post(f"{app_server.base_url}/api/bins/{bin['id']}/signature/test", headers=owner)
    assert answer.status_code == 201 and answer.json()["signature"]["status"] == "valid"
    sample = httpx.get(f"{app_server.base_url}/api/bins/{bin['id']}/requests/{answer.json()['id']}")
    request = sample.json()
    headers = {name: value for name, value in request["headers"]}
    assert standardwebhooks.Webhook(STANDARD).verify(request["body_text"], headers)


def test_a_viewer_sees_the_verdict_live_and_the_log_never_holds_the_secret(app_server):
    bin, owner = checking(app_server.base_url, "stripe", STRIPE)

    async def watch():
        async with viewer(app_server.base_url, bin["id"]) as socket:
            header = stripe.WebhookSignature.generate_signature_header(
                EVENT.decode(), "whsec_not_the_one", timestamp=int(time.time())
            )
            await asyncio.to_thread(
                httpx.post, bin["url"], content=EVENT, headers={"Stripe-Signature": header}
            )
            event = json.loads(await asyncio.wait_for(socket.recv(), 10))
            return event["requests"][0]["signature"]

    verdict = asyncio.run(watch())
    assert (verdict["status"], verdict["cause"]) == ("invalid", "wrong_secret")
    log = Path(app_server.log.name).read_text(errors="replace")
    assert STRIPE not in log and STANDARD not in log and TWILIO not in log
