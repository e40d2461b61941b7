"""Smoke test of the benchmark harness (``make bench``) with tiny counts: every scenario runs and reports.

Performance is measured by ``make bench``, not asserted here; this only proves the harness works.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.bench.__main__ import SCENARIOS
from tests.bench.replay_agent import Replay

pytestmark = pytest.mark.slow


def test_bench_harness_quick_run():
    out = subprocess.run(
        [sys.executable, "-m", "tests.bench", "--quick"], capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    names = [name for name, _ in SCENARIOS]
    assert len(names) >= 4
    for name in names:
        row = next(line for line in lines if line.startswith(name + " "))
        fields = row[len(name) :].split()
        devices, errors, varbinds = int(fields[0]), int(fields[1]), int(fields[2])
        assert devices > 0 and errors == 0 and varbinds >= devices * 1900, row
    assert "varbinds per device: 1976" in out.stdout


def test_replay_agent_answers_like_the_switch():
    """The bench agent replays a cached answer with the new request-id patched in."""
    from collectors.snmp.ber import GET_BULK, oid_to_bytes
    from collectors.snmp.messages import decode_message, encode_request

    replay = Replay()
    first = decode_message(
        replay.respond(encode_request(1, b"c", GET_BULK, 5, [oid_to_bytes("1.3.6.1.2.1.2.2.1")], 0, 3))
    )
    again = decode_message(
        replay.respond(encode_request(1, b"c", GET_BULK, -70000, [oid_to_bytes("1.3.6.1.2.1.2.2.1")], 0, 3))
    )
    assert first.request_id == 5 and again.request_id == -70000
    assert (
        first.varbinds
        == again.varbinds
        == [
            ("1.3.6.1.2.1.2.2.1.1.1", 2, 1),
            ("1.3.6.1.2.1.2.2.1.1.2", 2, 2),
            ("1.3.6.1.2.1.2.2.1.1.3", 2, 3),
        ]
    )
    assert len(replay.cache) == 1
    assert replay.respond(b"\x30\x03garbage") is None
