"""Tests of deploy/: Prometheus, Alertmanager, Grafana, compose and systemd files."""
