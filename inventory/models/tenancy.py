"""Tenancy: the partner agencies (tenants), their groups, and contacts."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models

from inventory.choices import ContactPriorityChoices
from inventory.models.base import (
    ChangeLoggedModel,
    NestedGroupModel,
    OrganizationalModel,
    PrimaryModel,
    sibling_constraints,
    sibling_error_fields,
)


class TenantGroup(NestedGroupModel):
    constraint_error_fields: ClassVar = sibling_error_fields("tenancy_tenantgroup")

    class Meta(NestedGroupModel.Meta):
        constraints = sibling_constraints("tenancy_tenantgroup")


class Tenant(PrimaryModel):
    """A partner agency sharing the infrastructure."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    group = models.ForeignKey(
        TenantGroup, on_delete=models.SET_NULL, related_name="tenants", blank=True, null=True
    )
    tags = models.ManyToManyField("inventory.Tag", blank=True, related_name="tenants")

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


class ContactRole(OrganizationalModel):
    pass


class Contact(PrimaryModel):
    name = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=100, blank=True)
    phone = models.CharField(max_length=50, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=200, blank=True)
    link = models.URLField(blank=True)

    class Meta:
        ordering = ("name",)

    def __str__(self) -> str:
        return self.name


CONTACT_ASSIGNABLE_MODELS = ("site", "device")
"""Model names (app ``inventory``) a contact may be assigned to."""


class ContactAssignment(ChangeLoggedModel):
    """A contact responsible for a site or a device, in a role."""

    object_type = models.ForeignKey(
        ContentType,
        on_delete=models.CASCADE,
        limit_choices_to={"app_label": "inventory", "model__in": CONTACT_ASSIGNABLE_MODELS},
        related_name="+",
    )
    object_id = models.PositiveBigIntegerField()
    object = GenericForeignKey("object_type", "object_id")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="assignments")
    role = models.ForeignKey(ContactRole, on_delete=models.PROTECT, related_name="assignments")
    priority = models.CharField(max_length=50, choices=ContactPriorityChoices.CHOICES, blank=True)

    constraint_error_fields: ClassVar = {"tenancy_contactassignment_unique_object_contact_role": "contact"}

    class Meta:
        ordering = ("contact", "priority", "role", "pk")
        indexes = (models.Index(fields=("object_type", "object_id")),)
        constraints = (
            models.UniqueConstraint(
                fields=("object_type", "object_id", "contact", "role"),
                name="tenancy_contactassignment_unique_object_contact_role",
                violation_error_message="This contact already has this role on this object.",
            ),
        )

    def __str__(self) -> str:
        return f"{self.contact} ({self.role})" if self.contact_id and self.role_id else "contact assignment"

    def changelog_parent(self):
        return self.object

    def clean(self) -> None:
        super().clean()
        if self.object_type_id is None:
            return
        ct = self.object_type
        if ct.app_label != "inventory" or ct.model not in CONTACT_ASSIGNABLE_MODELS:
            raise ValidationError({"object_type": "Contacts can be assigned to sites and devices only."})
        if self.object_id is not None and self.object is None:
            raise ValidationError({"object_id": f"No {ct.model} with id {self.object_id}."})
