"""Real SNMP agents for the wire-path tests: net-snmp snmpd, snmpsim, and a scripted UDP responder.

Every agent listens on a free 127.0.0.1 port and its process or thread is always stopped.
"""

from __future__ import annotations

import bisect
import contextlib
import os
import select
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import snmpsim

from collectors.snmp.ber import (
    END_OF_MIB_VIEW,
    GET,
    GET_BULK,
    GET_NEXT,
    NO_SUCH_OBJECT,
    RESPONSE,
    oid_to_bytes,
)
from collectors.snmp.messages import Message, decode_message, encode_request, parse_header
from tests.snmp.switchdata import switch_records, to_snmprec

VENV_BIN = Path(sys.executable).parent
LINUX_WALK = Path(snmpsim.__file__).parent / "data" / "recorded" / "linux-full-walk.snmprec"


@dataclass
class Agent:
    host: str
    port: int
    communities: tuple[str, ...]
    log: Path | None = None
    port6: int | None = None  # the same agent on [::1], when it listens there


def free_udp_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_port6() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
        s.bind(("::1", 0))
        return s.getsockname()[1]


def agent_answers(host: str, port: int, community: str, wait: float = 0.3) -> bool:
    """One GET sysUpTime.0 over a blocking socket: did a parseable answer come back?"""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(wait)
        s.sendto(
            encode_request(1, community.encode(), GET, 4242, [oid_to_bytes("1.3.6.1.2.1.1.3.0")]),
            (host, port),
        )
        try:
            data, _ = s.recvfrom(65535)
        except OSError:
            return False
        return parse_header(data)[3] == 4242


@contextlib.contextmanager
def running_process(
    cmd: list[str], *, port: int, community: str, log: Path, env: dict | None = None, startup: float = 30.0
) -> Iterator[subprocess.Popen]:
    """Start ``cmd`` and wait until it answers SNMP on ``port``; always terminate it."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + startup
        while not agent_answers("127.0.0.1", port, community):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"agent {cmd[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}"
                )
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@contextlib.contextmanager
def snmpd_agent(workdir: Path, community: str = "public") -> Iterator[Agent]:
    """Debian's net-snmp snmpd with a v2c community, on a free loopback port."""
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_udp_port()
    port6 = free_udp_port6()
    conf = workdir / "snmpd.conf"
    conf.write_text(
        f"agentaddress udp:127.0.0.1:{port},udp6:[::1]:{port6}\n"
        f"rocommunity {community} 127.0.0.1\n"
        f"rocommunity6 {community} ::1\n"
        "sysLocation infrastrand wire-path tests\n"
        "sysContact noc@example.org\n"
        f"persistentDir {workdir}\n"
    )
    env = dict(os.environ, SNMP_PERSISTENT_DIR=str(workdir), MIBS="")
    cmd = ["/usr/sbin/snmpd", "-f", "-Lo", "-C", "-c", str(conf), "-p", str(workdir / "snmpd.pid")]
    log = workdir / "snmpd.log"
    with running_process(cmd, port=port, community=community, log=log, env=env):
        yield Agent("127.0.0.1", port, (community,), log, port6=port6)


@contextlib.contextmanager
def snmpsim_agent(workdir: Path, extra: dict[str, str] | None = None) -> Iterator[Agent]:
    """snmpsim with communities ``linux`` (its recorded Linux walk), ``switch`` (48 ports) and ``extra``."""
    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    shutil.copy(LINUX_WALK, data / "linux.snmprec")
    (data / "switch.snmprec").write_text(to_snmprec(switch_records()))
    for name, text in (extra or {}).items():
        (data / f"{name}.snmprec").write_text(text)
    port = free_udp_port()
    cmd = [
        str(VENV_BIN / "snmpsim-command-responder"),
        f"--data-dir={data}",
        f"--cache-dir={workdir / 'cache'}",
        f"--agent-udpv4-endpoint=127.0.0.1:{port}",
    ]
    env = dict(os.environ, SNMPSIM_ALLOW_ROOT="true")
    log = workdir / "snmpsim.log"
    with running_process(cmd, port=port, community="switch", log=log, env=env, startup=60.0):
        yield Agent("127.0.0.1", port, ("linux", "switch", *(extra or {})), log)


