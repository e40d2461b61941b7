"""Real Prometheus / Alertmanager processes and a small static HTTP server, on free loopback ports."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
AMTOOL = "/usr/bin/amtool"

STARTUP_SECONDS = 30


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(check: Callable[[], bool], *, seconds: float, what: str, step: float = 0.2) -> None:
    """Poll ``check`` until it is true; fail after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if check():
                return
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds}s waiting for {what}")


@contextlib.contextmanager
def process(
    args: list[str],
    ready_url: str,
    log: Path,
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    headers: dict[str, str] | None = None,
    startup_seconds: float = STARTUP_SECONDS,
    verify: str | bool = True,
) -> Iterator[subprocess.Popen]:
    """Run ``args`` until the block ends; wait for ``ready_url`` to answer 200 first (sent ``headers``;
    an https URL is verified with ``verify``, a CA file)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    try:

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"{args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            return httpx.get(ready_url, timeout=2, headers=headers, verify=verify).status_code == 200

        wait_until(ready, seconds=startup_seconds, what=ready_url)
        time.sleep(0.5)  # a process that lost the port race to another server exits by now
        if proc.poll() is not None:
            raise AssertionError(f"{args[0]} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@contextlib.contextmanager
def prometheus(config: Path, workdir: Path) -> Iterator[str]:
    """A Debian Prometheus on a free port with ``config``; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [
        PROMETHEUS,
        f"--config.file={config}",
        f"--storage.tsdb.path={workdir / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with process(args, f"{base}/-/ready", workdir / "prometheus.log"):
        flags = httpx.get(f"{base}/api/v1/status/flags", timeout=5).json()["data"]
        assert flags["config.file"] == str(config), f"{base} is another Prometheus"
        yield base


@contextlib.contextmanager
def alertmanager(config: Path, workdir: Path) -> Iterator[str]:
    """A Debian Alertmanager (no clustering) on a free port with ``config``; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [
        ALERTMANAGER,
        f"--config.file={config}",
        f"--storage.path={workdir / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
        "--log.level=warn",
    ]
    with process(args, f"{base}/-/ready", workdir / "alertmanager.log"):
        yield base


def instant_query(base: str, expr: str) -> list[dict]:
    """Evaluate ``expr`` now; fail with Prometheus's error if it is not a valid, evaluable query."""
    response = httpx.post(f"{base}/api/v1/query", data={"query": expr}, timeout=30)
    body = response.json()
    assert body["status"] == "success", f"{expr!r}: {body.get('errorType')}: {body.get('error')}"
    return body["data"]["result"]


Route = Callable[[dict[str, list[str]], dict[str, str]], tuple[int, str, str]]


@dataclass
class StaticServer:
    """A loopback HTTP server answering GETs from ``routes``.

    A route maps a path to f(query, headers) -> (status, content type, body).
    """

    routes: dict[str, Route]
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                owner.requests.append((self.path, headers))
                route = owner.routes.get(url.path)
                status, ctype, body = (404, "text/plain", "not found\n")
                if route is not None:
                    status, ctype, body = route(parse_qs(url.query), headers)
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class WebhookSink:
    """A loopback HTTP server recording the JSON bodies POSTed to it (Alertmanager's webhooks), by path."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                owner.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
