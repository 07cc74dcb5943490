"""The read replica's router (core.db.ReplicaRouter): heavy reads on the replica, everything else
on the primary, read-your-writes by a sticky mark in the shared cache, the primary when the
replica lags or is down (health says so), and never a cached figure from a replica behind it.

The replica here is a stand-in: a second alias whose connection is the test database's own (the
router's rules are under test, not PostgreSQL's replication; tests/cluster runs the real thing).
An unreachable replica is a real connection to nowhere (a closed port; on SQLite, a file in a
folder that does not exist)."""

import copy
import time

import pytest
from django.core.cache import cache
from django.db import connections, transaction
from django.db.utils import load_backend
from rest_framework.authtoken.models import Token

from core import db as routing
from inventory.models import Product
from tests.factories import ProductFactory
from tests.support.api import client_for
from users.models import User


@pytest.fixture
def routed(monkeypatch):
    """Every (model, alias) the router answers for a read, in order."""
    answers = []
    original = routing.ReplicaRouter.db_for_read

    def spy(self, model, **hints):
        alias = original(self, model, **hints)
        answers.append((model, alias))
        return alias

    monkeypatch.setattr(routing.ReplicaRouter, "db_for_read", spy)
    return answers


def _install(settings, wrapper) -> None:
    settings.REPLICA_DATABASE = "replica"
    connections["replica"] = wrapper
    routing.REPLICA.forget()


@pytest.fixture
def replica(settings, db):
    """A `replica` alias standing in for a streaming replica: the test database itself."""
    _install(settings, connections["default"])
    yield "replica"
    del connections["replica"]
    routing.REPLICA.forget()


