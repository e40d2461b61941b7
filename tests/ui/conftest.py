"""Fixtures of the web UI tests: users with and without write permissions, a small inventory."""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's async-safety check would
# then refuse the ORM calls the browser tests make to set up and verify data.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


@pytest.fixture
def writer(db, django_user_model):
    from tests.ui.data import make_writer

    return make_writer()


@pytest.fixture
def reader(db, django_user_model):
    from tests.ui.data import make_reader

    return make_reader()
