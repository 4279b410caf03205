"""bins.signatures: webhook signatures checked against vectors from each provider's own
documentation or official library, valid and each way of being invalid."""

import base64
import hashlib
import hmac
import json
import time
from datetime import UTC, datetime

import pytest
import standardwebhooks
import stripe
from django.http import QueryDict
from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.signature import SignatureVerifier
from twilio.request_validator import RequestValidator

from bins import signatures
from bins.signatures import (
    CAUSES,
    PROVIDERS,
    BadSignatureConfig,
    Verdict,
    clean_config,
    clean_secret,
    mask_secret,
    sample_event,
    sign,
    verify,
)

NOW = 1_700_000_000
URL = "https://inspector.example.com/b/abcdefghijklmnop/hook"
FORM = "application/x-www-form-urlencoded"
STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SECRETS = {
    "github": "It's a Secret to Everybody",
    "stripe": "whsec_test_7a1f0c9b2e4d4c8f9b6a3e2d1c0b9a8f",
    "slack": "8f742231b10e8888abcd99yyyzzz85a5",
    "shopify": "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",
    "standard": STANDARD_SECRET,
    "twilio": "12345678901234567890123456789012",
    "gitlab": "gitlab-token-4c8f9b6a3e2d1c0b",
    "hmac": "generic-secret-0123456789abcdef",
}
HMAC_OPTIONS = {"header": "X-Signature"}
DATA = {"id": "evt_1", "type": "order.paid", "amount": 1250, "note": "café"}
BODY = json.dumps(DATA, separators=(",", ":")).encode()


def check(provider, headers, body=BODY, *, secret=None, options=None, url=URL, now=NOW):
    return verify(
        provider,
        SECRETS[provider] if secret is None else secret,
        clean_config(provider, options),
        method="POST",
        url=url,
        headers=headers,
        body=body,
        now=now,
    )


def hexmac(secret, message, algorithm="sha256"):
    return hmac.new(secret.encode(), message, algorithm).hexdigest()


def b64mac(secret, message, algorithm="sha256"):
    return base64.b64encode(hmac.new(secret.encode(), message, algorithm).digest()).decode()


# GitHub


def test_it_accepts_githubs_documented_example():
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    verdict = check("github", [["X-Hub-Signature-256", signature]], b"Hello, World!")
    assert verdict == Verdict(
        "valid", None, "The signature matches the exact bytes received.", signature, signature
    )


def test_it_reads_header_names_in_any_case():
    signature = "sha256=" + hexmac(SECRETS["github"], BODY)
    assert check("github", [["x-hub-signature-256", signature]]).status == "valid"


def test_it_falls_back_to_githubs_older_sha1_header():
    signature = "sha1=" + hexmac(SECRETS["github"], BODY, "sha1")
    verdict = check("github", [["X-Hub-Signature", signature]])
    assert (verdict.status, verdict.expected) == ("valid", signature)


def test_it_judges_github_by_the_sha256_header_when_both_come():
    good = "sha256=" + hexmac(SECRETS["github"], BODY)
    bad = "sha1=" + hexmac("another secret", BODY, "sha1")
    assert (
        check("github", [["X-Hub-Signature", bad], ["X-Hub-Signature-256", good]]).status == "valid"
    )
    bad256 = "sha256=" + hexmac("another secret", BODY)
    good1 = "sha1=" + hexmac(SECRETS["github"], BODY, "sha1")
    verdict = check("github", [["X-Hub-Signature", good1], ["X-Hub-Signature-256", bad256]])
    assert verdict.cause == "wrong_secret"


def test_the_first_of_a_repeated_signature_header_counts():
    good = "sha256=" + hexmac(SECRETS["github"], BODY)
    bad = "sha256=" + hexmac("another secret", BODY)
    assert (
        check("github", [["X-Hub-Signature-256", good], ["X-Hub-Signature-256", bad]]).status
        == "valid"
    )
    verdict = check("github", [["X-Hub-Signature-256", bad], ["X-Hub-Signature-256", good]])
    assert verdict.cause == "wrong_secret"


