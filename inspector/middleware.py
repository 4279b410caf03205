from inspect import iscoroutinefunction

from django.utils.decorators import sync_and_async_middleware

# Everything shown came from a stranger: no inline script, nothing from elsewhere.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
PRIVATE_PREFIXES = ("/bins/", "/api/")


def add_headers(request, response):
    response.setdefault("Content-Security-Policy", CSP)
    if request.path.startswith(PRIVATE_PREFIXES):
        # A bin's URL is its key: keep it out of caches, logs of others and indexes.
        response["Cache-Control"] = "no-store"
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@sync_and_async_middleware
def security_headers(get_response):
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return add_headers(request, await get_response(request))

    else:

        def middleware(request):
            return add_headers(request, get_response(request))

    return middleware
