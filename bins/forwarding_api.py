"""The JSON API of replay and forwarding (issue 7; docs/api.md): replays of a
request, its deliveries and "retry now", and a bin's forward targets."""

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.http import HttpResponse, JsonResponse

from . import forwarder, forwarding, live, metrics, outbound, replays
from .access import OWNER
from .api import ApiError, base_url, endpoint, get_request, int_param, parse_json_body
from .models import Attempt, Bin, Delivery, ForwardTarget, Replay
from .queries import off_loop
from .serializers import bin_json, mask, masked_names

DEFAULT_REPLAYS = 50


def shown(data, bin):
    """A Replay's JSON with the headers the bin masks masked, as requests are."""
    data["headers"], _ = mask(data["headers"], masked_names(bin))
    return data


# --- replay ------------------------------------------------------------------------


@endpoint("GET", "POST")
async def replays_collection(request, bin, level, request_id):
    """POST: send the request again (edited if asked) and keep what came back; GET:
    its replays, newest first, without bodies."""
    row = await get_request(bin, request_id)
    if request.method == "GET":
        limit = int_param(request, "limit", DEFAULT_REPLAYS, 500) or DEFAULT_REPLAYS
        rows = await off_loop(replays.replays_of)(row.id, limit)
        return JsonResponse({"replays": [shown(replays.replay_json(r), bin) for r in rows]})
    try:
        # Only the owner may send masked values on: anyone else could replay them to
        # a server of theirs and read them there.
        masked = frozenset() if level == OWNER else masked_names(bin)
        method, url, headers, body, edited = replays.prepare(parse_json_body(request), row, masked)
    except forwarding.BadForwarding as problem:
        raise ApiError(400, "invalid_replay", str(problem)) from None
    replay = await forwarder.shielded(send_replay(row, method, url, headers, body, edited))
    await live.publish(bin.id, live.replay_created(shown(replays.replay_json(replay), bin)))
    whole = replays.replay_json(replay, whole=True, original=row.body)
    return JsonResponse(shown(whole, bin), status=201)


async def send_replay(row, method, url, headers, body, edited):
    result = await outbound.send(method, url, headers, body, follow_redirects=True)
    metrics.replays.inc()
    return await off_loop(replays.save)(row, method, url, headers, body, edited, result.to_json())


@endpoint("GET")
async def replay_resource(request, bin, level, request_id, replay_id):
    row = await get_request(bin, request_id)
    replay = await Replay.objects.filter(request_id=row.id, pk=replay_id).afirst()
    if replay is None:
        raise ApiError(404, "replay_not_found", "There is no replay with this id of this request.")
    return JsonResponse(shown(replays.replay_json(replay, whole=True, original=row.body), bin))


# --- deliveries --------------------------------------------------------------------


@endpoint("GET")
async def deliveries_collection(request, bin, level, request_id):
    """A request's deliveries to the bin's forward targets, each with its attempts."""
    row = await get_request(bin, request_id)
    rows = await off_loop(forwarding.deliveries_of)(row.id)
    owner = level == OWNER
    deliveries = [forwarding.delivery_json(d, attempts=d.tried, owner=owner) for d in rows]
    return JsonResponse({"deliveries": deliveries})


@endpoint("POST")
async def delivery_retry(request, bin, level, request_id, delivery_id):
    """Retry now: one attempt at once, whatever the schedule, also after the last
    automatic one failed; answers the delivery with all its attempts."""
    row = await get_request(bin, request_id)
    delivery = await forwarder.claim_now(delivery_id, row.id)
    if delivery is None:
        state = await Delivery.objects.filter(pk=delivery_id, request_id=row.id).afirst()
        if state is None:
            raise ApiError(404, "delivery_not_found", "There is no such delivery of this request.")
        if state.state == Delivery.DELIVERED:
            raise ApiError(409, "delivery_delivered", "This delivery succeeded already.")
        raise ApiError(409, "delivery_busy", "This delivery is being sent right now.")
    await forwarder.send_delivery(delivery, Attempt.MANUAL)
    rows = await off_loop(forwarding.deliveries_of)(row.id)
    done = next(d for d in rows if d.pk == delivery.pk)
    return JsonResponse(forwarding.delivery_json(done, attempts=done.tried, owner=level == OWNER))


# --- targets -----------------------------------------------------------------------


