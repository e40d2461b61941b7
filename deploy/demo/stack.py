"""The parts of the demo stack as local processes: inventory, simulated agents, collector, Prometheus.

``python -m deploy.demo`` (``make demo``) starts them in order; the end-to-end tests run that launcher on
free loopback ports.  Every process is started here and stopped by its own handle.  The collector runs
as ``python -m collectors`` and the inventory as ``manage.py`` subprocesses: nothing here imports Django.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import yaml

from collectors.sim.agents import AgentSpec
from inventory import demo

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
ALERTMANAGER_CONFIG = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
ALERT_HISTORY_RECEIVER = "inventory-alert-history"


def wait_http(url: str, timeout: float, process: subprocess.Popen | None = None, headers=None) -> None:
    """Wait until ``url`` answers 200 (bounded); fail early if ``process`` exits."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[:3]} exited with {process.returncode} before {url} answered")
        try:
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError) as exc:
            last = exc
        time.sleep(0.25)
    raise TimeoutError(f"{url} did not answer within {timeout} s ({last})")


class Service:
    """A child process with its output in ``<workdir>/<name>.log``."""

    def __init__(self, name: str, args: list[str], workdir: Path, env: dict[str, str] | None = None) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def logs(self, tail: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-tail:]

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()


_MANAGE_MANY = """
import io, json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "inventory.project.settings")
import django
django.setup()
from django.core.management import call_command
outputs = []
for args, env in json.load(sys.stdin):
    os.environ.update(env)
    out = io.StringIO()
    call_command(*args, stdout=out)
    outputs.append(out.getvalue())
print(json.dumps(outputs))
"""
"""What :meth:`Inventory.manage_many` runs: the commands it is given, in one Django process."""


