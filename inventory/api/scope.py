"""What a collector token may reach: the collector groups it is bound to.

Every collector endpoint (targets with their credentials, observations, and later discovery jobs and trap
events) asks :func:`collector_scope` for the request's groups and refuses the others with 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.exceptions import NotFound, PermissionDenied

from inventory.models import CollectorGroup

UNSCOPED_MESSAGE = (
    "This collector token is bound to no collector group: bind it to its groups (admin: Tokens) or "
    "create a new one with `manage.py createtoken NAME --collector --group SLUG`."
)


@dataclass(frozen=True)
class CollectorScope:
    """The collector groups (by id and slug) one collector token is bound to."""

    group_ids: frozenset[int]
    group_slugs: tuple[str, ...]

    def allows(self, group_id: int | None) -> bool:
        return group_id is not None and group_id in self.group_ids

    def group(self, slug: str) -> CollectorGroup:
        """The group with this slug: 404 "unknown collector group" if none, 403 if not this token's."""
        group = CollectorGroup.objects.filter(slug=slug).first()
        if group is None:
            raise NotFound(f"unknown collector group {slug!r}")
        self.check(group)
        return group

    def check(self, group: CollectorGroup) -> None:
        """403 unless ``group`` is one of this token's (the message names the token's groups, no secret)."""
        if group.pk not in self.group_ids:
            raise PermissionDenied(
                f"This collector token may not use collector group {group.slug!r}; "
                f"it is bound to: {', '.join(self.group_slugs)}."
            )


def collector_scope(request) -> CollectorScope:
    """The scope of the request's collector token (views behind ``CollectorTokenOnly`` only).

    A token bound to no group (one made before groups existed) is refused with a message saying how to
    bind or replace it. The result is cached on the request.
    """
    cached = getattr(request, "_collector_scope", None)
    if cached is not None:
        return cached
    rows = list(request.auth.collector_groups.order_by("slug").values_list("pk", "slug"))
    if not rows:
        raise PermissionDenied(UNSCOPED_MESSAGE)
    scope = CollectorScope(
        group_ids=frozenset(pk for pk, _ in rows), group_slugs=tuple(slug for _, slug in rows)
    )
    request._collector_scope = scope
    return scope
