"""The VictoriaMetrics pipeline (issue 16.2): vmagent runs the shipped scrape jobs, vmalert the shipped rules.

Real binaries from Debian's ``victoria-metrics`` 1.79: ``vmagent -dryRun`` parses the generated scrape
configuration strictly (unknown fields are errors, and it loads every TLS file it names) and
``vmalert -dryRun`` parses and checks every shipped rule file unchanged.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy import prometheus_config
from deploy.victoriametrics import config as vm
from tests.certs import Authority

pytestmark = pytest.mark.skipif(
    not (shutil.which("vmagent") and shutil.which("vmalert")), reason="Debian victoria-metrics not installed"
)


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    ca = Authority(tmp_path, "deploy")
    served = ca.issue("prometheus", server=True)
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    password = tmp_path / "password"
    password.write_text("pw\n")
    return {
        "ca": ca.cert_file,
        "cert": served.cert_file,
        "key": served.key_file,
        "token": token,
        "pw": password,
    }


def test_shipped_vmagent_file_is_generated_from_prometheus_yml():
    assert vm.main(["--check"]) == 0
    shipped = yaml.safe_load(vm.VMAGENT_PATH.read_text())
    prometheus = prometheus_config.load()
    by_name = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    for job in shipped["scrape_configs"]:  # the same jobs and relabeling, not a copy to keep in step
        assert job.get("relabel_configs") == by_name[job["job_name"]].get("relabel_configs")
    assert "rule_files" not in shipped and "alerting" not in shipped


def test_vmagent_accepts_the_tls_config_strictly(files, tmp_path):
    config = prometheus_config.repoint(
        token_file=files["token"],
        inventory_ca_file=files["ca"],
        collector_auth=prometheus_config.CollectorAuth(files["ca"], files["cert"], files["key"], files["pw"]),
    )
    path = vm.write(vm.vmagent_config(config, collector_groups=["ma-casablanca"]), tmp_path / "vmagent.yml")
    result = run("vmagent", f"-promscrape.config={path}", "-dryRun", "-loggerLevel=ERROR")
    assert result.returncode == 0, result.stderr
    assert "collector_group=ma-casablanca" in path.read_text()
    assert vm.sd_check_interval(config) == "60s"


def test_vmagent_rejects_a_broken_config(files, tmp_path):
    config = vm.vmagent_config(prometheus_config.repoint(token_file=files["token"]))
    config["scrape_configs"][0]["relabel_configs"][0]["action"] = "keep-if-you-like"
    path = vm.write(config, tmp_path / "vmagent.yml")
    assert run("vmagent", f"-promscrape.config={path}", "-dryRun", "-loggerLevel=ERROR").returncode != 0


def test_vmalert_loads_the_shipped_rules_unchanged():
    rules = sorted(prometheus_config.RULES_DIR.glob("*.yml"))
    assert rules
    result = run("vmalert", "-dryRun", *(f"-rule={path}" for path in rules), "-loggerLevel=ERROR")
    assert result.returncode == 0, result.stderr


def test_vmalert_dry_run_catches_a_broken_rule(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text("groups:\n- name: x\n  rules:\n  - alert: X\n    expr: 'sum(('\n")
    assert run("vmalert", "-dryRun", f"-rule={broken}", "-loggerLevel=ERROR").returncode != 0


def test_grafana_datasource_keeps_the_dashboards_uid_and_takes_the_url_from_the_environment():
    from deploy.grafana.generate import datasources_yaml

    shipped = yaml.safe_load(datasources_yaml())["datasources"][0]
    source = yaml.safe_load(vm.DATASOURCE_PATH.read_text())["datasources"][0]
    assert (source["uid"], source["type"], source["name"]) == (shipped["uid"], "prometheus", shipped["name"])
    assert source["url"] == "$INFRASTRAND_METRICS_URL"