class Inventory:
    """The Django inventory on SQLite in ``var_dir``: migrated, demo loaded, tokens, dev server."""

    def __init__(self, var_dir: Path, address: str) -> None:
        self.var_dir = var_dir
        self.address = address
        self.url = f"http://{address}"
        self.env = {**os.environ, "INFRASTRAND_VAR_DIR": str(var_dir), "DATABASE_URL": ""}
        self.env.pop("DJANGO_SETTINGS_MODULE", None)
        self.server: Service | None = None
        self.worker: Service | None = None  # manage.py runworker: background jobs (large imports)
        self.tokens: dict[str, str] = {}

    def manage(self, *args: str, extra_env: dict[str, str] | None = None) -> str:
        proc = subprocess.run(
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **(extra_env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
        return proc.stdout

    def manage_many(self, calls: list[tuple[list[str], dict[str, str]]]) -> list[str]:
        """Run several management commands (arguments, extra environment) in one Django process, in order,
        and return each one's output: a start-up of Django costs seconds on a loaded machine."""
        proc = subprocess.run(
            [PYTHON, "-c", _MANAGE_MANY],
            cwd=ROOT,
            env=self.env,
            input=json.dumps(calls),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if proc.returncode != 0:
            names = ", ".join(args[0] for args, _ in calls)
            raise RuntimeError(f"manage.py {names} failed:\n{proc.stdout}\n{proc.stderr}")
        return json.loads(proc.stdout.strip().splitlines()[-1])

    def prepare(self) -> None:
        """Migrate, load the demo inventory, create an admin and its tokens, and a collector token."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        admin = "demo-admin"
        calls: list[tuple[list[str], dict[str, str]]] = [(["migrate", "--noinput"], {}), (["loaddemo"], {})]
        new_admin = not self.tokens_path.exists()
        if new_admin:
            password = os.urandom(12).hex()
            calls += [
                (
                    ["createsuperuser", "--noinput", f"--username={admin}", "--email=admin@example.org"],
                    {"DJANGO_SUPERUSER_PASSWORD": password},
                ),
                (["createtoken", admin, "--description=Prometheus http_sd"], {}),
                (["createtoken", admin, "--write", "--description=demo setup"], {}),
            ]
        else:
            self.load_tokens()
        # A collector token may only poll the groups it is bound to (also replaces a token made by an older
        # demo, before tokens had groups).
        new_collector = new_admin or self.tokens.get("collector_group") != demo.COLLECTOR_GROUP["slug"]
        if new_collector:
            calls.append(
                (
                    [
                        "createtoken",
                        "demo-collector",
                        "--collector",
                        f"--group={demo.COLLECTOR_GROUP['slug']}",
                        "--description=demo collector",
                    ],
                    {},
                )
            )
        outputs = self.manage_many(calls)
        if new_admin:
            self.password_file.write_text(password + "\n")
            self.password_file.chmod(0o600)
            self.tokens = {"read": outputs[3].strip(), "write": outputs[4].strip()}
        if new_collector:
            self.tokens["collector"] = outputs[-1].strip()
            self.tokens["collector_group"] = demo.COLLECTOR_GROUP["slug"]
        self.tokens_path.write_text(json.dumps(self.tokens))
        self.tokens_path.chmod(0o600)
        for kind in ("read", "collector", "write"):  # write: Alertmanager's alert-history webhook
            path = self.token_file(kind)
            path.write_text(self.tokens[kind] + "\n")
            path.chmod(0o600)

    def load_tokens(self) -> None:
        """Read the tokens :meth:`prepare` created (here or in another process)."""
        self.tokens = json.loads(self.tokens_path.read_text())

    @property
    def tokens_path(self) -> Path:
        """The demo's API tokens by kind (read, write, collector), created once by :meth:`prepare`."""
        return self.var_dir / "tokens.json"

    @property
    def password_file(self) -> Path:
        """The web UI password of ``demo-admin`` (created by :meth:`prepare`)."""
        return self.var_dir / "admin.password"

    def token_file(self, kind: str) -> Path:
        return self.var_dir / f"{kind}.token"

    def start(self, workdir: Path) -> None:
        self.server = Service(
            "inventory", [PYTHON, "manage.py", "runserver", self.address, "--noreload"], workdir, self.env
        )
        wait_http(f"{self.url}/api/status/", 120, self.server.process, self._auth("read"))
        self.worker = Service("worker", [PYTHON, "manage.py", "runworker"], workdir, self.env)

    def _auth(self, kind: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[kind]}", "Accept": "application/json"}

    def api(self, method: str, path: str, body: Any = None, token: str = "write") -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {**self._auth(token), "Content-Type": "application/json"}
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                body = response.read()
                return json.loads(body) if body else None  # DELETE: 204, no body
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:500]!r}") from exc

    def repoint_demo(
        self,
        *,
        snmp_port: int | None = None,
        exporter: str | None = None,
        poll_interval: int | None = None,
        agent_network: str | None = None,
    ) -> None:
        """Through the API: every SNMP profile to ``snmp_port``, every collector group to ``exporter``,
        every device and group to ``poll_interval`` (devices in one bulk PATCH, NetBox-style), and every
        demo device's address ``127.0.1.N`` to host N of ``agent_network`` (see :func:`agent_addresses`)."""
        if agent_network is not None:
            moved = agent_addresses(agent_network)
            ips = {
                ip["address"].split("/")[0]: ip["id"]
                for ip in self.api("GET", "/api/ipam/ip-addresses/?limit=1000")["results"]
            }
            for old, new in moved.items():
                if (
                    old in ips and new in ips and new != old
                ):  # moved by an earlier run; loaddemo restored the old
                    self.api("DELETE", f"/api/ipam/ip-addresses/{ips.pop(new)}/")
            changes = [
                {"id": ips[old], "address": f"{new}/32"}
                for old, new in moved.items()
                if old in ips and new != old
            ]
            if changes:
                self.api("PATCH", "/api/ipam/ip-addresses/", changes)
        if snmp_port is not None:
            for profile in self.api("GET", "/api/monitoring/snmp-profiles/?limit=1000")["results"]:
                self.api("PATCH", f"/api/monitoring/snmp-profiles/{profile['id']}/", {"port": snmp_port})
        change = {"exporter_address": exporter, "poll_interval": poll_interval}
        change = {key: value for key, value in change.items() if value is not None}
        if change:
            for group in self.api("GET", "/api/monitoring/collector-groups/?limit=1000")["results"]:
                self.api("PATCH", f"/api/monitoring/collector-groups/{group['id']}/", change)
        if poll_interval is not None:
            devices = self.api("GET", "/api/dcim/devices/?brief=1&limit=1000")["results"]
            changes = [{"id": d["id"], "poll_interval": poll_interval} for d in devices]
            self.api("PATCH", "/api/dcim/devices/", changes)

    def collector_group(self, slug: str) -> dict[str, Any]:
        groups = self.api("GET", f"/api/monitoring/collector-groups/?slug={slug}")["results"]
        if len(groups) != 1:
            raise RuntimeError(f"no collector group {slug!r} in the inventory")
        return groups[0]

    def targets(self, group: str) -> list[dict[str, Any]]:
        """Contract 1 targets of ``group``, as the collector sees them."""
        return self.api("GET", f"/api/collector/targets/?group={group}", token="collector")["targets"]

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        if self.server is not None:
            self.server.stop()


def agent_addresses(network: str) -> dict[str, str]:
    """Demo address ``127.0.1.N`` → host N of ``network`` (e.g. ``127.0.2.0/24``); a network too small
    for the demo devices, or not a network, raises ValueError naming it."""
    net = ipaddress.ip_network(network, strict=False)
    last = max(device.index for device in demo.DEVICES)
    if net.num_addresses < last + 2:
        raise ValueError(f"--agent-network {network} has room for fewer than {last} demo devices")
    return {device.address: str(net.network_address + device.index) for device in demo.DEVICES}


def demo_agent_specs(targets: list[dict[str, Any]]) -> list[AgentSpec]:
    """One simulated agent per demo target, of the demo device's kind, where the inventory says it is."""
    kinds = {device.name: device.kind for device in demo.DEVICES}
    return [
        AgentSpec(t["name"], kinds[t["name"]], t["address"], t["port"], t["community"])
        for t in targets
        if t["name"] in kinds
    ]


def start_agents(specs: list[AgentSpec], workdir: Path, timeout: float = 60.0) -> Service:
    """One replay agent process serving every demo device (:mod:`collectors.sim.replay`), ready when it
    has bound every device's port; a port that is taken ends the demo with the agent's line naming it."""
    agents_dir = workdir / "agents"
    down = agents_dir / "down"
    down.mkdir(parents=True, exist_ok=True)
    (workdir / "logs").mkdir(exist_ok=True)
    for stale in down.iterdir():  # devices taken down in an earlier run answer again
        stale.unlink()
    devices = agents_dir / "devices.yaml"
    devices.write_text(yaml.safe_dump([dataclasses.asdict(spec) for spec in specs]))
    args = [
        PYTHON,
        "-m",
        "collectors.sim.replay",
        f"--specs={devices}",
        f"--down-dir={down}",
        "--exit-with-parent",
    ]
    agents = Service("agents", [*args, "--lifetime=31536000"], workdir / "logs")
    deadline = time.monotonic() + timeout
    while "READY" not in agents.logs():
        if agents.process.poll() is not None or time.monotonic() > deadline:
            agents.stop()
            text = agents.log_path.read_text(errors="replace")
            lines = [line for line in text.splitlines() if line.startswith("replay agent:")]
            raise RuntimeError(lines[-1] if lines else f"simulated agents did not start:\n{text[-4000:]}")
        time.sleep(0.1)
    return agents


def start_collector(inventory: Inventory, group: str, listen: str, workdir: Path) -> Service:
    collector = Service(
        "collector",
        [
            PYTHON,
            "-m",
            "collectors",
            f"--inventory-url={inventory.url}",
            f"--token-file={inventory.token_file('collector')}",
            f"--group={group}",
            f"--listen={listen}",
            f"--cache-dir={workdir / 'collector-cache'}",
            "--name=demo-collector",
            "--refresh=5",
        ],
        workdir,
        {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
    )
    wait_http(f"http://{listen}/-/ready", 120, collector.process)
    return collector


def start_prometheus(config: dict[str, Any], var_dir: Path, listen: str, workdir: Path) -> Service:
    """Debian's ``prometheus`` running ``config`` (written to ``var_dir``) on ``listen``, once ready."""
    config_file = var_dir / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    prometheus = Service(
        "prometheus",
        [
            PROMETHEUS,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={var_dir / 'prometheus-data'}",
            f"--web.listen-address={listen}",
            "--storage.tsdb.retention.time=1d",
            "--log.level=warn",
        ],
        workdir,
    )
    wait_http(f"http://{listen}/-/ready", 60, prometheus.process)
    return prometheus


def start_alertmanager(inventory: Inventory, listen: str, var_dir: Path, workdir: Path) -> Service:
    """Debian's ``prometheus-alertmanager`` on ``listen`` with the shipped routing and receivers; only the
    alert-history webhook is pointed at this inventory (with the demo's write token)."""
    config = yaml.safe_load(ALERTMANAGER_CONFIG.read_text())
    for receiver in config["receivers"]:
        if receiver["name"] == ALERT_HISTORY_RECEIVER:
            hook = receiver["webhook_configs"][0]
            hook["url"] = f"{inventory.url}/api/monitoring/alerts/webhook/"
            hook["http_config"]["authorization"]["credentials_file"] = str(inventory.token_file("write"))
    config_file = var_dir / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(config, sort_keys=False))
    alertmanager = Service(
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={config_file}",
            f"--storage.path={var_dir / 'alertmanager-data'}",
            f"--web.listen-address={listen}",
            "--cluster.listen-address=",  # one instance: no gossip port
            "--log.level=warn",
        ],
        workdir,
    )
    wait_http(f"http://{listen}/-/ready", 60, alertmanager.process)
    return alertmanager