def test_it_says_a_github_signature_made_with_another_secret_is_wrong_secret():
    signature = "sha256=" + hexmac("It's a Secret to Nobody", b"Hello, World!")
    verdict = check("github", [["X-Hub-Signature-256", signature]], b"Hello, World!")
    assert (verdict.status, verdict.cause) == ("invalid", "wrong_secret")
    assert "another secret" in verdict.message
    assert verdict.expected == (
        "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    )
    assert verdict.received == signature


@pytest.mark.parametrize(
    "value",
    [
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",  # no "sha256="
        "sha1=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=757107ea0eb2509fc211221cce984b8a",
        "sha256=zz7107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        "sha256=75 71 07ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e1",
        "",
    ],
)
def test_it_says_an_unreadable_github_header_is_malformed(value):
    verdict = check("github", [["X-Hub-Signature-256", value]], b"Hello, World!")
    assert (verdict.status, verdict.cause) == ("invalid", "header_malformed")
    assert "X-Hub-Signature-256" in verdict.message
    assert verdict.received == value


def test_a_request_without_a_signature_is_unsigned():
    verdict = check("github", [["Content-Type", "application/json"]])
    assert verdict.status == "unsigned"
    assert verdict.cause is None
    assert "X-Hub-Signature-256" in verdict.message


# What changed in a body whose signature does not match


@pytest.mark.parametrize(
    "signed, how",
    [
        (json.dumps(DATA).encode(), "json.dumps defaults"),
        (json.dumps(DATA, sort_keys=True).encode(), "sorted keys"),
        (json.dumps(DATA, indent=2).encode(), "indented"),
        (json.dumps(DATA, ensure_ascii=False, separators=(",", ":")).encode(), "non-ASCII"),
        (BODY + b"\n", "with a final newline"),
    ],
)
def test_it_tells_a_signature_over_the_body_written_otherwise(signed, how):
    verdict = check(
        "github", [["X-Hub-Signature-256", "sha256=" + hexmac(SECRETS["github"], signed)]]
    )
    assert (verdict.status, verdict.cause) == ("invalid", "body_changed")
    assert how in verdict.message


def test_it_tells_a_compact_signature_over_a_pretty_body():
    pretty = json.dumps(DATA, indent=2).encode()
    signature = "sha256=" + hexmac(SECRETS["github"], BODY)
    verdict = check("github", [["X-Hub-Signature-256", signature]], pretty)
    assert verdict.cause == "body_changed"
    assert "re-serialized as JSON (compact)" in verdict.message


@pytest.mark.parametrize("body", [b"", b"\xff\xfe not text", b"[" * 100_000, b"plain text"])
def test_a_body_that_is_not_json_is_judged_without_rewriting(body):
    signature = "sha256=" + hexmac("another secret", body)
    assert check("github", [["X-Hub-Signature-256", signature]], body).cause == "wrong_secret"


# Stripe, with the stripe library


def stripe_header(payload, secret=SECRETS["stripe"], timestamp=NOW):
    return stripe.WebhookSignature.generate_signature_header(
        payload.decode(), secret, timestamp=timestamp
    )


def test_it_accepts_a_signature_made_by_stripes_library():
    header = stripe_header(BODY)
    verdict = check("stripe", [["Stripe-Signature", header]])
    assert (verdict.status, verdict.expected, verdict.received) == ("valid", header, header)


def test_stripes_library_accepts_our_stripe_signature():
    now = time.time()
    [[name, header]] = sign(
        "stripe", SECRETS["stripe"], clean_config("stripe", {}), url=URL, body=BODY, now=now
    )
    assert name == "Stripe-Signature"
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRETS["stripe"], tolerance=300)


def test_any_of_several_stripe_v1_signatures_will_do():
    good = stripe_header(BODY).split(",")[1]
    other = stripe_header(BODY, secret="whsec_rolled_previous").split(",")[1]
    v0 = "v0=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39"
    header = f"t={NOW},{other},{good},{v0}"
    assert check("stripe", [["Stripe-Signature", header]]).status == "valid"
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRETS["stripe"])


def test_it_says_an_old_stripe_timestamp_is_outside_the_tolerance_as_stripe_does():
    now = int(time.time())
    header = stripe_header(BODY, timestamp=now - 301)
    verdict = check("stripe", [["Stripe-Signature", header]], now=now)
    assert (verdict.status, verdict.cause) == ("invalid", "timestamp_outside_tolerance")
    assert "301 seconds before" in verdict.message
    with pytest.raises(stripe.SignatureVerificationError, match="tolerance"):
        stripe.WebhookSignature.verify_header(BODY, header, SECRETS["stripe"], tolerance=300)


def test_a_stripe_timestamp_within_the_tolerance_passes():
    header = stripe_header(BODY, timestamp=NOW - 299)
    assert check("stripe", [["Stripe-Signature", header]]).status == "valid"


def test_a_stripe_timestamp_from_the_future_passes_as_with_stripes_library():
    now = int(time.time())
    header = stripe_header(BODY, timestamp=now + 3600)
    assert check("stripe", [["Stripe-Signature", header]], now=now).status == "valid"
    assert stripe.WebhookSignature.verify_header(BODY, header, SECRETS["stripe"], tolerance=300)


def test_the_tolerance_is_the_bins_to_set():
    header = stripe_header(BODY, timestamp=NOW - 1000)
    assert (
        check("stripe", [["Stripe-Signature", header]], options={"tolerance": 0}).status == "valid"
    )
    late = check("stripe", [["Stripe-Signature", header]], options={"tolerance": 999})
    assert late.cause == "timestamp_outside_tolerance"
    assert "999 seconds allowed" in late.message


def test_it_says_a_stripe_signature_made_with_another_secret_is_wrong_secret():
    header = stripe_header(BODY, secret="whsec_some_other_endpoint")
    verdict = check("stripe", [["Stripe-Signature", header]])
    assert verdict.cause == "wrong_secret"
    assert verdict.expected == stripe_header(BODY)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.WebhookSignature.verify_header(BODY, header, SECRETS["stripe"])


