"""The collector side of HA groups (issue 16.1): ``--member-address`` turns every targets request into a
heartbeat naming the collector, its exporter address and its refresh period."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import pytest

from collectors.__main__ import parse_args
from collectors.targets import InventorySource, Membership
from tests.collectors.test_targets import Inventory, client


@pytest.fixture
def inventory():
    inv = Inventory()
    yield inv
    inv.stop()


def test_every_targets_request_carries_the_heartbeat(inventory, tmp_path):
    member = Membership("ma-col-1", "10.1.0.11:9781", 30.0)
    src = InventorySource(client(inventory.url), "ma-casablanca", tmp_path, member=member)

    async def twice():
        await src.refresh()
        await src.refresh()  # a 304 refresh is a heartbeat too
        await src.client.aclose()

    asyncio.run(twice())
    queries = [parse_qs(urlsplit(r["path"]).query) for r in inventory.requests]
    assert len(queries) == 2
    for query in queries:
        assert query == {
            "group": ["ma-casablanca"], "member": ["ma-col-1"],
            "address": ["10.1.0.11:9781"], "refresh": ["30"],
        }  # fmt: skip


def test_without_member_address_no_heartbeat_is_sent(inventory, tmp_path):
    src = InventorySource(client(inventory.url), "ma-casablanca", tmp_path)
    asyncio.run(src.refresh())
    assert parse_qs(urlsplit(inventory.requests[0]["path"]).query) == {"group": ["ma-casablanca"]}


BASE = ["--inventory-url", "http://127.0.0.1:8000", "--token", "t"]


@pytest.mark.parametrize(
    "extra",
    [
        ["--member-address", "127.0.0.1:9781"],  # no group
        ["--group", "g", "--shard", "0/2", "--member-address", "127.0.0.1:9781"],  # static and HA at once
    ],
)
def test_member_address_needs_a_group_and_excludes_shard(extra, capsys):
    with pytest.raises(SystemExit):
        parse_args(BASE + extra)
    assert (
        "--member-address needs --inventory-url and --group, and replaces --shard" in capsys.readouterr().err
    )


def test_member_address_is_accepted_with_a_group():
    args = parse_args([*BASE, "--group", "g", "--member-address", "127.0.0.1:9781", "--name", "c1"])
    assert (args.member_address, args.name, args.shard) == ("127.0.0.1:9781", "c1", None)


def test_handover_keeps_a_lost_device_for_the_grace_then_drops_it():
    """Issue 16: a device that moved to another member stays polled and served here for ``grace``
    seconds, so scrapes sent before the scraper's http_sd refresh do not fail; then it goes."""
    from collectors.targets import Handover, parse_targets
    from tests.collectors.test_targets import document

    now = [0.0]
    handover = Handover(15.0, clock=lambda: now[0])
    a, b, c = parse_targets(document(3), "test")
    assert handover.targets([a, b]) == [a, b]
    now[0] = 5.0
    assert handover.targets([a]) == [a, b]  # b moved away: still here for the grace
    now[0] = 19.9
    assert handover.targets([a, c]) == [a, c, b]
    now[0] = 20.0
    assert handover.targets([a, c]) == [a, c]  # 15 s after it was lost
    now[0] = 21.0
    assert handover.targets([c]) == [c, a]
    assert handover.targets([a, c]) == [a, c]  # given back: no longer leaving, listed once
