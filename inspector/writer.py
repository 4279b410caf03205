"""The writer process of a server process (bins.writer): `python -m inspector.writer FD`,
started by the server with its end of a socket pair as FD."""

import os
import socket
import sys


def main(fd):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inspector.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    from bins.limits import limiter_from_settings
    from bins.writer import DATABASE_NAME, serve

    if os.environ.get(DATABASE_NAME):  # the server's, which tests point elsewhere
        settings.DATABASES["default"]["NAME"] = os.environ[DATABASE_NAME]
    connection.ensure_connection()  # now, not on the first capture
    with socket.socket(fileno=fd) as sock:
        serve(sock, limiter_from_settings())
    connection.close()


if __name__ == "__main__":
    main(int(sys.argv[1]))
