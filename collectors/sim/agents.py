"""Run simulated SNMP agents (snmpsim) for tests and the demo: one device per UDP endpoint.

Each device gets its own `snmpsim-command-responder` process listening on the device's own
address and port (the demo gives every device a loopback address 127.0.1.N, port 1161, and a
per-country community), with one data file `<data-dir>/<community>.snmprec`.  One process per device
because snmpsim 1.2.2 cannot pick a data file by the endpoint a request arrived on with pysnmp 7
(its transport-based selection hooks `handleMgmtOperation`, which pysnmp 7 renamed, and the lite
responder calls the removed `registerRecvCbFun`), and because its delay variation blocks its
whole process.  A process costs ~55 MB: fine for tests and the demo, not a load generator.

    python -m collectors.sim.agents --devices devices.yaml      # [{name, kind, address, port, community}]
    python -m collectors.sim.agents --targets-file targets.json # contract 1: kind from role/device_type
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from collectors.sim.fixtures import KINDS, snmprec

RESPONDER = Path(sys.executable).parent / "snmpsim-command-responder"
SILENT = ("slow", "failing")
PR_SET_PDEATHSIG = 1  # kinds that do not answer the start-up probe promptly and correctly


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """One simulated device: its name, fixture kind and where it answers."""

    name: str
    kind: str
    address: str
    port: int
    community: str = "public"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown kind {self.kind!r} (one of {', '.join(KINDS)})")
        if "/" in self.community or not self.community or self.community.startswith("."):
            raise ValueError(f"{self.name}: community {self.community!r} cannot name a data directory")


def die_with_parent() -> None:
    """In a child, before exec: get SIGTERM when the launcher dies (Linux PR_SET_PDEATHSIG)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def free_udp_port(address: str = "127.0.0.1") -> int:
    """A UDP port free on `address` right now (bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def _probe_packet(community: str) -> bytes:
    """An SNMPv2c GET of sysUpTime.0 (hand-encoded: the launcher needs no SNMP library)."""
    vbl = bytes.fromhex("300e300c06082b060102010103000500")
    pdu = bytes.fromhex("020101020100020100") + vbl
    body = (
        bytes.fromhex("020101")
        + bytes((0x04, len(community)))
        + community.encode()
        + bytes((0xA0, len(pdu)))
        + pdu
    )
    return bytes((0x30, len(body))) + body


def answers(spec: AgentSpec, timeout: float = 0.5) -> bool:
    """True if the device answers an SNMP GET (any response datagram)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        try:
            s.sendto(_probe_packet(spec.community), (spec.address, spec.port))
            s.recvfrom(65535)
        except OSError:
            return False
    return True


