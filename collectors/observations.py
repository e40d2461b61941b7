"""Observations (contract 2): the facts a poll saw, batched to the inventory's observations endpoint.

:func:`observation_from` picks the facts out of a poll's raw columns (no extra SNMP requests).
:class:`ObservationSender` keeps the latest unsent observation per device (the endpoint keeps only the
latest too, so a backlog is bounded by the number of devices) and posts them in batches.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from collectors.flushing import PeriodicFlush
from collectors.inventory_client import InventoryClient
from collectors.mibmodules import display_string, phys_address

log = logging.getLogger(__name__)

STATUS = {1: "up", 2: "down", 3: "testing", 4: "unknown", 5: "dormant", 6: "notPresent", 7: "lowerLayerDown"}


def _first(columns: dict[str, dict[str, Any]], name: str) -> Any:
    col = columns.get(name)
    if not col:
        return None
    if "0" in col:
        return col["0"]
    # an entity table: the lowest index with a non-empty value (the chassis, normally)
    for row in sorted(col, key=lambda r: [int(x) for x in r.split(".") if x.isdigit()]):
        if col[row]:
            return col[row]
    return None


def facts_from(columns: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """sysName, sysDescr, sysObjectID, uptime_seconds, serial, model; facts not observed are omitted."""
    facts: dict[str, Any] = {}
    for name in ("sysName", "sysDescr", "sysObjectID"):
        v = _first(columns, name)
        if v is not None:
            facts[name] = display_string(v)
    uptime = _first(columns, "sysUpTime")
    if isinstance(uptime, int):
        facts["uptime_seconds"] = uptime / 100.0
    for fact, name in (("serial", "entPhysicalSerialNum"), ("model", "entPhysicalModelName")):
        v = _first(columns, name)
        if v:
            facts[fact] = display_string(v)
    return facts


def interfaces_from(columns: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per ifIndex seen in ifTable/ifXTable."""
    rows: set[str] = set()
    for name in ("ifIndex", "ifDescr", "ifName", "ifOperStatus"):
        rows.update(columns.get(name, ()))
    out = []
    for row in sorted(rows, key=lambda r: int(r) if r.isdigit() else 0):
        if not row.isdigit():
            continue
        entry: dict[str, Any] = {"ifIndex": int(row)}
        for key in ("ifName", "ifDescr", "ifAlias"):
            v = columns.get(key, {}).get(row)
            if v is not None:
                entry[key] = display_string(v)
        for key in ("ifAdminStatus", "ifOperStatus"):
            v = columns.get(key, {}).get(row)
            if isinstance(v, int):
                entry[key] = STATUS.get(v, str(v))
        high = columns.get("ifHighSpeed", {}).get(row)
        speed = columns.get("ifSpeed", {}).get(row)
        if isinstance(high, int) and high:
            entry["speed_bps"] = high * 1_000_000
        elif isinstance(speed, int):
            entry["speed_bps"] = speed
        mac = columns.get("ifPhysAddress", {}).get(row)
        if isinstance(mac, bytes) and len(mac) == 6:
            entry["mac"] = ":".join(f"{b:02x}" for b in mac)
        out.append(entry)
    return out


LLDP_COLUMNS = ("lldpRemChassisId", "lldpRemSysName", "lldpRemPortId", "lldpRemPortDesc")
"""The lldp module's remote-table columns (collectors/modules/lldp.yaml) a neighbour is read from."""
CHASSIS_MAC = 4  # lldpRemChassisIdSubtype macAddress


def _row_key(row: str) -> list[int]:
    return [int(part) if part.isdigit() else 0 for part in row.split(".")]


