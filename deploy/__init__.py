"""Deployment data: Prometheus, Alertmanager and Grafana configuration, compose file and systemd units."""
