"""Settings: production mode passes `check --deploy` cleanly and refuses to start half-configured."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCTION_ENV = {
    "INFRASTRAND_PRODUCTION": "1",
    "SECRET_KEY": "x7!kq" * 12,
    "INFRASTRAND_SECRETS_KEYS": "q2tQ0rFzM5l8xJmWw4n2cVYb9uK3dE6hT1pA7sR0gLk=",
    "ALLOWED_HOSTS": "infrastrand.example.org",
}


def run_manage(*args: str, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in PRODUCTION_ENV and k != "DEBUG"}
    base["INFRASTRAND_VAR_DIR"] = str(tmp_path)
    base.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_check_deploy_with_no_warnings(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV, tmp_path=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_development_defaults_fail_check_deploy(tmp_path):
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env={}, tmp_path=tmp_path)
    assert result.returncode != 0
    assert "DEBUG" in result.stdout + result.stderr


@pytest.mark.parametrize("missing", ["SECRET_KEY", "INFRASTRAND_SECRETS_KEYS", "ALLOWED_HOSTS"])
def test_production_refuses_to_start_without_required_setting(tmp_path, missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = run_manage("check", env=env, tmp_path=tmp_path)
    assert result.returncode != 0
    assert missing in result.stderr


def test_development_generates_and_keeps_secret_keys(tmp_path):
    assert run_manage("check", env={}, tmp_path=tmp_path).returncode == 0
    first = (tmp_path / "secret_key").read_text(), (tmp_path / "secrets.key").read_text()
    assert run_manage("check", env={}, tmp_path=tmp_path).returncode == 0
    second = (tmp_path / "secret_key").read_text(), (tmp_path / "secrets.key").read_text()
    assert first == second
    assert oct((tmp_path / "secrets.key").stat().st_mode & 0o777) == "0o600"
