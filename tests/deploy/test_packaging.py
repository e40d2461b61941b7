"""docker-compose.yml and systemd units: structure, mounted paths, and commands that really exist."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from deploy import prometheus_config
from deploy.grafana import generate
from tests.deploy.servers import ALERTMANAGER, PROMETHEUS

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120, cwd=cwd)


def binds(service: dict) -> dict[str, Path]:
    """Container path -> host path of the service's bind mounts (named volumes left out)."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("."):
            found[target] = (DEPLOY / source).resolve()
    return found


def host_path(service: dict, container_path: str) -> Path:
    """Where a file the service reads inside its container comes from on the host."""
    for target, source in binds(service).items():
        if container_path == target or container_path.startswith(target.rstrip("/") + "/"):
            return source / container_path[len(target) :].lstrip("/")
    raise AssertionError(f"{container_path} is not mounted from the host")


def flag_names(args: list[str]) -> list[str]:
    return [arg.split("=", 1)[0] for arg in args if arg.startswith("--")]


def test_services():
    assert set(SERVICES) == {
        "postgres",
        "migrate",
        "inventory",
        "worker",
        "collector",
        "prometheus",
        "alertmanager",
        "grafana",
    }
    for name, service in SERVICES.items():
        assert service["network_mode"] == "host", name


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_bind_mount_exists(name):
    for source in binds(SERVICES[name]).values():
        assert source.exists(), f"{name}: {source} does not exist"
        assert DEPLOY in source.parents or source == DEPLOY


