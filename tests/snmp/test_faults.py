"""Faulty agents: non-increasing OIDs, endless walks, tooBig, error statuses, answers from the wrong
address or with the wrong request-id, garbled answers.  The agents are scripted UDP responders."""

from __future__ import annotations

import asyncio
import time

import pytest
import uvloop

from collectors.snmp import COUNTER32, END_OF_MIB_VIEW, INTEGER, OCTET_STRING, SnmpClient, SnmpTarget
from collectors.snmp.ber import GET_BULK, GET_NEXT, RESPONSE
from collectors.snmp.messages import Message, encode_message
from tests.snmp.agents import Mib, ScriptedAgent

ROOT = "1.3.6.1.2.1.2.2.1"
TABLE = [(f"{ROOT}.{col}.{i}", COUNTER32, col * 1000 + i) for col in (1, 2, 3) for i in range(1, 41)]
TABLE += [("1.3.6.1.2.1.2.3.0", INTEGER, 1)]


def run_walk(agent: ScriptedAgent, roots=(ROOT,), loop: str = "asyncio", **kw):
    kw.setdefault("timeout", 0.3)
    kw.setdefault("retries", 1)

    async def go():
        async with SnmpClient(bind6=None) as client:
            res = await client.walk(SnmpTarget("127.0.0.1", agent.port, **kw), list(roots))
            await asyncio.sleep(0.05)  # let trailing datagrams arrive and be counted
            return res, client.stats

    return uvloop.run(go()) if loop == "uvloop" else asyncio.run(go())


def reply_with(mib: Mib):
    return lambda msg, raw: [(encode_message(mib.answer(msg)), None)]


def test_scripted_table_walk_is_complete():
    with ScriptedAgent(reply_with(Mib(TABLE))) as agent:
        res, stats = run_walk(agent, max_repetitions=7)
    assert res.error == ""
    assert res.varbinds[ROOT] == [(oid[len(ROOT) + 1 :], tag, v) for oid, tag, v in TABLE[:-1]]
    assert (
        res.pdus == stats.requests == 120 // 7 + 1
    )  # the last PDU also carries the first OID past the table
    assert {m.error_index for m in agent.requests} == {7}


