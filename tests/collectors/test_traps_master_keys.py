"""The trap receiver authenticates and decrypts net-snmp's v3 traps with the master keys the inventory
ships (contract 1), the targets carrying no password."""

from __future__ import annotations

from collectors.snmp.usm import master_key
from collectors.targets import parse_target

from .test_traps import AUTH_KEY, PRIV_KEY, Running, net_snmp


def test_v3_trap_with_shipped_master_keys_only(tmp_path):
    ups = parse_target(
        {"id": 12, "name": "ups01", "address": "127.0.0.3", "version": "3",
         "v3": {"username": "trapuser", "auth_protocol": "SHA", "priv_protocol": "AES-128",
                "auth_master_key": master_key("SHA", AUTH_KEY.encode()).hex(),
                "priv_master_key": master_key("SHA", PRIV_KEY.encode()).hex()}},
        "t",
    )  # fmt: skip
    running = Running()
    try:
        running.receiver.apply([ups])
        done = net_snmp(
            "snmptrap", "-v3", "-e", "0x80001f8880aabbccdd07", "-u", "trapuser", "-l", "authPriv",
            "-a", "SHA", "-A", AUTH_KEY, "-x", "AES", "-X", PRIV_KEY,
            f"127.0.0.1:{running.port}", "", "1.3.6.1.2.1.33.2.0.1", "1.3.6.1.2.1.33.1.2.3.0", "i", "17",
            tmp=tmp_path, source="127.0.0.3",
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        running.wait_for(lambda: running.events, "the v3 trap")
        event = running.events[0]
        assert (event["device"], event["trap"]) == ("ups01", "upsTrapOnBattery")
        assert len(running.receiver.keys) == 0  # no password was hashed
    finally:
        running.close()
