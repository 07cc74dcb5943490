import datetime
import os
import time

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient

from stock import services as stock_services
from tests.factories import OrganizationFactory, ProductFactory, UserFactory
from tests.support.api import client_for
from users.models import Role


def pytest_collection_modifyitems(config, items):
    """PostgreSQL-only tests are skipped on SQLite locally, and never skipped in CI."""
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"] == "core.postgresql"
    if on_postgres:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        raise pytest.UsageError(
            "CI must run the suite on PostgreSQL: set DATABASE_URL=postgres://..."
        )
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL=postgres://...)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """PBKDF2's deliberate slowness only slows the suite down."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _cache(settings, monkeypatch):
    """Throttle counters live in the cache: every test starts with an empty one.

    In CI that is Redis, as in production. Without Redis, tests use a local-memory cache
    rather than the database one, so pinned query counts do not include throttle bookkeeping
    (tests/test_auth.py exercises the database cache explicitly). A process reads the
    database's record of what Redis missed at most once a second, never per request
    (core.cache.database_epoch): a test holds the reading it starts with (nothing missed: the
    table is empty), read again only when the test records a miss, so that pinned query
    counts count what a request does (tests/core/test_missed_invalidations.py times readings).
    """
    from core import cache as versioned

    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    held = {"epoch": 0, "read_at": time.monotonic() + 24 * 3600}  # fresh all the test long
    monkeypatch.setattr(versioned, "_reading", held)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def organization(db):
    return OrganizationFactory(name="Corner Shop")


@pytest.fixture
def other_organization(db):
    return OrganizationFactory(name="Rival Shop")


@pytest.fixture
def admin_user(organization):
    return UserFactory(username="alice", organization=organization, role=Role.ADMIN)


@pytest.fixture
def manager_user(organization):
    return UserFactory(username="mike", organization=organization, role=Role.MANAGER)


@pytest.fixture
def sales_user(organization):
    return UserFactory(username="sam", organization=organization, role=Role.SALES)


@pytest.fixture
def other_admin_user(other_organization):
    return UserFactory(username="oscar", organization=other_organization, role=Role.ADMIN)


@pytest.fixture
def admin_client(admin_user):
    return client_for(admin_user)


@pytest.fixture
def manager_client(manager_user):
    return client_for(manager_user)


@pytest.fixture
def sales_client(sales_user):
    return client_for(sales_user)


@pytest.fixture
def other_admin_client(other_admin_user):
    return client_for(other_admin_user)


@pytest.fixture
def manager(client, manager_user):
    """A Django test client signed in to the admin as the organization's manager, whom its
    admin let in (`admin_access`)."""
    manager_user.admin_access = True
    manager_user.save(update_fields=["admin_access"])
    client.force_login(manager_user)
    return client


@pytest.fixture
def owner(client, admin_user):
    """A Django test client signed in to the admin as the organization's admin (who lets
    themselves in: `admin_access`)."""
    admin_user.admin_access = True
    admin_user.save(update_fields=["admin_access"])
    client.force_login(admin_user)
    return client


@pytest.fixture
def stocked():
    """Make a product with opening stock recorded in the ledger (an `initial` movement)."""

    def make(quantity=0, user=None, **fields):
        product = ProductFactory(**fields)
        stock_services.record_initial_stock(product=product, quantity=quantity, user=user)
        product.refresh_from_db()
        return product

    return make


@pytest.fixture
def ledger_stays_true(db):
    """After the test, the ledger's invariants hold (check_stock_ledger's: product, product ×
    location, lot, and what is reserved)."""
    yield
    from stock.selectors import ledger_mismatches

    assert ledger_mismatches() == []


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def eager_celery():
    """Run tasks in-process even when REDIS_URL points Celery at a real broker."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = previous


@pytest.fixture
def clock_runs_from_noon_of():
    """For modules that read their figures against a "today" taken at import: the clock runs on
    from noon UTC of that day, so a run that crosses midnight still draws the day it expects
    (`with clock_runs_from_noon_of(TODAY): ...`)."""

    def travel(day: datetime.date):
        start = datetime.datetime.combine(day, datetime.time(12), tzinfo=datetime.UTC)
        return time_machine.travel(start, tick=True)

    return travel


@pytest.fixture
def clock():
    """The clock stopped at noon UTC on 2026-11-21 (the suite's usual "today"); move it with
    `clock.move_to(aware_datetime)`. time-machine patches it at the C level: `timezone.now()`,
    `datetime.now()` and `time.time()` alike (not the database's own clock)."""
    start = datetime.datetime(2026, 11, 21, 12, 0, tzinfo=datetime.UTC)
    with time_machine.travel(start, tick=False) as traveller:
        yield traveller
