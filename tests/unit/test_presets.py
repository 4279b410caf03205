"""Each handshake preset against the exact request its provider sends, from the
provider's documentation, and the answer the provider expects."""

import base64
import hashlib
import hmac
import json

import pytest

from bins import presets
from bins.responses import BadResponse
from bins.rules import Behaviour, choose, sent
from tests.unit.test_rules import request


def answer(preset, value, record):
    behaviour = Behaviour(rules=tuple(presets.make(preset, value)))
    return sent(choose(behaviour, record, 0), record)


def test_slack_url_verification_echoes_the_challenge():
    # https://api.slack.com/events/url_verification
    body = {
        "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    record = request(headers=[("Content-Type", "application/json")], body=json.dumps(body).encode())
    sent_back = answer("slack", "", record)
    assert sent_back["status"] == 200
    assert sent_back["body"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    assert sent_back["headers"] == [["Content-Type", "text/plain; charset=utf-8"]]
    # An ordinary event is not answered by the preset.
    event = request(body=json.dumps({"type": "event_callback", "event": {}}).encode())
    assert answer("slack", "", event) is None


def test_meta_answers_hub_challenge_only_with_the_right_verify_token():
    # https://developers.facebook.com/docs/graph-api/webhooks/getting-started
    query = "hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=meatyhamhock"
    right = answer("meta", "meatyhamhock", request(method="GET", query=query))
    assert (right["status"], right["body"]) == (200, "1158201444")
    wrong = answer("meta", "another-token", request(method="GET", query=query))
    assert wrong["status"] == 403


def test_meta_verify_token_with_glob_characters_matches_only_itself():
    query = "hub.mode=subscribe&hub.challenge=5&hub.verify_token=abc"
    assert answer("meta", "a*", request(method="GET", query=query))["status"] == 403


def test_microsoft_graph_echoes_the_decoded_validation_token():
    # https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
    token = "Validation: Testing client application reachability for subscription Request-Id: 9e1b"
    query = "validationToken=" + token.replace(":", "%3A").replace(" ", "+")
    record = request(query=query, headers=[("Content-Type", "text/plain; charset=utf-8")])
    sent_back = answer("graph", "", record)
    assert (sent_back["status"], sent_back["body"]) == (200, token)
    assert sent_back["headers"][0][1].startswith("text/plain")


def test_twitter_crc_answers_the_hmac_of_the_crc_token():
    # https://docs.x.com/x-api/webhooks/introduction: sha256= base64 HMAC-SHA256 of
    # crc_token keyed with the consumer secret.
    secret, crc_token = "consumer-secret-abc123", "LkNbyL7Q5cGQwFTz1j1z3jxzS3j2G7hU"
    sent_back = answer("twitter", secret, request(method="GET", query=f"crc_token={crc_token}"))
    digest = hmac.new(secret.encode(), crc_token.encode(), hashlib.sha256).digest()
    assert sent_back["status"] == 200
    assert json.loads(sent_back["body"]) == {
        "response_token": "sha256=" + base64.b64encode(digest).decode()
    }


def test_zoom_url_validation_answers_plain_and_encrypted_token():
    # https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
    body = {
        "payload": {"plainToken": "qgg8vlvZRS6UYooatFL8Aw"},
        "event_ts": 1654503849680,
        "event": "endpoint.url_validation",
    }
    secret = "zoom_webhook_secret_token"
    sent_back = answer("zoom", secret, request(body=json.dumps(body).encode()))
    expected = hmac.new(secret.encode(), b"qgg8vlvZRS6UYooatFL8Aw", hashlib.sha256).hexdigest()
    assert json.loads(sent_back["body"]) == {
        "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
        "encryptedToken": expected,
    }
    assert sent_back["headers"] == [["Content-Type", "application/json"]]


def test_echo_answers_a_json_field_or_a_query_parameter():
    body = json.dumps({"data": {"token": "t-1"}}).encode()
    assert answer("echo", "data.token", request(body=body))["body"] == "t-1"
    assert answer("echo", "data.token", request(query="data.token=t-2"))["body"] == "t-2"


@pytest.mark.parametrize(
    "preset, value, message",
    [
        ("nope", "", "preset must be one of"),
        ("meta", "", "verify token"),
        ("zoom", " ", "secret token"),
        ("twitter", "a'b\"c", "both"),
        ("echo", "a..b", "field name"),
        ("meta", "{{ request.body }}", "may not hold"),
    ],
)
def test_a_preset_without_what_it_needs_is_refused(preset, value, message):
    with pytest.raises(BadResponse, match=message):
        presets.make(preset, value)


def test_the_catalogue_lists_every_preset_with_what_it_asks_for():
    listed = {item["id"]: item["asks"] for item in presets.catalogue()}
    assert listed == {
        "slack": None,
        "meta": "verify token",
        "graph": None,
        "twitter": "consumer secret",
        "zoom": "secret token",
        "echo": "field name",
    }