def lldp_neighbors_from(columns: dict[str, dict[str, Any]]) -> list[dict[str, Any]] | None:
    """One entry per lldpRemTable row; None when the lldp module's columns were not walked.

    The row index is lldpRemTimeMark.lldpRemLocalPortNum.lldpRemIndex. ``local_port`` is the ifName of
    the ifIndex equal to the local port number (the usual numbering; the number itself otherwise),
    ``local_port_num`` the number. A MAC chassis ID reads ``AA:BB:CC:DD:EE:FF``.
    """
    if not any(name in columns for name in LLDP_COLUMNS):
        return None
    rows: set[str] = set()
    for name in LLDP_COLUMNS:
        rows.update(columns.get(name, ()))
    names = columns.get("ifName", {})
    out = []
    for row in sorted(rows, key=_row_key):
        parts = row.split(".")
        if len(parts) != 3 or not parts[1].isdigit():
            continue
        port_num = parts[1]
        chassis = columns.get("lldpRemChassisId", {}).get(row)
        mac_chassis = columns.get("lldpRemChassisIdSubtype", {}).get(row) == CHASSIS_MAC
        local = names.get(port_num)
        out.append(
            {
                "local_port": display_string(local) if local is not None else port_num,
                "local_port_num": int(port_num),
                "chassis_id": phys_address(chassis)
                if mac_chassis and isinstance(chassis, bytes) and len(chassis) == 6
                else display_string(chassis),
                "sys_name": display_string(columns.get("lldpRemSysName", {}).get(row)),
                "port_id": display_string(columns.get("lldpRemPortId", {}).get(row)),
                "port_descr": display_string(columns.get("lldpRemPortDesc", {}).get(row)),
            }
        )
    return out


