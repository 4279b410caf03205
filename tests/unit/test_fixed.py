"""Fixed bins (bins.fixed) and kept bins: declared, created, never expired or purged."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from bins import fixed
from bins.access import hash_token
from bins.lifecycle import purge_expired
from bins.models import NEVER, Bin, BinToken
from bins.storage import store_batch
from tests.unit.test_ingest import record_for

pytestmark = pytest.mark.django_db


def test_names_and_a_file_declare_fixed_bins(tmp_path):
    path = tmp_path / "bins.json"
    path.write_text(json.dumps([{"url_name": "stripe-live", "name": "Stripe", "private": True}]))
    assert fixed.declared(["github-hooks"], str(path)) == [
        {"url_name": "github-hooks"},
        {"url_name": "stripe-live", "name": "Stripe", "private": True},
    ]


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        '[{"name": "no url name"}]',
        '[{"url_name": "UPPER"}]',
        '[{"url_name": "ok-one", "colour": 1}]',
    ],
)
def test_a_declaration_it_cannot_read_stops_the_start(tmp_path, content):
    path = tmp_path / "bins.json"
    path.write_text(content)
    with pytest.raises(ImproperlyConfigured):
        fixed.declared([], str(path))


def test_fixed_bins_are_created_kept_and_given_their_token_once():
    bins = [{"url_name": "stripe-live", "private": True, "owner_token": "insp_configured"}]
    fixed.ensure(bins)
    fixed.ensure(bins)  # every process does it at start
    bin = Bin.objects.get(pk="stripe-live")
    assert bin.keep and bin.private and bin.expires_at == NEVER
    token = BinToken.objects.get(bin=bin)
    assert token.token_hash == hash_token("insp_configured") and token.kind == "owner"


def test_a_capture_does_not_give_a_kept_bin_an_expiry_and_the_purge_leaves_it():
    fixed.ensure([{"url_name": "kept-bin"}])
    store_batch([record_for("kept-bin")])
    bin = Bin.objects.get(pk="kept-bin")
    assert bin.request_count == 1 and bin.expires_at == NEVER
    assert purge_expired(timezone.now() + timedelta(days=10_000)) == 0
    assert Bin.objects.filter(pk="kept-bin").exists()
