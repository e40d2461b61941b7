"""Prometheus config and rules: promtool check/test, and every rule unit-tested both ways."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy import prometheus_config
from tests.deploy.servers import PROMTOOL

RULE_FILES = sorted(prometheus_config.RULES_DIR.glob("*.yml"))
TEST_FILES = sorted((prometheus_config.PROMETHEUS_DIR / "tests").glob("*.yml"))
RUNBOOK = Path(prometheus_config.PROMETHEUS_DIR.parent / "RUNBOOK.md")
DASHBOARDS_DIR = prometheus_config.PROMETHEUS_DIR.parent / "grafana" / "dashboards"


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def rules() -> list[dict]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


ALERTS = [rule for rule in rules() if "alert" in rule]
LINKS = set(prometheus_config.LINK_ANNOTATIONS)
RECORDS = [rule for rule in rules() if "record" in rule]


def test_shipped_config_is_valid(tmp_path):
    """As shipped, but with the token file somewhere that exists: promtool checks that it does."""
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    path = prometheus_config.write(prometheus_config.repoint(token_file=token), tmp_path / "prometheus.yml")
    shipped, checked = prometheus_config.load(), yaml.safe_load(path.read_text())
    assert [j["static_configs"] for j in shipped["scrape_configs"] if "static_configs" in j] == [
        j["static_configs"] for j in checked["scrape_configs"] if "static_configs" in j
    ]
    result = promtool("check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 rule files found" in result.stdout + result.stderr


def test_repointed_config_is_valid(tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    config = prometheus_config.repoint(
        inventory="127.0.0.1:18000",
        collectors=["127.0.0.1:19781"],
        alertmanager="127.0.0.1:19093",
        token_file=token,
    )
    path = prometheus_config.write(config, tmp_path / "prometheus.yml")
    result = promtool("check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    text = path.read_text()
    assert "127.0.0.1:18000" in text and "127.0.0.1:19781" in text and "127.0.0.1:19093" in text
    assert ":8000" not in text.replace("18000", "") and ":9781" not in text.replace("19781", "")


def test_check_config_rejects_a_broken_config(tmp_path):
    broken = prometheus_config.load()
    broken["scrape_configs"][0]["relabel_configs"][0]["action"] = "keep-if-you-like"
    path = prometheus_config.write(broken, tmp_path / "prometheus.yml")
    assert promtool("check", "config", str(path)).returncode != 0


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_rules_pass_promtool_check(path):
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", TEST_FILES, ids=lambda p: p.name)
def test_rule_unit_tests_pass(path):
    result = promtool("test", "rules", path.name, cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_unit_tests_catch_a_wrong_expectation(tmp_path):
    """The unit tests can fail: a changed threshold in a copy of the rules breaks them."""
    (tmp_path / "rules").mkdir()
    for path in RULE_FILES:
        (tmp_path / "rules" / path.name).write_text(path.read_text().replace("> 0.9", "> 0.99"))
    (tmp_path / "tests").mkdir()
    test_file = tmp_path / "tests" / "devices.yml"
    test_file.write_text((prometheus_config.PROMETHEUS_DIR / "tests" / "devices.yml").read_text())
    result = promtool("test", "rules", test_file.name, cwd=test_file.parent)
    assert result.returncode != 0
    assert "InfrastrandStorageNearlyFull" in result.stdout + result.stderr


def unit_tests() -> list[dict]:
    return [test for path in TEST_FILES for test in yaml.safe_load(path.read_text())["tests"]]


@pytest.mark.parametrize("alert", [a["alert"] for a in ALERTS])
def test_every_alert_has_a_firing_and_a_quiet_case(alert):
    cases = [c for test in unit_tests() for c in test.get("alert_rule_test", []) if c["alertname"] == alert]
    assert any(c["exp_alerts"] for c in cases), f"{alert}: no case where it fires"
    assert any(not c["exp_alerts"] for c in cases), f"{alert}: no case where it must not fire"
    for case in cases:
        for expected in case["exp_alerts"]:
            assert set(expected["exp_annotations"]) >= {"summary", "description", *LINKS}


@pytest.mark.parametrize("record", [r["record"] for r in RECORDS])
def test_every_recording_rule_is_unit_tested(record):
    exprs = [c["expr"] for test in unit_tests() for c in test.get("promql_expr_test", [])]
    assert any(re.match(rf"{re.escape(record)}\b", expr) for expr in exprs), f"{record}: no promql_expr_test"


@pytest.mark.parametrize("alert", ALERTS, ids=lambda a: a["alert"])
def test_alert_labels_and_annotations(alert):
    assert alert["labels"]["severity"] in {"critical", "warning", "info"}
    assert alert["labels"]["scope"] in {"site", "device", "interface", "collector", "inventory", "slo"}
    for label in ("site", "country", "tenant"):
        assert label in alert["labels"], f"{alert['alert']}: no {label} label"
    annotations = alert["annotations"]
    assert set(annotations) == {"summary", "description", *LINKS}
    scope = alert["labels"]["scope"]
    if scope in {"device", "interface"}:
        assert "{{ $labels.device }}" in annotations["summary"]
        assert "{{ $labels.device }}" in annotations["description"]
    if scope == "interface":
        assert "{{ $labels.ifName }}" in annotations["summary"]
        assert "{{ $labels.ifName }}" in annotations["description"]
    anchor = annotations["runbook_url"].split("#", 1)[1]
    assert anchor == alert["alert"].lower()
    assert re.search(rf"^## {alert['alert']}$", RUNBOOK.read_text(), re.M), f"no runbook for {alert['alert']}"
    shipped = prometheus_config.SHIPPED_LINKS
    uid = re.match(rf"{re.escape(shipped.grafana)}/d/([\w-]+)/", annotations["dashboard_url"])[1]
    assert (DASHBOARDS_DIR / f"{uid}.json").exists(), f"dashboard {uid} is not generated"
    assert annotations["runbook_url"].startswith(f"{shipped.runbook}#")
    assert annotations["inventory_url"].startswith(f"{shipped.inventory}/")
    if scope in {"device", "interface"}:  # the device's page, and its dashboard with every variable set
        assert "{{ $labels.device }}" in annotations["inventory_url"]
        if uid != "infrastrand-site":  # a UPS links its site's dashboard
            assert "var-device={{ $labels.device }}" in annotations["dashboard_url"]
    if uid in {"infrastrand-device", "infrastrand-site"}:
        assert "var-country={{ $labels.country }}&var-site={{ $labels.site }}" in annotations["dashboard_url"]
    if scope == "site":
        assert "{{ $labels.site }}" in annotations["inventory_url"]
        assert "var-country={{ $labels.country }}&var-site={{ $labels.site }}" in annotations["dashboard_url"]


def test_collectors_are_not_labelled_as_a_site(tmp_path):
    """Issue 17.3: the shipped collector job gives no site/country/tenant, so a collector's alerts carry
    "none" there and no agency's route matches them (tests/deploy/test_alertmanager.py routes them)."""
    job = next(
        j for j in prometheus_config.load()["scrape_configs"] if j["job_name"] == "infrastrand-collectors"
    )
    for group in job["static_configs"]:
        assert not {"site", "country", "tenant"} & set(group.get("labels", {})), group


