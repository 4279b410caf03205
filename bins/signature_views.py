"""The signed test sender (issue 8): a sample event of the bin's provider, signed with
the bin's secret, stored in the bin as if captured, or sent to a URL of the owner's
(a forward target, through bins.outbound's SSRF guard), to test a verifier with."""

from urllib.parse import urlsplit

from django.http import JsonResponse
from django.utils import timezone

from . import live, outbound, signing
from .access import OWNER
from .api import ApiError, base_url, endpoint, parse_json_body
from .capture import Capture, header_value
from .queries import off_loop
from .serializers import request_json
from .storage import store_batch

MAX_URL = 2000


def sample_capture(bin, judge, base):
    """The sample event as a capture record of `bin`, signed for the URL it is stored
    under (so that its verdict, judged from the record, is valid)."""
    parts = urlsplit(base)
    record = Capture(
        bin_id=bin.id,
        method="POST",
        scheme=parts.scheme,
        host=parts.netloc,
        path="",
        query_string="",
        headers=[],
        body=b"",
        body_size=0,
        body_truncated=False,
        content_type="",
        remote_addr="",
        received_at=timezone.now(),
    )
    headers, body = signing.signed_sample(
        judge, signing.signed_url(record), record.received_at.timestamp()
    )
    record.headers = [["Host", parts.netloc], *headers, ["Content-Length", str(len(body))]]
    record.body, record.body_size = body, len(body)
    record.content_type = header_value(headers, "content-type")
    return record


def target_url(value):
    parts = urlsplit(value) if isinstance(value, str) and len(value) <= MAX_URL else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApiError(400, "invalid_url", "url must be an absolute http or https URL.")
    return value


@endpoint("POST", needs={"POST": OWNER})
async def signature_test(request, bin, level):
    """Send a signed sample event: into the bin (201, the stored request's id and its
    verdict), or to `url` (200, what the target answered)."""
    data = parse_json_body(request)
    if unknown := sorted(set(data) - {"url"}):
        raise ApiError(400, "invalid_field", f"Unknown field: {unknown[0]}; this takes url.")
    judge = signing.judge_for(bin)
    if judge is None:
        message = "This bin checks no signatures: set its provider and secret first."
        raise ApiError(400, "invalid_signature", message)
    if judge.problem:
        raise ApiError(400, "invalid_signature", judge.problem)
    if "url" in data:
        url = target_url(data["url"])
        headers, body = signing.signed_sample(judge, url, timezone.now().timestamp())
        result = await outbound.send("POST", url, headers, body)
        answer = {"status": result.status, "error": result.error, "duration_ms": result.duration_ms}
        return JsonResponse({"url": url, **answer})
    record = sample_capture(bin, judge, base_url(request))
    stored = await off_loop(store_batch)([record], choose=False)
    if not stored:
        raise ApiError(404, "bin_not_found", "There is no bin with this id.")
    event = request_json(record, record.masked, record.judge)
    await live.publish(bin.id, live.requests_created([event]))
    return JsonResponse({"id": record.id, "signature": event["signature"]}, status=201)