def test_it_tells_a_stripe_signature_over_a_re_serialized_body():
    header = stripe_header(json.dumps(DATA).encode())
    assert check("stripe", [["Stripe-Signature", header]]).cause == "body_changed"


def test_a_late_stripe_signature_over_another_body_is_a_changed_body():
    header = stripe_header(json.dumps(DATA).encode(), timestamp=NOW - 3600)
    assert check("stripe", [["Stripe-Signature", header]]).cause == "body_changed"


@pytest.mark.parametrize(
    "header",
    [
        "v1=" + "a" * 64,
        "t=soon,v1=" + "a" * 64,
        f"t={NOW}",
        f"t={NOW},v0=" + "a" * 64,
        f"t={NOW},v1=abc",
        "garbage",
    ],
)
def test_it_says_an_unreadable_stripe_header_is_malformed(header):
    verdict = check("stripe", [["Stripe-Signature", header]])
    assert (verdict.status, verdict.cause) == ("invalid", "header_malformed")
    assert "Stripe-Signature" in verdict.message


def test_a_request_without_stripe_signature_is_unsigned():
    assert check("stripe", []).status == "unsigned"


# Slack, with slack-sdk


class FixedClock:
    def __init__(self, now):
        self.time = now

    def now(self):
        return self.time


def slack_headers(body, timestamp=NOW, secret=SECRETS["slack"]):
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    return [["X-Slack-Request-Timestamp", str(timestamp)], ["X-Slack-Signature", signature]]


SLACK_FORM = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121"
    b".803a0bc887a14d10d2c447fce8b6703c"
)


@pytest.mark.parametrize("body", [BODY, SLACK_FORM])
def test_it_accepts_a_signature_made_by_slacks_library(body):
    verdict = check("slack", slack_headers(body), body)
    assert verdict.status == "valid"
    assert verdict.expected == verdict.received == slack_headers(body)[1][1]


def test_slacks_library_accepts_our_slack_signature():
    headers = sign(
        "slack", SECRETS["slack"], clean_config("slack", {}), url=URL, body=SLACK_FORM, now=NOW
    )
    verifier = SignatureVerifier(SECRETS["slack"], clock=FixedClock(NOW))
    assert verifier.is_valid_request(SLACK_FORM, dict(headers))


@pytest.mark.parametrize(
    "offset, words", [(-301, "301 seconds before"), (301, "301 seconds after")]
)
def test_it_says_a_slack_timestamp_is_outside_the_tolerance_as_slack_does(offset, words):
    headers = slack_headers(BODY, timestamp=NOW + offset)
    verdict = check("slack", headers)
    assert verdict.cause == "timestamp_outside_tolerance"
    assert words in verdict.message
    assert not SignatureVerifier(SECRETS["slack"], clock=FixedClock(NOW)).is_valid_request(
        BODY, dict(headers)
    )


def test_it_says_a_slack_signature_made_with_another_secret_is_wrong_secret():
    verdict = check("slack", slack_headers(BODY, secret="another-signing-secret"))
    assert verdict.cause == "wrong_secret"


def test_it_tells_a_slack_signature_over_a_re_serialized_body():
    signed = json.dumps(DATA, sort_keys=True).encode()
    assert check("slack", slack_headers(signed)).cause == "body_changed"


@pytest.mark.parametrize(
    "headers, named",
    [
        ([["X-Slack-Signature", "v0=" + "a" * 64]], "X-Slack-Request-Timestamp"),
        (
            [["X-Slack-Signature", "v0=" + "a" * 64], ["X-Slack-Request-Timestamp", "noon"]],
            "X-Slack-Request-Timestamp",
        ),
        (
            [["X-Slack-Signature", "v1=" + "a" * 64], ["X-Slack-Request-Timestamp", str(NOW)]],
            "X-Slack-Signature",
        ),
        (
            [["X-Slack-Signature", "v0=" + "a" * 63], ["X-Slack-Request-Timestamp", str(NOW)]],
            "X-Slack-Signature",
        ),
    ],
)
def test_it_says_an_unreadable_or_missing_slack_header_is_malformed(headers, named):
    verdict = check("slack", headers)
    assert verdict.cause == "header_malformed"
    assert named in verdict.message


def test_a_request_without_slack_signature_is_unsigned():
    assert check("slack", [["X-Slack-Request-Timestamp", str(NOW)]]).status == "unsigned"


# Shopify: the base64 HMAC-SHA256 of the body, keyed with the app's secret (Shopify's docs)


def test_it_accepts_a_shopify_signature():
    signature = b64mac(SECRETS["shopify"], BODY)
    verdict = check("shopify", [["X-Shopify-Hmac-Sha256", signature]])
    assert (verdict.status, verdict.expected) == ("valid", signature)


