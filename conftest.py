"""Suite-wide setup: the browser and the rule for missing services."""

import os
import shutil

import pytest

from tests.servers import require

# Playwright's sync API runs an event loop in the main thread (TESTING.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def chromium_path():
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded one, kept off the outside network."""
    path = chromium_path()
    require(path, "Chromium is not installed (apt-get install chromium libatomic1)")
    return {
        **browser_type_launch_args,
        "executable_path": path,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
            "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
        ],
    }


def pytest_collection_modifyitems(items):
    # Playwright's sync API leaves an event loop running in the main thread from
    # its first test to the end of the session, and async tests cannot run then.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