def targets_answer(bin):
    targets = ForwardTarget.objects.filter(bin_id=bin.id).order_by("position", "id")
    return {
        "targets": [forwarding.target_json(t) for t in targets],
        "proxy": bin.proxy,
        "proxy_timeout_ms": bin.proxy_timeout_ms,
        "max_proxy_timeout_ms": settings.INSPECTOR_OUTBOUND_TIMEOUT * 1000,
        "max_targets": forwarding.MAX_TARGETS,
    }


def recount(bin_id):
    """Keep the bin's count of enabled targets, which the writer reads, exact: in the
    transaction of the change, with the bin row locked."""
    enabled = ForwardTarget.objects.filter(bin_id=bin_id, enabled=True).count()
    Bin.objects.filter(pk=bin_id).update(forward_count=enabled)


def add_target(bin_id, url, enabled):
    with transaction.atomic():
        list(Bin.objects.select_for_update().filter(pk=bin_id).values_list("pk"))
        targets = ForwardTarget.objects.filter(bin_id=bin_id)
        if targets.count() >= forwarding.MAX_TARGETS:
            message = f"A bin has at most {forwarding.MAX_TARGETS} forward targets."
            raise ApiError(409, "too_many_targets", message)
        last = targets.aggregate(last=Max("position"))["last"]
        target = ForwardTarget.objects.create(
            bin_id=bin_id, url=url, enabled=enabled, position=0 if last is None else last + 1
        )
        recount(bin_id)
    return target


def change_target(bin_id, target_id, changes):
    with transaction.atomic():
        list(Bin.objects.select_for_update().filter(pk=bin_id).values_list("pk"))
        target = ForwardTarget.objects.filter(bin_id=bin_id, pk=target_id).first()
        if target is None:
            return None
        if changes is None:
            target.delete()  # its deliveries and their attempts go with it (in the database)
        else:
            for name, value in changes.items():
                setattr(target, name, value)
            target.save(update_fields=list(changes))
            if "enabled" in changes:
                forwarding.pause_deliveries(target.pk, paused=not target.enabled)
        recount(bin_id)
    return target


def clean_enabled(value):
    if not isinstance(value, bool):
        raise forwarding.BadForwarding("enabled must be true or false.")
    return value


def clean_position(value):
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise forwarding.BadForwarding("position must be a whole number from 0 to 1000.")
    return value


TARGET_FIELDS = {"url": forwarding.clean_url, "enabled": clean_enabled, "position": clean_position}


def target_changes(request, data, partial):
    if unknown := set(data) - set(TARGET_FIELDS):
        message = f"Unknown field: {sorted(unknown)[0]}; a target takes {', '.join(TARGET_FIELDS)}."
        raise ApiError(400, "invalid_field", message)
    if not partial and "url" not in data:
        raise ApiError(400, "invalid_target", "url is needed: where to forward requests.")
    try:
        changes = {name: TARGET_FIELDS[name](value) for name, value in data.items()}
        if "url" in changes:
            own = {base_url(request), f"{request.scheme}://{request.get_host()}"}
            forwarding.refuse_own_capture_url(changes["url"], own)
    except forwarding.BadForwarding as problem:
        raise ApiError(400, "invalid_target", str(problem)) from None
    return changes


async def refreshed(request, bin):
    """Tell the bin's pages (its forward_count changed), and answer its targets."""
    await bin.arefresh_from_db()
    await live.publish(bin.id, live.bin_updated(bin_json(bin, base_url(request))))
    return await off_loop(targets_answer)(bin)


@endpoint("GET", "POST", needs={"GET": OWNER, "POST": OWNER})
async def targets_collection(request, bin, level):
    """The bin's forward targets (owner only); POST adds one at the end."""
    if request.method == "GET":
        return JsonResponse(await off_loop(targets_answer)(bin))
    changes = target_changes(request, parse_json_body(request), partial=False)
    target = await off_loop(add_target)(bin.id, changes["url"], changes.get("enabled", True))
    await refreshed(request, bin)
    return JsonResponse(forwarding.target_json(target), status=201)


@endpoint("PATCH", "DELETE", needs={"PATCH": OWNER, "DELETE": OWNER})
async def target_resource(request, bin, level, target_id):
    changes = None
    if request.method == "PATCH":
        changes = target_changes(request, parse_json_body(request), partial=True)
    target = await off_loop(change_target)(bin.id, target_id, changes)
    if target is None:
        raise ApiError(404, "target_not_found", "There is no forward target with this id here.")
    await refreshed(request, bin)
    if changes is None:
        return HttpResponse(status=204)
    return JsonResponse(forwarding.target_json(target))