def test_it_says_a_shopify_signature_made_with_another_secret_is_wrong_secret():
    verdict = check("shopify", [["X-Shopify-Hmac-Sha256", b64mac("another", BODY)]])
    assert verdict.cause == "wrong_secret"


def test_it_tells_a_shopify_signature_over_a_re_serialized_body():
    signature = b64mac(SECRETS["shopify"], json.dumps(DATA).encode())
    assert check("shopify", [["X-Shopify-Hmac-Sha256", signature]]).cause == "body_changed"


@pytest.mark.parametrize(
    "value", [hexmac(SECRETS["shopify"], BODY), "not base64!", b64mac("k", BODY, "sha1")]
)
def test_it_says_an_unreadable_shopify_header_is_malformed(value):
    assert check("shopify", [["X-Shopify-Hmac-Sha256", value]]).cause == "header_malformed"


def test_a_request_without_shopify_hmac_is_unsigned():
    assert check("shopify", [["X-Shopify-Topic", "orders/create"]]).status == "unsigned"


# Standard Webhooks and Svix, with the standardwebhooks library


def standard_headers(body, timestamp=NOW, secret=STANDARD_SECRET, family="webhook"):
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    signature = standardwebhooks.Webhook(secret).sign(
        "msg_p5jXN8AQM9LWM0D4loKWxJek", moment, body.decode()
    )
    return [
        [f"{family}-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"],
        [f"{family}-timestamp", str(timestamp)],
        [f"{family}-signature", signature],
    ]


@pytest.mark.parametrize("family", ["webhook", "svix"])
def test_it_accepts_a_signature_made_by_the_standard_webhooks_library(family):
    headers = standard_headers(BODY, family=family)
    verdict = check("standard", headers)
    assert (verdict.status, verdict.expected) == ("valid", headers[2][1])


def test_the_standard_webhooks_library_accepts_our_signature():
    headers = sign(
        "standard",
        STANDARD_SECRET,
        clean_config("standard", {}),
        url=URL,
        body=BODY,
        now=time.time(),
    )
    assert [name for name, _ in headers] == ["webhook-id", "webhook-timestamp", "webhook-signature"]
    assert standardwebhooks.Webhook(STANDARD_SECRET).verify(BODY, dict(headers)) == DATA


def test_a_standard_webhooks_secret_works_without_its_prefix():
    headers = standard_headers(BODY)
    assert (
        check("standard", headers, secret=STANDARD_SECRET.removeprefix("whsec_")).status == "valid"
    )


def test_any_of_several_standard_signatures_will_do():
    now = int(time.time())
    headers = standard_headers(BODY, timestamp=now)
    old_key = "whsec_" + base64.b64encode(b"the key before rotation").decode()
    other = standard_headers(BODY, timestamp=now, secret=old_key)[2][1]
    headers[2][1] = f"v1a,c2lnbmF0dXJl {other} {headers[2][1]}"
    assert check("standard", headers, now=now).status == "valid"
    assert standardwebhooks.Webhook(STANDARD_SECRET).verify(BODY, dict(headers)) == DATA


@pytest.mark.parametrize(
    "offset, words", [(-301, "301 seconds before"), (301, "301 seconds after")]
)
def test_it_says_a_standard_timestamp_is_outside_the_tolerance_as_the_library_does(offset, words):
    now = int(time.time())
    headers = standard_headers(BODY, timestamp=now + offset)
    verdict = check("standard", headers, now=now)
    assert verdict.cause == "timestamp_outside_tolerance"
    assert words in verdict.message
    with pytest.raises(standardwebhooks.WebhookVerificationError, match="timestamp"):
        standardwebhooks.Webhook(STANDARD_SECRET).verify(BODY, dict(headers))


def test_it_says_a_standard_signature_made_with_another_secret_is_wrong_secret():
    other = "whsec_" + base64.b64encode(b"another endpoint's key").decode()
    assert check("standard", standard_headers(BODY, secret=other)).cause == "wrong_secret"


def test_it_tells_a_standard_signature_over_a_re_serialized_body():
    headers = standard_headers(json.dumps(DATA, indent=2).encode())
    assert check("standard", headers).cause == "body_changed"


@pytest.mark.parametrize(
    "drop, value, named",
    [
        ("webhook-id", None, "webhook-id"),
        ("webhook-timestamp", None, "webhook-timestamp"),
        ("webhook-timestamp", "yesterday", "webhook-timestamp"),
        ("webhook-signature", "v2,c2lnbmF0dXJl", "webhook-signature"),
        ("webhook-signature", "v1,not-base64!", "webhook-signature"),
        ("webhook-signature", "v1,c2lnbmF0dXJl", "webhook-signature"),  # too short
    ],
)
def test_it_says_an_unreadable_or_missing_standard_header_is_malformed(drop, value, named):
    headers = [pair for pair in standard_headers(BODY) if pair[0] != drop]
    if value is not None:
        headers.append([drop, value])
    verdict = check("standard", headers)
    assert verdict.cause == "header_malformed"
    assert named in verdict.message


