from tests.asgi_fixtures import (  # noqa: F401 (fixtures)
    bin,
    capture,
    close_sync_connection,
    fresh_channel_layer,
    open_socket,
    stop_writer,
    store_requests,
)
