"""`python -m collectors` as a process: SIGTERM drains the poll in flight, a known target not polled
yet answers pending (not 404)."""

from __future__ import annotations

import json
import re
import time

from collectors.scheduler import phase

from .test_runner import Runner, entry


def late_name(interval: float, after: float) -> str:
    """A device name whose first poll comes at least ``after`` seconds after the start."""
    return next(n for n in (f"pending-{i}" for i in range(1000)) if phase(n, interval) > after)


def test_sigterm_drains_the_running_poll_and_unpolled_targets_are_pending(sim, tmp_path):
    slow = entry(sim["slow"], interval=5, timeout=4, retries=0)  # answers after 3 s
    waiting = late_name(3600, 600)
    later = entry(sim["switch"], name=waiting, interval=3600, modules=["system"])
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps({"targets": [slow, later]}))
    runner = Runner(["--targets-file", str(targets)], tmp_path)
    try:
        # 10.11: known but not polled yet -> 200 with up 0 and the pending marker
        body = runner.wait_for(f"/snmp?target={waiting}", lambda s, b: s == 200)
        assert "infrastrand_device_up 0" in body and "infrastrand_device_pending 1" in body
        assert "infrastrand_poll_error" not in body
        runner.wait_for("/metrics", lambda s, b: "infrastrand_collector_in_flight 1.0" in b, timeout=60)
    finally:
        t0 = time.monotonic()
        rc = runner.terminate()
        took = time.monotonic() - t0
    log = runner.log.read_text()
    assert rc == 0, log
    assert re.search(r"stopping: waiting up to 10 s for 1 running polls", log), log
    assert "cancelled" not in log and "Traceback" not in log
    assert not re.search(r" (ERROR|CRITICAL) ", log), log
    assert took < 10, log  # the slow poll finished (3 s), not the whole grace
    assert "collector stopped" in log
