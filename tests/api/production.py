"""The shipped production path as a test fixture: the systemd unit's commands with the shipped env example.

``production_server()`` reads ``deploy/systemd/infrastrand-inventory.service`` and
``deploy/env/inventory.env.example``, fills in what an operator fills in (secrets, database, host), runs
every ``ExecStartPre`` and then the ``ExecStart`` gunicorn on a free loopback port. The database is a
fresh one of its own: a SQLite file, or on PostgreSQL (``DATABASE_URL`` set) ``<test database>_prod``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx

from tests.certs import Authority
from tests.deploy.servers import free_port, process

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "deploy" / "systemd" / "infrastrand-inventory.service"
ENV_EXAMPLE = ROOT / "deploy" / "env" / "inventory.env.example"
INSTALL_DIR = "/opt/infrastrand"
FERNET_KEY = "q2tQ0rFzM5l8xJmWw4n2cVYb9uK3dE6hT1pA7sR0gLk="
HTTPS = {"X-Forwarded-Proto": "https"}
"""What the TLS-terminating proxy in front of gunicorn adds (the shipped settings redirect plain HTTP)."""


@dataclass
class ProductionServer:
    url: str
    token: str
    env: dict[str, str]
    log: Path
    ca_file: Path

    def client(self, **kwargs) -> httpx.Client:
        headers = {**HTTPS, "Authorization": f"Token {self.token}", **kwargs.pop("headers", {})}
        return httpx.Client(
            base_url=self.url, headers=headers, timeout=60, verify=str(self.ca_file), **kwargs
        )


def unit_commands(unit: Path = UNIT) -> tuple[list[list[str]], list[str]]:
    """The unit's ``ExecStartPre`` commands and its ``ExecStart``, as argument lists."""
    pre, start = [], None
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "ExecStartPre":
            pre.append(shlex.split(value.lstrip("+-!")))
        elif key == "ExecStart":
            start = shlex.split(value)
    assert start is not None, f"{unit} has no ExecStart"
    return pre, start


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    """The unit's ``Environment=`` defaults (its ``EnvironmentFile`` overrides them)."""
    env = {}
    for line in unit.read_text().splitlines():
        key, _, value = line.partition("=")
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, setting = assignment.partition("=")
                env[name] = setting
    return env


def env_example(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    env = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def _local(args: list[str], port: int, tls: dict[str, str] | None = None) -> list[str]:
    """A unit command run from this checkout: its virtual environment, a free port instead of 8000, and
    the certificate files in ``tls`` (shipped path -> test file) instead of the shipped ones."""
    venv_bin = Path(sys.executable).parent
    out = []
    for arg in args:
        if arg.startswith(f"{INSTALL_DIR}/.venv/bin/"):
            arg = str(venv_bin / arg.rsplit("/", 1)[1])
        out.append((tls or {}).get(arg, arg.replace("127.0.0.1:8000", f"127.0.0.1:{port}")))
    return out


@contextlib.contextmanager
def _database(workdir: Path) -> Iterator[str]:
    """A fresh, empty database URL of the same kind as the tests' (dropped afterwards)."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        yield f"sqlite:///{workdir / 'production.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(base)
    name = f"{parts.path.lstrip('/') or 'infrastrand'}_prod"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def production_server(workdir: Path) -> Iterator[ProductionServer]:
    """Boot the shipped unit's commands (migrate, collectstatic, gunicorn) with production settings."""
    pre, start = unit_commands()
    port = free_port()
    with _database(workdir) as database_url:
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DEBUG")},
            **unit_environment(),
            **env_example(),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "t" * 60,
            "INFRASTRAND_SECRETS_KEYS": FERNET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1",
            "INFRASTRAND_VAR_DIR": str(workdir / "var"),
            "STATIC_ROOT": str(workdir / "static"),
        }
        assert env["INFRASTRAND_PRODUCTION"] == "1"
        for args in pre:
            result = subprocess.run(
                _local(args, port), cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"{args}: {result.stdout}{result.stderr}"
        token = subprocess.run(
            [sys.executable, "manage.py", "createtoken", "admin", "--write"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout.strip()
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "-c",
                "from django.contrib.auth.models import User; User.objects.filter(username='admin')"
                ".update(is_superuser=True, is_staff=True)",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=120,
            check=True,
        )
        # the unit serves TLS itself (deploy/README.md "TLS to the inventory"): a CA and certificate made here
        ca = Authority(workdir, "inventory")
        ca_file = ca.cert_file
        served = ca.issue("inventory", server=True)
        cert, key = served.cert_file, served.key_file
        tls = {
            "/etc/infrastrand/tls/inventory.crt": str(cert),
            "/etc/infrastrand/tls/inventory.key": str(key),
        }
        args = _local(start, port, tls)
        assert str(cert) in args and str(key) in args, (
            "the unit's gunicorn no longer takes the shipped TLS files"
        )
        url = f"https://127.0.0.1:{port}"
        log = workdir / "gunicorn.log"
        with process(args, f"{url}/login/", log, env=env, cwd=ROOT, startup_seconds=180, verify=str(ca_file)):
            yield ProductionServer(url=url, token=token, env=env, log=log, ca_file=ca_file)
