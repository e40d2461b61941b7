"""Template helpers of the web UI (navigation, object links, badges, value rendering)."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.db.models import Model, QuerySet
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from inventory.countries import country_label
from inventory.ui import navigation, registry
from inventory.ui.tables_base import badge as _badge

register = template.Library()
EMPTY = mark_safe('<span class="empty">—</span>')


@register.inclusion_tag("inventory/inc/navbar.html", takes_context=True)
def navbar(context: template.Context) -> dict[str, Any]:
    request = context["request"]
    menu = navigation.menu_for(request) if request.user.is_authenticated else []
    return {"request": request, "menu": menu, "user": request.user, "csrf_token": context.get("csrf_token")}


@register.filter
def object_url(obj: Any, action: str = "") -> str:
    return registry.object_url(obj, action) if isinstance(obj, Model) else ""


@register.filter
def link(obj: Any) -> SafeString | str:
    """The object as a link to its page (plain text if it has none, an em dash if empty)."""
    if obj is None or obj == "":
        return EMPTY
    url = registry.object_url(obj) if isinstance(obj, Model) else ""
    return format_html('<a href="{}">{}</a>', url, obj) if url else str(obj)


@register.filter
def badge(value: Any, label: Any = None) -> SafeString:
    return _badge(str(value), str(label if label is not None else value))


@register.filter
def status_badge(obj: Model, field: str = "status") -> SafeString:
    getter = getattr(obj, f"get_{field}_display", None)
    return _badge(str(getattr(obj, field, "")), str(getter() if getter else getattr(obj, field, "")))


@register.filter
def show(value: Any) -> SafeString | str:
    """Render an attribute value: links for objects, joined lists, Yes/No, a dash when empty."""
    if isinstance(value, QuerySet):
        value = list(value)
    if isinstance(value, list | tuple | set):
        if not value:
            return EMPTY
        return format_html_join(", ", "{}", ((link(v),) for v in value))
    if isinstance(value, bool):
        return _badge("yes" if value else "no", "Yes" if value else "No")
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z")
    return link(value)


@register.filter
def duration(seconds: float | None) -> str:
    """Seconds as ``3d 4h 12m`` (uptime) or ``84 ms`` for short durations."""
    if seconds is None or seconds == "":
        return "—"
    seconds = float(seconds)
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours or days else "", f"{minutes}m"]
    return " ".join(p for p in parts if p)


@register.filter
def speed(bps: int | None) -> str:
    """Bits per second in the usual unit (1 Gbps, 100 Mbps)."""
    if not bps:
        return "—"
    for unit, size in (("Tbps", 10**12), ("Gbps", 10**9), ("Mbps", 10**6), ("kbps", 10**3)):
        if bps >= size:
            value = bps / size
            return f"{value:g} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{bps} bps"


@register.filter
def country(code: str) -> str:
    """``MA`` → ``MA — Morocco``."""
    return country_label(code)


@register.filter
def get_item(mapping: dict, key: Any) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
