"""Generic view tests every model's pages must pass (NetBox's ViewTestCases idea).

A model's test class mixes :class:`ObjectViewTests` with ``django.test.TestCase`` and fills in
``model``, ``make_object()``, ``create_data()``, ``invalid_data()`` and ``invalid_field``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.test import Client
from django.utils.html import escape

from inventory.models import ObjectChange
from inventory.ui import registry
from tests.ui.data import make_reader, make_writer


class ObjectViewTests:
    model: ClassVar[type[Model]]
    invalid_field: ClassVar[str]
    # Field the tests change on edit; its value must differ from make_object()'s.
    edit_field: ClassVar[str] = "description"
    edit_value: ClassVar[Any] = "changed through the UI"

    def make_object(self) -> Model:
        raise NotImplementedError

    def search_term(self, obj: Model) -> str:
        return str(obj)

    def create_data(self) -> dict[str, Any]:
        """POST data of a valid new object."""
        raise NotImplementedError

    def invalid_data(self) -> dict[str, Any]:
        """POST data with one error on ``invalid_field``."""
        raise NotImplementedError

    def edit_data(self, obj: Model) -> dict[str, Any]:
        """POST data editing ``obj``: the create data with ``edit_field`` changed, the unique ones kept."""
        data = self.form_data(obj)
        data[self.edit_field] = self.edit_value
        return data

    def form_data(self, obj: Model) -> dict[str, Any]:
        """The object's current values as its edit form would post them."""
        form = registry.views_for(self.model).form(instance=obj)
        data = {}
        for name in form.fields:
            value = form[name].value()
            if value is None or name.startswith("clear_"):
                continue
            if isinstance(value, list | tuple):
                data[name] = [str(v.pk if isinstance(v, Model) else v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[name] = "on"
            else:
                data[name] = str(value.pk if isinstance(value, Model) else value)
        return data

    # -- helpers

    @classmethod
    def setUpTestData(cls) -> None:
        cls.writer = make_writer()
        cls.reader = make_reader()

    def setUp(self) -> None:
        self.obj = self.make_object()
        self.client = Client()
        self.client.force_login(self.writer)
        self.reader_client = Client()
        self.reader_client.force_login(self.reader)

    def url(self, action: str, obj: Model | None = None) -> str:
        if obj is None:
            return registry.list_url(self.model, action)
        return registry.object_url(obj, action)

    def changes(self, pk: int, action: str) -> list[ObjectChange]:
        content_type = ContentType.objects.get_for_model(self.model)
        return list(
            ObjectChange.objects.filter(changed_object_type=content_type, changed_object_id=pk, action=action)
        )

    def assertFieldError(self, response, field: str) -> None:
        self.assertEqual(response.status_code, 200)
        form = response.context["form"]
        self.assertIn(field, form.errors, f"expected an error on {field}, got {form.errors.as_data()}")
        self.assertContains(response, f'id="field-{field}"')
        for message in form.errors[field]:
            self.assertContains(response, escape(message))

    # -- lists

    def test_list_get(self) -> None:
        response = self.client.get(self.url("list"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, self.url("", self.obj))
        self.assertContains(response, self.url("add"))
        self.assertNotContains(response, "[invalid name]")  # every filter has a label

    def test_list_search_and_csv_export(self) -> None:
        other = self.make_object()
        term = self.search_term(self.obj)
        response = self.client.get(self.url("list"), {"q": term})
        self.assertContains(response, self.url("", self.obj))
        if term not in self.search_term(other):
            self.assertNotContains(response, f'href="{self.url("", other)}"')
        export = self.client.get(self.url("list"), {"q": term, "export": "csv"})
        self.assertEqual(export["Content-Type"], "text/csv; charset=utf-8")
        lines = export.content.decode().splitlines()
        self.assertGreaterEqual(len(lines), 2)
        self.assertIn(term, export.content.decode())

    def test_list_sort_and_pagination(self) -> None:
        other = self.make_object()
        table = self.client.get(self.url("list")).context["table"]
        column = next(c.name for c in table.columns if c.orderable)

        def order(sort: str, **params: str) -> list[int]:
            response = self.client.get(self.url("list"), {"sort": sort, **params})
            return [row.record.pk for row in response.context["table"].page.object_list]

        ascending, descending = order(column), order(f"-{column}")
        self.assertLessEqual({self.obj.pk, other.pk}, set(ascending))
        self.assertEqual(ascending, list(reversed(descending)))
        first_page = order(column, per_page="1")
        second_page = order(column, per_page="1", page="2")
        self.assertEqual(first_page + second_page, ascending[:2])
        total = self.model.objects.count()
        response = self.client.get(self.url("list"))
        self.assertContains(response, f'<div class="subtitle">{total} in total</div>', html=True)

    # -- detail and change log

    def test_detail_and_changelog_get(self) -> None:
        response = self.client.get(self.url("", self.obj))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, str(self.obj))
        self.assertContains(response, self.url("edit", self.obj))
        response = self.client.get(self.url("changelog", self.obj))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Created")

    # -- create

    def test_create_get(self) -> None:
        response = self.client.get(self.url("add"))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "<form", count=3)  # search + logout + object form

    def test_create_valid_post(self) -> None:
        before = set(self.model.objects.values_list("pk", flat=True))
        response = self.client.post(self.url("add"), self.create_data(), follow=True)
        created = set(self.model.objects.values_list("pk", flat=True)) - before
        form = response.context.get("form") if response.context else None
        self.assertEqual(len(created), 1, form.errors.as_data() if form is not None else response)
        obj = self.model.objects.get(pk=created.pop())
        self.assertRedirects(response, self.url("", obj))
        self.assertContains(response, f"Created {obj._meta.verbose_name}")
        [change] = self.changes(obj.pk, "create")
        self.assertEqual(change.user_name, "writer")

    def test_create_invalid_post(self) -> None:
        data = self.invalid_data()
        count = self.model.objects.count()
        response = self.client.post(self.url("add"), data)
        self.assertFieldError(response, self.invalid_field)
        self.assertEqual(self.model.objects.count(), count)

    # -- edit

    def test_edit_valid_post(self) -> None:
        response = self.client.get(self.url("edit", self.obj))
        self.assertEqual(response.status_code, 200)
        response = self.client.post(self.url("edit", self.obj), self.edit_data(self.obj), follow=True)
        self.assertRedirects(response, self.url("", self.obj))
        self.obj.refresh_from_db()
        self.assertEqual(str(getattr(self.obj, self.edit_field)), str(self.edit_value))
        self.assertEqual(len(self.changes(self.obj.pk, "update")), 1)

    def test_edit_invalid_post(self) -> None:
        data = {**self.edit_data(self.obj), **self.invalid_data()}
        response = self.client.post(self.url("edit", self.obj), data)
        self.assertFieldError(response, self.invalid_field)
        self.assertEqual(self.changes(self.obj.pk, "update"), [])

    # -- delete

    def test_delete_confirm_then_post(self) -> None:
        response = self.client.get(self.url("delete", self.obj))
        self.assertEqual(response.status_code, 200)
        self.assertContains(response, "Yes, delete")
        self.assertTrue(self.model.objects.filter(pk=self.obj.pk).exists())
        response = self.client.post(self.url("delete", self.obj), follow=True)
        self.assertRedirects(response, self.url("list"))
        self.assertContains(response, "Deleted")
        self.assertFalse(self.model.objects.filter(pk=self.obj.pk).exists())
        self.assertEqual(len(self.changes(self.obj.pk, "delete")), 1)

    # -- permissions

    def test_reader_sees_no_edit_controls(self) -> None:
        for url in (self.url("list"), self.url("", self.obj)):
            response = self.reader_client.get(url)
            self.assertEqual(response.status_code, 200)
            self.assertNotContains(response, self.url("add"))
            self.assertNotContains(response, self.url("edit", self.obj))
            self.assertNotContains(response, self.url("delete", self.obj))

    def test_reader_gets_403_on_edit_urls_and_nothing_changes(self) -> None:
        data = self.create_data()
        count = self.model.objects.count()
        for url in (self.url("add"), self.url("edit", self.obj), self.url("delete", self.obj)):
            self.assertEqual(self.reader_client.get(url).status_code, 403, url)
        self.assertEqual(self.reader_client.post(self.url("add"), data).status_code, 403)
        self.assertEqual(
            self.reader_client.post(self.url("edit", self.obj), self.edit_data(self.obj)).status_code, 403
        )
        self.assertEqual(self.reader_client.post(self.url("delete", self.obj)).status_code, 403)
        self.assertEqual(self.model.objects.count(), count)
        self.assertEqual(self.changes(self.obj.pk, "update") + self.changes(self.obj.pk, "delete"), [])

    def test_anonymous_is_sent_to_login(self) -> None:
        response = Client().get(self.url("list"))
        self.assertEqual(response.status_code, 302)
        self.assertTrue(response["Location"].startswith("/login/"))
