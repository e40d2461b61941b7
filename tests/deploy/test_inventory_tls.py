"""TLS to the inventory as shipped: gunicorn with the systemd unit's TLS flags, verified by the shipped
Prometheus config (http_sd and /metrics with token and CA) and by clients; a wrong CA is refused."""

from __future__ import annotations

import json
import os
import shlex
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from deploy import prometheus_config
from deploy.demo.stack import PYTHON, Service
from inventory import demo
from tests.certs import Authority
from tests.deploy import servers

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "infrastrand-inventory.service"
DISCOVERY_SECONDS = 90
SETUP = """
import json, django
django.setup()
from django.core.management import call_command
from inventory.services.demo import load_demo
from inventory.services.tokens import token_create
call_command("migrate", "--noinput", verbosity=0)
load_demo()
_, read_key, _ = token_create(username="prometheus", prometheus=True)  # createtoken --prometheus
_, collector_key, _ = token_create(username="collector", collector=True, groups=["%s"])
print(json.dumps({"read": read_key, "collector": collector_key}))
"""


def unit_gunicorn_args(**values: str) -> list[str]:
    """The shipped unit's gunicorn command, with the values of the given flags replaced
    (``bind="…"`` replaces ``--bind``'s value): the flags themselves are the shipped ones."""
    line = next(x for x in UNIT.read_text().splitlines() if x.startswith("ExecStart="))
    args = shlex.split(line.split("=", 1)[1])
    args[0] = str(ROOT / ".venv" / "bin" / "gunicorn")
    for flag, value in values.items():
        index = args.index(f"--{flag}")
        args[index + 1] = value
    return args