def observation_from(
    *,
    device: str,
    device_id: int | None,
    started: float,
    duration: float,
    up: bool,
    error: str,
    columns: dict[str, dict[str, Any]] | None,
    address: str | None = None,
) -> dict[str, Any]:
    """A contract-2 observation; a failed poll carries its error and no facts.

    ``address`` is where the device was polled: the inventory compares it with the primary IP (drift).
    """
    obs: dict[str, Any] = {
        "device_id": device_id,
        "device": device,
        "polled_at": datetime.fromtimestamp(started, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "up": up,
        "duration_seconds": round(duration, 6),
        "error": error,
    }
    if up and columns:
        obs["facts"] = facts_from(columns)
        if address:
            obs["facts"]["address"] = address
        interfaces = interfaces_from(columns)
        if interfaces:
            obs["interfaces"] = interfaces
        neighbors = lldp_neighbors_from(columns)
        if neighbors is not None:
            obs["lldp_neighbors"] = neighbors
    return obs


_HEAVY = ("facts", "interfaces", "lldp_neighbors")


def _digest(observation: dict[str, Any]) -> int:
    """What identifies an observation's content, leaving out what changes at every poll."""
    facts = {k: v for k, v in observation.get("facts", {}).items() if k != "uptime_seconds"}
    content = (
        observation["up"],
        observation["error"],
        facts,
        observation.get("interfaces"),
        observation.get("lldp_neighbors"),
    )
    return hash(json.dumps(content, sort_keys=True, default=str))


OBSERVATIONS_PATH = "/api/collector/observations/"
POST_TIMEOUT = 120.0
"""Seconds a batch may take.  Longer than the client's 10 s on purpose: the inventory keeps working on a
batch the collector gave up on, so resending it early only queued a second copy behind the first one's
row locks; under load the copies piled up until PostgreSQL ran out of connections."""


class ObservationSender(PeriodicFlush):
    """Batches observations to `POST {url}/api/collector/observations/` over the shared inventory client."""

    task_name = "observations"

    def __init__(
        self,
        client: InventoryClient,
        collector: str,
        *,
        batch_size: int = 500,
        flush_interval: float = 10.0,
        resend_interval: float = 300.0,
        timeout: float = POST_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.client = client
        self.clock = clock  # monotonic seconds; tests drive the resend interval with a fake one
        self.url = client.url(OBSERVATIONS_PATH)
        self.collector = collector
        self.batch_size = batch_size
        self.flush_interval = flush_interval
        self.timeout = timeout
        self._pending: dict[str, dict[str, Any]] = {}  # device -> latest unsent observation
        self.sent = 0
        self.failures = 0  # flushes that failed (kept for the next flush)
        self.rejected = 0  # observations the endpoint refused (4xx), dropped
        self._last_error_log = 0.0
        self.resend_interval = resend_interval
        self._queued: dict[str, tuple[int, float]] = {}  # device -> (digest, when) of the last one queued
        self._uptimes: dict[str, float] = {}  # device -> uptime of its last observation
        self.unchanged = 0  # observations sent light because nothing but the uptime changed

    def put(self, observation: dict[str, Any]) -> None:
        """Queue an observation; a newer one of the same device replaces the unsent older one.

        Every poll is reported, so the inventory always knows when a device last answered. One that
        differs from the device's last full observation only in poll time, duration and uptime goes
        out light (without `facts` and `interfaces`, which the inventory then keeps) unless
        `resend_interval` has passed: a change (up/down, error, facts, interfaces) goes out in full
        at the next flush, an unchanged device's facts are refreshed every few minutes.  An uptime that went
        backwards (a reboot, which the inventory writes as an event) goes out in full at once too.
        """
        device = observation["device"]
        digest = _digest(observation)
        now = self.clock()
        last = self._queued.get(device)
        unsent = self._pending.pop(device, None)
        uptime = observation.get("facts", {}).get("uptime_seconds")
        rebooted = False
        if uptime is not None:
            previous = self._uptimes.get(device)
            rebooted = previous is not None and uptime < previous
            self._uptimes[device] = uptime
        if rebooted:
            self._queued[device] = (digest, now)
        elif last is not None and last[0] == digest and now - last[1] < self.resend_interval:
            if unsent is None or "facts" not in unsent:
                # Nothing but the poll time moved, and no full observation is waiting to go out.
                observation = {k: v for k, v in observation.items() if k not in _HEAVY}
                self.unchanged += 1
        else:
            self._queued[device] = (digest, now)
        self._pending[device] = observation
        if len(self._pending) >= self.batch_size:
            self._wakeup.set()

    def retain(self, devices: set[str]) -> None:
        """Forget what was queued for devices no longer polled (removed targets), so nothing grows."""
        for device in [d for d in self._queued if d not in devices]:
            del self._queued[device]
        for device in [d for d in self._uptimes if d not in devices]:
            del self._uptimes[device]

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Send every pending observation in batches; on failure keep them for the next flush."""
        sent = 0
        while self._pending:
            devices = list(self._pending)[: self.batch_size]
            batch = [self._pending[d] for d in devices]
            try:
                response = await self.client.post(
                    OBSERVATIONS_PATH,
                    json={"collector": self.collector, "observations": batch},
                    timeout=self.timeout,
                )
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    # refused as such: retrying the same batch would block every later one
                    self.rejected += len(batch)
                    log.warning(
                        "observations refused by %s (HTTP %d): %s; %d dropped",
                        self.url,
                        response.status_code,
                        response.text[:200],
                        len(batch),
                    )
                    for d, obs in zip(devices, batch, strict=True):
                        if self._pending.get(d) is obs:
                            del self._pending[d]
                    continue
                response.raise_for_status()
            except (httpx.HTTPError, OSError) as exc:  # OSError: an ssl.SSLError can escape httpx
                self.failures += 1
                now = time.monotonic()
                if now - self._last_error_log > 300 or not self._last_error_log:
                    self._last_error_log = now
                    log.warning(
                        "observations to %s failed (%s); %d kept",
                        self.url,
                        self.client.describe(exc),
                        len(self._pending),
                    )
                return sent
            for d, obs in zip(devices, batch, strict=True):
                if self._pending.get(d) is obs:
                    del self._pending[d]
            sent += len(batch)
            self.sent += len(batch)
        return sent
