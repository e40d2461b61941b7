"""Fixtures for the inventory tests."""

from __future__ import annotations

import pytest

from tests.inventory.factories import Inventory, make_inventory


@pytest.fixture
def inv(db) -> Inventory:
    return make_inventory()


@pytest.fixture
def superuser(db, django_user_model):
    return django_user_model.objects.create_superuser("admin", "admin@example.org", "pw-for-tests-only")


@pytest.fixture
def admin_client_logged_in(client, superuser):
    client.force_login(superuser)
    return client
