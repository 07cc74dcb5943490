"""Browser tests: a real headless Chromium (Debian's `chromium`, /usr/bin/chromium), driven by
Playwright for Python, against pytest-django's live server (a transactional database).

Playwright's own browser downloads are never used (`playwright install` is not run): the
browser is the system's. Where no browser can be started the tests are skipped with the
reason, except in CI (`CI=true`), where that is a failure: CI installs chromium (.ci/run), and
never skips them silently.
"""

import os
import shutil

import pytest
from django.db import connections

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WINDOW = {"width": 1400, "height": 1000}  # the admin's pages must fit it
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def no_browser(reason: str):
    """Skip where no browser can be started; in CI, fail: the browser tests must run there."""
    if IN_CI:
        pytest.fail(f"CI runs the browser tests, but {reason} (.ci/run installs chromium)")
    pytest.skip(f"no browser: {reason} (apt-get install chromium)")


@pytest.fixture
def browser(monkeypatch):
    """A headless Chromium for one test (started after the test's database, stopped before
    it is flushed).

    Playwright's synchronous API keeps an event loop in this thread while it runs, which
    Django's guard against the ORM in async code takes for async code: the test's ORM calls
    are synchronous, so the guard is lifted while the browser runs, and only then."""
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        elsewhere = f" (but {found} is: set CHROMIUM)" if found else ""
        no_browser(f"{CHROMIUM} is not there{elsewhere}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        no_browser("Playwright is not installed (pip install -r requirements-dev.txt)")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    except Exception as error:  # whatever stops it, say what
        playwright.stop()
        no_browser(f"{CHROMIUM} does not start: {error}")
    yield chromium
    chromium.close()
    # While Playwright's loop runs, Django keeps this thread's database connections apart
    # (asgiref's Local goes by context): close those, or one outlives the test database.
    connections.close_all()
    playwright.stop()


@pytest.fixture
def page(live_server, settings, browser):
    """A browser tab on the live server, 1400 px wide; `page.errors` collects the page's
    uncaught script errors."""
    settings.SECURE_SSL_REDIRECT = False  # the live server speaks plain HTTP
    context = browser.new_context(viewport=WINDOW, base_url=live_server.url)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.errors = errors
    yield tab
    context.close()
