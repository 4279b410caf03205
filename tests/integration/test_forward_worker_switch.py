"""INSPECTOR_FORWARD_WORKER=false: a process records deliveries but leaves sending them
to others (the servers on the shared test database run so, see tests/conftest.py)."""

import time

import httpx
import pytest

from bins.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_process_told_not_to_forward_records_deliveries_and_sends_none(app_server):
    created = httpx.post(f"{app_server.base_url}/api/bins", json={}).json()
    auth = {"Authorization": f"Bearer {created['token']}"}
    target = httpx.post(
        f"{app_server.base_url}/api/bins/{created['id']}/targets",
        json={"url": "https://hooks.example.test/in"},
        headers=auth,
    )
    assert target.status_code == 201, target.text
    sent = httpx.post(created["url"], content=b"x").json()["id"]
    time.sleep(2)  # several of a worker's polls, were one running
    (delivery,) = Delivery.objects.filter(request_id=sent)
    assert delivery.state == "pending" and delivery.attempts == 0