@pytest.fixture(scope="module")
def tls_inventory(tmp_path_factory) -> Iterator[dict]:
    """The demo inventory (SQLite) under gunicorn with a certificate of a CA made here."""
    workdir = tmp_path_factory.mktemp("inventory-tls")
    ca = Authority(workdir, "inventory")
    ca_file = ca.cert_file
    served = ca.issue("inventory", server=True)
    cert, key = served.cert_file, served.key_file
    wrong_ca_file = Authority(workdir, "some-other").cert_file
    address = f"127.0.0.1:{servers.free_port()}"
    # One process migrates, loads the demo and makes the tokens (each manage.py start costs seconds).
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(INFRASTRAND_VAR_DIR=str(workdir / "var"), DATABASE_URL="")
    env["DJANGO_SETTINGS_MODULE"] = "inventory.project.settings"
    setup = subprocess.run(
        [PYTHON, "-c", SETUP % demo.COLLECTOR_GROUP["slug"]],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr[-3000:]
    tokens = json.loads(setup.stdout.strip().splitlines()[-1])
    token_file = workdir / "read.token"
    token_file.write_text(tokens["read"] + "\n")
    args = unit_gunicorn_args(bind=address, workers="1", certfile=str(cert), keyfile=str(key))
    assert "--certfile" in args and "--keyfile" in args
    server = Service("inventory", args, workdir, env)
    url = f"https://{address}"
    context = ssl.create_default_context(cafile=str(ca_file))
    try:

        def ready() -> bool:
            assert server.process.poll() is None, f"gunicorn exited:\n{server.logs()}"
            return httpx.get(f"{url}/api/status/", verify=context, timeout=5, headers=auth(tokens)).is_success

        servers.wait_until(ready, seconds=120, what=f"{url}/api/status/ over TLS")
        yield {
            "url": url,
            "address": address,
            "ca": ca_file,
            "wrong_ca": wrong_ca_file,
            "context": context,
            "tokens": tokens,
            "token_file": token_file,
            "workdir": workdir,
        }
    finally:
        server.stop()


def auth(tokens: dict[str, str], kind: str = "read") -> dict[str, str]:
    return {"Authorization": f"Token {tokens[kind]}"}


def test_clients_verify_the_inventory_and_it_still_wants_a_token(tls_inventory):
    url, tokens = tls_inventory["url"], tls_inventory["tokens"]
    with httpx.Client(verify=tls_inventory["context"], timeout=10) as client:
        sd = client.get(f"{url}/api/prometheus/sd/devices/", headers=auth(tokens))
        assert sd.status_code == 200 and len(sd.json()) == len(demo.DEVICES)
        assert client.get(f"{url}/api/prometheus/sd/devices/").status_code == 401
        assert client.get(f"{url}/metrics").status_code == 401
        assert client.get(f"{url}/metrics", headers=auth(tokens)).status_code == 200
        targets = client.get(
            f"{url}/api/collector/targets/?group={demo.COLLECTOR_GROUP['slug']}",
            headers=auth(tokens, "collector"),
        )
        assert targets.status_code == 200 and len(targets.json()["targets"]) == len(demo.DEVICES)
    wrong = ssl.create_default_context(cafile=str(tls_inventory["wrong_ca"]))
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{url}/api/status/", verify=wrong, timeout=10)
    with pytest.raises(httpx.HTTPError):  # plain HTTP to the TLS port gets no HTTP answer
        httpx.get(f"http://{tls_inventory['address']}/api/status/", timeout=10)


def test_shipped_prometheus_config_discovers_and_scrapes_over_tls(tls_inventory, tmp_path):
    config = prometheus_config.repoint(
        token_file=tls_inventory["token_file"],
        inventory=tls_inventory["address"],
        inventory_ca_file=tls_inventory["ca"],
        collectors=[f"127.0.0.1:{servers.free_port()}"],
        alertmanager=f"127.0.0.1:{servers.free_port()}",
        scrape_interval="1s",
    )
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    shipped = {job["job_name"]: job for job in prometheus_config.load()["scrape_configs"]}
    sd, inventory_job = jobs["infrastrand-devices"]["http_sd_configs"][0], jobs["infrastrand-inventory"]
    assert sd["url"].startswith("https://") and inventory_job["scheme"] == "https"
    assert shipped["infrastrand-inventory"]["scheme"] == "https"
    assert "ca_file" in shipped["infrastrand-inventory"]["tls_config"]
    assert "ca_file" in shipped["infrastrand-devices"]["http_sd_configs"][0]["tls_config"]
    # Devices would be scraped through the demo group's exporter: send those to a closed port instead.
    closed = f"127.0.0.1:{servers.free_port()}"
    jobs["infrastrand-devices"]["relabel_configs"].append(
        {"target_label": "__address__", "replacement": closed}
    )
    wrong = {
        **inventory_job,
        "job_name": "inventory-wrong-ca",
        "tls_config": {"ca_file": str(tls_inventory["wrong_ca"])},
    }
    config["scrape_configs"].append(wrong)
    path = prometheus_config.write(config, tmp_path / "prometheus.yml")
    check = subprocess.run(
        [servers.PROMTOOL, "check", "config", str(path)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    with servers.prometheus(path, tmp_path) as base:

        def scraped() -> bool:
            active = httpx.get(f"{base}/api/v1/targets?state=active", timeout=5).json()["data"][
                "activeTargets"
            ]
            devices = [t for t in active if t["labels"]["job"] == "infrastrand-devices"]
            health = {t["labels"]["job"]: t for t in active}
            return (
                len(devices) == len(demo.DEVICES)
                and health.get("infrastrand-inventory", {}).get("health") == "up"
                and health.get("inventory-wrong-ca", {}).get("health") == "down"
            )

        servers.wait_until(scraped, seconds=DISCOVERY_SECONDS, what="discovery and inventory scrape over TLS")
        assert servers.instant_query(base, "infrastrand_site_info"), (
            "the inventory's metrics, scraped over TLS"
        )
        active = httpx.get(f"{base}/api/v1/targets?state=active", timeout=5).json()["data"]["activeTargets"]
        wrong_target = next(t for t in active if t["labels"]["job"] == "inventory-wrong-ca")
        assert "certificate" in wrong_target["lastError"]
