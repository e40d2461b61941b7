"""Which declared view set serves which model, so any object can be linked to its pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Model
from django.urls import NoReverseMatch, reverse

if TYPE_CHECKING:
    from inventory.ui.generic import ObjectViews

_by_model: dict[type[Model], type[ObjectViews]] = {}


def register(views: type[ObjectViews]) -> None:
    _by_model[views.model()] = views


def _declared() -> dict[type[Model], type[ObjectViews]]:
    """The registry, after the per-model declarations have been imported (they register themselves)."""
    import inventory.ui.extras_views
    import inventory.ui.views  # noqa: F401

    return _by_model


def views_for(model: type[Model]) -> type[ObjectViews] | None:
    return _declared().get(model)


def all_views() -> list[type[ObjectViews]]:
    return list(_declared().values())


def object_url(obj: Model, action: str = "") -> str:
    """The UI URL of ``obj`` for ``action`` ("" = detail, "edit", "delete", "changelog"); "" if none."""
    views = views_for(type(obj))
    if views is None or obj.pk is None:
        return ""
    name = f"ui:{views.name()}" + (f"_{action}" if action else "")
    try:
        return reverse(name, kwargs={"pk": obj.pk})
    except NoReverseMatch:
        return ""


def list_url(model: type[Model], action: str = "list") -> str:
    views = views_for(model)
    if views is None:
        return ""
    return reverse(f"ui:{views.name()}_{action}")