def unreachable_wrapper():
    """A real connection that cannot be made: a closed port (PostgreSQL, with Django's own
    backend: the primary's breaker is not involved), a folder that does not exist (SQLite)."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    if connections["default"].vendor == "postgresql":
        settings_dict.update(ENGINE="django.db.backends.postgresql", HOST="127.0.0.1", PORT=9)
        settings_dict["OPTIONS"] = {"connect_timeout": 1}
    else:
        settings_dict["NAME"] = "/nonexistent-stockroom-folder/replica.sqlite3"
    backend = load_backend(settings_dict["ENGINE"])
    return backend.DatabaseWrapper(settings_dict, alias="replica")


@pytest.fixture
def unreachable_replica(settings, db):
    wrapper = unreachable_wrapper()
    _install(settings, wrapper)
    yield "replica"
    wrapper.close()
    del connections["replica"]
    routing.REPLICA.forget()


def _reads_of(answers, model) -> set[str]:
    return {alias for answered, alias in answers if answered is model}


# --- Nothing configured ---------------------------------------------------------------------------


def test_without_a_replica_every_read_is_on_the_primary(admin_client, organization, routed):
    ProductFactory(organization=organization)
    assert admin_client.get("/api/products/").status_code == 200
    assert _reads_of(routed, Product) == {"default"}
    assert routing.heavy_read_alias(1) == "default"
    assert "replica" not in admin_client.get("/api/health/").json()


# --- The rules ------------------------------------------------------------------------------------


def test_a_heavy_list_reads_the_replica(replica, admin_client, organization, routed):
    ProductFactory(organization=organization, name="Tea")
    response = admin_client.get("/api/products/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Tea"]
    assert _reads_of(routed, Product) == {"replica"}


def test_authentication_and_permissions_read_the_primary(replica, admin_user, routed):
    """The user is read before the view says its reads are heavy (a JWT's user, then a DRF
    token's), and a detail page is not a heavy read at all."""
    product = ProductFactory(organization=admin_user.organization)
    cache.clear()  # the signed-in user is read from the database, not the cache
    assert client_for(admin_user).get("/api/products/").status_code == 200
    assert _reads_of(routed, User) == {"default"}
    assert _reads_of(routed, Product) == {"replica"}
    routed.clear()
    assert client_for(admin_user, scheme="Token").get("/api/products/").status_code == 200
    assert _reads_of(routed, Token) == {"default"}
    routed.clear()
    assert client_for(admin_user).get(f"/api/products/{product.pk}/").status_code == 200
    assert _reads_of(routed, Product) == {"default"}


def test_writes_and_reads_inside_a_transaction_stay_on_the_primary(replica, admin_user):
    with routing.heavy_reads(admin_user.pk) as alias:
        assert alias == "replica"
        assert Product.objects.all().db == "replica"
        assert routing.ReplicaRouter().db_for_write(Product) == "default"
        with transaction.atomic():
            assert Product.objects.all().db == "default"
            assert Product.objects.select_for_update().db == "default"
        assert Product.objects.all().db == "replica"


def test_a_user_who_wrote_reads_the_primary_until_the_mark_expires(
    replica, settings, admin_client, admin_user, manager_client, organization, routed
):
    product = ProductFactory(organization=organization)
    response = admin_client.post(
        "/api/stock/movements/",
        {"product": product.pk, "movement_type": "IN", "quantity": 5},
    )
    assert response.status_code == 201
    # The mark is in the shared cache (every node sees it), for REPLICA_STICKY_SECONDS.
    assert cache.get(routing.sticky_key(admin_user.pk)) is not None
    routed.clear()
    listed = admin_client.get("/api/stock/movements/")
    assert [row["id"] for row in listed.json()["results"]] == [response.json()["id"]]
    assert _reads_of(routed, Product) | _reads_of(routed, type(_movement())) <= {"default"}
    # Another user of the same organization did not write: the replica.
    routed.clear()
    assert manager_client.get("/api/products/").status_code == 200
    assert _reads_of(routed, Product) == {"replica"}
    # Once the mark has expired, the writer reads the replica again.
    cache.delete(routing.sticky_key(admin_user.pk))
    routed.clear()
    assert admin_client.get("/api/products/").status_code == 200
    assert _reads_of(routed, Product) == {"replica"}


def _movement():
    from stock.models import StockMovement

    return StockMovement()


def test_a_sign_up_reads_its_own_organization_from_the_primary(replica, api_client):
    response = api_client.post(
        "/api/register/",
        {"username": "newshop", "email": "new@example.com", "password": "a-Long-pass-2026"},
    )
    assert response.status_code == 201
    user = User.objects.get(username="newshop")
    assert routing.heavy_read_alias(user.pk) == "default"


def test_a_lagging_replica_is_left_alone_and_health_says_so(
    replica, settings, admin_client, organization, routed, api_client
):
    ProductFactory(organization=organization)
    settings.REPLICA_MAX_LAG_SECONDS = -1  # any lag is too much: the stand-in's 0 s included
    assert admin_client.get("/api/products/").status_code == 200
    assert _reads_of(routed, Product) == {"default"}
    health = api_client.get("/api/health/")
    assert health.status_code == 200
    assert health.json()["replica"] == "lagging"
    assert health.json()["status"] == "degraded"


def test_a_healthy_replica_is_reported_ok(replica, api_client):
    health = api_client.get("/api/health/").json()
    assert health["replica"] == "ok"
    assert health["status"] == "ok"


def test_the_lag_is_measured_at_most_once_a_check_period(replica, monkeypatch):
    calls = []
    monkeypatch.setattr(routing, "measure_replica", lambda: calls.append(1) or ("ok", 0.0))
    for _ in range(5):
        assert routing.REPLICA.current() == "ok"
    assert len(calls) == 1
    routing.REPLICA.checked_at = time.monotonic() - 60  # the reading is old
    routing.REPLICA.current()
    assert len(calls) == 2


def test_an_unreachable_replica_sends_reads_to_the_primary(
    unreachable_replica, admin_client, organization, routed, api_client
):
    ProductFactory(organization=organization, name="Tea")
    response = admin_client.get("/api/products/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Tea"]
    assert _reads_of(routed, Product) == {"default"}
    health = api_client.get("/api/health/")
    assert (health.status_code, health.json()["replica"], health.json()["status"]) == (
        200,
        "unavailable",
        "degraded",
    )


def test_a_replica_that_fails_during_a_request_is_answered_from_the_primary(
    unreachable_replica, admin_client, organization, routed
):
    """Measured fine a moment ago, gone when the list runs: the request runs again on the
    primary (no 5xx), and the replica is left alone until measured again."""
    ProductFactory(organization=organization, name="Tea")
    routing.REPLICA.state, routing.REPLICA.checked_at = routing.REPLICA_OK, time.monotonic()
    response = admin_client.get("/api/products/")
    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["Tea"]
    assert ("replica" in _reads_of(routed, Product)) and ("default" in _reads_of(routed, Product))
    assert routing.REPLICA.state == routing.REPLICA_UNAVAILABLE


def test_cached_figures_come_from_the_replica_only_when_it_has_every_change(
    replica, admin_client, organization, routed, monkeypatch
):
    """The dashboard is cached as current at its version: computed on a replica that has
    not replayed what the primary had when the version was read, it would stay stale until
    the next change. Then it is computed on the primary."""
    ProductFactory(organization=organization)
    monkeypatch.setattr(routing, "replica_has_replayed", lambda alias, position: False)
    assert admin_client.get("/api/dashboard/").status_code == 200
    assert _reads_of(routed, Product) == {"default"}

    cache.clear()
    routed.clear()
    monkeypatch.setattr(routing, "replica_has_replayed", lambda alias, position: True)
    assert admin_client.get("/api/dashboard/").status_code == 200
    assert _reads_of(routed, Product) == {"replica"}


def test_the_shared_cache_down_keeps_everyone_on_the_primary(replica, admin_user, monkeypatch):
    """Each node would see only its own sticky marks: nobody reads the replica meanwhile."""
    monkeypatch.setattr(type(cache), "is_down", True, raising=False)
    assert routing.heavy_read_alias(admin_user.pk) == "default"