def test_a_request_without_webhook_signature_is_unsigned():
    headers = [pair for pair in standard_headers(BODY) if pair[0] != "webhook-signature"]
    assert check("standard", headers).status == "unsigned"


# Twilio, with the twilio library

TWILIO_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_BODY = (
    b"CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
    b"&From=%2B12349013030&To=%2B18005551212"
)
TWILIO_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"


def twilio_headers(signature):
    return [["Content-Type", FORM], ["X-Twilio-Signature", signature]]


def twilio_signature(url=TWILIO_URL, params=TWILIO_PARAMS, token=SECRETS["twilio"], **kwargs):
    return RequestValidator(token).compute_signature(url, params, **kwargs)


def test_it_accepts_a_signature_made_by_twilios_library():
    signature = twilio_signature()
    verdict = check("twilio", twilio_headers(signature), TWILIO_BODY, url=TWILIO_URL)
    assert (verdict.status, verdict.expected, verdict.received) == ("valid", signature, signature)


def test_twilios_library_accepts_our_twilio_signature():
    [[name, signature]] = sign(
        "twilio", SECRETS["twilio"], {}, url=TWILIO_URL, body=TWILIO_BODY, now=NOW
    )
    assert name == "X-Twilio-Signature"
    assert RequestValidator(SECRETS["twilio"]).validate(TWILIO_URL, TWILIO_PARAMS, signature)


def test_repeated_twilio_parameters_are_signed_as_twilios_library_does():
    body = b"To=%2B2&Body=hi&To=%2B1&MediaUrl0=&To=%2B1"
    signature = twilio_signature(URL, QueryDict(body))
    assert check("twilio", twilio_headers(signature), body).status == "valid"


@pytest.mark.parametrize(
    "signed_for, reached",
    [
        ("https://mycompany.com/myapp.php?foo=1", "https://mycompany.com:443/myapp.php?foo=1"),
        ("https://mycompany.com:443/myapp.php?foo=1", "https://mycompany.com/myapp.php?foo=1"),
        ("https://mycompany.com:8443/myapp.php", "https://mycompany.com/myapp.php"),
    ],
)
def test_twilio_signatures_pass_with_or_without_the_port_as_with_twilios_library(
    signed_for, reached
):
    signature = twilio_signature(signed_for)
    verdict = check("twilio", twilio_headers(signature), TWILIO_BODY, url=reached)
    expected = RequestValidator(SECRETS["twilio"]).validate(reached, TWILIO_PARAMS, signature)
    assert (verdict.status == "valid") is expected


@pytest.mark.parametrize(
    "signed_for, reached",
    [
        (
            "https://mycompany.com/myapp.php?foo=1&bar=2",
            "http://mycompany.com/myapp.php?foo=1&bar=2",
        ),
        ("http://mycompany.com/myapp.php", "https://mycompany.com:8000/myapp.php"),
        ("https://mycompany.com/myapp.php", "https://mycompany.com/myapp.php?foo=1&bar=2"),
        ("https://mycompany.com/sms/", "https://mycompany.com/sms"),
        ("https://mycompany.com/sms", "https://mycompany.com/sms/"),
    ],
)
def test_it_names_the_other_url_a_twilio_signature_was_made_for(signed_for, reached):
    signature = twilio_signature(signed_for)
    verdict = check("twilio", twilio_headers(signature), TWILIO_BODY, url=reached)
    assert (verdict.status, verdict.cause) == ("invalid", "other_url")
    assert f"made for {signed_for}," in verdict.message
    assert verdict.expected == twilio_signature(reached)
    assert not RequestValidator(SECRETS["twilio"]).validate(reached, TWILIO_PARAMS, signature)


def test_it_says_a_twilio_signature_made_with_another_token_is_wrong_secret():
    signature = twilio_signature(token="another auth token")
    verdict = check("twilio", twilio_headers(signature), TWILIO_BODY, url=TWILIO_URL)
    assert verdict.cause == "wrong_secret"


def test_it_says_a_twilio_signature_over_other_parameters_is_wrong_secret():
    signature = twilio_signature(params={**TWILIO_PARAMS, "Digits": "9999"})
    verdict = check("twilio", twilio_headers(signature), TWILIO_BODY, url=TWILIO_URL)
    assert verdict.cause == "wrong_secret"


def test_a_twilio_get_request_is_signed_over_its_url_alone():
    url = "https://mycompany.com/voice?CallSid=CA123&From=%2B1234"
    signature = twilio_signature(url, {})
    verdict = verify(
        "twilio",
        SECRETS["twilio"],
        {},
        method="GET",
        url=url,
        headers=[["X-Twilio-Signature", signature]],
        body=b"",
        now=NOW,
    )
    assert verdict.status == "valid"