def test_rendered_rules_link_to_the_configured_bases(tmp_path):
    """Issue 17.2: one base URL each, from the environment, in every alert's links; promtool accepts them."""
    links = prometheus_config.Links.from_env(
        {
            "INFRASTRAND_URL": "https://inventory.example.org/",
            "INFRASTRAND_GRAFANA_URL": "https://grafana.example.org/g",
            "INFRASTRAND_RUNBOOK_URL": "https://git.example.org/ops/blob/main/RUNBOOK.md",
        }
    )
    assert links == prometheus_config.Links(
        inventory="https://inventory.example.org",
        grafana="https://grafana.example.org/g",
        runbook="https://git.example.org/ops/blob/main/RUNBOOK.md",
    )
    assert prometheus_config.Links.from_env({}) == prometheus_config.SHIPPED_LINKS
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    config = prometheus_config.repoint(token_file=token, links=links, rules_dir=tmp_path / "rules")
    assert config["rule_files"] == [str(tmp_path / "rules" / "*.yml")]
    rendered = [
        rule
        for path in sorted((tmp_path / "rules").glob("*.yml"))
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]
    assert [rule["alert"] for rule in rendered] == [rule["alert"] for rule in ALERTS]
    for rule, shipped in zip(rendered, ALERTS, strict=True):
        assert rule["expr"] == shipped["expr"]
        annotations = rule["annotations"]
        assert annotations["runbook_url"] == f"{links.runbook}#{rule['alert'].lower()}"
        assert annotations["dashboard_url"].startswith("https://grafana.example.org/g/d/infrastrand-")
        assert annotations["inventory_url"].startswith("https://inventory.example.org/")
    path = prometheus_config.write(config, tmp_path / "prometheus.yml")
    result = promtool("check", "config", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULE_FILES)} rule files found" in result.stdout + result.stderr


def test_a_link_off_its_shipped_base_is_refused(tmp_path, monkeypatch):
    rules_dir = tmp_path / "shipped"
    rules_dir.mkdir()
    broken = (
        (prometheus_config.RULES_DIR / "alerts.yml")
        .read_text()
        .replace('inventory_url: "http://127.0.0.1:8000/', 'inventory_url: "http://elsewhere:8000/', 1)
    )
    (rules_dir / "alerts.yml").write_text(broken)
    monkeypatch.setattr(prometheus_config, "RULES_DIR", rules_dir)
    with pytest.raises(ValueError, match="elsewhere"):
        prometheus_config.render_rules(prometheus_config.SHIPPED_LINKS, tmp_path / "out")
