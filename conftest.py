"""Suite-wide setup: the browser and the rule for missing services."""

import os

import pytest

from tests.servers import chromium_launch_args, chromium_path, require

# Playwright's sync API runs an event loop in the main thread (TESTING.md).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded one, kept off the outside network."""
    path = chromium_path()
    require(path, "Chromium is not installed (apt-get install chromium libatomic1)")
    return {**browser_type_launch_args, **chromium_launch_args(path)}


def pytest_collection_modifyitems(items):
    # Playwright's sync API leaves an event loop running in the main thread from
    # its first test to the end of the session, and async tests cannot run then.
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