def test_a_twilio_json_body_is_signed_through_its_hash_in_the_url():
    body = b'{"property": "value", "boolean": true}'
    url = f"https://mycompany.com/myapp?bodySHA256={hashlib.sha256(body).hexdigest()}"
    signature = twilio_signature(url, {})
    headers = [["Content-Type", "application/json"], ["X-Twilio-Signature", signature]]
    assert RequestValidator(SECRETS["twilio"]).validate(url, body.decode(), signature)
    assert check("twilio", headers, body, url=url).status == "valid"
    changed = check("twilio", headers, body.replace(b" ", b""), url=url)
    assert (changed.status, changed.cause) == ("invalid", "body_changed")
    assert "bodySHA256" in changed.message


def test_a_twilio_shared_key_signature_is_hmac_sha256():
    signature = twilio_signature(algorithm="HMAC_SHA256")
    headers = [
        *twilio_headers(signature),
        ["X-Twilio-Webhooks-Signature-Settings", "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"],
    ]
    assert check("twilio", headers, TWILIO_BODY, url=TWILIO_URL).status == "valid"
    sha1 = check("twilio", twilio_headers(signature), TWILIO_BODY, url=TWILIO_URL)
    assert sha1.cause == "header_malformed"


@pytest.mark.parametrize("value", ["not base64!", base64.b64encode(b"short").decode(), ""])
def test_it_says_an_unreadable_twilio_header_is_malformed(value):
    verdict = check("twilio", twilio_headers(value), TWILIO_BODY, url=TWILIO_URL)
    assert verdict.cause == "header_malformed"


def test_a_request_without_twilio_signature_is_unsigned():
    assert check("twilio", [["Content-Type", FORM]], TWILIO_BODY).status == "unsigned"


# GitLab: a shared token, sent as it is (GitLab's docs)


def test_it_accepts_the_gitlab_token():
    verdict = check("gitlab", [["X-Gitlab-Token", SECRETS["gitlab"]]])
    assert verdict.status == "valid"


def test_it_says_another_gitlab_token_is_wrong_secret():
    verdict = check("gitlab", [["X-Gitlab-Token", "gitlab-token-guessed-wrong-0000"]])
    assert (verdict.status, verdict.cause) == ("invalid", "wrong_secret")


def test_a_gitlab_verdict_never_shows_the_token():
    for token in (SECRETS["gitlab"], "gitlab-token-guessed-wrong-0000"):
        verdict = check("gitlab", [["X-Gitlab-Token", token]])
        assert SECRETS["gitlab"] not in json.dumps(verdict.to_json())
        assert verdict.expected == mask_secret(SECRETS["gitlab"])


def test_a_request_without_gitlab_token_is_unsigned():
    assert check("gitlab", [["X-Gitlab-Event", "Push Hook"]]).status == "unsigned"


# Generic HMAC


@pytest.mark.parametrize("algorithm", ["sha1", "sha256", "sha512"])
@pytest.mark.parametrize("encoding", ["hex", "base64"])
def test_it_accepts_a_generic_hmac_in_each_algorithm_and_encoding(algorithm, encoding):
    mac = hmac.new(SECRETS["hmac"].encode(), BODY, algorithm).digest()
    value = mac.hex() if encoding == "hex" else base64.b64encode(mac).decode()
    options = {**HMAC_OPTIONS, "algorithm": algorithm, "encoding": encoding}
    verdict = check("hmac", [["X-Signature", value]], options=options)
    assert (verdict.status, verdict.expected) == ("valid", value)


def test_a_generic_hmac_may_carry_a_prefix():
    options = {**HMAC_OPTIONS, "prefix": "sha256="}
    value = "sha256=" + hexmac(SECRETS["hmac"], BODY)
    assert check("hmac", [["X-Signature", value]], options=options).status == "valid"
    bare = check("hmac", [["X-Signature", value[7:]]], options=options)
    assert bare.cause == "header_malformed"
    assert '"sha256=' in bare.message


TIMESTAMPED = {
    **HMAC_OPTIONS,
    "signed": "timestamp_body",
    "timestamp_header": "X-Timestamp",
    "separator": ":",
}


def timestamped(timestamp=NOW, secret=SECRETS["hmac"], body=BODY):
    value = hexmac(secret, b"%d:%s" % (timestamp, body))
    return [["X-Timestamp", str(timestamp)], ["X-Signature", value]]


def test_a_generic_hmac_may_sign_a_timestamp_and_the_body():
    assert check("hmac", timestamped(), options=TIMESTAMPED).status == "valid"


def test_it_says_a_generic_timestamp_is_outside_the_tolerance():
    verdict = check("hmac", timestamped(NOW - 600), options=TIMESTAMPED)
    assert verdict.cause == "timestamp_outside_tolerance"
    assert (
        check("hmac", timestamped(NOW - 600), options={**TIMESTAMPED, "tolerance": 0}).status
        == "valid"
    )


def test_a_generic_timestamp_need_not_be_a_number_when_nothing_limits_it():
    value = hexmac(SECRETS["hmac"], b"2024-01-01T00:00:00Z:" + BODY)
    headers = [["X-Timestamp", "2024-01-01T00:00:00Z"], ["X-Signature", value]]
    assert check("hmac", headers, options={**TIMESTAMPED, "tolerance": 0}).status == "valid"
    assert check("hmac", headers, options=TIMESTAMPED).cause == "header_malformed"


