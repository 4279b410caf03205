"""ASGI entry point: /b/ goes to our capture app, the rest to Django; websockets
pass the origin check, get their session and user, then the bin consumer (which
checks the bin's access rules)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspector.settings")
django_application = get_asgi_application()

# Imported after Django is set up: they use models.
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from bins.capture import CAPTURE_PREFIX, SCOPE_EXTENSION, raw_path_of  # noqa: E402
from bins.ingest import capture_app, error_body, respond  # noqa: E402
from bins.routing import websocket_urlpatterns  # noqa: E402
from inspector.origins import OriginValidator  # noqa: E402

# Async all the way: WhiteNoise's middleware is sync-only and would put every
# view on a thread (docs/decisions.md).
static_application = ASGIStaticFilesHandler(django_application)


async def http_router(scope, receive, send):
    # /b/<id> is matched with and without a trailing slash; /b itself is Django's.
    if raw_path_of(scope).startswith(CAPTURE_PREFIX):
        return await capture_app(scope, receive, send)
    # Our server keeps at most INSPECTOR_MAX_BODY_BYTES of any body: say so rather
    # than hand Django a cut one.
    size = scope.get("extensions", {}).get(SCOPE_EXTENSION, {}).get("body_size", 0)
    if size > settings.INSPECTOR_MAX_BODY_BYTES:
        limit = settings.INSPECTOR_MAX_BODY_BYTES
        message = f"The body of {size} bytes is over the {limit}-byte limit."
        return await respond(send, scope, 413, error_body("body_too_large", message))
    return await static_application(scope, receive, send)


application = ProtocolTypeRouter(
    {
        "http": http_router,
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
