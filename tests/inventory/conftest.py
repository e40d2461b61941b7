"""Fixtures for the inventory tests."""

from __future__ import annotations

import pytest

from tests.inventory.factories import Inventory, make_inventory


@pytest.fixture
def inv(db) -> Inventory:
    return make_inventory()


@pytest.fixture
def superuser(db, django_user_model):
    # No password: tests log in with force_login (and skip the slow password hashing).
    return django_user_model.objects.create(username="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client_logged_in(client, superuser):
    client.force_login(superuser)
    return client
