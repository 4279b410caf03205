"""Whatever HTTP allows a sender to send comes back exactly from the API: method, path,
query, header names in their case, order and duplicates, values byte for byte, and the
body (hypothesis, against a real server, over raw sockets)."""

import base64
import string

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.integration.helpers import create_bin, raw_request

pytestmark = pytest.mark.django_db(transaction=True)

TCHAR = string.ascii_letters + string.digits + "!#$%&'*+-.^_`|~"
# A method or header name is a token; the path and query are visible ASCII but for
# the characters that end or split them; a value is visible bytes, inner spaces and
# tabs, and obs-text (0x80-0xFF), which HTTP still allows.
tokens = st.text(TCHAR, min_size=1, max_size=12)
path_chars = "".join(c for c in string.printable[:94] if c not in "?#%") + "%2F%41"
paths = st.text(path_chars, max_size=40).map(lambda p: "/" + p)
queries = st.text("".join(c for c in string.printable[:94] if c != "#"), max_size=40)
visible = [*range(0x21, 0x7F), *range(0x80, 0x100)]
values = st.builds(
    lambda first, inner: bytes([first]) + inner,
    st.sampled_from(visible),
    st.binary(max_size=30).map(lambda b: bytes(c for c in b if c in visible or c in (0x20, 0x09))),
).map(lambda v: v.rstrip(b" \t"))
RESERVED = {"host", "content-length", "transfer-encoding", "connection", "upgrade", "expect"}
header_lists = st.lists(
    st.tuples(tokens.filter(lambda n: n.lower() not in RESERVED), values), max_size=8
)


@pytest.fixture(scope="module")
def a_bin(app_server):
    return create_bin(app_server.base_url)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    method=tokens.filter(lambda m: m.upper() not in {"CONNECT"}),
    path=paths,
    query=queries,
    headers=header_lists,
    body=st.binary(max_size=2048),
)
def test_a_request_comes_back_from_the_api_exactly_as_sent(
    app_server, a_bin, method, path, query, headers, body
):
    target = f"/b/{a_bin['id']}{path}" + (f"?{query}" if query else "")
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode()
    head += b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers)
    head += f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    answer = raw_request(app_server.port, head + body)
    status = int(answer.split(b" ", 2)[1])
    assert status == 200, answer[:300]
    request_id = int(answer.split(b"\r\n\r\n", 1)[1].split(b'"id":')[1].split(b"}")[0])
    stored = httpx.get(f"{app_server.base_url}/api/bins/{a_bin['id']}/requests/{request_id}").json()
    assert stored["method"] == method
    assert stored["path"] == path
    assert stored["query_string"] == query
    sent = [["Host", "127.0.0.1"], *([n, v.decode("latin-1")] for n, v in headers)]
    sent += [["Content-Length", str(len(body))], ["Connection", "close"]]
    assert stored["headers"] == sent
    assert base64.b64decode(stored["body_base64"]) == body
    assert stored["body_size"] == len(body)
