"""Abstract bases shared by the inventory models (NetBox's ChangeLoggedModel / PrimaryModel family)."""

from __future__ import annotations

from typing import ClassVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router


class ChangeLoggedModel(models.Model):
    """A model whose every create/update/delete writes one ObjectChange (see inventory.changelog).

    ``constraint_error_fields`` maps a constraint name to the field its violation is reported on,
    so uniqueness errors name the field (``{"name": [...]}``) in admin, API and services.
    ``changelog_redact`` lists further fields shown only as a redaction marker in the change log.
    """

    created = models.DateTimeField(auto_now_add=True, blank=True, null=True)
    last_updated = models.DateTimeField(auto_now=True, blank=True, null=True)

    constraint_error_fields: ClassVar[dict[str, str]] = {}
    changelog_redact: ClassVar[tuple[str, ...]] = ()

    class Meta:
        abstract = True

    def changelog_parent(self) -> models.Model | None:
        """The object this one belongs to (e.g. an interface's device), recorded as the related object."""
        return None

    def validate_constraints(self, exclude=None):
        errors: dict[str, list] = {}
        using = router.db_for_write(self.__class__, instance=self)
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as exc:
                    field = self.constraint_error_fields.get(constraint.name)
                    if field is None and len(getattr(constraint, "fields", ())) == 1:
                        field = constraint.fields[0]
                    errors.setdefault(field or NON_FIELD_ERRORS, []).extend(exc.error_list)
        if errors:
            raise ValidationError(errors)


class CustomFieldsModel(models.Model):
    """Carries the values of custom fields (``inventory.models.customfields``) as one JSON object.

    Keys are custom field names; the API reads and writes them as ``custom_fields``.
    """

    custom_field_data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        abstract = True


class PrimaryModel(CustomFieldsModel, ChangeLoggedModel):
    """A first-class object with a description and free-form comments."""

    description = models.CharField(max_length=200, blank=True)
    comments = models.TextField(blank=True)

    class Meta:
        abstract = True


class OrganizationalModel(CustomFieldsModel, ChangeLoggedModel):
    """A simple named grouping with a unique name and slug (manufacturer, role, platform ...)."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class NestedGroupModel(CustomFieldsModel, ChangeLoggedModel):
    """A named node in a tree (region, tenant group): name and slug unique among siblings."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, related_name="children", blank=True, null=True
    )
    description = models.CharField(max_length=200, blank=True)

    class Meta:
        abstract = True
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        node, seen = self.parent, set()
        while node is not None:
            if (self.pk is not None and node.pk == self.pk) or node.pk in seen:
                raise ValidationError({"parent": "An object cannot be its own ancestor."})
            seen.add(node.pk)
            node = node.parent


def sibling_constraints(prefix: str, scope: tuple[str, ...] = ()) -> list[models.UniqueConstraint]:
    """Name and slug unique among siblings, also at the top level where ``parent`` is NULL."""
    constraints = []
    for field in ("name", "slug"):
        constraints.append(
            models.UniqueConstraint(
                fields=(*scope, "parent", field),
                name=f"{prefix}_unique_{'_'.join(scope) + '_' if scope else ''}parent_{field}",
                violation_error_message=f"A sibling with this {field} already exists.",
            )
        )
        constraints.append(
            models.UniqueConstraint(
                fields=(*scope, field),
                condition=models.Q(parent__isnull=True),
                name=f"{prefix}_unique_{'_'.join(scope) + '_' if scope else ''}{field}_top",
                violation_error_message=f"A top-level object with this {field} already exists.",
            )
        )
    return constraints


def sibling_error_fields(prefix: str, scope: tuple[str, ...] = ()) -> dict[str, str]:
    scope_part = "_".join(scope) + "_" if scope else ""
    return {
        f"{prefix}_unique_{scope_part}{kind}": field
        for field in ("name", "slug")
        for kind in (f"parent_{field}", f"{field}_top")
    }