Reply = Callable[[Message, bytes], list[tuple[bytes, socket.socket | None]]]
"""A scripted agent's handler: the decoded request and its bytes -> datagrams to send (socket None = own)."""


@dataclass
class ScriptedAgent:
    """A UDP responder on its own thread whose answers a test scripts (faulty agents)."""

    reply: Reply
    host: str = "127.0.0.1"
    requests: list[Message] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if not ready:
                continue
            data, addr = self.sock.recvfrom(65535)
            try:
                msg = decode_message(data)
            except ValueError:
                continue
            self.requests.append(msg)
            for out, sock in self.reply(msg, data):
                (sock or self.sock).sendto(out, addr)

    def __enter__(self) -> ScriptedAgent:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


def snmpbulkwalk(agent: Agent, community: str, root: str) -> list[tuple[str, str, str]]:
    """``(oid, type, value)`` rows of net-snmp's ``snmpbulkwalk -v2c -On -Oe -Ot -Ox`` (strings in hex)."""
    out = subprocess.run(
        ["snmpbulkwalk", "-v2c", "-c", community, "-On", "-Oe", "-Ot", "-Ox", "-OU", "-m", "", "-r", "2",
         f"{agent.host}:{agent.port}", root],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    rows: list[list[str]] = []
    for line in out.splitlines():
        if line.startswith("."):
            oid, _, rest = line.partition(" = ")
            if rest.startswith("No more variables"):
                continue
            kind, sep, value = rest.partition(": ")
            if not sep:  # -Ot prints TimeTicks as a bare number; "" is an empty string
                kind, value = ("STRING", "") if rest == '""' else ("Timeticks", rest)
            rows.append([oid[1:], kind, value.strip()])
        elif rows and line.strip():
            rows[-1][2] += " " + line.strip()  # continuation of a long Hex-STRING
    return [(o, k, v) for o, k, v in rows]


class Mib:
    """Sorted ``(oid, tag, value)`` records answering GET/GETNEXT/GETBULK like an agent would."""

    def __init__(self, records) -> None:
        self.records = sorted(records, key=lambda r: oid_key_str(r[0]))
        self.keys = [oid_key_str(r[0]) for r in self.records]

    def next_after(self, oid: str, count: int) -> list[tuple[str, int, object]]:
        i = bisect.bisect_right(self.keys, oid_key_str(oid))
        out = list(self.records[i : i + count])
        if len(out) < count:
            out.append((self.records[-1][0] if not out else out[-1][0], END_OF_MIB_VIEW, None))
        return out

    def answer(self, msg: Message, error_status: int = 0, error_index: int = 0) -> Message:
        """The Response to a request (v2c exceptions; v1 callers check for END_OF_MIB_VIEW themselves)."""
        vbs: list = []
        if error_status:
            vbs = msg.varbinds
        elif msg.pdu_type == GET:
            found = dict((r[0], r) for r in self.records)
            vbs = [found.get(oid, (oid, NO_SUCH_OBJECT, None)) for oid, _, _ in msg.varbinds]
        elif msg.pdu_type == GET_NEXT:
            vbs = [self.next_after(oid, 1)[0] for oid, _, _ in msg.varbinds]
        elif msg.pdu_type == GET_BULK:
            reps = max(msg.error_index, 0)
            cols = [oid for oid, _, _ in msg.varbinds]
            for _ in range(reps):
                row = [self.next_after(oid, 1)[0] for oid in cols]
                vbs.extend(row)
                cols = [r[0] for r in row]
                if all(r[1] == END_OF_MIB_VIEW for r in row):
                    break
        return Message(msg.version, msg.community, RESPONSE, msg.request_id, error_status, error_index, vbs)


def oid_key_str(oid: str) -> tuple[int, ...]:
    return tuple(int(x) for x in oid.split("."))
