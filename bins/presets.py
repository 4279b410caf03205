"""Handshake presets: the rules that answer a provider's verification request.

Each preset makes ordinary rules (bins.rules) with templates (bins.templating), so
the user sees and can edit what it does. `make(preset, value)` returns them;
`value` is the verify token, secret or field name the preset asks for.
"""

import glob

from .responses import BadResponse, clean_rules

TEXT = [["Content-Type", "text/plain; charset=utf-8"]]
JSON = [["Content-Type", "application/json"]]


def quoted(secret):
    """`secret` as a filter argument; it may not hold both kinds of quote."""
    if "'" not in secret:
        return f"'{secret}'"
    if '"' not in secret:
        return f'"{secret}"'
    raise BadResponse("the secret may not hold both ' and \".")


def slack(_):
    # https://api.slack.com/events/url_verification
    return [
        {
            "name": "Slack url_verification",
            "when": {"method": "POST", "json": {"type": "url_verification"}},
            "response": {"status": 200, "headers": TEXT, "body": "{{ json.challenge }}"},
        }
    ]


def meta(verify_token):
    # https://developers.facebook.com/docs/graph-api/webhooks/getting-started
    subscribe = {"hub.mode": "subscribe"}
    return [
        {
            "name": "Meta hub.challenge",
            "when": {
                "method": "GET",
                "query": {**subscribe, "hub.verify_token": glob.escape(verify_token)},
            },
            "response": {"status": 200, "headers": TEXT, "body": "{{ query.hub.challenge }}"},
        },
        {
            "name": "Meta hub.challenge, wrong verify token",
            "when": {"method": "GET", "query": subscribe},
            "response": {
                "status": 403,
                "headers": TEXT,
                "body": "The verify token does not match.",
            },
        },
    ]


def graph(_):
    # https://learn.microsoft.com/graph/change-notifications-delivery-webhooks
    return [
        {
            "name": "Microsoft Graph validationToken",
            "when": {"method": "POST", "query": {"validationToken": "*"}},
            "response": {"status": 200, "headers": TEXT, "body": "{{ query.validationToken }}"},
        }
    ]


def twitter(consumer_secret):
    # https://docs.x.com/x-api/webhooks/introduction (challenge-response check)
    token = "{{ query.crc_token | hmac_sha256_base64:" + quoted(consumer_secret) + " }}"
    return [
        {
            "name": "X (Twitter) CRC",
            "when": {"method": "GET", "query": {"crc_token": "*"}},
            "response": {
                "status": 200,
                "headers": JSON,
                "body": '{"response_token": "sha256=' + token + '"}',
            },
        }
    ]


def zoom(secret_token):
    # https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint
    plain = "json.payload.plainToken"
    encrypted = "{{ " + plain + " | hmac_sha256:" + quoted(secret_token) + " }}"
    return [
        {
            "name": "Zoom endpoint.url_validation",
            "when": {"method": "POST", "json": {"event": "endpoint.url_validation"}},
            "response": {
                "status": 200,
                "headers": JSON,
                "body": '{"plainToken": {{ '
                + plain
                + ' | json }}, "encryptedToken": "'
                + encrypted
                + '"}',
            },
        }
    ]


def echo(field):
    """Echo a JSON body field, or else a query parameter of that name, as plain text."""
    return [
        {
            "name": f"Echo {field} (JSON body)",
            "when": {"json": {field: "*"}},
            "response": {"status": 200, "headers": TEXT, "body": "{{ json." + field + " }}"},
        },
        {
            "name": f"Echo {field} (query)",
            "when": {"query": {field: "*"}},
            "response": {"status": 200, "headers": TEXT, "body": "{{ query." + field + " }}"},
        },
    ]


# id: (label, what the preset asks for or None, make)
PRESETS = {
    "slack": ("Slack url_verification", None, slack),
    "meta": ("Meta / Facebook / WhatsApp hub.challenge", "verify token", meta),
    "graph": ("Microsoft Graph validationToken", None, graph),
    "twitter": ("X (Twitter) CRC", "consumer secret", twitter),
    "zoom": ("Zoom endpoint.url_validation", "secret token", zoom),
    "echo": ("Echo a field", "field name", echo),
}


def catalogue():
    """The presets, for the page and the API."""
    return [{"id": key, "label": label, "asks": asks} for key, (label, asks, _) in PRESETS.items()]


def make(preset, value=""):
    """The checked rules of `preset`; BadResponse when it or its value will not do."""
    if preset not in PRESETS:
        raise BadResponse(f"preset must be one of {', '.join(PRESETS)}.")
    label, asks, build = PRESETS[preset]
    if not isinstance(value, str):
        raise BadResponse(f"{label} needs its {asks} as text.")
    value = value.strip()
    if asks and not value:
        raise BadResponse(f"{label} needs its {asks}.")
    if preset == "echo" and not all(part for part in value.split(".")):
        raise BadResponse("the field name must be a name such as challenge or data.token.")
    if "{{" in value or "}}" in value:
        raise BadResponse(f"the {asks} may not hold {{{{ or }}}}.")
    return clean_rules(build(value))
