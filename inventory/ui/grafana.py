"""Links from inventory pages to the Grafana dashboards deploy/ provisions.

URL patterns (``GRAFANA_URL`` from the environment variable ``INFRASTRAND_GRAFANA_URL``):

- site:   ``{GRAFANA_URL}/d/infrastrand-site/site?var-site=<site slug>``
- device: ``{GRAFANA_URL}/d/infrastrand-device/device?var-device=<device name>``

The dashboard UIDs ``infrastrand-site`` and ``infrastrand-device`` and the template variables
``site`` and ``device`` are the contract with ``deploy/grafana``.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings

SITE_DASHBOARD = "d/infrastrand-site/site"
DEVICE_DASHBOARD = "d/infrastrand-device/device"


def _url(path: str, **variables: str) -> str:
    base = settings.GRAFANA_URL.rstrip("/")
    query = urlencode({f"var-{name}": value for name, value in variables.items()})
    return f"{base}/{path}?{query}"


def site_dashboard_url(slug: str) -> str:
    return _url(SITE_DASHBOARD, site=slug)


def device_dashboard_url(name: str) -> str:
    return _url(DEVICE_DASHBOARD, device=name)
