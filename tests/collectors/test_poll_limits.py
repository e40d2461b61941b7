"""Per-poll limits and agent quirks against scripted loopback agents: the walk deadline, max-repetitions
recovering after tooBig, and duplicate label sets (sysUpTime.0 and sysUpTime.1) dropped and counted."""

from __future__ import annotations

import asyncio
import dataclasses
import time

from prometheus_client.parser import text_string_to_metric_families

from collectors.mibmodules import load_modules
from collectors.poller import Poller
from collectors.scheduler import poll_deadline
from collectors.snmp import COUNTER32, INTEGER, OCTET_STRING, TIMETICKS, SnmpClient, SnmpTarget
from collectors.snmp.ber import GET_BULK
from collectors.snmp.messages import encode_message
from collectors.snmp.walk import MAX_REPS_RAISE_AFTER
from collectors.store import SampleStore
from collectors.targets import parse_target
from collectors.v3 import PysnmpClient
from exporters import exposition as ex
from tests.snmp.agents import Mib, ScriptedAgent

ROOT = "1.3.6.1.2.1.2.2.1"
TABLE = [(f"{ROOT}.10.{i}", COUNTER32, i) for i in range(1, 13)] + [("1.3.6.1.2.1.2.3.0", INTEGER, 1)]


def reply_with(mib: Mib):
    return lambda msg, raw: [(encode_message(mib.answer(msg)), None)]


def test_walk_deadline_cuts_a_walk_that_would_wait_for_timeouts():
    """Defect 7: a silent agent with 5 retries of 2 s would hold the poll 12 s; the deadline ends it."""

    async def go(port):
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget("127.0.0.1", port, timeout=2.0, retries=5)
            t0 = time.monotonic()
            res = await client.walk(t, [ROOT], deadline=0.3)
            return res, time.monotonic() - t0

    with ScriptedAgent(lambda msg, raw: []) as agent:
        res, took = asyncio.run(go(agent.port))
    assert res.error == "deadline"
    assert took < 2.0  # not even one request timeout
    assert res.varbinds[ROOT] == []


def test_a_poll_ends_at_its_deadline_when_every_answer_is_slow():
    """Defect 7: each answer comes 0.25 s late and the walk needs 14 requests; the poll of a 1 s
    interval device stops at its 1 s deadline instead of holding its slot for the whole walk."""
    mib = Mib(TABLE)

    def slow(msg, raw):
        time.sleep(0.25)
        return [(encode_message(mib.answer(msg)), None)]

    target = parse_target(
        {"name": "slowpoke", "address": "127.0.0.1", "port": 0, "community": "public", "interval": 1,
         "timeout": 1.0, "retries": 0, "max_repetitions": 1, "modules": ["if_mib"]},
        "test",
    )  # fmt: skip
    assert poll_deadline(target) == 1.0
    assert poll_deadline(dataclasses.replace(target, timeout=2.0, retries=2)) == 6.0  # never below retries

    async def go(port):
        async with SnmpClient(bind6=None) as wire:
            pysnmp = PysnmpClient()
            poller = Poller(modules=load_modules(), store=SampleStore(), wire=wire, pysnmp=pysnmp)
            t = dataclasses.replace(target, port=port)
            try:
                return await poller.poll(t, deadline=poll_deadline(t))
            finally:
                pysnmp.close()

    with ScriptedAgent(slow) as agent:
        result = asyncio.run(go(agent.port))
        asked = len(agent.requests)
    assert not result.up and result.error == "deadline"
    assert result.duration < 2.0 and asked < 14


def test_lowered_max_repetitions_rise_again_after_clean_walks():
    """10.11: an agent that answered tooBig once (e.g. while a table was big) gets the target's
    max-repetitions back: doubled after every MAX_REPS_RAISE_AFTER walks without tooBig."""
    mib = Mib(TABLE)
    state = {"limit": 6}

    def reply(msg, raw):
        if msg.pdu_type == GET_BULK and msg.error_index > state["limit"]:
            return [(encode_message(mib.answer(msg, error_status=1)), None)]
        return [(encode_message(mib.answer(msg)), None)]

    async def go(agent):
        async with SnmpClient(bind6=None) as client:
            t = SnmpTarget("127.0.0.1", agent.port, max_repetitions=25, timeout=2.0, retries=0)
            first = await client.walk(t, [ROOT])
            state["limit"] = 1000  # the agent copes again
            asked = []
            for _ in range(3 * MAX_REPS_RAISE_AFTER + 1):
                agent.requests.clear()
                res = await client.walk(t, [ROOT])
                assert res.error == "" and len(res.varbinds[ROOT]) == 12
                asked.append(agent.requests[0].error_index)
            return first, asked

    with ScriptedAgent(reply) as agent:
        first, asked = asyncio.run(go(agent))
    assert first.error == "" and len(first.varbinds[ROOT]) == 12
    n = MAX_REPS_RAISE_AFTER
    assert asked[: n - 1] == [6] * (n - 1)  # remembered while it proves itself
    assert asked[n - 1 : 2 * n - 1] == [12] * n  # doubled after n clean walks
    assert asked[2 * n - 1 : 3 * n - 1] == [24] * n
    assert asked[3 * n - 1 :] == [25, 25]  # and back to the target's own value


SYSTEM_DUPLICATED = [
    ("1.3.6.1.2.1.1.1.0", OCTET_STRING, b"quirky agent"),
    ("1.3.6.1.2.1.1.3.0", TIMETICKS, 12345),
    ("1.3.6.1.2.1.1.3.1", TIMETICKS, 99999),  # a second instance of a scalar
    ("1.3.6.1.2.1.1.5.0", OCTET_STRING, b"quirky"),
    ("1.3.6.1.2.1.1.5.1", OCTET_STRING, b"quirky-again"),
    ("1.3.6.1.2.1.2.1.0", INTEGER, 1),
]


def test_duplicate_label_sets_are_dropped_and_counted():
    """Defect 5: sysUpTime.0 and sysUpTime.1 must not become two samples with identical labels."""
    store = SampleStore()

    async def go(port):
        async with SnmpClient(bind6=None) as wire:
            pysnmp = PysnmpClient()
            poller = Poller(modules=load_modules(), store=store, wire=wire, pysnmp=pysnmp)
            target = parse_target(
                {"name": "quirky", "address": "127.0.0.1", "port": port, "community": "public",
                 "timeout": 2.0, "retries": 0, "modules": ["system"]},
                "test",
            )  # fmt: skip
            try:
                return await poller.poll(target), poller.duplicates
            finally:
                pysnmp.close()

    with ScriptedAgent(reply_with(Mib(SYSTEM_DUPLICATED))) as agent:
        result, duplicates = asyncio.run(go(agent.port))
    assert result.up
    uptime = {f.name: f for f in result.families}["sysUpTime"]
    assert uptime.samples == (((), 12345.0),)  # the first instance wins
    assert duplicates == 2  # sysUpTime.1 and sysName.1
    body = ex.render_target(store.get("quirky"), ex.TEXT, result.started + 1).decode()
    seen = set()
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            key = (sample.name, tuple(sorted(sample.labels.items())))
            assert key not in seen, key
            seen.add(key)
    assert 'sysName{sysName="quirky"} 1' in body and "quirky-again" not in body
