"""A generic CRUD test base (NetBox's APIViewTestCases style): each endpoint's class fills in data.

Every endpoint gets the same checks: list, detail, brief, single and bulk create, a bulk create with
one bad row (400 naming the row, nothing written), update, bulk update, delete, bulk delete, and
refusal without the model permission (403, nothing written).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import models

from inventory.models import ObjectChange


def _matches(value: Any, expected: Any) -> bool:
    """A response value equals what was written (choices read back as ``{"value", "label"}``)."""
    if isinstance(value, dict) and "value" in value:
        return value["value"] == expected
    if isinstance(value, dict) and "id" in value and isinstance(expected, int):
        return value["id"] == expected
    if isinstance(value, list) and isinstance(expected, list) and value and isinstance(value[0], dict):
        return [item["id"] for item in value] == expected
    return value == expected


class CrudCase:
    endpoint: ClassVar[str]
    model: ClassVar[type[models.Model]]
    brief_fields: ClassVar[set[str]]

    def create_data(self, inv) -> list[dict[str, Any]]:
        """Three valid new objects."""
        raise NotImplementedError

    def bad_row(self, inv) -> dict[str, Any]:
        """An invalid object (its error must name ``bad_field``)."""
        return {}

    bad_field: ClassVar[str] = "name"

    def update_data(self, inv) -> dict[str, Any]:
        raise NotImplementedError

    def deletable(self, inv) -> list[models.Model]:
        """Two objects that can be deleted (nothing protects them)."""
        raise NotImplementedError

    def existing(self, inv) -> models.Model:
        return self.model.objects.order_by("pk").first() or self.deletable(inv)[0]

    # -- checks ----------------------------------------------------------------------------------

    def test_list(self, api, inv):
        self.existing(inv)
        response = api.get(self.endpoint)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["count"] == self.model.objects.count() > 0
        for item in body["results"]:
            assert {"id", "url", "display"} <= set(item)
            assert item["url"].endswith(f"{self.endpoint}{item['id']}/")

    def test_detail(self, api, inv):
        obj = self.existing(inv)
        response = api.get(f"{self.endpoint}{obj.pk}/")
        assert response.status_code == 200, response.content
        assert response.json()["id"] == obj.pk
        assert response.json()["display"] == str(obj)
        assert api.get(f"{self.endpoint}987654321/").status_code == 404

    def test_brief(self, api, inv):
        self.existing(inv)
        response = api.get(self.endpoint, {"brief": "1"})
        assert response.status_code == 200
        assert set(response.json()["results"][0]) == self.brief_fields

    def test_create_one(self, api, inv, admin_token):
        data = self.create_data(inv)[0]
        before = self.model.objects.count()
        response = api.post(self.endpoint, data, format="json")
        assert response.status_code == 201, response.content
        created = self.model.objects.get(pk=response.json()["id"])
        assert self.model.objects.count() == before + 1
        for key, value in data.items():
            if key in response.json() and not isinstance(value, dict):
                assert _matches(response.json()[key], value), (key, response.json()[key], value)
        change = ObjectChange.objects.filter(changed_object_id=created.pk, action="create").latest("pk")
        assert change.user_name == admin_token.user.username

    def test_create_bulk(self, api, inv):
        rows = self.create_data(inv)
        before = self.model.objects.count()
        response = api.post(self.endpoint, rows, format="json")
        assert response.status_code == 201, response.content
        assert len(response.json()) == len(rows)
        assert self.model.objects.count() == before + len(rows)

    def test_create_bulk_with_bad_row_writes_nothing(self, api, inv):
        rows = [*self.create_data(inv), self.bad_row(inv)]
        before, changes = self.model.objects.count(), ObjectChange.objects.count()
        response = api.post(self.endpoint, rows, format="json")
        assert response.status_code == 400, response.content
        errors = response.json()
        assert isinstance(errors, list) and len(errors) == len(rows)
        assert errors[:-1] == [{}] * (len(rows) - 1)
        assert self.bad_field in errors[-1], errors[-1]
        assert self.model.objects.count() == before
        assert ObjectChange.objects.count() == changes

    def test_update(self, api, inv):
        obj = self.existing(inv)
        data = self.update_data(inv)
        response = api.patch(f"{self.endpoint}{obj.pk}/", data, format="json")
        assert response.status_code == 200, response.content
        for key, value in data.items():
            assert _matches(response.json()[key], value), (key, response.json()[key], value)
        assert ObjectChange.objects.filter(changed_object_id=obj.pk, action="update").exists()

    def test_bulk_update(self, api, inv):
        objects = self.deletable(inv)
        data = self.update_data(inv)
        response = api.patch(self.endpoint, [{"id": obj.pk, **data} for obj in objects], format="json")
        assert response.status_code == 200, response.content
        assert [item["id"] for item in response.json()] == [obj.pk for obj in objects]
        for item in response.json():
            for key, value in data.items():
                assert _matches(item[key], value)

    def test_bulk_update_unknown_id_writes_nothing(self, api, inv):
        objects = self.deletable(inv)
        changes = ObjectChange.objects.count()
        rows = [{"id": objects[0].pk, **self.update_data(inv)}, {"id": 987654321}]
        response = api.patch(self.endpoint, rows, format="json")
        assert response.status_code == 400
        assert response.json()[0] == {} and "id" in response.json()[1]
        assert ObjectChange.objects.count() == changes

    def test_delete(self, api, inv):
        obj = self.deletable(inv)[0]
        response = api.delete(f"{self.endpoint}{obj.pk}/")
        assert response.status_code == 204, response.content
        assert not self.model.objects.filter(pk=obj.pk).exists()
        assert ObjectChange.objects.filter(changed_object_id=obj.pk, action="delete").exists()

    def test_bulk_delete(self, api, inv):
        objects = self.deletable(inv)
        response = api.delete(self.endpoint, [{"id": obj.pk} for obj in objects], format="json")
        assert response.status_code == 204, response.content
        assert not self.model.objects.filter(pk__in=[obj.pk for obj in objects]).exists()

    def test_refused_without_permission(self, inv, make_token, client_for):
        name = self.model._meta.model_name
        viewer = client_for(make_token(f"view_{name}"))
        assert viewer.get(self.endpoint).status_code == 200
        obj = self.deletable(inv)[0]
        before, changes = self.model.objects.count(), ObjectChange.objects.count()
        assert viewer.post(self.endpoint, self.create_data(inv)[0], format="json").status_code == 403
        assert viewer.post(self.endpoint, self.create_data(inv), format="json").status_code == 403
        assert (
            viewer.patch(f"{self.endpoint}{obj.pk}/", self.update_data(inv), format="json").status_code == 403
        )
        assert viewer.delete(f"{self.endpoint}{obj.pk}/").status_code == 403
        assert viewer.delete(self.endpoint, [{"id": obj.pk}], format="json").status_code == 403
        assert self.model.objects.filter(pk=obj.pk).exists()
        assert self.model.objects.count() == before
        assert ObjectChange.objects.count() == changes
        nobody = client_for(make_token())
        assert nobody.get(self.endpoint).status_code == 403
