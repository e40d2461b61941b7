"""``?ordering=``: DRF's ordering filter, with fields that sort by their stored value keys.

An IP address, a prefix or an interface name sorts wrong as text (``10.0.0.10`` before ``10.0.0.2``,
``Gi0/10`` before ``Gi0/2``). A view's ``ordering_keys`` maps such a field to the stored keys that sort
it by value (``inventory/models/sortkeys.py``); ``-field`` reverses every key.
"""

from __future__ import annotations

from rest_framework.filters import OrderingFilter


class ValueOrderingFilter(OrderingFilter):
    """``ordering=address`` → ``family, host_key, mask_length`` (per the view's ``ordering_keys``)."""

    def get_ordering(self, request, queryset, view) -> list[str] | None:
        ordering = super().get_ordering(request, queryset, view)
        keys: dict[str, tuple[str, ...]] = getattr(view, "ordering_keys", {})
        if not ordering or not keys:
            return ordering
        expanded: list[str] = []
        for term in ordering:
            name = term.removeprefix("-")
            sign = "-" if term.startswith("-") else ""
            expanded.extend(f"{sign}{key}" for key in keys.get(name, (name,)))
        return expanded