def test_image_build_uses_files_that_exist():
    build = SERVICES["migrate"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    dockerfile = context / build["dockerfile"]
    assert dockerfile.exists()
    for line in dockerfile.read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (context / source).exists(), f"Dockerfile copies missing {source}"
    assert {SERVICES[s]["image"] for s in ("migrate", "inventory", "collector")} == {"infrastrand:latest"}


def ignored(path: Path) -> bool:
    return run("git", "check-ignore", "-q", str(path)).returncode == 0


def test_secrets_and_env_files_are_placeholders_never_committed():
    for secret in COMPOSE["secrets"].values():
        path = (DEPLOY / secret["file"]).resolve()
        assert path.parent.is_dir() and ignored(path), f"{path} must be git-ignored"
    for name, service in SERVICES.items():
        for env_file in service.get("env_file", []):
            path = DEPLOY / env_file
            assert ignored(path), f"{name}: {env_file} must be git-ignored"
            assert Path(f"{path}.example").exists(), f"{name}: no {env_file}.example"
    committed = run("git", "ls-files", "deploy/secrets", "deploy/env").stdout.split()
    assert set(committed) <= {"deploy/secrets/README.md", "deploy/env/inventory.env.example"}
    for name in ("docker-compose.yml", "env/inventory.env.example"):
        text = (DEPLOY / name).read_text()
        assert not re.search(r"(?i)(password|secret|token)\s*[:=]\s*['\"]?[A-Za-z0-9+/]{12,}", text), name


def test_inventory_command_is_a_loadable_gunicorn_app():
    command = SERVICES["inventory"]["command"]
    assert command[0] == "gunicorn" and command[1] == "inventory.project.wsgi"
    result = run(str(ROOT / ".venv/bin/gunicorn"), "--check-config", command[1])
    assert result.returncode == 0, result.stdout + result.stderr


def test_migrate_command_is_a_management_command():
    command = SERVICES["migrate"]["command"]
    assert command[:3] == ["python", "manage.py", "migrate"]
    result = run(sys.executable, "manage.py", "help", "migrate")
    assert result.returncode == 0, result.stderr
    for flag in flag_names(command):
        assert flag in result.stdout


def test_worker_command_is_a_management_command():
    command = SERVICES["worker"]["command"]
    assert command[:3] == ["python", "manage.py", "runworker"]
    result = run(sys.executable, "manage.py", "help", "runworker")
    assert result.returncode == 0, result.stderr
    for flag in flag_names(command):
        assert flag in result.stdout
    unit = (DEPLOY / "systemd" / "infrastrand-worker.service").read_text()
    assert "manage.py runworker" in unit


def collector_help() -> str:
    result = run(sys.executable, "-m", "collectors", "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_collector_command_uses_real_options():
    command = SERVICES["collector"]["command"]
    assert command[:3] == ["python", "-m", "collectors"]
    usage = collector_help()
    for flag in flag_names(command):
        assert flag in usage, f"python -m collectors has no {flag}"


@pytest.mark.parametrize(("service", "binary"), [("prometheus", PROMETHEUS), ("alertmanager", ALERTMANAGER)])
def test_prometheus_and_alertmanager_commands(service, binary):
    command = SERVICES[service]["command"]
    usage = run(binary, "--help").stderr + run(binary, "--help").stdout
    for flag in flag_names(command):
        assert flag in usage, f"{binary} has no {flag}"
    config = next(arg.split("=", 1)[1] for arg in command if arg.startswith("--config.file="))
    assert host_path(SERVICES[service], config).is_file()
    # The image is the version the tests run (Debian's).
    version = re.search(
        r"version (\d+\.\d+\.\d+)", run(binary, "--version").stdout + run(binary, "--version").stderr
    )[1]
    assert SERVICES[service]["image"].endswith(f":v{version}")


def listen(command: list[str], flag: str) -> str:
    for i, arg in enumerate(command):
        if arg == flag:
            return command[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"no {flag}")


def test_addresses_agree_across_files():
    config = prometheus_config.load()
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    inventory = listen(SERVICES["inventory"]["command"], "--bind")
    assert jobs["infrastrand-inventory"]["static_configs"][0]["targets"] == [inventory]
    assert jobs["infrastrand-devices"]["http_sd_configs"][0]["url"].startswith(f"https://{inventory}/")
    assert listen(SERVICES["collector"]["command"], "--inventory-url") == f"https://{inventory}"
    collector = listen(SERVICES["collector"]["command"], "--listen")
    assert jobs["infrastrand-collectors"]["static_configs"][0]["targets"] == [collector]
    alertmanager = listen(SERVICES["alertmanager"]["command"], "--web.listen-address")
    assert config["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == [alertmanager]
    prometheus = listen(SERVICES["prometheus"]["command"], "--web.listen-address")
    assert f"http://{prometheus}" == generate.PROMETHEUS_URL


def test_prometheus_reads_the_sd_token_from_the_secret():
    token_path = jobs_sd_credentials()
    targets = [s["target"] for s in SERVICES["prometheus"]["secrets"] if isinstance(s, dict)]
    assert token_path in targets


def jobs_sd_credentials() -> str:
    devices = next(
        j for j in prometheus_config.load()["scrape_configs"] if j["job_name"] == "infrastrand-devices"
    )
    return devices["http_sd_configs"][0]["authorization"]["credentials_file"]


def test_grafana_mounts_the_generated_provisioning():
    grafana = SERVICES["grafana"]
    provisioning = grafana["environment"]["GF_PATHS_PROVISIONING"]
    assert (
        host_path(grafana, f"{provisioning}/datasources/infrastrand.yaml")
        == DEPLOY / "grafana" / generate.DATASOURCES_FILE
    )
    assert (
        host_path(grafana, f"{provisioning}/dashboards/infrastrand.yaml")
        == DEPLOY / "grafana" / generate.PROVIDERS_FILE
    )
    dashboards = host_path(grafana, f"{generate.DASHBOARDS_PATH}/infrastrand-device.json")
    assert dashboards.is_file()
    assert grafana["image"].startswith("grafana/grafana:11.")


@pytest.fixture
def units_in_repo(tmp_path) -> list[Path]:
    """The units with /opt/infrastrand pointing at this checkout, templates instantiated."""
    out = []
    for unit in UNITS:
        name = unit.name.replace("@.service", "@main.service")
        path = tmp_path / name
        path.write_text(unit.read_text().replace("/opt/infrastrand", str(ROOT)))
        out.append(path)
    return out


def test_systemd_units_verify(units_in_repo):
    result = run("systemd-analyze", "verify", "--man=no", *map(str, units_in_repo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert {u.name for u in UNITS} == {
        "infrastrand-inventory.service",
        "infrastrand-collector@.service",
        "infrastrand-worker.service",
    }


def test_systemd_verify_catches_a_missing_binary(units_in_repo, tmp_path):
    broken = tmp_path / "broken.service"
    broken.write_text(units_in_repo[0].read_text().replace(".venv/bin/", ".venv/nonexistent/"))
    assert run("systemd-analyze", "verify", "--man=no", str(broken)).returncode != 0


def exec_start(unit: Path) -> list[str]:
    line = next(x for x in unit.read_text().splitlines() if x.startswith("ExecStart="))
    return shlex.split(line.split("=", 1)[1])


def test_systemd_commands_use_real_options():
    collector = exec_start(DEPLOY / "systemd" / "infrastrand-collector@.service")
    assert collector[1:3] == ["-m", "collectors"]
    usage = collector_help()
    for flag in flag_names(collector):
        assert flag in usage, f"python -m collectors has no {flag}"
    inventory = exec_start(DEPLOY / "systemd" / "infrastrand-inventory.service")
    assert inventory[1] == "inventory.project.wsgi"
    assert "--bind" in inventory and "127.0.0.1:8000" in inventory


def test_image_holds_the_dashboard_queries_the_inventory_graphs():
    """The inventory imports deploy.queries and reads the dashboards (its device graphs): the image
    must copy them, or every page of the views module fails to import."""
    build = SERVICES["migrate"]["build"]
    context = (DEPLOY / build["context"]).resolve()
    copied = []
    for line in (context / build["dockerfile"]).read_text().splitlines():
        if line.startswith("COPY "):
            copied += [(context / source).resolve() for source in line.split()[1:-1]]
    needed = [
        DEPLOY / "__init__.py",
        DEPLOY / "queries.py",
        *sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")),
    ]
    for path in needed:
        assert any(path == source or source in path.parents for source in copied), f"image lacks {path}"
