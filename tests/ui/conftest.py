"""Fixtures of the web UI tests: users with and without write permissions, a small inventory."""

from __future__ import annotations

import pytest


@pytest.fixture
def writer(db, django_user_model):
    from tests.ui.data import make_writer

    return make_writer()


@pytest.fixture
def reader(db, django_user_model):
    from tests.ui.data import make_reader

    return make_reader()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium for one test module.

    Playwright's sync API runs an event loop in the test thread; Django's async-safety check would
    then refuse the ORM calls the browser tests make to set up and verify data. The override lives
    only as long as the browser, so it never leaks into other tests or their subprocesses.
    """
    from tests.ui.browser import chromium

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with chromium() as browser:
            yield browser


@pytest.fixture
def page(browser):
    """A fresh browser context (cookies, storage) per test, JavaScript on."""
    from tests.ui.browser import TIMEOUT_MS

    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def nojs_page(browser):
    """A browser context with JavaScript disabled: the core flows must work without it."""
    from tests.ui.browser import TIMEOUT_MS

    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()
