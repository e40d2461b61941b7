"""Grafana provisioning and dashboards, generated with grafana-foundation-sdk.

Regenerate with ``python -m deploy.grafana.generate``.
"""
