"""The HTML pages; the data on them comes from the JSON API and the websocket."""

import functools
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import alogout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST

from . import access, presets, signing
from .access import NONE
from .api import base_url, caller_of
from .queries import get_bin_async, off_loop
from .serializers import bin_json


def page(view):
    """A page: in login mode, only for signed-in users; sets the CSRF cookie that the
    page's API calls send back."""

    @ensure_csrf_cookie
    @functools.wraps(view)
    async def wrapper(request, *args, **kwargs):
        # Resolved here: templates read request.user, and may not query the database.
        request.user = await request.auser()
        if settings.INSPECTOR_REQUIRE_LOGIN and not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return await view(request, *args, **kwargs)

    return wrapper


@page
async def home(request):
    return render(request, "home.html")


def gone(request, bin):
    expired = bin is not None
    now = timezone.now()
    ttl_end = now + timedelta(seconds=settings.INSPECTOR_BIN_TTL)
    context = {"expired": expired, "now": now, "ttl_end": ttl_end}
    return render(request, "bins/gone.html", context, status=410 if expired else 404)


@page
async def inspect(request, bin_id):
    bin = await get_bin_async(bin_id)
    if bin is None or bin.has_expired():
        return gone(request, bin)
    level = await access.access_level_async(bin, await caller_of(request))
    if level == NONE:
        return render(request, "bins/private.html", {"bin_id": bin.id}, status=403)
    data = bin_json(bin, base_url(request), level)
    context = {
        "bin": bin,
        "bin_json": data,
        "capture_url": data["url"],
        "extra_sensitive": settings.INSPECTOR_EXTRA_SENSITIVE_HEADERS,
        "max_delay_ms": settings.INSPECTOR_MAX_RESPONSE_DELAY * 1000,
        "presets": presets.catalogue(),
        "signature_providers": signing.catalogue(),
    }
    return render(request, "bins/inspect.html", context)


@page
async def share(request, token):
    """A share link: this browser may read the bin from now on, until the owner
    revokes the link."""
    target = await off_loop(access.share_target)(token)
    if target is None:
        return render(request, "bins/private.html", {"revoked": True}, status=404)
    bin_id, token_id = target
    await access.remember_shared(request.session, bin_id, token_id)
    return redirect("inspect", bin_id=bin_id)


@require_POST
async def logout(request):
    await alogout(request)
    return redirect(settings.LOGIN_URL if settings.INSPECTOR_REQUIRE_LOGIN else "home")
