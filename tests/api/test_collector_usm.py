"""The Cisco AES key-extension variants travel from an SNMP profile to the collector (contract 1)."""

from __future__ import annotations

import pytest

from collectors.targets import parse_targets
from tests.api.test_collector import targets


@pytest.fixture
def collector(inv, make_token, client_for):
    return client_for(make_token(collector=True))


@pytest.mark.parametrize("priv", ["AES-192-C", "AES-256-C"])
def test_cisco_aes_variants_reach_the_collector(collector, inv, priv):
    profile = inv.profiles[1]
    profile.priv_protocol = priv
    profile.full_clean()  # a valid choice that fits the column
    profile.save()
    document = targets(collector).json()
    by_name = {t["name"]: t for t in document["targets"]}
    assert by_name["rtr-001"]["v3"]["priv_protocol"] == priv
    parsed = {t.name: t for t in parse_targets(document, "test")}
    assert parsed["rtr-001"].v3.priv_protocol == priv