def test_it_says_a_missing_generic_timestamp_is_malformed():
    headers = timestamped()[1:]
    verdict = check("hmac", headers, options=TIMESTAMPED)
    assert verdict.cause == "header_malformed"
    assert "X-Timestamp header is missing" in verdict.message


def test_it_tells_wrong_secret_and_changed_body_apart_for_a_generic_hmac():
    wrong = check("hmac", timestamped(secret="another"), options=TIMESTAMPED)
    assert wrong.cause == "wrong_secret"
    changed = check("hmac", timestamped(body=json.dumps(DATA).encode()), options=TIMESTAMPED)
    assert changed.cause == "body_changed"


def test_it_says_a_generic_signature_of_another_algorithm_is_malformed():
    value = hexmac(SECRETS["hmac"], BODY, "sha1")
    verdict = check("hmac", [["X-Signature", value]], options=HMAC_OPTIONS)
    assert verdict.cause == "header_malformed"
    assert "SHA256" in verdict.message


def test_a_request_without_the_generic_header_is_unsigned():
    verdict = check("hmac", [["X-Other", "x"]], options=HMAC_OPTIONS)
    assert verdict.status == "unsigned"
    assert "X-Signature" in verdict.message


# Every provider: signing for the test sender, and constant-time comparisons


def options_for(provider):
    return clean_config(provider, HMAC_OPTIONS if provider == "hmac" else None)


def signed_sample(provider, now=NOW, url=URL):
    content_type, body = sample_event(provider)
    headers = sign(provider, SECRETS[provider], options_for(provider), url=url, body=body, now=now)
    return [["Content-Type", content_type], *headers], body


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_sample_event_verifies(provider):
    headers, body = signed_sample(provider)
    verdict = verify(
        provider,
        SECRETS[provider],
        options_for(provider),
        method="POST",
        url=URL,
        headers=headers,
        body=body,
        now=NOW + 5,
    )
    assert verdict.status == "valid", verdict.message


def another_secret(provider):
    return STANDARD_SECRET[:-4] + "AAAA" if provider == "standard" else "another secret"


def check_sample(provider, secret, headers, body):
    options = options_for(provider)
    return verify(
        provider, secret, options, method="POST", url=URL, headers=headers, body=body, now=NOW
    )


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_signed_sample_event_fails_under_another_secret(provider):
    headers, body = signed_sample(provider)
    verdict = check_sample(provider, another_secret(provider), headers, body)
    assert (verdict.status, verdict.cause) == ("invalid", "wrong_secret")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_each_sample_event_is_a_small_body_of_its_content_type(provider):
    content_type, body = sample_event(provider)
    assert len(body) < 1024
    if content_type == "application/json":
        assert isinstance(json.loads(body), dict)
    else:
        assert (provider, content_type) == ("twilio", FORM)
        assert "AccountSid" in QueryDict(body)


