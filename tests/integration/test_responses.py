"""A bin's own response, against a real server: sent as set (status, headers, body, after
its delay), recorded with each request, and CORS answered for browsers."""

import asyncio
import json
import time

import httpx
import pytest

from tests.integration.helpers import list_requests, raw_request

pytestmark = pytest.mark.django_db(transaction=True)


def owned_bin(base_url, **settings):
    created = httpx.post(f"{base_url}/api/bins", json={}).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    answer = httpx.patch(f"{base_url}/api/bins/{created['id']}", json=settings, headers=auth)
    assert answer.status_code == 200, answer.text
    return created


def test_capture_answers_with_the_bins_response_and_records_it(app_server):
    response = {
        "status": 201,
        "headers": [["Content-Type", "text/plain; charset=utf-8"], ["X-Echo", "yes"]],
        "body": "created ✓",
        "delay_ms": 0,
    }
    bin = owned_bin(app_server.base_url, response=response)
    answer = httpx.post(bin["url"] + "/orders", content=b"{}")
    assert answer.status_code == 201
    assert answer.text == "created ✓"
    assert answer.headers["x-echo"] == "yes"
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-inspector-request-id"].isdigit()
    [stored] = list_requests(app_server.base_url, bin["id"])
    assert stored["response"] == response
    head = httpx.head(bin["url"])  # HEAD: the same headers, no body
    assert head.status_code == 201 and head.content == b""


def test_the_default_answer_is_recorded_as_null(app_server):
    bin = owned_bin(app_server.base_url)
    assert httpx.post(bin["url"]).json()["ok"] is True
    assert list_requests(app_server.base_url, bin["id"])[0]["response"] is None


async def test_a_delayed_answer_holds_back_only_its_own_sender(app_server):
    slow = owned_bin(app_server.base_url, response={"status": 202, "delay_ms": 1500})
    quick = owned_bin(app_server.base_url)
    async with httpx.AsyncClient(timeout=10) as client:
        started = time.monotonic()
        delayed = asyncio.create_task(client.post(slow["url"]))
        await asyncio.sleep(0.1)
        others = await asyncio.gather(*(client.post(quick["url"]) for _ in range(20)))
        others_done = time.monotonic() - started
        answer = await delayed
        waited = time.monotonic() - started
    assert all(other.status_code == 200 for other in others)
    assert answer.status_code == 202
    # Ordering, not speed: the 20 others were all answered while the delayed one waited.
    assert others_done < waited and waited >= 1.5