@pytest.mark.parametrize(
    "answers",
    [
        [[1, 2, 3], [3, 4]],  # the next PDU repeats the last OID
        [[1, 3, 2]],  # goes back inside one PDU
        [[5, 6], [4, 7]],  # goes back across PDUs
    ],
)
def test_non_increasing_aborts_walk(answers):
    script = iter(answers)

    def reply(msg, raw):
        rows = next(script, [1])
        vbs = [(f"{ROOT}.1.{i}", INTEGER, i) for i in rows]
        return [(encode_message(Message(1, msg.community, RESPONSE, msg.request_id, 0, 0, vbs)), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_walk(agent)
    assert res.error == "nonIncreasing"
    assert res.pdus == len(answers)
    got = [int(ix.split(".")[1]) for ix, _, _ in res.varbinds[ROOT]]
    assert got == sorted(set(got)) and len(got) < sum(len(a) for a in answers)


def test_multi_octet_subidentifiers_are_ordered_numerically():
    """16383 (ff 7f) sorts after 16384 (81 80 00) as bytes; the walk must still accept the real order."""
    rows = [5, 127, 128, 16383, 16384, 10101 * 100, 2**32 - 1]
    mib = Mib([(f"{ROOT}.1.{i}", INTEGER, i % 1000) for i in rows] + [("1.3.6.1.2.1.3.1.0", INTEGER, 0)])
    with ScriptedAgent(reply_with(mib)) as agent:
        res, _ = run_walk(agent, max_repetitions=2)
    assert res.error == ""
    assert [ix for ix, _, _ in res.varbinds[ROOT]] == [f"1.{i}" for i in rows]


def test_endless_walk_is_bounded_by_max_pdus():
    def reply(msg, raw):  # always a longer OID below the requested one: increasing forever
        oid = msg.varbinds[0][0]
        vbs = [(f"{oid}.{k}", INTEGER, k) for k in range(1, 4)]
        return [(encode_message(Message(1, msg.community, RESPONSE, msg.request_id, 0, 0, vbs)), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_walk(agent, max_pdus=40)
    assert res.error == "maxPdus"
    assert res.pdus == 40 and len(agent.requests) == 40
    assert res.varbinds_count == 120


def test_too_big_halves_max_repetitions_and_is_remembered():
    mib = Mib(TABLE)

    def reply(msg, raw):
        if msg.pdu_type == GET_BULK and msg.error_index > 6:
            return [(encode_message(mib.answer(msg, error_status=1)), None)]
        return [(encode_message(mib.answer(msg)), None)]

    async def go(port):
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget("127.0.0.1", port, max_repetitions=25, timeout=0.3, retries=0)
            first = await client.walk(t, [ROOT])
            second = await client.walk(t, [ROOT])
            return first, second

    with ScriptedAgent(reply) as agent:
        first, second = asyncio.run(go(agent.port))
        asked = [m.error_index for m in agent.requests]
    assert first.error == second.error == ""
    assert len(first.varbinds[ROOT]) == len(second.varbinds[ROOT]) == 120
    assert asked[:3] == [25, 12, 6]  # halved until it fits
    assert set(asked[3:]) == {6}  # and the next walk starts from the lowered value
    assert first.pdus == 2 + 120 // 6 + 1 and second.pdus == 120 // 6 + 1


def test_too_big_at_one_repetition_is_an_error():
    def reply(msg, raw):
        out = Message(1, msg.community, RESPONSE, msg.request_id, 1, 0, msg.varbinds)
        return [(encode_message(out), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_walk(agent, max_repetitions=4)
    assert res.error == "tooBig" and res.pdus == 3
    assert [m.error_index for m in agent.requests] == [4, 2, 1]


@pytest.mark.parametrize(("status", "name"), [(5, "genErr"), (6, "noAccess"), (99, "errorStatus99")])
def test_error_status_ends_walk(status, name):
    def reply(msg, raw):
        out = Message(1, msg.community, RESPONSE, msg.request_id, status, 1, msg.varbinds)
        return [(encode_message(out), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_walk(agent, roots=(ROOT, "1.3.6.1.2.1.1"))
    assert res.error == name and res.pdus == 1 and res.varbinds == {ROOT: [], "1.3.6.1.2.1.1": []}


def test_end_of_mib_view_and_empty_answers_end_a_root():
    mib = Mib(TABLE[:-1])  # the table ends the agent's MIB: endOfMibView follows

    def reply(msg, raw):
        if msg.varbinds[0][0].startswith("1.3.6.1.2.1.1"):  # an empty varbind list for the second root
            return [(encode_message(Message(1, msg.community, RESPONSE, msg.request_id, 0, 0, [])), None)]
        return [(encode_message(mib.answer(msg)), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_walk(agent, roots=(ROOT, "1.3.6.1.2.1.1"), max_repetitions=50)
    assert res.error == ""
    assert len(res.varbinds[ROOT]) == 120 and all(tag != END_OF_MIB_VIEW for _, tag, _ in res.varbinds[ROOT])
    assert res.varbinds["1.3.6.1.2.1.1"] == []


def test_v1_walk_uses_getnext_and_ends_on_no_such_name():
    mib = Mib(TABLE[:-1])

    def reply(msg, raw):
        assert msg.pdu_type == GET_NEXT and msg.version == 0
        vb = mib.next_after(msg.varbinds[0][0], 1)[0]
        if vb[1] == END_OF_MIB_VIEW:  # v1 has no exceptions: noSuchName, index 1
            return [
                (
                    encode_message(Message(0, msg.community, RESPONSE, msg.request_id, 2, 1, msg.varbinds)),
                    None,
                )
            ]
        return [(encode_message(Message(0, msg.community, RESPONSE, msg.request_id, 0, 0, [vb])), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_walk(agent, version="1")
    assert res.error == "" and len(res.varbinds[ROOT]) == 120 and res.pdus == 121


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_wrong_address_wrong_request_id_and_garbled_answers_are_dropped_and_counted(loop):
    """Each request first gets a copy from another socket, one with a foreign request-id and a truncated
    one; then the right answer. The walk is unaffected; every bad datagram is counted."""
    import socket

    mib = Mib(TABLE)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.1", 0))

    def reply(msg, raw):
        good = mib.answer(msg)
        wrong_id = encode_message(
            Message(1, good.community, RESPONSE, good.request_id ^ 0x5A5A5A, 0, 0, good.varbinds)
        )
        right = encode_message(good)
        return [(right, other), (wrong_id, None), (right[:-3], None), (right, None)]

    try:
        with ScriptedAgent(reply) as agent:
            res, stats = run_walk(agent, max_repetitions=10, loop=loop)
    finally:
        other.close()
    assert res.error == "" and len(res.varbinds[ROOT]) == 120 and res.retries == 0
    n = res.pdus
    assert stats.unexpected["address"] == n
    assert stats.unexpected["request_id"] + stats.unexpected["late"] == n
    assert sum(stats.malformed.values()) == n and stats.responses == n


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_garbled_varbinds_with_right_request_id_time_out_not_crash(loop):
    def reply(msg, raw):
        good = encode_message(
            Message(1, msg.community, RESPONSE, msg.request_id, 0, 0, [(f"{ROOT}.1.1", OCTET_STRING, b"x")])
        )
        broken = bytearray(good)
        broken[-2] = 0x7F  # the value's length now runs past the varbind
        return [(bytes(broken), None)]

    with ScriptedAgent(reply) as agent:
        res, stats = run_walk(agent, timeout=0.2, retries=2, loop=loop)
    assert res.error == "timeout" and res.pdus == 3 and res.retries == 2
    assert sum(stats.malformed.values()) == 3 and stats.timeouts == 1
    assert res.varbinds[ROOT] == []


def test_receive_buffer_is_raised():
    """Bursts of answers from hundreds of devices must not be dropped by a 208 KiB default buffer."""
    import os
    from pathlib import Path

    async def go():
        async with SnmpClient(rcvbuf=4 * 2**20, bind6=None) as client:
            return client.transport.rcvbuf_effective()

    got = asyncio.run(go())
    rmem_max = int(Path("/proc/sys/net/core/rmem_max").read_text())
    assert got >= min(4 * 2**20, rmem_max)
    if os.geteuid() == 0:  # SO_RCVBUFFORCE goes past rmem_max
        assert got >= 4 * 2**20


def test_cancelled_walk_leaves_nothing_behind():
    """A poll cancelled mid-walk (e.g. at shutdown) forgets its request; a late answer is counted."""

    def reply(msg, raw):
        time.sleep(0.3)  # answer after the caller gave up
        return [(encode_message(Mib(TABLE).answer(msg)), None)]

    async def go(port):
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget("127.0.0.1", port, timeout=0.5, retries=0)
            task = asyncio.create_task(client.walk(t, [ROOT]))
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0.7)  # past the answer and the request's timer
            return client.transport.in_flight, client.stats

    with ScriptedAgent(reply) as agent:
        in_flight, stats = asyncio.run(go(agent.port))
    assert in_flight == 0
    assert stats.unexpected["late"] == 1 and stats.timeouts == 0 and stats.responses == 0


def test_a_root_given_twice_is_walked_once():
    with ScriptedAgent(reply_with(Mib(TABLE))) as agent:
        res, _ = run_walk(agent, roots=(ROOT, ROOT), max_repetitions=50)
    assert res.error == "" and len(res.varbinds[ROOT]) == 120 and res.pdus == 3


def run_get(agent: ScriptedAgent, oids, **kw):
    kw.setdefault("timeout", 0.3)
    kw.setdefault("retries", 0)

    async def go():
        async with SnmpClient(bind6=None) as client:
            return await client.get(SnmpTarget("127.0.0.1", agent.port, **kw), list(oids)), client.stats

    return asyncio.run(go())


def test_get_too_big_splits_the_request():
    mib = Mib(TABLE)
    oids = [oid for oid, _, _ in TABLE[:7]]

    def reply(msg, raw):
        if len(msg.varbinds) > 2:
            return [(encode_message(mib.answer(msg, error_status=1)), None)]
        return [(encode_message(mib.answer(msg)), None)]

    with ScriptedAgent(reply) as agent:
        res, _ = run_get(agent, oids)
        sizes = [len(m.varbinds) for m in agent.requests]
    assert res.error == ""
    assert res.varbinds == {oid: [("", tag, value)] for oid, tag, value in TABLE[:7]}
    assert sizes[:3] == [7, 3, 1] and max(sizes[3:]) <= 2 and sum(s for s in sizes if s <= 2) == 7


def test_get_answer_for_other_oids_is_malformed():
    def reply(msg, raw):  # answers a different object than asked
        vbs = [("1.3.6.1.2.1.1.5.0", OCTET_STRING, b"x") for _ in msg.varbinds]
        return [(encode_message(Message(1, msg.community, RESPONSE, msg.request_id, 0, 0, vbs)), None)]

    with ScriptedAgent(reply) as agent:
        res, stats = run_get(agent, ["1.3.6.1.2.1.1.3.0"])
    assert res.error == "timeout" and stats.malformed["varbinds"] == 1
    assert res.varbinds == {"1.3.6.1.2.1.1.3.0": []}


def test_get_with_a_pdu_budget_stops():
    def reply(msg, raw):  # tooBig forever: the client keeps splitting until its budget is spent
        return [(encode_message(Mib(TABLE).answer(msg, error_status=1)), None)]

    oids = [oid for oid, _, _ in TABLE[:8]]
    with ScriptedAgent(reply) as agent:
        budget, _ = run_get(agent, oids, max_pdus=3)
        unbounded, _ = run_get(agent, oids)
    assert budget.error == "maxPdus" and budget.pdus == 3  # 8, 4, 2 OIDs per request
    assert unbounded.error == "tooBig" and unbounded.pdus == 4  # even one OID is too big


def test_refused_send_is_counted_and_times_out():
    """The kernel refuses a broadcast destination (no SO_BROADCAST): counted, retried, then a timeout."""

    async def go():
        async with SnmpClient(bind6=None) as client:
            res = await client.walk(SnmpTarget("255.255.255.255", 161, timeout=0.05, retries=1), [ROOT])
            return res, client.stats

    res, stats = asyncio.run(go())
    assert res.error == "timeout" and res.pdus == 2
    assert stats.send_errors == 2 and stats.timeouts == 1


def test_timeouts_of_different_lengths_each_fire_on_time():
    """A short timeout started after a long one must not wait for the long one's timer."""
    import socket

    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # a device that never answers
    silent.bind(("127.0.0.1", 0))
    port = silent.getsockname()[1]

    async def go():
        async with SnmpClient(bind6=None) as client:
            slow = asyncio.create_task(
                client.walk(SnmpTarget("127.0.0.1", port, timeout=1.5, retries=0), [ROOT])
            )
            await asyncio.sleep(0.05)
            fast = await client.walk(SnmpTarget("127.0.0.1", port, timeout=0.1, retries=2), [ROOT])
            fast_done = slow.done()
            return fast, await slow, fast_done, client.stats

    try:
        fast, slow, slow_done_first, stats = asyncio.run(go())
    finally:
        silent.close()
    assert fast.error == slow.error == "timeout"
    assert fast.retries == 2 and fast.pdus == 3 and slow.pdus == 1
    assert 0.29 <= fast.duration < 1.0 and not slow_done_first
    assert slow.duration >= 1.49
    assert stats.timeouts == 2 and stats.retries == 2