def test_a_timestamped_sign_uses_the_given_time():
    headers = sign(
        "hmac",
        SECRETS["hmac"],
        clean_config("hmac", TIMESTAMPED),
        url=URL,
        body=BODY,
        now=NOW + 0.7,
    )
    assert headers == timestamped()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_comparison_is_made_in_constant_time(provider, monkeypatch):
    real, calls = hmac.compare_digest, []

    def compare_digest(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(signatures.hmac, "compare_digest", compare_digest)
    headers, body = signed_sample(provider)
    assert check_sample(provider, SECRETS[provider], headers, body).status == "valid"
    assert calls
    calls.clear()
    wrong = check_sample(provider, another_secret(provider), headers, body)
    assert wrong.status == "invalid"
    assert calls


@given(provider=st.sampled_from(list(PROVIDERS)), body=st.binary(max_size=300))
def test_any_body_signed_the_providers_way_verifies(provider, body):
    headers = sign(provider, SECRETS[provider], options_for(provider), url=URL, body=body, now=NOW)
    headers.append(["Content-Type", FORM])
    assert check_sample(provider, SECRETS[provider], headers, body).status == "valid"


SIGNATURE_HEADERS = [
    "X-Hub-Signature-256",
    "Stripe-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "X-Shopify-Hmac-Sha256",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Twilio-Signature",
    "X-Gitlab-Token",
    "X-Signature",
]


@given(
    provider=st.sampled_from(list(PROVIDERS)),
    value=st.text(st.characters(max_codepoint=255), max_size=120),
    body=st.binary(max_size=200),
)
def test_any_header_value_gets_a_verdict_never_an_error(provider, value, body):
    headers = [[name, value] for name in SIGNATURE_HEADERS]
    verdict = check_sample(provider, SECRETS[provider], headers, body)
    assert verdict.status in ("valid", "invalid", "unsigned")
    assert verdict.cause in (None, *CAUSES)
    assert (verdict.status == "invalid") is (verdict.cause is not None)


def test_a_verdict_is_plain_json():
    verdict = check("github", [["X-Hub-Signature-256", "sha256=" + "0" * 64]])
    data = verdict.to_json()
    assert set(data) == {"status", "cause", "message", "expected", "received"}
    assert json.loads(json.dumps(data)) == data


def test_an_unknown_provider_is_refused():
    with pytest.raises(BadSignatureConfig, match="provider must be one of"):
        verify("paypal", "s", {}, method="POST", url=URL, headers=[], body=b"", now=NOW)
    with pytest.raises(BadSignatureConfig):
        sign("paypal", "s", {}, url=URL, body=b"", now=NOW)


# Settings and secrets


def test_every_provider_has_a_label_and_its_options():
    assert list(PROVIDERS) == [
        "github",
        "stripe",
        "slack",
        "shopify",
        "standard",
        "twilio",
        "gitlab",
        "hmac",
    ]
    assert all(PROVIDERS[provider]["label"] for provider in PROVIDERS)
    assert set(PROVIDERS["hmac"]["options"]) == {
        "header",
        "algorithm",
        "encoding",
        "prefix",
        "signed",
        "timestamp_header",
        "separator",
        "tolerance",
    }


@pytest.mark.parametrize("provider", ["stripe", "slack", "standard"])
def test_a_timestamped_provider_defaults_to_five_minutes(provider):
    assert clean_config(provider, None) == {"tolerance": 300}
    assert clean_config(provider, {"tolerance": 60}) == {"tolerance": 60}


def test_a_provider_without_options_takes_none():
    assert clean_config("github", {}) == {}
    with pytest.raises(BadSignatureConfig, match="GitHub has no option 'tolerance'"):
        clean_config("github", {"tolerance": 300})


def test_generic_hmac_options_are_completed_with_defaults():
    assert clean_config("hmac", {"header": " X-Signature "}) == {
        "header": "X-Signature",
        "algorithm": "sha256",
        "encoding": "hex",
        "prefix": "",
        "signed": "body",
        "timestamp_header": "",
        "separator": ".",
        "tolerance": 300,
    }


@pytest.mark.parametrize(
    "provider, options, message",
    [
        ("paypal", {}, "provider must be one of"),
        ("stripe", [], "options must be an object"),
        ("stripe", {"tolerance": -1}, "tolerance must be"),
        ("stripe", {"tolerance": 86401}, "tolerance must be"),
        ("slack", {"tolerance": "300"}, "tolerance must be"),
        ("standard", {"tolerance": True}, "tolerance must be"),
        ("stripe", {"tolerence": 300}, "no option 'tolerence'"),
        ("hmac", {}, "header must be"),
        ("hmac", {"header": "X Signature"}, "header must be"),
        ("hmac", {"header": "X-Sig", "algorithm": "md5"}, "algorithm must be one of"),
        ("hmac", {"header": "X-Sig", "encoding": "base32"}, "encoding must be one of"),
        ("hmac", {"header": "X-Sig", "signed": "everything"}, "signed must be one of"),
        ("hmac", {"header": "X-Sig", "signed": "timestamp_body"}, "timestamp_header must"),
        ("hmac", {"header": "X-Sig", "prefix": "sha256=\n"}, "prefix must be text"),
        ("hmac", {"header": "X-Sig", "prefix": 1}, "prefix must be text"),
        ("hmac", {"header": "X-Sig", "prefix": "p" * 33}, "32 characters"),
        ("hmac", {"header": "X-Sig", "separator": "-" * 9}, "separator 8"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_message(provider, options, message):
    with pytest.raises(BadSignatureConfig, match=message):
        clean_config(provider, options)


def test_a_secret_is_kept_without_surrounding_spaces():
    assert clean_secret("stripe", "  whsec_abc \n") == "whsec_abc"


@pytest.mark.parametrize(
    "provider, secret, message",
    [
        ("github", "", "may not be empty"),
        ("github", "   ", "may not be empty"),
        ("github", None, "may not be empty"),
        ("github", "x" * 1001, "1000 characters"),
        ("standard", "whsec_not base64!", "whsec_"),
        ("standard", "whsec_", "whsec_"),
        ("gitlab", "tab\tinside", "printable ASCII"),
    ],
)
def test_bad_secrets_are_refused_with_a_clear_message(provider, secret, message):
    with pytest.raises(BadSignatureConfig, match=message):
        clean_secret(provider, secret)


@pytest.mark.parametrize(
    "secret, masked",
    [
        (STANDARD_SECRET, "whsec_••••••••LaSw"),
        ("sk_test_4eC39HqLyjWDarjtT1zdp7dc", "sk_••••••••p7dc"),
        ("12345678901234567890123456789012", "••••••••9012"),
        ("short-secret", "••••••••"),
        ("whsec_tooshort", "whsec_••••••••"),
        ("", "••••••••"),
    ],
)
def test_a_masked_secret_keeps_only_a_short_hint(secret, masked):
    assert mask_secret(secret) == masked