class SimAgents:
    """Starts snmpsim processes for a list of devices and stops them; a context manager."""

    def __init__(self, specs: Iterable[AgentSpec], workdir: Path | None = None) -> None:
        self.specs = list(specs)
        endpoints = [(s.address, s.port) for s in self.specs]
        if len(set(endpoints)) != len(endpoints):
            raise ValueError("two simulated devices share an address and port")
        self._tmp = None if workdir else tempfile.TemporaryDirectory(prefix="infrastrand-sim-")
        self.workdir = Path(workdir or self._tmp.name)
        self.processes: list[subprocess.Popen] = []

    def _args(self, spec: AgentSpec) -> list[str]:
        base = self.workdir / spec.name
        data = base / "data"
        data.mkdir(parents=True, exist_ok=True)
        (base / "cache").mkdir(exist_ok=True)
        (data / f"{spec.community}.snmprec").write_text(snmprec(spec.kind, spec.name))
        return [
            str(RESPONDER),
            f"--data-dir={data}",
            f"--cache-dir={base / 'cache'}",
            f"--agent-udpv4-endpoint={spec.address}:{spec.port}",
            f"--logging-method=file:{base / 'agent.log'}",
            "--log-level=error",
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start one process per device and wait until each answers (or raise, after stopping them)."""
        try:
            self._start(timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float) -> None:
        env = {**os.environ, "SNMPSIM_ALLOW_ROOT": "true"}
        for spec in self.specs:
            self.processes.append(
                subprocess.Popen(
                    self._args(spec),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    preexec_fn=die_with_parent,
                )
            )
        deadline = time.monotonic() + timeout
        waiting = [s for s in self.specs if s.kind not in SILENT]
        while waiting:
            waiting = [s for s in waiting if not answers(s)]
            dead = [p for p in self.processes if p.poll() is not None]
            if dead or (waiting and time.monotonic() > deadline):
                names = ", ".join(s.name for s in waiting) or "a process exited"
                raise RuntimeError(f"simulated agents did not start: {names}")
        # slow and failing agents answer late or with an error: wait for their processes to listen
        for spec in self.specs:
            if spec.kind in SILENT:
                self._wait_bound(spec, deadline)

    def _wait_bound(self, spec: AgentSpec, deadline: float) -> None:
        while time.monotonic() < deadline:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                try:
                    s.bind((spec.address, spec.port))
                except OSError:
                    return  # the agent holds the port
            time.sleep(0.1)
        raise RuntimeError(f"simulated agent {spec.name} did not bind {spec.address}:{spec.port}")

    def stop(self) -> None:
        """Terminate the processes (SIGTERM, then SIGKILL after 5 s)."""
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)
        self.processes.clear()
        if self._tmp is not None:
            with contextlib.suppress(OSError):
                self._tmp.cleanup()

    def __enter__(self) -> SimAgents:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def load_specs(path: Path) -> list[AgentSpec]:
    """Device list file: a YAML/JSON list of {name, kind, address, port, community}."""
    entries = yaml.safe_load(Path(path).read_text())
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of devices")
    keys = ("name", "kind", "address", "port", "community")
    return [AgentSpec(**{k: e[k] for k in keys if k in e}) for e in entries]


def kind_for(labels: dict[str, str]) -> str:
    """The fixture kind that suits an inventory device, from its role/device type/platform labels."""
    text = " ".join(labels.get(k, "") for k in ("role", "device_type", "platform")).lower()
    for word, kind in (("ups", "ups"), ("router", "router"), ("server", "server"), ("switch", "switch")):
        if word in text:
            return kind
    return "switch"


def specs_from_targets(document: dict) -> list[AgentSpec]:
    """One simulated device per v1/v2c target of a contract-1 document (the demo inventory's)."""
    return [
        AgentSpec(t["name"], kind_for(t.get("labels") or {}), t["address"], int(t["port"]), t["community"])
        for t in document.get("targets", [])
        if t.get("version", "2c") in ("1", "2c") and t.get("community")
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m collectors.sim.agents", description=__doc__.split("\n")[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--devices", type=Path, help="YAML/JSON list of {name, kind, address, port, community}"
    )
    source.add_argument("--targets-file", type=Path, help="a contract-1 targets document (kind from labels)")
    parser.add_argument("--workdir", type=Path, help="where data files and logs go (default: a temp dir)")
    args = parser.parse_args(argv)
    if args.devices:
        specs = load_specs(args.devices)
    else:
        specs = specs_from_targets(yaml.safe_load(args.targets_file.read_text()))
    agents = SimAgents(specs, args.workdir)
    signal.signal(signal.SIGTERM, _raise_stop)  # before start: a SIGTERM while starting cleans up too
    stopped = False
    try:
        agents.start()
        print(f"{len(agents.specs)} simulated devices answering", flush=True)
        while all(p.poll() is None for p in agents.processes):
            time.sleep(0.5)
    except (_Stop, KeyboardInterrupt):
        stopped = True
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        died = [s.name for s, p in zip(agents.specs, agents.processes, strict=False) if p.poll() is not None]
        agents.stop()
    if died and not stopped:
        print(f"simulated agents exited: {', '.join(died)}", file=sys.stderr)
        return 1
    return 0


class _Stop(Exception):
    """SIGTERM received."""


def _raise_stop(*_: object) -> None:
    raise _Stop


if __name__ == "__main__":
    sys.exit(main())
