"""Pages by name: alerts carry a device name or a site slug, pages are addressed by id.

``/dcim/devices/name/<name>/`` and ``/dcim/sites/slug/<slug>/`` redirect to the object's page, so an alert's
``inventory_url`` opens the page with the device's contacts; a name that matches no single object falls back
to the list searched for it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db import models
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views import View

from inventory.models import Device, Site
from inventory.ui import registry
from inventory.ui.generic import user_can


class ObjectByKeyView(LoginRequiredMixin, View):
    model: type[models.Model] = Device
    field = "name"

    def get(self, request: HttpRequest, key: str) -> HttpResponse:
        if user_can(request, self.model, "view"):
            found = list(self.model._default_manager.filter(**{self.field: key})[:2])
            if len(found) == 1:
                return HttpResponseRedirect(registry.object_url(found[0]))
        return HttpResponseRedirect(f"{registry.list_url(self.model)}?{urlencode({'q': key})}")


class DeviceByNameView(ObjectByKeyView):
    model = Device
    field = "name"


class SiteBySlugView(ObjectByKeyView):
    model = Site
    field = "slug"
