"""Which serializer and which URL name belong to each model (filled as serializer classes are declared)."""

from __future__ import annotations

from functools import cache

from django.db import models

_serializers: dict[type[models.Model], type] = {}


def register_serializer(model: type[models.Model], serializer_class: type) -> None:
    _serializers[model] = serializer_class


def serializer_for(model: type[models.Model]) -> type:
    try:
        return _serializers[model]
    except KeyError:
        raise LookupError(f"No API serializer is declared for {model.__name__}") from None


@cache
def brief_serializer_for(model: type[models.Model]) -> type:
    """The nested/brief form of a model's serializer: a subclass limited to ``Meta.brief_fields``."""
    full = serializer_for(model)
    meta = type("Meta", (full.Meta,), {"fields": list(full.Meta.brief_fields)})
    return type(
        f"Brief{full.__name__}", (full,), {"Meta": meta, "__module__": full.__module__, "register": False}
    )


def view_name_for(model: type[models.Model], action: str = "detail") -> str:
    """The URL name of a model's API view (``api:<model_name>-<action>``)."""
    return f"api:{model._meta.model_name}-{action}"


API_APPS: dict[str, str] = {
    **dict.fromkeys(
        (
            "region",
            "site",
            "location",
            "rack",
            "manufacturer",
            "devicetype",
            "devicerole",
            "platform",
            "device",
            "interface",
            "interfacetemplate",
            "cable",
        ),
        "dcim",
    ),
    **dict.fromkeys(("vrf", "prefix", "ipaddress"), "ipam"),
    **dict.fromkeys(("tenantgroup", "tenant", "contact", "contactrole", "contactassignment"), "tenancy"),
    **dict.fromkeys(("tag", "customfield", "journalentry"), "extras"),
    "objectchange": "core",
    "job": "core",
    **dict.fromkeys(
        ("snmpprofile", "collectorgroup", "deviceobservation", "driftitem", "platformmapping"), "monitoring"
    ),
    **dict.fromkeys(("servicelevelobjective", "maintenancewindow"), "monitoring"),
    "token": "users",
}
"""NetBox's app label of each inventory model, as the API names object types (``dcim.site``)."""


def object_type_name(model: type[models.Model]) -> str:
    """``dcim.site`` for Site: the object-type string NetBox clients expect."""
    name = model._meta.model_name
    return f"{API_APPS.get(name, model._meta.app_label)}.{name}"


def model_for_object_type(value: str) -> type[models.Model] | None:
    """The model named ``dcim.site`` (NetBox form) or ``inventory.site``; None if unknown."""
    from django.apps import apps

    app, _, name = str(value).strip().lower().partition(".")
    if not name or (app != "inventory" and API_APPS.get(name) != app):
        return None
    try:
        return apps.get_model("inventory", name)
    except LookupError:
        return None