def test_cors_answers_preflights_and_marks_answers_for_browsers(app_server):
    bin = owned_bin(app_server.base_url, cors=True)
    preflight = httpx.options(
        bin["url"] + "/api",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "x-signature, content-type",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert preflight.headers["access-control-allow-headers"] == "x-signature, content-type"
    answer = httpx.put(bin["url"] + "/api", headers={"Origin": "https://app.example"})
    assert answer.headers["access-control-allow-origin"] == "*"
    methods = [item["method"] for item in list_requests(app_server.base_url, bin["id"])]
    assert methods == ["PUT", "OPTIONS"]  # the preflight is captured too


def test_a_response_that_could_split_headers_is_refused(app_server):
    created = httpx.post(f"{app_server.base_url}/api/bins", json={}).json()
    answer = httpx.patch(
        f"{app_server.base_url}/api/bins/{created['id']}",
        json={"response": {"headers": [["X-A", "1\r\nSet-Cookie: x=1"]]}},
        headers={"Authorization": f"Bearer {created['token']}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_response"


def add_preset(base_url, bin, preset, value=""):
    answer = httpx.post(
        f"{base_url}/api/bins/{bin['id']}/presets",
        json={"preset": preset, "value": value},
        headers={"Authorization": f"Bearer {bin['token']}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_slack_handshake_preset_answers_slacks_url_verification(app_server):
    bin = owned_bin(app_server.base_url)
    add_preset(app_server.base_url, bin, "slack")
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    answer = httpx.post(
        bin["url"],
        json={
            "token": "Jhj5dZrVaK7ZwHHjRyZWjbDl",
            "challenge": challenge,
            "type": "url_verification",
        },
    )
    assert answer.status_code == 200
    assert answer.text == challenge
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    event = httpx.post(bin["url"], json={"type": "event_callback"})  # not the handshake
    assert event.json()["ok"] is True
    handshake, ordinary = list_requests(app_server.base_url, bin["id"])[::-1]
    assert handshake["response"]["rule"] == "Slack url_verification"
    assert handshake["response"]["body"] == challenge  # stored as sent, rendered
    assert ordinary["response"] is None


def test_rules_answer_in_order_with_templates_from_the_request(app_server):
    rules = [
        {
            "name": "github ping",
            "when": {"method": "POST", "path": "/github/*", "headers": {"X-GitHub-Event": "ping"}},
            "response": {
                "status": 202,
                "headers": [["X-Echo-Id", "{{ request.id }}"], ["X-Hook", "{{ json.hook_id }}"]],
                "body": '{"zen": {{ json.zen | json }}}',
            },
        },
        {"name": "github", "when": {"path": "/github/*"}, "response": {"status": 204}},
    ]
    bin = owned_bin(app_server.base_url, rules=rules)
    ping = httpx.post(
        bin["url"] + "/github/hook",
        headers={"X-GitHub-Event": "ping"},
        json={"zen": 'Say "hi"\r\nX-Injected: 1', "hook_id": 42},
    )
    assert ping.status_code == 202
    assert ping.headers["x-echo-id"] == ping.headers["x-inspector-request-id"]
    assert ping.headers["x-hook"] == "42"
    assert "x-injected" not in ping.headers
    assert ping.json() == {"zen": 'Say "hi"\r\nX-Injected: 1'}
    push = httpx.post(bin["url"] + "/github/hook", headers={"X-GitHub-Event": "push"})
    assert push.status_code == 204
    other = httpx.post(bin["url"] + "/stripe")
    assert other.status_code == 200 and other.json()["ok"] is True
    stored = {item["path"]: item for item in list_requests(app_server.base_url, bin["id"])}
    assert stored["/stripe"]["response"] is None


def test_a_rule_that_could_split_headers_is_refused_naming_the_rule(app_server):
    bin = httpx.post(f"{app_server.base_url}/api/bins", json={}).json()
    rules = [
        {"name": "ok", "when": {}, "response": {}},
        {"name": "bad", "when": {}, "response": {"headers": [["X-A", "1\nSet-Cookie: x=1"]]}},
    ]
    answer = httpx.patch(
        f"{app_server.base_url}/api/bins/{bin['id']}",
        json={"rules": rules},
        headers={"Authorization": f"Bearer {bin['token']}"},
    )
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_rules"
    assert answer.json()["error"]["message"].startswith("rule 2: ")


async def test_fail_first_n_fails_exactly_n_of_concurrent_requests(app_server):
    failures = {"which": "first", "count": 5, "how": "error", "status": 502}
    bin = owned_bin(app_server.base_url, failures=failures)
    async with httpx.AsyncClient(timeout=10) as client:
        answers = await asyncio.gather(
            *(client.post(bin["url"], content=b"%d" % i) for i in range(30))
        )
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * 25 + [502] * 5
    stored = list_requests(app_server.base_url, bin["id"], limit=100)
    failed = sorted(item["id"] for item in stored if item["response"])
    assert failed == sorted(item["id"] for item in stored)[:5]  # the first five stored
    assert all(
        "failure script" in item["response"]["failure"] for item in stored if item["response"]
    )


def test_a_rate_limit_script_answers_429_with_retry_after(app_server):
    bin = owned_bin(
        app_server.base_url, failures={"which": "all", "how": "rate_limit", "retry_after": 90}
    )
    answer = httpx.post(bin["url"])
    assert answer.status_code == 429
    assert answer.headers["retry-after"] == "90"
    assert answer.json()["error"]["code"] == "failure_script"


def test_a_close_script_closes_the_connection_without_an_answer(app_server):
    bin = owned_bin(app_server.base_url, failures={"which": "first", "count": 1, "how": "close"})
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(bin["url"], content=b"first")
    assert httpx.post(bin["url"], content=b"second").status_code == 200
    first = list_requests(app_server.base_url, bin["id"])[-1]
    assert first["response"]["close"] is True and first["response"]["delay_ms"] == 0


def test_a_hang_script_holds_the_sender_until_it_gives_up(app_server):
    bin = owned_bin(app_server.base_url, failures={"which": "all", "how": "hang"})
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(bin["url"], timeout=1.5)
    assert time.monotonic() - started >= 1.5
    [stored] = list_requests(app_server.base_url, bin["id"])
    assert stored["response"]["close"] is True
    assert stored["response"]["delay_ms"] == 30_000  # INSPECTOR_MAX_RESPONSE_DELAY


def test_changing_the_failure_script_counts_from_then(app_server):
    bin = owned_bin(app_server.base_url)
    for _ in range(3):
        httpx.post(bin["url"])
    auth = {"Authorization": f"Bearer {bin['token']}"}
    changed = httpx.patch(
        f"{app_server.base_url}/api/bins/{bin['id']}",
        json={"failures": {"which": "first", "count": 1, "how": "error"}},
        headers=auth,
    ).json()
    assert changed["failures_since"] == 3
    assert httpx.post(bin["url"]).status_code == 503
    assert httpx.post(bin["url"]).status_code == 200
    off = httpx.patch(
        f"{app_server.base_url}/api/bins/{bin['id']}", json={"failures": None}, headers=auth
    ).json()
    assert off["failures"] is None


def test_every_answer_is_kept_from_running_as_a_page_of_inspectors_site(app_server):
    page = {"status": 200, "headers": [["Content-Type", "text/html"]], "body": "<script>1</script>"}
    bin = owned_bin(app_server.base_url, response=page)
    for answer in (httpx.post(bin["url"]), httpx.post(f"{app_server.base_url}/b/nosuchbin1")):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["content-security-policy"] == "sandbox"


def test_a_204_answer_has_no_content_length(app_server):
    bin = owned_bin(app_server.base_url, response={"status": 204})
    answer = httpx.post(bin["url"])
    assert answer.status_code == 204 and "content-length" not in answer.headers


def test_a_cors_preflight_neither_takes_nor_spends_a_failure_script_answer(app_server):
    bin = owned_bin(
        app_server.base_url, cors=True, failures={"which": "first", "count": 1, "how": "error"}
    )
    asks = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    assert httpx.options(bin["url"], headers=asks).status_code == 204
    assert httpx.post(bin["url"]).status_code == 503  # the first request the bin answers
    assert httpx.post(bin["url"]).status_code == 200
    preflight = list_requests(app_server.base_url, bin["id"])[-1]
    assert preflight["method"] == "OPTIONS" and preflight["response"] is None


def test_filter_keys_are_shown_to_the_owner_alone(app_server):
    bin = owned_bin(app_server.base_url)
    add_preset(app_server.base_url, bin, "twitter", "consumer-secret-1")
    auth = {"Authorization": f"Bearer {bin['token']}"}
    owner = httpx.get(f"{app_server.base_url}/api/bins/{bin['id']}", headers=auth).json()
    stranger = httpx.get(f"{app_server.base_url}/api/bins/{bin['id']}").json()
    assert "consumer-secret-1" in owner["rules"][0]["response"]["body"]
    assert "consumer-secret-1" not in json.dumps(stranger)
    assert "'••••••••'" in stranger["rules"][0]["response"]["body"]


def test_a_host_no_url_can_hold_does_not_stop_capture_of_a_twilio_checked_bin(app_server):
    bin = owned_bin(
        app_server.base_url, signature={"provider": "twilio", "secret": "twilio-auth-token"}
    )
    port = int(app_server.base_url.rsplit(":", 1)[1])
    path = f"/b/{bin['id']}".encode()
    raw = raw_request(
        port,
        b"POST " + path + b" HTTP/1.1\r\nHost: a:99999\r\nX-Twilio-Signature: "
        b"AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 200")
    assert httpx.post(bin["url"]).status_code == 200  # the writer is still there
    stored = list_requests(app_server.base_url, bin["id"])
    assert len(stored) == 2
    assert stored[-1]["signature"]["cause"] == "header_malformed"
