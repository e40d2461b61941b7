"""API test fixtures: users with exactly the permissions a test gives, their tokens, clients, data."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from inventory.models import CollectorGroup, Token
from inventory.services.tokens import token_create
from tests.api.data import Inventory, build_inventory


@dataclass
class Credentials:
    user: object
    token: Token
    key: str

    @property
    def header(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Token {self.key}"}


@pytest.fixture
def make_token(db, django_user_model) -> Callable[..., Credentials]:
    """A token for a fresh user holding ``perms`` (``"view_site"`` or ``"inventory.view_site"``).

    A collector token is bound to the collector groups ``groups`` (slugs), by default every group that
    exists when it is made.
    """
    counter = iter(range(1, 10_000))

    def make(
        *perms: str,
        superuser: bool = False,
        write: bool = True,
        collector: bool = False,
        groups: tuple[str, ...] | None = None,
    ) -> Credentials:
        username = f"user{next(counter)}{'-collector' if collector else ''}"
        if collector and groups is None:
            groups = tuple(CollectorGroup.objects.values_list("slug", flat=True))
        token, key, _ = token_create(
            username=username, write_enabled=write, collector=collector, groups=groups or ()
        )
        user = token.user
        if superuser:
            user.is_superuser = True
            user.save()
        for perm in perms:
            codename = perm.rpartition(".")[2]
            user.user_permissions.add(
                Permission.objects.get(content_type__app_label="inventory", codename=codename)
            )
        user = django_user_model.objects.get(pk=user.pk)  # drop the permission cache
        return Credentials(user=user, token=token, key=key)

    return make


@pytest.fixture
def admin_token(make_token) -> Credentials:
    return make_token(superuser=True)


@pytest.fixture
def api(admin_token) -> APIClient:
    """A DRF client authenticated as a superuser with a write token."""
    client = APIClient()
    client.credentials(**admin_token.header)
    return client


@pytest.fixture
def client_for() -> Callable[[Credentials | None], APIClient]:
    def make(credentials: Credentials | None) -> APIClient:
        client = APIClient()
        if credentials is not None:
            client.credentials(**credentials.header)
        return client

    return make


@pytest.fixture
def inv(db) -> Inventory:
    return build_inventory()


@pytest.fixture
def metrics_public(settings):
    """/metrics without credentials (``METRICS_PUBLIC``), for tests that scan every answer."""
    settings.METRICS_PUBLIC = True
