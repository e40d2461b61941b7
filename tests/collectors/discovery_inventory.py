"""The discovery lab: a simulated loopback /28 and a local HTTP server speaking contract 9 (discovery jobs)
and contract 1/2 (targets, observations).

:func:`start_lab` runs the replay agent (its own process) with four devices of the /28 on one port, each for
its own community; the other ten hosts are silent.  The server is for the collector's own tests and the
discovery benchmark: it serves a target list and one discovery job,
records claims and result posts, and can give a job to another collector, so the
collector's posts answer 409.  The inventory's real endpoints are tested against a live inventory in
``test_discovery_e2e.py``; this one lets the collector side be driven and observed exactly.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from collectors.sim.agents import die_with_parent

TOKEN = "discovery-collector-token"
GROUP = "ma-casablanca"
ROOT = Path(__file__).parents[2]
PREFIX = "127.91.0.0/28"
DEVICES = [  # (name, kind, last octet, community)
    ("disc-sw1", "switch", 2, "disc-first"),
    ("disc-rtr", "router", 5, "disc-second"),  # answers the second credential only
    ("disc-ups", "ups", 9, "disc-first"),
    ("disc-sw2", "switch", 12, "disc-second"),  # the end-to-end test documents it first
]
"""The answering devices of the /28; its other 10 hosts are silent (nothing listens there)."""


@dataclass
class Lab:
    port: int
    proc: subprocess.Popen


def port_free_on(addresses: list[str], attempts: int = 50) -> int:
    """A UDP port free on every address (the agent binds each one)."""
    for _ in range(attempts):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.bind((addresses[0], 0))
            port = s.getsockname()[1]
        try:
            for address in addresses[1:]:
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                    s.bind((address, port))
            return port
        except OSError:
            continue
    raise RuntimeError(f"no UDP port free on all of {addresses}")


@contextlib.contextmanager
def start_lab(workdir: Path) -> Iterator[Lab]:
    """The replay agent serving the /28's answering devices on one port, stopped on exit."""
    port = port_free_on([f"127.91.0.{d[2]}" for d in DEVICES])
    specs = workdir / "specs.json"
    specs.write_text(
        json.dumps(
            [{"name": n, "kind": k, "address": f"127.91.0.{o}", "port": port, "community": c}
             for n, k, o, c in DEVICES]
        )
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "collectors.sim.replay", "--specs", str(specs), "--lifetime", "1800"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("READY"), line
        yield Lab(port, proc)
    finally:
        proc.terminate()
        proc.wait(10)


class DiscoveryInventory:
    """One group, its targets and discovery jobs; ``posts`` lists every results body received."""

    def __init__(self, jobs: list[dict[str, Any]], targets: list[dict[str, Any]] | None = None) -> None:
        self.jobs = {job["id"]: dict(job) for job in jobs}
        self.targets = targets or []
        self.claims: list[tuple[int, str]] = []
        self.claimed_at: dict[int, float] = {}  # job id -> monotonic time of its first granted claim
        self.posts: list[dict[str, Any]] = []
        self.job_requests = 0
        self.unavailable = 0  # answer 503 to this many result posts (not recorded)
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self, code: int, doc: Any) -> None:
                body = json.dumps(doc).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _authorized(self) -> bool:
                if self.headers.get("Authorization") != f"Token {TOKEN}":
                    self._answer(403, {"detail": "forbidden"})
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                url = urlsplit(self.path)
                group = parse_qs(url.query).get("group", [""])[0]
                if group != GROUP:
                    self._answer(404, {"detail": f"unknown collector group '{group}'"})
                elif url.path == "/api/collector/targets/":
                    self._answer(200, {"group": GROUP, "targets": outer.targets})
                elif url.path == "/api/collector/discovery/":
                    with outer.lock:
                        outer.job_requests += 1
                        jobs = [j for j in outer.jobs.values() if j["status"] in ("pending", "running")]
                        self._answer(200, {"group": GROUP, "jobs": [outer.public(j) for j in jobs]})
                else:
                    self._answer(404, {"detail": "not found"})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
                if not self._authorized():
                    return
                parts = urlsplit(self.path).path.strip("/").split("/")
                if parts[:2] == ["api", "collector"] and parts[2] == "observations":
                    self._answer(200, {"accepted": len(body.get("observations", []))})
                    return
                if len(parts) != 5 or parts[2] != "discovery" or int(parts[3]) not in outer.jobs:
                    self._answer(404, {"detail": "not found"})
                    return
                with outer.lock:
                    code, doc = outer.handle(outer.jobs[int(parts[3])], parts[4], body)
                self._answer(code, doc)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @staticmethod
    def public(job: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in job.items() if k not in ("status", "error")}

    def handle(self, job: dict[str, Any], action: str, body: dict[str, Any]) -> tuple[int, dict]:
        who = body.get("collector")
        if action == "claim":
            self.claims.append((job["id"], who))
            if job["status"] not in ("pending", "running"):
                return 409, {"detail": f"job {job['status']}"}
            if job.get("claimed_by") not in (None, who):
                return 409, {"detail": f"claimed by {job['claimed_by']}"}
            job.update(status="running", claimed_by=who, lease_expires="2026-12-01T00:00:00Z")
            self.claimed_at.setdefault(job["id"], time.monotonic())
            return 200, {"id": job["id"], "done": job.get("done", 0), "lease_expires": job["lease_expires"]}
        if action != "results":
            return 404, {"detail": "not found"}
        if self.unavailable > 0:
            self.unavailable -= 1
            return 503, {"detail": "database unavailable"}
        self.posts.append({**body, "received": time.monotonic()})
        if job.get("claimed_by") != who:
            return 409, {"detail": f"claimed by {job.get('claimed_by')}"}
        job["done"] = max(job.get("done", 0), body["done"])
        if body.get("finished"):
            job["status"] = "failed" if body.get("error") else "completed"
            job["error"] = body.get("error", "")
        return 200, {"accepted": len(body["results"]), "rejected": [], "status": job["status"]}

    def add(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.jobs[entry["id"]] = dict(entry)

    def take_over(self, job_id: int, collector: str = "collector-02") -> None:
        """Another collector claims the job (its lease ran out, say): this one's posts answer 409."""
        with self.lock:
            self.jobs[job_id]["claimed_by"] = collector

    def results(self) -> list[dict[str, Any]]:
        with self.lock:
            return [r for post in self.posts for r in post["results"]]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def job(job_id: int, prefix: str, credentials: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A contract-9 job entry (pending, unclaimed)."""
    return {
        "id": job_id, "prefix": prefix, "done": 0, "rate": 50.0, "timeout": 1.0, "retries": 0,
        "claimed_by": None, "lease_expires": None, "credentials": credentials, "status": "pending", **extra,
    }  # fmt: skip


def v2c(profile_id: int, community: str, port: int) -> dict[str, Any]:
    return {"profile_id": profile_id, "version": "2c", "port": port, "community": community, "v3": None}
