"""Cable pages (generic list/detail/edit/delete), the cable on interface and device pages."""

from __future__ import annotations

from django.test import TestCase

from inventory import models as m
from inventory.services.cables import cable_create
from tests.ui import data as d
from tests.ui.base import ObjectViewTests


def make_cable(**fields) -> m.Cable:
    a = fields.pop("a_interface", None) or d.make_interface()
    b = fields.pop("b_interface", None) or d.make_interface()
    return cable_create(data={"a_interface": a, "b_interface": b, "label": f"C{d.n()}", **fields})


class TestCableViews(ObjectViewTests, TestCase):
    model = m.Cable
    invalid_field = "b_interface"

    def make_object(self):
        return make_cable()

    def create_data(self):
        a, b = d.make_interface(), d.make_interface()
        return {
            "a_device": a.device_id,
            "a_interface": a.pk,
            "b_device": b.device_id,
            "b_interface": b.pk,
            "status": "connected",
            "type": "cat6",
            "label": "uplink-1",
        }

    def invalid_data(self):
        taken = make_cable().a_interface  # already the A end of another cable
        a = d.make_interface()
        return {
            "a_device": a.device_id,
            "a_interface": a.pk,
            "b_device": taken.device_id,
            "b_interface": taken.pk,
            "status": "connected",
        }

    def test_the_interface_picker_lists_the_chosen_device_only(self):
        a = d.make_interface()
        d.make_interface()  # on another device
        response = self.client.get(self.url("add"), {"a_device": a.device_id})
        choices = [value for value, _ in response.context["form"].fields["a_interface"].choices if value]
        self.assertEqual([int(str(value)) for value in choices], [a.pk])

    def test_interface_and_device_pages_show_the_far_end(self):
        cable = self.obj
        response = self.client.get(f"/dcim/interfaces/{cable.a_interface_id}/")
        self.assertContains(response, f"/dcim/cables/{cable.pk}/")
        self.assertContains(response, f"/dcim/interfaces/{cable.b_interface_id}/")
        self.assertContains(response, cable.b_interface.device.name)
        device = self.client.get(f"/dcim/devices/{cable.b_interface.device_id}/")
        self.assertContains(device, f"/dcim/cables/{cable.pk}/")
        self.assertContains(device, f"/dcim/interfaces/{cable.a_interface_id}/")

    def test_an_uncabled_interface_offers_to_connect_one(self):
        free = d.make_interface()
        response = self.client.get(f"/dcim/interfaces/{free.pk}/")
        self.assertContains(response, "Not cabled")
        self.assertContains(response, f"/dcim/cables/add/?a_device={free.device_id}&a_interface={free.pk}")

    def test_list_filters_by_device_on_either_end(self):
        other = make_cable()
        response = self.client.get("/dcim/cables/", {"device_id": self.obj.b_interface.device_id})
        self.assertContains(response, f"/dcim/cables/{self.obj.pk}/")
        self.assertNotContains(response, f"/dcim/cables/{other.pk}/")
